//! Safety numbers: what two people compare (read aloud, or side by side) to know that no
//! one sits between them.
//!
//! Like Signal's numeric fingerprints: each side's half is SHA-512 iterated
//! [`ITERATIONS`] times over a version, the account id and all the account's device
//! signature keys (sorted, so device order does not matter), truncated to 30 digits. The
//! two halves are put in sorted order, so both people see the same 60 digits. Any new,
//! removed or changed device key on either side changes the number. The iteration count
//! makes finding a second set of keys with the same 30 digits cost about 2^112 hashes.

use sha2::{Digest, Sha512};

/// Version of the derivation, hashed in.
const VERSION: u16 = 0;
/// SHA-512 iterations per half (as in Signal).
pub const ITERATIONS: usize = 5200;

fn put(buf: &mut Vec<u8>, bytes: &[u8]) {
    // Length-prefixed so that no two inputs share an encoding.
    buf.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    buf.extend_from_slice(bytes);
}

/// The 30 digits of one side.
fn half(account: &str, keys: &[Vec<u8>]) -> String {
    let mut sorted: Vec<&Vec<u8>> = keys.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut material = Vec::new();
    put(&mut material, account.as_bytes());
    material.extend_from_slice(&(sorted.len() as u64).to_be_bytes());
    for k in sorted {
        put(&mut material, k);
    }
    let mut hash = Sha512::new()
        .chain_update(VERSION.to_be_bytes())
        .chain_update(&material)
        .finalize();
    for _ in 0..ITERATIONS {
        hash = Sha512::new()
            .chain_update(hash)
            .chain_update(&material)
            .finalize();
    }
    let mut digits = String::with_capacity(30);
    for chunk in hash.chunks(5).take(6) {
        let n = chunk.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        digits.push_str(&format!("{:05}", n % 100_000));
    }
    digits
}

fn group5(digits: &str) -> String {
    digits
        .as_bytes()
        .chunks(5)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// One account's fingerprint: 30 digits in 6 groups of 5.
pub fn fingerprint(account: &str, signature_keys: &[Vec<u8>]) -> String {
    group5(&half(account, signature_keys))
}

/// The safety number between two accounts, each given as (account id, signature keys of
/// all its devices): 60 digits in 12 groups of 5, the same whichever side computes it.
pub fn safety_number(a: (&str, &[Vec<u8>]), b: (&str, &[Vec<u8>])) -> String {
    let mut halves = [half(a.0, a.1), half(b.0, b.1)];
    halves.sort();
    group5(&halves.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_sixty_digits_and_sensitive() {
        let alice = vec![vec![1u8; 32], vec![2u8; 32]];
        let alice_reordered = vec![vec![2u8; 32], vec![1u8; 32]];
        let clin = vec![vec![3u8; 32]];
        let ab = safety_number(("alice", &alice), ("clin", &clin));
        let ba = safety_number(("clin", &clin), ("alice", &alice_reordered));
        assert_eq!(ab, ba);
        let groups: Vec<&str> = ab.split(' ').collect();
        assert_eq!(groups.len(), 12);
        assert!(
            groups
                .iter()
                .all(|g| g.len() == 5 && g.bytes().all(|c| c.is_ascii_digit()))
        );
        assert_eq!(ab.chars().filter(char::is_ascii_digit).count(), 60);

        let mut changed = alice.clone();
        changed[1][0] ^= 1;
        assert_ne!(ab, safety_number(("alice", &changed), ("clin", &clin)));
        let mut more = alice.clone();
        more.push(vec![4u8; 32]);
        assert_ne!(ab, safety_number(("alice", &more), ("clin", &clin)));
        assert_ne!(
            ab,
            safety_number(("alice", &alice), ("clin", &[vec![5u8; 32]]))
        );
        assert_ne!(ab, safety_number(("alicf", &alice), ("clin", &clin)));

        let f = fingerprint("alice", &alice);
        assert_eq!(f.split(' ').count(), 6);
        assert!(ab.contains(&f));
    }
}
