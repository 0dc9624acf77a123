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
//! A larger tree head than the remembered one is accepted by [`Pins::check_consistent`]
//! only with a consistency proof (`GET /api/messaging/key-log/consistency?from=N`, see
//! [`Pins::consistency_from`]) that it extends the remembered head, so a server showing
//! this client a history other than the one it saw before (a split view) is caught.
//! [`Pins::check`] keeps the older rule (no smaller head) for callers that do not fetch
//! consistency proofs yet.

use std::collections::BTreeMap;

use ledger::{ConsistencyProof, InclusionProof, SignedTreeHead, VerifyingKey};
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
    /// The signed tree head of `max_tree_size`, so a later one can be proved to extend
    /// it. Absent in pins saved before consistency proofs (the next head is then taken
    /// as the first one seen).
    #[serde(default)]
    pub head: Option<SignedTreeHead>,
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
        if self.head.as_ref().is_none_or(|h| h.head.size <= size) {
            self.head = Some(proof.sth.clone());
        }
        self.max_tree_size = size;
        self.verified
            .insert(device_id.to_owned(), hex::encode(signature_key));
        Ok(())
    }

    /// The tree size to ask a consistency proof from before `proof` can be accepted by
    /// [`Pins::check_consistent`]: the remembered head's, when `proof`'s head is larger.
    pub fn consistency_from(&self, proof: &InclusionProof) -> Option<u64> {
        self.head
            .as_ref()
            .map(|h| h.head.size)
            .filter(|&size| size < proof.sth.head.size)
    }

    /// [`Pins::check`], and a head larger than the remembered one is accepted only when
    /// `consistency` proves it extends the remembered head (fetch it from
    /// [`Pins::consistency_from`] after the key proof). A head of the remembered size
    /// must have the remembered root. Nothing is remembered from a proof that fails.
    pub fn check_consistent(
        &mut self,
        ledger_key: &VerifyingKey,
        device_id: &str,
        account: &str,
        signature_key: &[u8],
        proof: &InclusionProof,
        consistency: Option<&ConsistencyProof>,
    ) -> Result<()> {
        self.extends_remembered(ledger_key, &proof.sth, consistency)
            .map_err(|why| {
                Error::KeyTransparency(format!(
                    "the key of device {device_id} is not proven: {why}"
                ))
            })?;
        self.check(ledger_key, device_id, account, signature_key, proof)
    }

    /// Whether `head` (already signed by the ledger, checked by the caller's proof) is
    /// the remembered head or provably extends it; the reason when it does not.
    fn extends_remembered(
        &self,
        ledger_key: &VerifyingKey,
        head: &SignedTreeHead,
        consistency: Option<&ConsistencyProof>,
    ) -> std::result::Result<(), String> {
        let Some(seen) = &self.head else {
            return Ok(());
        };
        let (size, seen_size) = (head.head.size, seen.head.size);
        if size < seen_size {
            // `check` refuses it with the rolled-back message.
            return Ok(());
        }
        if size == seen_size {
            return if head.head.root == seen.head.root {
                Ok(())
            } else {
                Err(format!(
                    "the log shows another tree of size {size} than the one seen before \
                     (the log was forked)"
                ))
            };
        }
        let Some(c) = consistency else {
            return Err(format!(
                "the tree head of size {size} comes without a proof that it extends the \
                 one of size {seen_size} seen before"
            ));
        };
        c.verify(ledger_key)
            .map_err(|e| format!("the consistency proof does not verify ({e})"))?;
        if c.old.head != seen.head {
            return Err(format!(
                "the consistency proof starts from another tree of size {} than the one \
                 seen before (a split view)",
                c.old.head.size
            ));
        }
        if c.new.head != head.head {
            return Err(format!(
                "the consistency proof ends at a tree of size {}, not the key proof's {size}",
                c.new.head.size
            ));
        }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use ledger::{SigningKey, TreeHead, merkle};

    use super::*;

    fn leaves(n: u8) -> Vec<ledger::Hash> {
        (0..n).map(|i| merkle::leaf_hash(&[i])).collect()
    }

    fn head(key: &SigningKey, leaves: &[ledger::Hash]) -> SignedTreeHead {
        TreeHead {
            size: leaves.len() as u64,
            root: merkle::root(leaves),
            time_ms: 1_000 + leaves.len() as i64,
        }
        .sign(key)
    }

    fn consistency(
        key: &SigningKey,
        leaves: &[ledger::Hash],
        old: usize,
        new: usize,
    ) -> ConsistencyProof {
        ConsistencyProof {
            old: head(key, &leaves[..old]),
            new: head(key, &leaves[..new]),
            path: merkle::consistency_proof(&leaves[..new], old as u64, new as u64).unwrap(),
        }
    }

    #[test]
    fn a_larger_head_needs_a_proof_that_it_extends_the_remembered_one() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let vk = key.verifying_key();
        let log = leaves(11);
        let pins = Pins {
            max_tree_size: 5,
            head: Some(head(&key, &log[..5])),
            ..Pins::default()
        };
        let later = head(&key, &log);

        // The genuine growth is accepted.
        let good = consistency(&key, &log, 5, 11);
        assert_eq!(pins.extends_remembered(&vk, &later, Some(&good)), Ok(()));
        // Without a proof, refused.
        let why = pins.extends_remembered(&vk, &later, None).unwrap_err();
        assert!(why.contains("without a proof"), "{why}");

        // A split view: the server's later log does not extend what this client saw
        // (another entry 3), though every head is correctly signed.
        let mut forked = log.clone();
        forked[2] = merkle::leaf_hash(b"rewritten");
        let forked_head = head(&key, &forked);
        let from_fork = consistency(&key, &forked, 5, 11);
        let why = pins
            .extends_remembered(&vk, &forked_head, Some(&from_fork))
            .unwrap_err();
        assert!(why.contains("split view"), "{why}");
        // Claiming the remembered head as its start: the path does not verify.
        let mut claimed = from_fork.clone();
        claimed.old = pins.head.clone().unwrap();
        let why = pins
            .extends_remembered(&vk, &forked_head, Some(&claimed))
            .unwrap_err();
        assert!(why.contains("does not verify"), "{why}");
        // A genuine proof that ends somewhere else than the key proof's head.
        let shorter = consistency(&key, &log, 5, 9);
        let why = pins
            .extends_remembered(&vk, &later, Some(&shorter))
            .unwrap_err();
        assert!(why.contains("not the key proof's"), "{why}");
        // An altered path hash.
        let mut altered = good.clone();
        altered.path[0][0] ^= 1;
        assert!(
            pins.extends_remembered(&vk, &later, Some(&altered))
                .is_err()
        );
        // Another tree of the remembered size.
        let why = pins
            .extends_remembered(&vk, &head(&key, &forked[..5]), None)
            .unwrap_err();
        assert!(why.contains("forked"), "{why}");

        // Which size to ask from.
        assert_eq!(pins.head.as_ref().map(|h| h.head.size), Some(5));
    }

    #[test]
    fn pins_saved_before_consistency_proofs_still_load() {
        let pins: Pins = serde_json::from_str(r#"{"max_tree_size":3,"verified":{}}"#).unwrap();
        assert_eq!(pins.head, None);
        assert_eq!(pins.max_tree_size, 3);
    }
}
