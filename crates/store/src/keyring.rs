//! The server's master key, and sealing small secrets with keys derived from it.
//!
//! The master key (32 random bytes) lives in a file created with mode 0600 on first start
//! (a looser mode is refused), or is supplied by the operator. Each purpose ("totp",
//! later "records") gets its own key through HKDF-SHA256, and values are sealed with
//! XChaCha20-Poly1305 (random 192-bit nonces) under associated data that binds each
//! ciphertext to its owner and use, so a sealed value copied to another row does not
//! open. The database therefore never holds these secrets in the clear.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

/// The text a key file starts with.
pub const KEY_FILE_PREFIX: &str = "telewarden-master-key-v1:";
const SEALED_PREFIX: &str = "v1.";

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("master key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("a sealed value could not be opened (wrong key, or it was altered or moved)")]
    Unseal,
    #[error("sealing failed")]
    Seal,
}

/// The master key. Never printed, zeroed on drop.
pub struct Keyring {
    master: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring(***)")
    }
}

impl Keyring {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self {
            master: Zeroizing::new(bytes),
        }
    }

    /// Loads the key file at `path`, creating it (mode 0600) if it does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyringError> {
        let fail = |reason: String| KeyringError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        if !path.exists() {
            let mut key = Zeroizing::new([0u8; 32]);
            getrandom::fill(key.as_mut()).map_err(|e| fail(format!("no randomness: {e}")))?;
            let text = Zeroizing::new(format!("{KEY_FILE_PREFIX}{}\n", hex::encode(key.as_ref())));
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| fail(format!("cannot create it: {e}")))?;
            f.write_all(text.as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(|e| fail(format!("cannot write it: {e}")))?;
            return Ok(Self::from_bytes(*key));
        }
        let mode = fs::metadata(path)
            .map_err(|e| fail(format!("cannot read it: {e}")))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(fail(format!(
                "its permissions ({:o}) let other users read it; run `chmod 600 {}`",
                mode & 0o777,
                path.display()
            )));
        }
        let text = Zeroizing::new(
            fs::read_to_string(path).map_err(|e| fail(format!("cannot read it: {e}")))?,
        );
        Self::parse(text.trim()).ok_or_else(|| fail("it is not a Telewarden master key".into()))
    }

    /// Parses `telewarden-master-key-v1:<64 hex>` or bare 64 hex characters (as an
    /// operator may supply through the environment).
    pub fn parse(text: &str) -> Option<Self> {
        let hex_part = text.strip_prefix(KEY_FILE_PREFIX).unwrap_or(text);
        let bytes = Zeroizing::new(hex::decode(hex_part).ok()?);
        let key: [u8; 32] = bytes.as_slice().try_into().ok()?;
        Some(Self::from_bytes(key))
    }

    fn cipher(&self, purpose: &str) -> XChaCha20Poly1305 {
        let hk = Hkdf::<Sha256>::new(Some(b"telewarden keyring v1"), self.master.as_ref());
        let mut okm = Zeroizing::new([0u8; 32]);
        // 32 bytes is always a valid HKDF-SHA256 output length.
        let _ = hk.expand(purpose.as_bytes(), okm.as_mut());
        XChaCha20Poly1305::new(&Key::from(*okm))
    }

    /// Seals `plaintext` for `purpose`, bound to `aad` (e.g. the owner's id).
    pub fn seal(
        &self,
        purpose: &str,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<String, KeyringError> {
        seal_with(&self.cipher(purpose), aad, plaintext)
    }

    /// Opens a value sealed by [`Keyring::seal`] with the same purpose and `aad`.
    pub fn open(
        &self,
        purpose: &str,
        aad: &[u8],
        sealed: &str,
    ) -> Result<Zeroizing<Vec<u8>>, KeyringError> {
        open_with(&self.cipher(purpose), aad, sealed)
    }
}

