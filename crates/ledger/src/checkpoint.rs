//! Signed tree heads and the checkpoints that store them.
//!
//! A signed tree head commits to every entry up to its size. Once a copy is held
//! outside the server (a witness, an export, a browser), no one — not even someone with
//! the database and the key — can rewrite the entries it covers without the
//! consistency proof against that copy failing.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::merkle::{self, Frontier};
use crate::{Hash, LedgerError, hexser};

/// Domain separation for tree head signatures, so a signature over a tree head can
/// never be replayed as a signature over anything else made with the same key.
pub const STH_TAG: &[u8; 6] = b"TWSTH1";

/// The head of the tree at some size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeHead {
    /// Number of entries covered.
    pub size: u64,
    /// RFC 6962 Merkle tree hash of their leaf hashes.
    #[serde(with = "hexser::hash")]
    pub root: Hash,
    /// When the head was signed, Unix milliseconds.
    pub time_ms: i64,
}

impl TreeHead {
    /// The signed message: `"TWSTH1" || size (u64 BE) || time_ms (i64 BE) || root`.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(STH_TAG.len() + 16 + 32);
        out.extend_from_slice(STH_TAG);
        out.extend_from_slice(&self.size.to_be_bytes());
        out.extend_from_slice(&self.time_ms.to_be_bytes());
        out.extend_from_slice(&self.root);
        out
    }

    /// Signs this head.
    pub fn sign(self, key: &SigningKey) -> SignedTreeHead {
        let signature = key.sign(&self.signing_bytes()).to_bytes();
        SignedTreeHead {
            head: self,
            key_id: key_id(&key.verifying_key()),
            signature,
        }
    }
}

/// Short, stable name of a public key: hex of the first 8 bytes of SHA-256 of it.
/// Lets a verifier tell "signed by another key" apart from "forged".
pub fn key_id(key: &VerifyingKey) -> String {
    let digest = merkle::sha256_parts(&[key.as_bytes()]);
    hex::encode(&digest[..8])
}

/// A tree head with its Ed25519 signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTreeHead {
    /// What is signed.
    pub head: TreeHead,
    /// [`key_id`] of the signing key.
    pub key_id: String,
    /// Ed25519 signature over [`TreeHead::signing_bytes`].
    #[serde(with = "hexser::signature")]
    pub signature: [u8; 64],
}

impl SignedTreeHead {
    /// Checks the key id and the signature (strict verification: no malleable or
    /// small-order encodings).
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), LedgerError> {
        let expected = key_id(key);
        if self.key_id != expected {
            return Err(LedgerError::verification(format!(
                "tree head for size {} names key {:?}, but the key given is {expected}",
                self.head.size, self.key_id
            )));
        }
        let signature = Signature::from_bytes(&self.signature);
        key.verify_strict(&self.head.signing_bytes(), &signature)
            .map_err(|_| {
                LedgerError::verification(format!(
                    "signature on the tree head for size {} does not verify",
                    self.head.size
                ))
            })
    }
}

/// What the writer stores after signing: the tree head plus the frontier that
/// produced it, so the writer resumes at start without rereading all entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The signed head.
    pub sth: SignedTreeHead,
    /// [`Frontier::hashes`] at `sth.head.size`. Not signed: it is checked against the
    /// signed root whenever it is used.
    #[serde(with = "hexser::hashes")]
    pub frontier: Vec<Hash>,
}

impl Checkpoint {
    /// Rebuilds the frontier and checks it yields the signed root.
    pub fn frontier(&self) -> Result<Frontier, LedgerError> {
        let size = self.sth.head.size;
        let frontier = Frontier::from_parts(size, self.frontier.clone())
            .map_err(|e| LedgerError::tampered(size, format!("checkpoint frontier: {e}")))?;
        if frontier.root() != self.sth.head.root {
            return Err(LedgerError::tampered(
                size,
                "checkpoint frontier does not produce its signed root",
            ));
        }
        Ok(frontier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> SigningKey {
        SigningKey::from_bytes(&[b; 32])
    }

    #[test]
    fn sign_verify_and_reject() {
        let k = key(7);
        let head = TreeHead {
            size: 3,
            root: [9; 32],
            time_ms: 1_700_000_000_000,
        };
        let sth = head.sign(&k);
        sth.verify(&k.verifying_key()).unwrap();
        assert_eq!(sth.key_id.len(), 16);

        let mut bad = sth.clone();
        bad.head.size = 4;
        assert!(bad.verify(&k.verifying_key()).is_err());
        let mut bad = sth.clone();
        bad.head.time_ms += 1;
        assert!(bad.verify(&k.verifying_key()).is_err());
        let mut bad = sth.clone();
        bad.signature[0] ^= 1;
        assert!(bad.verify(&k.verifying_key()).is_err());
        assert!(sth.verify(&key(8).verifying_key()).is_err());
    }

    #[test]
    fn json_uses_hex() {
        let k = key(1);
        let sth = TreeHead {
            size: 1,
            root: [0xab; 32],
            time_ms: 5,
        }
        .sign(&k);
        let cp = Checkpoint {
            sth: sth.clone(),
            frontier: vec![[0xab; 32]],
        };
        let text = serde_json::to_string(&cp).unwrap();
        assert!(text.contains(&"ab".repeat(32)));
        assert!(text.contains(&hex::encode(sth.signature)));
        let back: Checkpoint = serde_json::from_str(&text).unwrap();
        assert_eq!(back, cp);
        assert_eq!(back.frontier().unwrap().root(), [0xab; 32]);
    }
}
