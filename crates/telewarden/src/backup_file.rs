//! The backup file format: encrypted, self-verifying, read back only whole.
//!
//! ```text
//! header   magic "TWBACKUP" (8) · version u16 (1) · kdf u8 (1 = Argon2id v1.3)
//!          · aead u8 (1 = XChaCha20-Poly1305) · m_kib u32 · t_cost u32 · p_lanes u32
//!          · chunk_size u32 · salt (16) · nonce prefix (15)                 59 bytes
//! chunks   length u32 · ciphertext     (plaintext ≤ chunk_size; AAD = the header;
//!          nonce = prefix · chunk index u64 · final flag u8)
//! final    one more chunk with the final flag: SHA-256 of the plaintext · its length u64
//! trailer  "TWEND\0\0\0" · SHA-256 of every byte before the trailer
//! ```
//!
//! The key is Argon2id of the passphrase and the salt. Every chunk is sealed under its
//! index, and only the last carries the final flag, so chunks cannot be dropped,
//! reordered or appended; a truncated file has no final chunk. The trailer lets damage be
//! told apart from a wrong passphrase, and its digest is what the database records.
//! All numbers are big-endian. Every length read is checked before it is used.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

pub const MAGIC: &[u8; 8] = b"TWBACKUP";
pub const TRAILER_MAGIC: &[u8; 8] = b"TWEND\0\0\0";
pub const VERSION: u16 = 1;
const KDF_ARGON2ID: u8 = 1;
const AEAD_XCHACHA: u8 = 1;
pub const HEADER_LEN: usize = 59;
const TRAILER_LEN: usize = 8 + 32;
const TAG_LEN: usize = 16;

/// Argon2id parameters for new backups: 64 MiB, 3 passes, 1 lane (above OWASP's
/// minimum; a backup is unlocked rarely, so it can afford more than a sign-in).
pub const DEFAULT_KDF: KdfParams = KdfParams {
    m_kib: 64 * 1024,
    t_cost: 3,
    p_lanes: 1,
};
pub const DEFAULT_CHUNK: u32 = 1 << 20;

