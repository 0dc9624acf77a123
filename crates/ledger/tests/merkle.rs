//! RFC 6962 Merkle tree: published test vectors and proof properties.
// Helpers outside #[test] fns are test code too.
#![allow(
    clippy::needless_range_loop,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use ledger::merkle::{
    EMPTY_ROOT, Frontier, consistency_proof, inclusion_proof, leaf_hash, root, verify_consistency,
    verify_inclusion,
};
use ledger::{Hash, hash_from_hex};
use proptest::prelude::*;

/// The leaves of the Certificate Transparency reference tree (certificate-transparency-go
/// / transparency-dev merkle test data).
const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// Published roots for tree sizes 1..=8.
const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn h(s: &str) -> Hash {
    hash_from_hex(s).unwrap()
}

fn hs(list: &[&str]) -> Vec<Hash> {
    list.iter().map(|s| h(s)).collect()
}

fn reference_leaves() -> Vec<Hash> {
    LEAVES
        .iter()
        .map(|l| leaf_hash(&hex::decode(l).unwrap()))
        .collect()
}

#[test]
fn roots_match_published_vectors() {
    let leaves = reference_leaves();
    assert_eq!(
        root(&[]),
        h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    assert_eq!(EMPTY_ROOT, root(&[]));
    let mut frontier = Frontier::new();
    for n in 1..=8 {
        assert_eq!(root(&leaves[..n]), h(ROOTS[n - 1]), "size {n}");
        frontier.push(leaves[n - 1]);
        assert_eq!(frontier.root(), h(ROOTS[n - 1]), "frontier size {n}");
    }
}

#[test]
fn inclusion_proofs_match_published_vectors() {
    let leaves = reference_leaves();
    // (index, size, path)
    let cases: [(u64, u64, Vec<Hash>); 5] = [
        (0, 1, vec![]),
        (
            0,
            8,
            hs(&[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]),
        ),
        (
            5,
            8,
            hs(&[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]),
        ),
        (
            2,
            3,
            hs(&["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
        ),
        (
            1,
            5,
            hs(&[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ]),
        ),
    ];
    for (index, size, path) in cases {
        let got = inclusion_proof(&leaves, index, size).unwrap();
        assert_eq!(got, path, "inclusion {index}/{size}");
        let r = h(ROOTS[size as usize - 1]);
        verify_inclusion(&leaves[index as usize], index, size, &path, &r).unwrap();
    }
}

#[test]
fn consistency_proofs_match_published_vectors() {
    let leaves = reference_leaves();
    let cases: [(u64, u64, Vec<Hash>); 4] = [
        (1, 1, vec![]),
        (
            1,
            8,
            hs(&[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]),
        ),
        (
            6,
            8,
            hs(&[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]),
        ),
        (
            2,
            5,
            hs(&[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ]),
        ),
    ];
    for (old, new, path) in cases {
        let got = consistency_proof(&leaves, old, new).unwrap();
        assert_eq!(got, path, "consistency {old}->{new}");
        let (r1, r2) = (h(ROOTS[old as usize - 1]), h(ROOTS[new as usize - 1]));
        verify_consistency(old, new, &r1, &r2, &path).unwrap();
    }
}

#[test]
fn degenerate_consistency_cases() {
    let leaves = reference_leaves();
    let r8 = root(&leaves);
    let r4 = root(&leaves[..4]);
    verify_consistency(0, 8, &EMPTY_ROOT, &r8, &[]).unwrap();
    assert!(verify_consistency(0, 8, &r4, &r8, &[]).is_err());
    assert!(verify_consistency(0, 8, &EMPTY_ROOT, &r8, &[r4]).is_err());
    verify_consistency(4, 4, &r4, &r4, &[]).unwrap();
    assert!(verify_consistency(4, 4, &r4, &r8, &[]).is_err());
    assert!(verify_consistency(4, 4, &r4, &r4, &[r4]).is_err());
    assert!(verify_consistency(8, 4, &r8, &r4, &[]).is_err());
    assert!(verify_consistency(4, 8, &r4, &r8, &[]).is_err());
}

const MAX: usize = 40;

fn many() -> (Vec<Hash>, Vec<Hash>) {
    let leaves: Vec<Hash> = (0..MAX as u32)
        .map(|i| leaf_hash(&i.to_be_bytes()))
        .collect();
    let roots = (0..=MAX).map(|n| root(&leaves[..n])).collect();
    (leaves, roots)
}

#[test]
fn every_inclusion_proof_verifies() {
    let (leaves, roots) = many();
    for n in 1..=MAX {
        for i in 0..n {
            let p = inclusion_proof(&leaves, i as u64, n as u64).unwrap();
            verify_inclusion(&leaves[i], i as u64, n as u64, &p, &roots[n]).unwrap();
            // Right proof, wrong claims.
            if n > 1 {
                let other = (i + 1) % n;
                assert!(
                    verify_inclusion(&leaves[i], other as u64, n as u64, &p, &roots[n]).is_err()
                );
                assert!(
                    verify_inclusion(&leaves[other], i as u64, n as u64, &p, &roots[n]).is_err()
                );
                assert!(
                    verify_inclusion(&leaves[i], i as u64, n as u64, &p[1..], &roots[n]).is_err()
                );
            }
            let mut longer = p.clone();
            longer.push([0xab; 32]);
            assert!(verify_inclusion(&leaves[i], i as u64, n as u64, &longer, &roots[n]).is_err());
        }
    }
}

#[test]
fn every_consistency_proof_verifies() {
    let (leaves, roots) = many();
    for new in 0..=MAX {
        for old in 0..=new {
            let p = consistency_proof(&leaves, old as u64, new as u64).unwrap();
            verify_consistency(old as u64, new as u64, &roots[old], &roots[new], &p)
                .unwrap_or_else(|e| panic!("{old}->{new}: {e}"));
            if old > 0 && old < new {
                assert!(!p.is_empty());
                assert!(
                    verify_consistency(old as u64, new as u64, &roots[old], &roots[new], &p[1..])
                        .is_err()
                );
                let mut longer = p.clone();
                longer.push([0xcd; 32]);
                assert!(
                    verify_consistency(old as u64, new as u64, &roots[old], &roots[new], &longer)
                        .is_err()
                );
                // A different old size with the same proof must not pass.
                if old + 1 < new {
                    assert!(
                        verify_consistency(
                            old as u64 + 1,
                            new as u64,
                            &roots[old],
                            &roots[new],
                            &p
                        )
                        .is_err()
                    );
                }
            }
        }
    }
}

fn flip(h: &Hash, byte: usize, bit: u8) -> Hash {
    let mut out = *h;
    out[byte % 32] ^= 1 << (bit % 8);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn inclusion_tampering_fails(n in 1usize..=MAX, i in 0usize..MAX, which in 0usize..64, byte in 0usize..32, bit in 0u8..8) {
        let (leaves, roots) = many();
        let i = i % n;
        let mut p = inclusion_proof(&leaves, i as u64, n as u64).unwrap();
        let mut leaf = leaves[i];
        let mut r = roots[n];
        // Flip one byte of the proof, the root or the leaf.
        match which % (p.len() + 2) {
            k if k < p.len() => p[k] = flip(&p[k], byte, bit),
            k if k == p.len() => r = flip(&r, byte, bit),
            _ => leaf = flip(&leaf, byte, bit),
        }
        prop_assert!(verify_inclusion(&leaf, i as u64, n as u64, &p, &r).is_err());
    }

    #[test]
    fn consistency_tampering_fails(new in 2usize..=MAX, old in 1usize..MAX, which in 0usize..64, byte in 0usize..32, bit in 0u8..8) {
        let (leaves, roots) = many();
        let old = 1 + (old - 1) % (new - 1); // 1..new
        let mut p = consistency_proof(&leaves, old as u64, new as u64).unwrap();
        let (mut r1, mut r2) = (roots[old], roots[new]);
        match which % (p.len() + 2) {
            k if k < p.len() => p[k] = flip(&p[k], byte, bit),
            k if k == p.len() => r1 = flip(&r1, byte, bit),
            _ => r2 = flip(&r2, byte, bit),
        }
        prop_assert!(verify_consistency(old as u64, new as u64, &r1, &r2, &p).is_err());
    }

    #[test]
    fn frontier_survives_serialisation(n in 0usize..=MAX) {
        let (leaves, roots) = many();
        let f = Frontier::from_leaves(&leaves[..n]);
        let mut g = Frontier::from_parts(f.size(), f.hashes().to_vec()).unwrap();
        prop_assert_eq!(g.root(), roots[n]);
        if n < MAX {
            g.push(leaves[n]);
            prop_assert_eq!(g.root(), roots[n + 1]);
        }
    }
}
