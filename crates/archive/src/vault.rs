//! The archive directory, encrypted at rest.
//!
//! `vault.json` (the only file in the clear) names the format, the Argon2id parameters
//! and salt, and holds a check value: a known string sealed under the derived key, so a
//! wrong passphrase is told apart from a damaged file before anything is read or
//! written. Every other file is `nonce (12) || AES-256-GCM ciphertext || tag`, sealed
//! under that key with the file's path inside the directory as associated data, so
//! files cannot be swapped for one another unnoticed.
//!
//! Writes are atomic: a temporary file in the same directory, written and fsynced, then
//! renamed over the old one, and the directory fsynced. A crash leaves either the old
//! file or the new one, never half of one. The directory is locked (`flock` on
//! `vault.json`) while a process writes to it, so two archive processes cannot
//! interleave their saves.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

const HEADER: &str = "vault.json";
const FORMAT: &str = "tw-archive-v1";
const CHECK: &[u8] = b"telewarden practice archive: passphrase check";
const NONCE_LEN: usize = 12;
/// Shortest passphrase accepted for a new archive (the same rule as backups).
pub const MIN_PASSPHRASE: usize = 12;

/// Argon2id cost, kept in the header so it can be raised for new archives without
/// breaking old ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t_cost: u32,
    /// Lanes.
    pub p_lanes: u32,
}

/// New archives: 64 MiB, 3 passes, 1 lane — as the server's backups (above OWASP's
/// minimum; a practice opens its archive rarely, an attacker guesses often).
pub const DEFAULT_KDF: KdfParams = KdfParams {
    m_kib: 64 * 1024,
    t_cost: 3,
    p_lanes: 1,
};

impl KdfParams {
    /// Refuses parameters a hostile header could use to exhaust memory or time.
    fn check(self) -> Result<()> {
        let ok = (1..=16).contains(&self.p_lanes)
            && self.m_kib >= 8 * self.p_lanes
            && self.m_kib <= 1024 * 1024
            && (1..=16).contains(&self.t_cost);
        if ok {
            Ok(())
        } else {
            Err(Error::Vault(
                "vault.json has Argon2 parameters out of range".into(),
            ))
        }
    }

    fn derive(self, passphrase: &[u8], salt: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
        self.check()?;
        let params = Params::new(self.m_kib, self.t_cost, self.p_lanes, Some(32))
            .map_err(|e| Error::Vault(format!("Argon2 parameters: {e}")))?;
        let mut key = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(passphrase, salt, key.as_mut())
            .map_err(|e| Error::Vault(format!("key derivation failed: {e}")))?;
        Ok(key)
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    kdf: KdfParams,
    #[serde(with = "hex::serde")]
    salt: Vec<u8>,
    #[serde(with = "hex::serde")]
    check: Vec<u8>,
}

/// An open archive directory: its key and, when opened for writing, its lock.
pub struct Vault {
    dir: PathBuf,
    key: Zeroizing<[u8; 32]>,
    /// Held for as long as the vault is open for writing; the lock goes with it.
    _lock: Option<File>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Vault")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| Error::Vault(format!("no randomness: {e}")))?;
    Ok(out)
}

fn seal(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let nonce = random::<NONCE_LEN>()?;
    let body = Aes256Gcm::new(&(*key).into())
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| Error::Vault("encryption failed".into()))?;
    let mut out = Vec::with_capacity(NONCE_LEN + body.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    Ok(out)
}

/// `None` when the key or the bytes are wrong (the caller says which it means).
fn open(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if sealed.len() < NONCE_LEN {
        return None;
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
    Aes256Gcm::new(&(*key).into())
        .decrypt(&Nonce::from(nonce), Payload { msg: body, aad })
        .ok()
        .map(Zeroizing::new)
}

/// Writes `bytes` to `path` atomically and durably (temp file, fsync, rename, fsync of
/// the directory).
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = path
        .parent()
        .ok_or_else(|| Error::Vault(format!("{} has no directory", path.display())))?;
    let tmp = parent.join(format!(".tmp-{}", hex::encode(random::<8>()?)));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| Error::io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
        f.sync_all().map_err(|e| Error::io(&tmp, e))?;
        fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
        File::open(parent)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io(parent, e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Paths inside the vault are built from ids the server sends: only these characters
/// may appear in a path component, so nothing can point outside the directory.
pub fn safe_component(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && !s.starts_with('.')
}

fn check_rel(rel: &str) -> Result<()> {
    if rel.split('/').all(safe_component) {
        Ok(())
    } else {
        Err(Error::Vault(format!("refusing the path {rel:?}")))
    }
}

#[cfg(unix)]
fn make_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io(dir, e))
}

#[cfg(not(unix))]
fn make_private_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
}

fn lock(dir: &Path) -> Result<File> {
    let path = dir.join(HEADER);
    let f = File::open(&path).map_err(|e| Error::io(&path, e))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Vault(format!(
            "{} is in use by another tw-archive process",
            dir.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&path, e)),
    }
}

impl Vault {
    /// Sets up a new archive in `dir` (created if missing; refused if it holds an
    /// archive already).
    pub fn create(dir: &Path, passphrase: &[u8]) -> Result<Vault> {
        Self::create_with(dir, passphrase, DEFAULT_KDF)
    }