/// Why a backup file could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FormatError {
    #[error("this is not a Telewarden backup file")]
    NotABackup,
    #[error("this backup was written in format version {0}, which this Telewarden does not read")]
    UnsupportedVersion(u16),
    #[error("the backup's header is invalid: {0}")]
    BadHeader(&'static str),
    #[error("the backup file is damaged or truncated (its digest does not match its contents)")]
    Damaged,
    #[error(
        "wrong passphrase, or the backup was altered after it was written (it cannot be decrypted)"
    )]
    CannotDecrypt,
    #[error("the backup's contents are malformed: {0}")]
    Malformed(&'static str),
    #[error("key derivation failed: {0}")]
    Kdf(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    pub m_kib: u32,
    pub t_cost: u32,
    pub p_lanes: u32,
}

impl KdfParams {
    /// Refuses parameters a hostile file could use to exhaust memory or time.
    fn check(self) -> Result<(), FormatError> {
        if !(1..=16).contains(&self.p_lanes) {
            return Err(FormatError::BadHeader("Argon2 lanes out of range (1–16)"));
        }
        if self.m_kib < 8 * self.p_lanes || self.m_kib > 1024 * 1024 {
            return Err(FormatError::BadHeader(
                "Argon2 memory out of range (up to 1 GiB)",
            ));
        }
        if !(1..=16).contains(&self.t_cost) {
            return Err(FormatError::BadHeader("Argon2 passes out of range (1–16)"));
        }
        Ok(())
    }

    fn derive(self, passphrase: &[u8], salt: &[u8]) -> Result<Zeroizing<[u8; 32]>, FormatError> {
        let params = Params::new(self.m_kib, self.t_cost, self.p_lanes, Some(32))
            .map_err(|e| FormatError::Kdf(e.to_string()))?;
        let mut key = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(passphrase, salt, key.as_mut())
            .map_err(|e| FormatError::Kdf(e.to_string()))?;
        Ok(key)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Header {
    kdf: KdfParams,
    chunk_size: u32,
    salt: [u8; 16],
    nonce_prefix: [u8; 15],
}

impl Header {
    fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..8].copy_from_slice(MAGIC);
        out[8..10].copy_from_slice(&VERSION.to_be_bytes());
        out[10] = KDF_ARGON2ID;
        out[11] = AEAD_XCHACHA;
        out[12..16].copy_from_slice(&self.kdf.m_kib.to_be_bytes());
        out[16..20].copy_from_slice(&self.kdf.t_cost.to_be_bytes());
        out[20..24].copy_from_slice(&self.kdf.p_lanes.to_be_bytes());
        out[24..28].copy_from_slice(&self.chunk_size.to_be_bytes());
        out[28..44].copy_from_slice(&self.salt);
        out[44..59].copy_from_slice(&self.nonce_prefix);
        out
    }

    fn decode(bytes: &[u8]) -> Result<Self, FormatError> {
        if bytes.len() < 8 || &bytes[0..8] != MAGIC {
            return Err(FormatError::NotABackup);
        }
        if bytes.len() < HEADER_LEN {
            return Err(FormatError::Damaged);
        }
        let version = u16::from_be_bytes([bytes[8], bytes[9]]);
        if version != VERSION {
            return Err(FormatError::UnsupportedVersion(version));
        }
        if bytes[10] != KDF_ARGON2ID {
            return Err(FormatError::BadHeader("unknown key derivation"));
        }
        if bytes[11] != AEAD_XCHACHA {
            return Err(FormatError::BadHeader("unknown cipher"));
        }
        let u32_at =
            |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let kdf = KdfParams {
            m_kib: u32_at(12),
            t_cost: u32_at(16),
            p_lanes: u32_at(20),
        };
        kdf.check()?;
        let chunk_size = u32_at(24);
        if !(1024..=16 * 1024 * 1024).contains(&chunk_size) {
            return Err(FormatError::BadHeader("chunk size out of range"));
        }
        let mut salt = [0u8; 16];
        salt.copy_from_slice(&bytes[28..44]);
        let mut nonce_prefix = [0u8; 15];
        nonce_prefix.copy_from_slice(&bytes[44..59]);
        Ok(Self {
            kdf,
            chunk_size,
            salt,
            nonce_prefix,
        })
    }

    fn nonce(&self, index: u64, last: bool) -> XNonce {
        let mut n = [0u8; 24];
        n[0..15].copy_from_slice(&self.nonce_prefix);
        n[15..23].copy_from_slice(&index.to_be_bytes());
        n[23] = u8::from(last);
        XNonce::from(n)
    }
}

/// Encrypts `plaintext` under `passphrase`; returns the file's bytes and its digest
/// (hex SHA-256 of everything before the trailer, as stored in the trailer).
pub fn seal(
    plaintext: &[u8],
    passphrase: &[u8],
    kdf: KdfParams,
) -> Result<(Vec<u8>, String), FormatError> {
    kdf.check()?;
    let mut salt = [0u8; 16];
    let mut nonce_prefix = [0u8; 15];
    getrandom::fill(&mut salt).map_err(|e| FormatError::Kdf(format!("no randomness: {e}")))?;
    getrandom::fill(&mut nonce_prefix)
        .map_err(|e| FormatError::Kdf(format!("no randomness: {e}")))?;
    let header = Header {
        kdf,
        chunk_size: DEFAULT_CHUNK,
        salt,
        nonce_prefix,
    };
    let head = header.encode();
    let key = kdf.derive(passphrase, &salt)?;
    let cipher = XChaCha20Poly1305::new(&Key::from(*key));
    let mut out = Vec::with_capacity(plaintext.len() + plaintext.len() / 1024 + 256);
    out.extend_from_slice(&head);
    let push = |index: u64, last: bool, msg: &[u8], out: &mut Vec<u8>| {
        let ct = cipher
            .encrypt(&header.nonce(index, last), Payload { msg, aad: &head })
            .map_err(|_| FormatError::Kdf("encryption failed".into()))?;
        let len = u32::try_from(ct.len()).map_err(|_| FormatError::Malformed("chunk too large"))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&ct);
        Ok::<(), FormatError>(())
    };
    let mut index = 0u64;
    for chunk in plaintext.chunks(DEFAULT_CHUNK as usize) {
        push(index, false, chunk, &mut out)?;
        index += 1;
    }
    let mut last = Vec::with_capacity(40);
    last.extend_from_slice(&Sha256::digest(plaintext));
    last.extend_from_slice(&(plaintext.len() as u64).to_be_bytes());
    push(index, true, &last, &mut out)?;
    let digest = Sha256::digest(&out);
    out.extend_from_slice(TRAILER_MAGIC);
    out.extend_from_slice(&digest);
    Ok((out, hex::encode(digest)))
}

