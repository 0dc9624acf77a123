//! What the server may learn from a message without any key.
//!
//! MLS messages carry a clear header: a PrivateMessage shows its group id, epoch and
//! content type (application, proposal or commit) and nothing else; a Welcome and a
//! KeyPackage show their kind. The server uses [`inspect`] to route messages and to accept
//! exactly one commit per epoch, and [`inspect_key_package`] to check that an uploaded key
//! package is valid and names the account and device that uploads it.

use openmls::prelude::{ContentType, MlsMessageBodyIn};
use openmls_rust_crypto::RustCrypto;

use crate::device::{parse_message, validate_key_package};
use crate::error::Result;
use crate::identity::DeviceIdentity;

/// The kind of an MLS message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// An application (chat) message.
    Application,
    /// A commit: moves the group to the next epoch.
    Commit,
    /// A standalone proposal.
    Proposal,
    /// A Welcome for new members.
    Welcome,
    /// A key package.
    KeyPackage,
    /// A GroupInfo (not used by Telewarden; reported so the server can refuse it).
    GroupInfo,
}

/// What [`inspect`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The message kind.
    pub kind: FrameKind,
    /// The group, for group messages (application, proposal, commit).
    pub group_id: Option<Vec<u8>>,
    /// The epoch the message was sent in, for group messages.
    pub epoch: Option<u64>,
}

/// Reads the clear header of a TLS-serialised `MlsMessage`. Empty input, garbage,
/// truncated messages and trailing bytes are errors.
pub fn inspect(bytes: &[u8]) -> Result<Frame> {
    let message = parse_message(bytes)?;
    let (kind_of, group_id, epoch) = match message.extract() {
        MlsMessageBodyIn::PrivateMessage(m) => (
            m.content_type(),
            m.group_id().as_slice().to_vec(),
            m.epoch().as_u64(),
        ),
        MlsMessageBodyIn::PublicMessage(m) => (
            m.content_type(),
            m.group_id().as_slice().to_vec(),
            m.epoch().as_u64(),
        ),
        MlsMessageBodyIn::Welcome(_) => return Ok(bare(FrameKind::Welcome)),
        MlsMessageBodyIn::KeyPackage(_) => return Ok(bare(FrameKind::KeyPackage)),
        MlsMessageBodyIn::GroupInfo(_) => return Ok(bare(FrameKind::GroupInfo)),
    };
    let kind = match kind_of {
        ContentType::Application => FrameKind::Application,
        ContentType::Proposal => FrameKind::Proposal,
        ContentType::Commit => FrameKind::Commit,
    };
    Ok(Frame {
        kind,
        group_id: Some(group_id),
        epoch: Some(epoch),
    })
}

fn bare(kind: FrameKind) -> Frame {
    Frame {
        kind,
        group_id: None,
        epoch: None,
    }
}

/// What a valid key package says about its device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPackageInfo {
    /// The device the key package is for.
    pub identity: DeviceIdentity,
    /// Its Ed25519 signature public key.
    pub signature_key: Vec<u8>,
}

/// Validates a key package (TLS-serialised `MlsMessage`): both signatures, our ciphersuite,
/// the lifetime, distinct keys, a Telewarden credential. The server then checks that
/// `identity` is the uploading account and device.
pub fn inspect_key_package(bytes: &[u8]) -> Result<KeyPackageInfo> {
    let crypto = RustCrypto::default();
    let (kp, identity) = validate_key_package(&crypto, bytes)?;
    Ok(KeyPackageInfo {
        identity,
        signature_key: kp.leaf_node().signature_key().as_slice().to_vec(),
    })
}
