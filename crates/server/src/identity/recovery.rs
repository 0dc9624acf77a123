//! Single-use recovery codes, for signing in when the authenticator app or passkey is
//! lost.
//!
//! Each generation makes [`COUNT`] codes of 80 random bits, shown as 16 Crockford
//! base32 characters in groups of four (`7K2M-9QXT-4HRB-C1VZ`). Crockford's alphabet
//! leaves out I, L, O and U, and reading accepts I/L as 1 and O as 0, so codes read
//! aloud or copied from paper by hand still work.
//!
//! Only [`hash`] of a code is stored. A fast hash is adequate here, unlike for
//! passwords: a code has 80 bits of randomness, so even with the hash in hand,
//! guessing one takes about 2^79 tries, far beyond any attacker.

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Codes per generation.
pub const COUNT: usize = 10;
/// Characters in a code without dashes.
pub const CHARS: usize = 16;
/// Crockford base32: digits and letters without I, L, O and U.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Random bytes per code: 80 bits, exactly 16 base32 characters.
const RANDOM_BYTES: usize = 10;
/// Domain separation, so these hashes never collide with another use of SHA-256.
const DOMAIN: &[u8] = b"tw-recovery-v1\0";

/// Why recovery codes could not be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RecoveryError {
    #[error("We could not create recovery codes just now. Please try again.")]
    Random,
}

/// One recovery code, as shown to the person (`XXXX-XXXX-XXXX-XXXX`). Wiped from
/// memory on drop; `Debug` never shows it.
pub struct RecoveryCode(Zeroizing<String>);

impl RecoveryCode {
    /// The code as shown, with dashes.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code as [`normalise`] returns it: 16 characters, no dashes; what [`hash`]
    /// takes.
    pub fn canonical(&self) -> Zeroizing<String> {
        Zeroizing::new(self.0.chars().filter(|c| *c != '-').collect())
    }
}

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode(..)")
    }
}

/// A fresh set of [`COUNT`] distinct codes.
pub fn generate() -> Result<Vec<RecoveryCode>, RecoveryError> {
    let mut codes: Vec<RecoveryCode> = Vec::with_capacity(COUNT);
    // A repeat among 80-bit codes is practically impossible; the bound only keeps a
    // broken random source from looping forever.
    for _ in 0..COUNT * 4 {
        if codes.len() == COUNT {
            break;
        }
        let code = one()?;
        if !codes.iter().any(|c| c.as_str() == code.as_str()) {
            codes.push(code);
        }
    }
    if codes.len() == COUNT {
        Ok(codes)
    } else {
        Err(RecoveryError::Random)
    }
}

fn one() -> Result<RecoveryCode, RecoveryError> {
    let mut bytes = Zeroizing::new([0u8; RANDOM_BYTES]);
    getrandom::fill(bytes.as_mut()).map_err(|_| RecoveryError::Random)?;
    // Capacity for the whole code up front, so no reallocation leaves copies behind.
    let mut s = Zeroizing::new(String::with_capacity(CHARS + 3));
    for i in 0..CHARS {
        if i > 0 && i % 4 == 0 {
            s.push('-');
        }
        // Five bits starting at bit 5i, read big-endian from a 16-bit window.
        let bit = i * 5;
        let hi = u16::from(bytes[bit / 8]);
        let lo = u16::from(bytes.get(bit / 8 + 1).copied().unwrap_or(0));
        let index = (((hi << 8) | lo) >> (11 - bit % 8)) & 0x1f;
        s.push(char::from(ALPHABET[usize::from(index)]));
    }
    Ok(RecoveryCode(s))
}

/// What a person typed, as the canonical 16-character code, or `None` when it cannot
/// be one. Case, spaces and dashes do not matter; I and L read as 1, O as 0.
pub fn normalise(input: &str) -> Option<String> {
    // Longer than any code with generous spacing: not a code, do not scan it.
    if input.len() > 64 {
        return None;
    }
    let mut out = String::with_capacity(CHARS);
    for c in input.chars() {
        let c = match c.to_ascii_uppercase() {
            ' ' | '-' => continue,
            'I' | 'L' => '1',
            'O' => '0',
            c if u8::try_from(c).is_ok_and(|b| ALPHABET.contains(&b)) => c,
            _ => return None,
        };
        out.push(c);
    }
    (out.len() == CHARS).then_some(out)
}