/// Checks the file's trailer digest (no passphrase needed): catches damage and
/// truncation. Returns the digest (hex).
pub fn check_digest(file: &[u8]) -> Result<String, FormatError> {
    Header::decode(file)?;
    if file.len() < HEADER_LEN + TRAILER_LEN {
        return Err(FormatError::Damaged);
    }
    let (body, trailer) = file.split_at(file.len() - TRAILER_LEN);
    if &trailer[0..8] != TRAILER_MAGIC {
        return Err(FormatError::Damaged);
    }
    let digest = Sha256::digest(body);
    if !subtle_eq(digest.as_slice(), &trailer[8..]) {
        return Err(FormatError::Damaged);
    }
    Ok(hex::encode(digest))
}

fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Verifies and decrypts the whole file; returns the plaintext and the file's digest.
pub fn open(file: &[u8], passphrase: &[u8]) -> Result<(Zeroizing<Vec<u8>>, String), FormatError> {
    let digest = check_digest(file)?;
    let header = Header::decode(file)?;
    let head = &file[..HEADER_LEN];
    let body = &file[HEADER_LEN..file.len() - TRAILER_LEN];
    let key = header.kdf.derive(passphrase, &header.salt)?;
    let cipher = XChaCha20Poly1305::new(&Key::from(*key));
    let max_ct = header.chunk_size as usize + TAG_LEN;
    let mut plain = Zeroizing::new(Vec::with_capacity(body.len()));
    let mut rest = body;
    let mut index = 0u64;
    loop {
        if rest.len() < 4 {
            return Err(FormatError::Malformed("a chunk is cut short"));
        }
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if len < TAG_LEN || len > max_ct || rest.len() - 4 < len {
            return Err(FormatError::Malformed("a chunk's length is out of range"));
        }
        let ct = &rest[4..4 + len];
        rest = &rest[4 + len..];
        let last = rest.is_empty();
        let msg = cipher
            .decrypt(&header.nonce(index, last), Payload { msg: ct, aad: head })
            .map_err(|_| FormatError::CannotDecrypt)?;
        if last {
            if msg.len() != 40 {
                return Err(FormatError::Malformed("the final chunk is malformed"));
            }
            let mut len_bytes = [0u8; 8];
            len_bytes.copy_from_slice(&msg[32..40]);
            if u64::from_be_bytes(len_bytes) != plain.len() as u64
                || !subtle_eq(&Sha256::digest(plain.as_slice()), &msg[..32])
            {
                return Err(FormatError::CannotDecrypt);
            }
            return Ok((plain, digest));
        }
        plain.extend_from_slice(&msg);
        index += 1;
    }
}

/// The plaintext: named entries, each `name length u16 · name · data length u64 · data`.
pub fn pack(entries: &[(String, Zeroizing<Vec<u8>>)]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::new());
    for (name, data) in entries {
        let name_len = u16::try_from(name.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&name_len.to_be_bytes());
        out.extend_from_slice(&name.as_bytes()[..name_len as usize]);
        out.extend_from_slice(&(data.len() as u64).to_be_bytes());
        out.extend_from_slice(data);
    }
    out
}

