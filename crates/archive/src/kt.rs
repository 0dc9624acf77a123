//! Key transparency: a device's signature key is trusted only once the server proves
//! that the audit ledger published it.
//!
//! The server logs `messaging.device_added` (target `device:{id}`, details `account` and
//! `signature_key`) when a device registers, and serves an RFC 6962 inclusion proof of
//! that entry up to a signed tree head (`GET /api/messaging/devices/{id}/key-proof`).
//! The check here is pure: the proof must verify under the ledger's public key (pinned
//! when the archive was set up, not fetched each time — a server that swapped its key
//! could otherwise sign anything), the entry must be a device registration naming this
//! device, this account and this exact key, and the tree head must be no smaller than
//! the largest one seen before (a smaller one means the log was rolled back or forked
//! for this client).
//!
//! What this does not do yet: ask for consistency proofs between tree heads, so a
//! server showing two histories of the same size to different clients is not caught
//! here (the ledger's own `audit proof --since-size` gives them).

use std::collections::BTreeMap;

use ledger::{InclusionProof, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The ledger action that publishes a device key.
pub const DEVICE_ADDED: &str = "messaging.device_added";

/// What the client remembers between runs: the largest signed tree head seen and the
/// device keys already checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pins {
    /// The largest tree size of any signed tree head accepted.
    pub max_tree_size: u64,
    /// device id → signature key (hex) proven to be in the log.
    pub verified: BTreeMap<String, String>,
}

/// Parses the ledger's public key as `/ledger/public-key` serves it (64 hex digits).
pub fn parse_ledger_key(text: &str) -> Result<VerifyingKey> {
    let bytes: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            Error::KeyTransparency("the ledger public key is not 64 hex digits".into())
        })?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|_| Error::KeyTransparency("the ledger public key is not a valid key".into()))
}

impl Pins {
    /// Whether this device's key was proven before.
    pub fn is_verified(&self, device_id: &str, signature_key: &[u8]) -> bool {
        self.verified.get(device_id) == Some(&hex::encode(signature_key))
    }

    /// Checks that `proof` shows `signature_key` published for `device_id` of
    /// `account`; on success remembers the key and the tree size. Nothing is
    /// remembered from a proof that fails.
    pub fn check(
        &mut self,
        ledger_key: &VerifyingKey,
        device_id: &str,
        account: &str,
        signature_key: &[u8],
        proof: &InclusionProof,
    ) -> Result<()> {
        let refuse = |why: String| {
            Err(Error::KeyTransparency(format!(
                "the key of device {device_id} is not proven: {why}"
            )))
        };
        if let Err(e) = proof.verify(ledger_key) {
            return refuse(format!("the proof does not verify ({e})"));
        }
        let size = proof.sth.head.size;
        if size < self.max_tree_size {
            return refuse(format!(
                "the signed tree head covers {size} entries, fewer than the {} seen before \
                 (the log was rolled back or forked)",
                self.max_tree_size
            ));
        }
        let entry = &proof.entry;
        if entry.action != DEVICE_ADDED {
            return refuse(format!("the logged entry is {:?}", entry.action));
        }
        if entry.target != format!("device:{device_id}") {
            return refuse("the logged entry is about another device".into());
        }
        let details = match entry.details_map() {
            Ok(d) => d,
            Err(e) => return refuse(format!("the entry's details do not parse ({e})")),
        };
        if details.get("account").and_then(|v| v.as_str()) != Some(account) {
            return refuse("the logged entry names another account".into());
        }
        let logged = details.get("signature_key").and_then(|v| v.as_str());
        if logged != Some(hex::encode(signature_key).as_str()) {
            return refuse("the logged key differs from the key the device uses".into());
        }
        self.max_tree_size = size;
        self.verified
            .insert(device_id.to_owned(), hex::encode(signature_key));
        Ok(())
    }

    /// Checks a claimed key package before it is added to a group: the package must be
    /// valid, its credential must name `device_id` (the device the server says it
    /// claimed), and its signature key must be the one `proof` shows was logged for that
    /// device. Returns who the package belongs to.
    pub fn check_key_package(
        &mut self,
        ledger_key: &VerifyingKey,
        device_id: &str,
        key_package: &[u8],
        proof: &InclusionProof,
    ) -> Result<mls_client::DeviceIdentity> {
        let info = mls_client::frame::inspect_key_package(key_package).map_err(|e| {
            Error::KeyTransparency(format!("the key package of device {device_id}: {e}"))
        })?;
        if info.identity.device != device_id {
            return Err(Error::KeyTransparency(format!(
                "the key package claimed for device {device_id} names another device"
            )));
        }
        self.check(
            ledger_key,
            device_id,
            &info.identity.account,
            &info.signature_key,
            proof,
        )?;
        Ok(info.identity)
    }
}
