//! What the archive keeps: its saved state and one record per archived event.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::kt::Pins;

/// The archive's state, sealed in `state.bin` and rewritten after every batch.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// The server this archive belongs to.
    pub server: String,
    /// The practice administrator's account the device is registered to.
    pub account: String,
    /// The archive device's id.
    pub device_id: String,
    /// [`mls_client::Device::export_state`], base64: every key the device holds.
    pub device: String,
    /// The ledger's public key (hex), pinned when the archive was set up.
    pub ledger_key: String,
    /// Key-transparency memory.
    pub kt: Pins,
    /// Unclaimed key packages the server last reported (topped up when low).
    pub free_key_packages: i64,
    /// Conversations by id.
    pub conversations: BTreeMap<String, Conversation>,
    /// Records written so far.
    pub records: u64,
}

/// Where the archive is in one conversation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conversation {
    /// The MLS group id (hex).
    pub group: String,
    /// The next sequence number to read.
    pub next_seq: i64,
    /// Removed from the group: nothing more to read until a new Welcome.
    pub removed: bool,
}

/// One archived event of a conversation, sealed in `records/{conversation}/{seq}.bin`
/// and written out by `export`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// The conversation id.
    pub conversation: String,
    /// The server's sequence number in the conversation.
    pub seq: i64,
    /// `message`, `membership` (a commit), `joined`, `removed` (the archive was taken
    /// out) or `undecryptable`.
    pub kind: String,
    /// When the server accepted it (ms since the epoch).
    pub time_ms: i64,
    /// The MLS epoch.
    pub epoch: i64,
    /// The sending account, from its MLS credential (messages and commits).
    #[serde(default)]
    pub sender_account: Option<String>,
    /// The sending device as the server reported it.
    pub sender_device: String,
    /// Whether the sender's key was proven in the transparency log.
    #[serde(default)]
    pub sender_key_verified: Option<bool>,
    /// The message text.
    #[serde(default)]
    pub text: Option<String>,
    /// Its files.
    #[serde(default)]
    pub attachments: Vec<AttachmentRecord>,
    /// Devices a commit added (`account/device`).
    #[serde(default)]
    pub added: Vec<String>,
    /// Devices a commit removed (`account/device`).
    #[serde(default)]
    pub removed: Vec<String>,
    /// Why a message could not be read.
    #[serde(default)]
    pub error: Option<String>,
}

/// One file of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentRecord {
    /// The name the sender gave it.
    pub name: String,
    /// Its media type.
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 of the plaintext (hex), checked again on export.
    #[serde(default)]
    pub sha256: Option<String>,
    /// Where its sealed plaintext is in the vault.
    #[serde(default)]
    pub file: Option<String>,
    /// Why it could not be fetched or opened.
    #[serde(default)]
    pub error: Option<String>,
}

/// The vault path of a record.
pub fn record_path(conversation: &str, seq: i64) -> String {
    format!("records/{conversation}/{seq:012}.bin")
}

/// The vault path of an attachment's plaintext.
pub fn file_path(conversation: &str, seq: i64, index: usize) -> String {
    format!("files/{conversation}/{seq:012}-{index}.bin")
}