/// Splits the plaintext back into its entries.
pub fn unpack(bytes: &[u8]) -> Result<Vec<(String, &[u8])>, FormatError> {
    let mut entries = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.len() < 2 {
            return Err(FormatError::Malformed("an entry is cut short"));
        }
        let name_len = u16::from_be_bytes([rest[0], rest[1]]) as usize;
        rest = &rest[2..];
        if rest.len() < name_len + 8 {
            return Err(FormatError::Malformed("an entry is cut short"));
        }
        let name = std::str::from_utf8(&rest[..name_len])
            .map_err(|_| FormatError::Malformed("an entry's name is not UTF-8"))?
            .to_owned();
        rest = &rest[name_len..];
        let mut len_bytes = [0u8; 8];
        len_bytes.copy_from_slice(&rest[..8]);
        rest = &rest[8..];
        let len = usize::try_from(u64::from_be_bytes(len_bytes))
            .map_err(|_| FormatError::Malformed("an entry is too large"))?;
        if rest.len() < len {
            return Err(FormatError::Malformed("an entry is cut short"));
        }
        entries.push((name, &rest[..len]));
        rest = &rest[len..];
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: KdfParams = KdfParams {
        m_kib: 64,
        t_cost: 1,
        p_lanes: 1,
    };

    fn sample() -> Vec<u8> {
        (0..(DEFAULT_CHUNK as usize * 2 + 123))
            .map(|i| (i % 251) as u8)
            .collect()
    }

    #[test]
    fn round_trips() {
        let data = sample();
        let (file, digest) = seal(&data, b"correct horse", FAST).unwrap();
        let (plain, d2) = open(&file, b"correct horse").unwrap();
        assert_eq!(plain.as_slice(), data.as_slice());
        assert_eq!(digest, d2);
        let (empty, _) = seal(b"", b"pw", FAST).unwrap();
        assert!(open(&empty, b"pw").unwrap().0.is_empty());
    }

    #[test]
    fn wrong_passphrase_damage_and_truncation_are_told_apart() {
        let (file, _) = seal(&sample(), b"correct horse", FAST).unwrap();
        assert_eq!(
            open(&file, b"wrong horse").unwrap_err(),
            FormatError::CannotDecrypt
        );
        for at in [20, HEADER_LEN + 10, file.len() / 2, file.len() - 1] {
            let mut bad = file.clone();
            bad[at] ^= 0x01;
            assert!(open(&bad, b"correct horse").is_err(), "flip at {at}");
        }
        for len in [0, 5, HEADER_LEN, file.len() / 2, file.len() - 1] {
            assert!(
                open(&file[..len], b"correct horse").is_err(),
                "cut at {len}"
            );
        }
        assert_eq!(open(b"hello", b"x").unwrap_err(), FormatError::NotABackup);
    }

    #[test]
    fn a_consistent_forgery_without_the_key_is_refused() {
        // Drop a chunk and recompute the (unkeyed) trailer: the AEAD still refuses.
        let (file, _) = seal(&sample(), b"pw", FAST).unwrap();
        let body = &file[..file.len() - TRAILER_LEN];
        let first_len = u32::from_be_bytes(body[HEADER_LEN..HEADER_LEN + 4].try_into().unwrap());
        let mut forged = body[..HEADER_LEN].to_vec();
        forged.extend_from_slice(&body[HEADER_LEN + 4 + first_len as usize..]);
        let d = Sha256::digest(&forged);
        forged.extend_from_slice(TRAILER_MAGIC);
        forged.extend_from_slice(&d);
        assert_eq!(
            open(&forged, b"pw").unwrap_err(),
            FormatError::CannotDecrypt
        );
    }

    #[test]
    fn hostile_kdf_parameters_are_refused() {
        let (mut file, _) = seal(b"x", b"pw", FAST).unwrap();
        file[12..16].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            Header::decode(&file).unwrap_err(),
            FormatError::BadHeader(_)
        ));
    }

    #[test]
    fn entries_round_trip_and_bad_lengths_are_refused() {
        let packed = pack(&[
            ("a".into(), Zeroizing::new(b"one".to_vec())),
            ("b/c".into(), Zeroizing::new(Vec::new())),
        ]);
        let entries = unpack(&packed).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0], ("a".to_owned(), &b"one"[..]));
        assert!(unpack(&packed[..packed.len() - 1]).is_err());
        assert!(unpack(&[0, 1]).is_err());
    }
}