    /// [`Vault::create`] with chosen Argon2id costs.
    pub fn create_with(dir: &Path, passphrase: &[u8], kdf: KdfParams) -> Result<Vault> {
        if passphrase.len() < MIN_PASSPHRASE {
            return Err(Error::Passphrase(format!(
                "a new archive needs a passphrase of at least {MIN_PASSPHRASE} characters"
            )));
        }
        make_private_dir(dir)?;
        let header_path = dir.join(HEADER);
        if header_path.exists() {
            return Err(Error::Vault(format!(
                "{} holds an archive already",
                dir.display()
            )));
        }
        let salt = random::<16>()?;
        let key = kdf.derive(passphrase, &salt)?;
        let header = Header {
            format: FORMAT.into(),
            kdf,
            salt: salt.to_vec(),
            check: seal(&key, HEADER.as_bytes(), CHECK)?,
        };
        let bytes =
            serde_json::to_vec_pretty(&header).map_err(|e| Error::Vault(format!("header: {e}")))?;
        write_atomic(&header_path, &bytes)?;
        Ok(Vault {
            dir: dir.to_path_buf(),
            key,
            _lock: Some(lock(dir)?),
        })
    }

    /// Opens an archive: refuses a wrong passphrase before touching anything. With
    /// `write`, takes the directory's lock (refused while another process holds it);
    /// without, only reads (files are replaced atomically, so reading beside a running
    /// archive sees whole files).
    pub fn open(dir: &Path, passphrase: &[u8], write: bool) -> Result<Vault> {
        let header_path = dir.join(HEADER);
        let bytes = match fs::read(&header_path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::Vault(format!(
                    "{} holds no archive (run `tw-archive register` first)",
                    dir.display()
                )));
            }
            Err(e) => return Err(Error::io(&header_path, e)),
        };
        let header: Header = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Vault(format!("vault.json is damaged: {e}")))?;
        if header.format != FORMAT {
            return Err(Error::Vault(format!(
                "vault.json is of format {:?}, this tool reads {FORMAT}",
                header.format
            )));
        }
        let key = header.kdf.derive(passphrase, &header.salt)?;
        match open(&key, HEADER.as_bytes(), &header.check) {
            Some(check) if check.as_slice() == CHECK => {}
            _ => return Err(Error::WrongPassphrase(dir.to_path_buf())),
        }
        let lock = if write { Some(lock(dir)?) } else { None };
        Ok(Vault {
            dir: dir.to_path_buf(),
            key,
            _lock: lock,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Seals `plaintext` into the file `rel` (a `/`-separated path inside the vault),
    /// atomically.
    pub fn write(&self, rel: &str, plaintext: &[u8]) -> Result<()> {
        check_rel(rel)?;
        let path = self.dir.join(rel);
        if let Some(parent) = path.parent() {
            make_private_dir(parent)?;
        }
        write_atomic(&path, &seal(&self.key, rel.as_bytes(), plaintext)?)
    }

    /// Opens the file `rel`; `None` when there is none.
    pub fn read(&self, rel: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        check_rel(rel)?;
        let path = self.dir.join(rel);
        let sealed = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path, e)),
        };
        open(&self.key, rel.as_bytes(), &sealed)
            .map(Some)
            .ok_or_else(|| Error::Vault(format!("{rel} is damaged or was altered")))
    }

    /// The names in the directory `rel` (sorted; temporary files left by a crash
    /// skipped); empty when it does not exist.
    pub fn list(&self, rel: &str) -> Result<Vec<String>> {
        check_rel(rel)?;
        let path = self.dir.join(rel);
        let entries = match fs::read_dir(&path) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&path, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&path, e))?;
            if let Some(name) = entry.file_name().to_str()
                && safe_component(name)
            {
                names.push(name.to_owned());
            }
        }
        names.sort();
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const FAST: KdfParams = KdfParams {
        m_kib: 64,
        t_cost: 1,
        p_lanes: 1,
    };

    #[test]
    fn sealed_round_trip_wrong_passphrase_and_swapped_files() {
        let dir = tempfile::tempdir().unwrap();
        let v = Vault::create_with(dir.path(), b"correct horse battery", FAST).unwrap();
        v.write("records/a/1.bin", b"secret canary").unwrap();
        v.write("records/a/2.bin", b"other").unwrap();
        assert_eq!(
            v.read("records/a/1.bin").unwrap().unwrap().as_slice(),
            b"secret canary"
        );
        assert_eq!(v.list("records/a").unwrap(), ["1.bin", "2.bin"]);
        let raw = fs::read(dir.path().join("records/a/1.bin")).unwrap();
        assert!(!raw.windows(6).any(|w| w == b"canary"));
        // In use: a second writer is refused, a reader is not.
        assert!(matches!(
            Vault::open(dir.path(), b"correct horse battery", true),
            Err(Error::Vault(_))
        ));
        drop(v);
        assert!(matches!(
            Vault::open(dir.path(), b"wrong passphrase!!", false),
            Err(Error::WrongPassphrase(_))
        ));
        let v = Vault::open(dir.path(), b"correct horse battery", true).unwrap();
        // A file moved over another does not open.
        fs::copy(
            dir.path().join("records/a/2.bin"),
            dir.path().join("records/a/1.bin"),
        )
        .unwrap();
        assert!(v.read("records/a/1.bin").is_err());
        assert!(v.write("../escape", b"x").is_err());
        assert!(Vault::create_with(dir.path(), b"correct horse battery", FAST).is_err());
        assert!(matches!(
            Vault::create_with(&dir.path().join("new"), b"short", FAST),
            Err(Error::Passphrase(_))
        ));
    }
}