/// Seals `plaintext` with `cipher` under `aad`: `v1.` and base64url of nonce ‖ ciphertext.
pub(crate) fn seal_with(
    cipher: &XChaCha20Poly1305,
    aad: &[u8],
    plaintext: &[u8],
) -> Result<String, KeyringError> {
    let mut nonce = [0u8; 24];
    getrandom::fill(&mut nonce).map_err(|_| KeyringError::Seal)?;
    let ct = cipher
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| KeyringError::Seal)?;
    let mut out = Vec::with_capacity(24 + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(out)))
}

/// Opens what [`seal_with`] sealed, with the same cipher and `aad`.
pub(crate) fn open_with(
    cipher: &XChaCha20Poly1305,
    aad: &[u8],
    sealed: &str,
) -> Result<Zeroizing<Vec<u8>>, KeyringError> {
    let raw = sealed
        .strip_prefix(SEALED_PREFIX)
        .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
        .ok_or(KeyringError::Unseal)?;
    if raw.len() < 24 + 16 {
        return Err(KeyringError::Unseal);
    }
    let (nonce, ct) = raw.split_at(24);
    let nonce: [u8; 24] = nonce.try_into().map_err(|_| KeyringError::Unseal)?;
    cipher
        .decrypt(&XNonce::from(nonce), Payload { msg: ct, aad })
        .map(Zeroizing::new)
        .map_err(|_| KeyringError::Unseal)
}

impl Keyring {
    /// A keyed blind index of `value` in `field`: lets the database find equal values
    /// (an identifier, a normalised name) without ever holding them. HMAC-SHA256 under
    /// a key of its own, derived from the master key; hex.
    pub fn blind_index(&self, field: &str, value: &str) -> String {
        use hmac::{Hmac, KeyInit, Mac};
        let hk = Hkdf::<Sha256>::new(Some(b"telewarden keyring v1"), self.master.as_ref());
        let mut okm = Zeroizing::new([0u8; 32]);
        let _ = hk.expand(b"blind-index", okm.as_mut());
        // HMAC takes a key of any length: this cannot fail.
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(okm.as_ref()) else {
            return String::new();
        };
        mac.update(field.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_only_with_the_same_purpose_and_owner() {
        let k = Keyring::from_bytes([3; 32]);
        let sealed = k.seal("totp", b"user:1", b"secret bytes").unwrap();
        assert!(!sealed.contains("secret"));
        assert_eq!(
            k.open("totp", b"user:1", &sealed).unwrap().as_slice(),
            b"secret bytes"
        );
        assert!(
            k.open("totp", b"user:2", &sealed).is_err(),
            "moved to another owner"
        );
        assert!(
            k.open("records", b"user:1", &sealed).is_err(),
            "other purpose"
        );
        assert!(
            Keyring::from_bytes([4; 32])
                .open("totp", b"user:1", &sealed)
                .is_err(),
            "other key"
        );
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(k.open("totp", b"user:1", &tampered).is_err());
        assert!(k.open("totp", b"user:1", "garbage").is_err());
        assert_ne!(
            sealed,
            k.seal("totp", b"user:1", b"secret bytes").unwrap(),
            "fresh nonce"
        );
    }

    #[test]
    fn key_file_is_private_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let a = Keyring::load_or_create(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let b = Keyring::load_or_create(&path).unwrap();
        let sealed = a.seal("p", b"", b"x").unwrap();
        assert_eq!(b.open("p", b"", &sealed).unwrap().as_slice(), b"x");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = Keyring::load_or_create(&path).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(&path, "nonsense").unwrap();
        assert!(
            Keyring::load_or_create(&path)
                .unwrap_err()
                .to_string()
                .contains("not a Telewarden master key")
        );
    }

    #[test]
    fn parses_bare_hex_from_the_environment() {
        assert!(Keyring::parse(&"ab".repeat(32)).is_some());
        assert!(Keyring::parse("abcd").is_none());
        assert!(format!("{:?}", Keyring::from_bytes([1; 32])) == "Keyring(***)");
    }
}
