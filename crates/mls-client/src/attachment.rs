//! Encrypted attachments.
//!
//! Each file is encrypted once with AES-256-GCM under a fresh random key and a random
//! 96-bit nonce, and uploaded as `nonce || ciphertext || tag`. The key and the SHA-256 of
//! that blob go into the MLS-encrypted [`crate::AttachmentRef`], so only group members can
//! open it, and a reader checks the hash before decrypting (the blob store cannot swap
//! files). One key per file means a nonce is never reused under a key.

use aes_gcm::aead::Aead;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// A sealed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// `nonce (12 bytes) || ciphertext || tag (16 bytes)`, what is uploaded.
    pub ciphertext: Vec<u8>,
    /// The file's key.
    pub key: [u8; 32],
    /// SHA-256 of `ciphertext`.
    pub sha256: [u8; 32],
}

/// SHA-256 of some bytes.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Encrypts a file under a fresh key.
pub fn seal(plaintext: &[u8]) -> Result<Sealed> {
    let mut key = [0u8; 32];
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut key).map_err(|e| Error::Crypto(e.to_string()))?;
    getrandom::fill(&mut nonce).map_err(|e| Error::Crypto(e.to_string()))?;
    let cipher = Aes256Gcm::new(&key.into());
    let body = cipher
        .encrypt(&Nonce::from(nonce), plaintext)
        .map_err(|_| Error::Crypto("attachment encryption failed".into()))?;
    let mut ciphertext = Vec::with_capacity(NONCE_LEN + body.len());
    ciphertext.extend_from_slice(&nonce);
    ciphertext.extend_from_slice(&body);
    let sha256 = sha256(&ciphertext);
    Ok(Sealed {
        ciphertext,
        key,
        sha256,
    })
}

/// Checks the hash, then decrypts. Fails on a hash mismatch, a wrong key or any altered
/// byte.
pub fn open(ciphertext: &[u8], key: &[u8; 32], expected_sha256: &[u8; 32]) -> Result<Vec<u8>> {
    let actual = sha256(ciphertext);
    // Not secret, but compare in constant time anyway: it costs nothing.
    let diff = actual
        .iter()
        .zip(expected_sha256)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    if diff != 0 {
        return Err(Error::Attachment("the file does not match its hash"));
    }
    if ciphertext.len() < NONCE_LEN + TAG_LEN {
        return Err(Error::Attachment("the file is too short"));
    }
    let (nonce, body) = ciphertext.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce
        .try_into()
        .map_err(|_| Error::Attachment("the file is too short"))?;
    Aes256Gcm::new(&(*key).into())
        .decrypt(&Nonce::from(nonce), body)
        .map_err(|_| Error::Attachment("wrong key or altered file"))
}
