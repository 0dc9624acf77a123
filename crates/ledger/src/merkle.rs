//! RFC 6962 / RFC 9162 §2.1 Merkle tree hashing, proofs and proof verification.
//!
//! Following the standard exactly (leaf prefix `0x00`, node prefix `0x01`, split at the
//! largest power of two below `n`, empty tree = `SHA-256("")`) means tree heads and
//! proofs can be checked with any Certificate Transparency tooling, not only ours.

use sha2::{Digest, Sha256};

use crate::{Hash, LedgerError};

/// `SHA-256("")`, the root of the empty tree.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// SHA-256 of the concatenation of `parts`.
pub(crate) fn sha256_parts(parts: &[&[u8]]) -> Hash {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// RFC 6962 leaf hash: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    sha256_parts(&[&[0x00], data])
}

/// RFC 6962 interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    sha256_parts(&[&[0x01], left, right])
}

/// The largest power of two strictly less than `n` (`n >= 2`).
fn split(n: usize) -> usize {
    debug_assert!(n >= 2);
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// The compact state of a growing tree: the roots of the perfect subtrees in the binary
/// decomposition of its size, largest (leftmost) first. At most 64 hashes, yet enough
/// to append a leaf and compute the root in O(log n), so the writer can resume from a
/// checkpoint without rereading the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    hashes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds a frontier from a stored size and hash list, refusing a list whose
    /// length does not fit the size (one hash per set bit).
    pub fn from_parts(size: u64, hashes: Vec<Hash>) -> Result<Self, LedgerError> {
        if hashes.len() != size.count_ones() as usize {
            return Err(LedgerError::Invalid(format!(
                "a frontier of {} hashes cannot belong to a tree of size {size}, which needs {}",
                hashes.len(),
                size.count_ones()
            )));
        }
        Ok(Self { size, hashes })
    }

    /// The frontier of the tree with these leaves.
    pub fn from_leaves(leaves: &[Hash]) -> Self {
        let mut f = Self::new();
        for leaf in leaves {
            f.push(*leaf);
        }
        f
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The subtree roots, largest first (what gets stored in a checkpoint).
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// Appends a leaf hash. Like incrementing a binary counter: every trailing one bit
    /// of the old size is a subtree of equal height that merges with the new leaf.
    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut size = self.size;
        while size & 1 == 1 {
            if let Some(left) = self.hashes.pop() {
                hash = node_hash(&left, &hash);
            }
            size >>= 1;
        }
        self.hashes.push(hash);
        self.size += 1;
    }

    /// The tree head hash (MTH) for the current size.
    pub fn root(&self) -> Hash {
        let mut iter = self.hashes.iter().rev();
        let Some(last) = iter.next() else {
            return EMPTY_ROOT;
        };
        iter.fold(*last, |acc, left| node_hash(left, &acc))
    }
}

/// MTH of `leaves` (RFC 6962 §2.1).
pub fn root(leaves: &[Hash]) -> Hash {
    Frontier::from_leaves(leaves).root()
}

fn check_size(leaves: &[Hash], size: u64) -> Result<usize, LedgerError> {
    usize::try_from(size)
        .ok()
        .filter(|s| *s <= leaves.len())
        .ok_or_else(|| {
            LedgerError::Invalid(format!(
                "tree size {size} is larger than the {} leaves given",
                leaves.len()
            ))
        })
}

/// The audit path for leaf `index` in the tree of the first `size` leaves
/// (RFC 6962 §2.1.1), leaf-side sibling first.
pub fn inclusion_proof(leaves: &[Hash], index: u64, size: u64) -> Result<Vec<Hash>, LedgerError> {
    let n = check_size(leaves, size)?;
    let m = usize::try_from(index)
        .ok()
        .filter(|m| *m < n)
        .ok_or_else(|| {
            LedgerError::Invalid(format!("leaf index {index} is not below tree size {size}"))
        })?;
    let mut proof = Vec::new();
    path(m, &leaves[..n], &mut proof);
    Ok(proof)
}

fn path(m: usize, leaves: &[Hash], out: &mut Vec<Hash>) {
    let n = leaves.len();
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path(m, &leaves[..k], out);
        out.push(root(&leaves[k..]));
    } else {
        path(m - k, &leaves[k..], out);
        out.push(root(&leaves[..k]));
    }
}

