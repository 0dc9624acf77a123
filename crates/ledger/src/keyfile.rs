//! The tree-head signing key on disk.
//!
//! One line of text, `telewarden-ledger-ed25519-v1:<64 hex chars of the seed>`, so an
//! operator can back it up or inspect it without tools, and so a file of the wrong
//! kind is recognised instead of being read as key bytes. The file must be private to
//! its owner: whoever can read it can sign tree heads for a rewritten log.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
#[cfg(unix)]
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ed25519_dalek::{SigningKey, VerifyingKey};
use zeroize::Zeroizing;

use crate::LedgerError;

/// Prefix of the secret key line.
pub const SECRET_PREFIX: &str = "telewarden-ledger-ed25519-v1:";

/// Key files are tiny; anything larger is not one (and is not read into memory).
const MAX_KEY_FILE_BYTES: u64 = 4096;

/// Loads the signing key at `path`, creating a new random one (mode 0600) if the file
/// does not exist, and writes or refreshes `<path>.pub` with the public key in hex.
///
/// Refuses a key file that group or others may access in any way, or whose content is
/// not a key line.
pub fn load_or_create(path: impl AsRef<Path>) -> Result<SigningKey, LedgerError> {
    let path = path.as_ref();
    let key = match create_new(path)? {
        Some(key) => key,
        None => load_existing(path)?,
    };
    // The .pub file is a convenience for the offline verifier; failing to write it
    // (e.g. a read-only secrets mount) must not keep the server from starting.
    if let Err(e) = write_public(path, &key.verifying_key()) {
        tracing::warn!(error = %e, "could not write the ledger public key file");
    }
    Ok(key)
}

/// The path of the public key file written next to the key at `key_path`.
pub fn public_key_path(key_path: &Path) -> PathBuf {
    let mut name = key_path.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// Loads a verifying key from either a `.pub` file (64 hex characters) or the secret
/// key file itself; for the offline verifier.
pub fn load_verifying_key(path: impl AsRef<Path>) -> Result<VerifyingKey, LedgerError> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let text = read_small(path, file)?;
    let line = text.trim();
    if line.starts_with(SECRET_PREFIX) {
        return parse_secret(path, line).map(|k| k.verifying_key());
    }
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(line, &mut bytes).map_err(|_| {
        key_file_error(
            path,
            "is neither a ledger key file nor a public key (64 hex characters)",
        )
    })?;
    let key = VerifyingKey::from_bytes(&bytes)
        .map_err(|_| key_file_error(path, "does not hold a valid Ed25519 public key"))?;
    if key.is_weak() {
        return Err(key_file_error(
            path,
            "holds a weak (small-order) public key",
        ));
    }
    Ok(key)
}

fn create_new(path: &Path) -> Result<Option<SigningKey>, LedgerError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(None),
        Err(e) => return Err(io_error(path, e)),
    };
    let mut seed = Zeroizing::new([0u8; 32]);
    let written = getrandom::fill(seed.as_mut_slice())
        .map_err(|e| key_file_error(path, &format!("no randomness for a new key: {e}")))
        .and_then(|()| {
            let digits = Zeroizing::new(hex::encode(seed.as_slice()));
            let mut line = Zeroizing::new(String::with_capacity(SECRET_PREFIX.len() + 65));
            line.push_str(SECRET_PREFIX);
            line.push_str(&digits);
            line.push('\n');
            file.write_all(line.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| io_error(path, e))
        });
    if let Err(e) = written {
        // A half-written key file would be refused as malformed on every later start.
        let _ = fs::remove_file(path);
        return Err(e);
    }
    sync_parent(path);
    tracing::info!(path = %path.display(), "created a new ledger signing key");
    Ok(Some(SigningKey::from_bytes(&seed)))
}

fn load_existing(path: &Path) -> Result<SigningKey, LedgerError> {
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    // Checked on the open handle, so the file checked is the file read.
    let meta = file.metadata().map_err(|e| io_error(path, e))?;
    if !meta.is_file() {
        return Err(key_file_error(path, "is not a regular file"));
    }
    #[cfg(unix)]
    {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(key_file_error(
                path,
                &format!(
                    "has permissions {mode:03o}, which let group or others access the \
                     signing key; fix with `chmod 600 {}`",
                    path.display()
                ),
            ));
        }
    }
    let text = read_small(path, file)?;
    parse_secret(path, text.trim())
}

fn read_small(path: &Path, file: File) -> Result<Zeroizing<String>, LedgerError> {
    let limit = usize::try_from(MAX_KEY_FILE_BYTES).unwrap_or(4096);
    // Room for everything up front, so reading never reallocates and leaves stray
    // copies of key material in freed memory.
    let mut bytes = Zeroizing::new(Vec::with_capacity(limit + 1));
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(path, e))?;
    if bytes.len() > limit {
        return Err(key_file_error(path, "is too large to be a ledger key file"));
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| key_file_error(path, "is not text; expected a ledger key line"))?;
    Ok(Zeroizing::new(text.to_owned()))
}

fn parse_secret(path: &Path, line: &str) -> Result<SigningKey, LedgerError> {
    let Some(digits) = line.strip_prefix(SECRET_PREFIX) else {
        return Err(key_file_error(
            path,
            &format!("is malformed: expected one line starting with {SECRET_PREFIX:?}"),
        ));
    };
    let mut seed = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(digits, seed.as_mut_slice()).map_err(|_| {
        key_file_error(
            path,
            &format!("is malformed: expected 64 hex characters after {SECRET_PREFIX:?}"),
        )
    })?;
    Ok(SigningKey::from_bytes(&seed))
}

fn write_public(key_path: &Path, key: &VerifyingKey) -> Result<(), LedgerError> {
    let pub_path = public_key_path(key_path);
    let content = format!("{}\n", hex::encode(key.as_bytes()));
    if fs::read_to_string(&pub_path).is_ok_and(|old| old == content) {
        return Ok(());
    }
    // Write-then-rename, so a reader never sees a half-written public key.
    let mut tmp_name = pub_path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o644);
    let result = options
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(content.as_bytes())?;
            #[cfg(unix)]
            f.set_permissions(fs::Permissions::from_mode(0o644))?;
            f.sync_all()
        })
        .and_then(|()| fs::rename(&tmp, &pub_path));
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(io_error(&pub_path, e));
    }
    sync_parent(&pub_path);
    Ok(())
}

/// Makes a newly created directory entry durable; best effort.
fn sync_parent(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = File::open(dir)
    {
        let _ = d.sync_all();
    }
}

fn io_error(path: &Path, source: io::Error) -> LedgerError {
    LedgerError::Io {
        path: path.to_owned(),
        source,
    }
}

fn key_file_error(path: &Path, reason: &str) -> LedgerError {
    LedgerError::KeyFile {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}