/// Hex SHA-256 of a canonical code, bound to its account so equal codes of two people
/// hash differently. The encoding is `DOMAIN || user_id || 0 || canonical`; as the
/// canonical code has a fixed length it is unambiguous whatever `user_id` holds.
pub fn hash(user_id: &str, canonical: &str) -> String {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(user_id.as_bytes());
    h.update([0u8]);
    h.update(canonical.as_bytes());
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shaped(code: &str) -> bool {
        let groups: Vec<&str> = code.split('-').collect();
        groups.len() == 4
            && groups
                .iter()
                .all(|g| g.len() == 4 && g.bytes().all(|b| ALPHABET.contains(&b)))
    }

    #[test]
    fn generates_ten_distinct_well_formed_codes() {
        let codes = generate().unwrap();
        assert_eq!(codes.len(), COUNT);
        for (i, c) in codes.iter().enumerate() {
            assert!(shaped(c.as_str()), "{}", c.as_str());
            assert!(codes[..i].iter().all(|o| o.as_str() != c.as_str()));
            assert_eq!(
                normalise(c.as_str()).as_deref(),
                Some(c.canonical().as_str())
            );
        }
        assert_eq!(format!("{:?}", codes[0]), "RecoveryCode(..)");
        let again = generate().unwrap();
        assert!(
            again
                .iter()
                .all(|a| codes.iter().all(|c| c.as_str() != a.as_str()))
        );
    }

    #[test]
    fn every_symbol_appears() {
        // 160 codes x 16 symbols: a missing symbol would mean a biased encoder.
        let mut seen = [false; 32];
        for _ in 0..16 {
            for c in generate().unwrap() {
                for b in c.canonical().bytes() {
                    seen[ALPHABET.iter().position(|a| *a == b).unwrap()] = true;
                }
            }
        }
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn normalise_accepts_how_people_type() {
        let canonical = Some("7K2M9QXT4HRBC1VZ".to_string());
        for typed in [
            "7K2M-9QXT-4HRB-C1VZ",
            "7k2m-9qxt-4hrb-c1vz",
            "7K2M9QXT4HRBC1VZ",
            "7K2M 9QXT 4HRB C1VZ",
            " 7k2m9qxt-4hrb c1vz ",
            "7K2M-9QXT-4HRB-CIVZ",
            "7K2M-9QXT-4HRB-ClVZ",
        ] {
            assert_eq!(normalise(typed), canonical, "{typed:?}");
        }
        assert_eq!(
            normalise("OOOO-0000-oooo-0000").as_deref(),
            Some("0000000000000000")
        );
    }

    #[test]
    fn normalise_refuses_what_cannot_be_a_code() {
        for bad in [
            "",
            "7K2M-9QXT-4HRB-C1V",
            "7K2M-9QXT-4HRB-C1VZ7",
            "7K2M-9QXT-4HRB-C1VU",
            "7K2M_9QXT_4HRB_C1VZ",
            "7K2M-9QXT-4HRB-C1V!",
            "７K2M-9QXT-4HRB-C1VZ",
            "7K2M-9QXT-4HRB-C1VÉ",
            &"7".repeat(1000),
        ] {
            assert_eq!(normalise(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn hashes_match_typed_codes_and_differ_between_people() {
        let code = generate().unwrap().remove(0);
        let stored = hash("user-1", &code.canonical());
        assert_eq!(stored.len(), 64);
        assert!(stored.bytes().all(|b| b.is_ascii_hexdigit()));
        let typed = code.as_str().to_lowercase().replace('-', " ");
        assert_eq!(hash("user-1", &normalise(&typed).unwrap()), stored);
        assert_ne!(hash("user-2", &code.canonical()), stored);
        assert_ne!(hash("user-1", "0000000000000000"), stored);
        // Known answer, so a change of encoding cannot slip through unnoticed.
        let mut h = Sha256::new();
        h.update(b"tw-recovery-v1\0u\x000000000000000000");
        assert_eq!(hash("u", "0000000000000000"), hex::encode(h.finalize()));
    }
}