/// The consistency proof between the trees of the first `old_size` and `new_size`
/// leaves (RFC 6962 §2.1.2). Empty when `old_size` is 0 or equals `new_size`.
pub fn consistency_proof(
    leaves: &[Hash],
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, LedgerError> {
    let n = check_size(leaves, new_size)?;
    if old_size > new_size {
        return Err(LedgerError::Invalid(format!(
            "old tree size {old_size} is larger than new tree size {new_size}"
        )));
    }
    let mut proof = Vec::new();
    // `old_size <= new_size` which fits in usize.
    let m = usize::try_from(old_size).unwrap_or(n);
    if m > 0 {
        subproof(m, &leaves[..n], true, &mut proof);
    }
    Ok(proof)
}

fn subproof(m: usize, leaves: &[Hash], complete: bool, out: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !complete {
            out.push(root(leaves));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, &leaves[..k], complete, out);
        out.push(root(&leaves[k..]));
    } else {
        subproof(m - k, &leaves[k..], false, out);
        out.push(root(&leaves[..k]));
    }
}

/// Checks that `leaf_hash` is leaf `index` of the tree of `size` leaves whose head is
/// `root`, by RFC 9162 §2.1.3.2. Needs no storage.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), LedgerError> {
    if index >= size {
        return Err(LedgerError::verification(format!(
            "leaf index {index} is not below tree size {size}"
        )));
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        if sn == 0 {
            return Err(LedgerError::verification("inclusion proof is too long"));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(LedgerError::verification("inclusion proof is too short"));
    }
    if &r != root {
        return Err(LedgerError::verification(
            "inclusion proof does not lead to the tree head",
        ));
    }
    Ok(())
}

/// Checks that the tree of `old_size` leaves with head `old_root` is a prefix of the
/// tree of `new_size` leaves with head `new_root`, by RFC 9162 §2.1.4.2. Needs no
/// storage. Equal sizes need an empty proof and equal roots; an old size of 0 needs an
/// empty proof and `old_root` = [`EMPTY_ROOT`] (every tree extends the empty one).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), LedgerError> {
    if old_size > new_size {
        return Err(LedgerError::verification(format!(
            "old tree size {old_size} is larger than new tree size {new_size}"
        )));
    }
    if old_size == new_size || old_size == 0 {
        if !proof.is_empty() {
            return Err(LedgerError::verification(
                "consistency proof must be empty for these sizes",
            ));
        }
        let ok = if old_size == 0 {
            old_root == &EMPTY_ROOT
        } else {
            old_root == new_root
        };
        return if ok {
            Ok(())
        } else {
            Err(LedgerError::verification("tree heads of equal size differ"))
        };
    }
    let Some((first, rest)) = proof.split_first() else {
        return Err(LedgerError::verification("consistency proof is empty"));
    };
    // When the old tree is a perfect subtree, its root is the proof's implicit start.
    let (seed, rest) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        (first, rest)
    };
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*seed, *seed);
    for c in rest {
        if sn == 0 {
            return Err(LedgerError::verification("consistency proof is too long"));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(LedgerError::verification("consistency proof is too short"));
    }
    if &fr != old_root {
        return Err(LedgerError::verification(
            "consistency proof does not reproduce the old tree head",
        ));
    }
    if &sr != new_root {
        return Err(LedgerError::verification(
            "consistency proof does not reproduce the new tree head",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_largest_power_below() {
        for (n, k) in [(2, 1), (3, 2), (4, 2), (5, 4), (8, 4), (9, 8), (1000, 512)] {
            assert_eq!(split(n), k, "n={n}");
        }
    }

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT, sha256_parts(&[]));
        assert_eq!(root(&[]), EMPTY_ROOT);
    }

    #[test]
    fn frontier_round_trips_and_matches_recursive_root() {
        let leaves: Vec<Hash> = (0u8..70).map(|i| leaf_hash(&[i])).collect();
        for n in 0..leaves.len() {
            let f = Frontier::from_leaves(&leaves[..n]);
            assert_eq!(f.hashes().len(), (n as u64).count_ones() as usize);
            let g = Frontier::from_parts(f.size(), f.hashes().to_vec()).unwrap();
            assert_eq!(f, g);
            assert_eq!(f.root(), recursive_root(&leaves[..n]));
        }
        assert!(Frontier::from_parts(3, vec![[0; 32]]).is_err());
    }

    fn recursive_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => EMPTY_ROOT,
            1 => leaves[0],
            n => {
                let k = split(n);
                node_hash(&recursive_root(&leaves[..k]), &recursive_root(&leaves[k..]))
            }
        }
    }

    #[test]
    fn bad_arguments_are_errors_not_panics() {
        let leaves = [leaf_hash(b"a"), leaf_hash(b"b")];
        assert!(inclusion_proof(&leaves, 2, 2).is_err());
        assert!(inclusion_proof(&leaves, 0, 3).is_err());
        assert!(consistency_proof(&leaves, 2, 1).is_err());
        assert!(consistency_proof(&leaves, 1, 3).is_err());
        assert!(verify_inclusion(&leaves[0], 0, 0, &[], &EMPTY_ROOT).is_err());
        assert!(verify_consistency(2, 1, &EMPTY_ROOT, &EMPTY_ROOT, &[]).is_err());
    }
}
