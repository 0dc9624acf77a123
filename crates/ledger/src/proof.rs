//! Inclusion and consistency proofs built from the store, checkable without it.
//!
//! A proof carries everything a verifier needs (the entry, the signed tree heads and
//! the Merkle path), so a patient, auditor or browser holding only the public key can
//! check that an entry is in the log, or that a later log extends an earlier one.

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

use crate::merkle::{self, Frontier};
use crate::{Hash, LedgerError, LedgerStore, SignedTreeHead, StoredEntry, hexser};

/// Leaf hashes read per store call while building a proof.
const LEAF_PAGE: u64 = 65_536;

/// Proof that one entry is in the tree of a signed tree head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// The entry, as stored.
    pub entry: StoredEntry,
    /// Its leaf index (`seq - 1`).
    pub leaf_index: u64,
    /// Size of the tree the proof is for (= `sth.head.size`).
    pub tree_size: u64,
    /// The RFC 6962 audit path.
    #[serde(with = "hexser::hashes")]
    pub path: Vec<Hash>,
    /// The signed tree head the path leads to.
    pub sth: SignedTreeHead,
}

impl InclusionProof {
    /// Checks the tree head's signature, recomputes the leaf hash from the entry's
    /// canonical encoding, and checks the path leads to the signed root.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), LedgerError> {
        self.sth.verify(key)?;
        if self.tree_size != self.sth.head.size {
            return Err(LedgerError::verification(
                "proof tree size differs from the signed tree head",
            ));
        }
        if self.entry.seq == 0 || self.leaf_index != self.entry.seq - 1 {
            return Err(LedgerError::verification(
                "leaf index does not match the entry's seq",
            ));
        }
        let leaf = self.entry.compute_leaf_hash();
        if leaf != self.entry.leaf_hash {
            return Err(LedgerError::verification(
                "entry content does not match its leaf hash",
            ));
        }
        merkle::verify_inclusion(
            &leaf,
            self.leaf_index,
            self.tree_size,
            &self.path,
            &self.sth.head.root,
        )
    }
}

/// Proof that the tree of `new` extends the tree of `old` (nothing rewritten).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyProof {
    /// The earlier tree head.
    pub old: SignedTreeHead,
    /// The later tree head.
    pub new: SignedTreeHead,
    /// The RFC 6962 consistency path.
    #[serde(with = "hexser::hashes")]
    pub path: Vec<Hash>,
}

impl ConsistencyProof {
    /// Checks both signatures and the consistency path.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), LedgerError> {
        self.old.verify(key)?;
        self.new.verify(key)?;
        merkle::verify_consistency(
            self.old.head.size,
            self.new.head.size,
            &self.old.head.root,
            &self.new.head.root,
            &self.path,
        )
    }
}

/// Builds the inclusion proof of entry `seq` in the tree of `sth`.
///
/// Reads the leaf hashes of the first `sth.head.size` entries (32 bytes each) and
/// refuses to prove anything if they no longer produce the signed root.
pub async fn prove_inclusion<S: LedgerStore>(
    store: &S,
    seq: u64,
    sth: &SignedTreeHead,
) -> Result<InclusionProof, LedgerError> {
    let size = sth.head.size;
    if seq == 0 || seq > size {
        return Err(LedgerError::Invalid(format!(
            "seq {seq} is not in the tree of size {size}"
        )));
    }
    let leaves = load_leaves(store, sth).await?;
    let entry = store
        .entries(seq, 1)
        .await?
        .into_iter()
        .next()
        .filter(|e| e.seq == seq)
        .ok_or_else(|| LedgerError::tampered(seq, "entry is missing"))?;
    let index = seq - 1;
    let stored_leaf = usize::try_from(index).ok().and_then(|i| leaves.get(i));
    if stored_leaf != Some(&entry.compute_leaf_hash()) {
        return Err(LedgerError::tampered(
            seq,
            "the stored content does not match its leaf hash",
        ));
    }
    let path = merkle::inclusion_proof(&leaves, index, size)?;
    Ok(InclusionProof {
        entry,
        leaf_index: index,
        tree_size: size,
        path,
        sth: sth.clone(),
    })
}

/// Builds the consistency proof from `old` to `new`.
pub async fn prove_consistency<S: LedgerStore>(
    store: &S,
    old: &SignedTreeHead,
    new: &SignedTreeHead,
) -> Result<ConsistencyProof, LedgerError> {
    let (old_size, new_size) = (old.head.size, new.head.size);
    if old_size > new_size {
        return Err(LedgerError::Invalid(format!(
            "old tree size {old_size} is larger than new tree size {new_size}"
        )));
    }
    let leaves = load_leaves(store, new).await?;
    let prefix = usize::try_from(old_size)
        .unwrap_or(usize::MAX)
        .min(leaves.len());
    if merkle::root(&leaves[..prefix]) != old.head.root {
        return Err(LedgerError::tampered(
            1,
            format!("the log no longer matches the tree head of size {old_size}"),
        ));
    }
    let path = merkle::consistency_proof(&leaves, old_size, new_size)?;
    Ok(ConsistencyProof {
        old: old.clone(),
        new: new.clone(),
        path,
    })
}

/// The first `sth.head.size` leaf hashes, checked against the signed root.
async fn load_leaves<S: LedgerStore>(
    store: &S,
    sth: &SignedTreeHead,
) -> Result<Vec<Hash>, LedgerError> {
    let size = sth.head.size;
    let mut leaves = Vec::new();
    let mut from = 1;
    while from <= size {
        let to = size.min(from.saturating_add(LEAF_PAGE - 1));
        let page = store.leaf_hashes(from, to).await?;
        let want = to - from + 1;
        if page.len() as u64 != want {
            let first_missing = from + page.len() as u64;
            return Err(LedgerError::tampered(
                first_missing,
                format!("the tree of size {size} needs leaf {first_missing}, which is missing"),
            ));
        }
        leaves.extend(page);
        from = to + 1;
    }
    if Frontier::from_leaves(&leaves).root() != sth.head.root {
        return Err(LedgerError::tampered(
            1,
            format!("the stored leaf hashes no longer produce the signed root of size {size}"),
        ));
    }
    Ok(leaves)
}
