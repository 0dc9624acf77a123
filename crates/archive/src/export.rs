//! `export`: the archive's records in the clear, for the practice's clinical record.
//!
//! Writes `records.jsonl` (one JSON object per record, in conversation and sequence
//! order) and each attachment under `attachments/{conversation}/`, into a new directory
//! (mode 0700: this is plaintext health information). Every file's SHA-256 is computed
//! again and must equal the one recorded when it was archived. Reading needs no lock, so
//! an export may run beside a running archive.

use std::fs;
use std::io::Write;
use std::path::Path;

use serde_json::json;

use crate::error::{Error, Result};
use crate::record::Record;
use crate::vault::{Vault, safe_component};

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Exported {
    /// Records written.
    pub records: usize,
    /// Attachments written (each hash checked).
    pub files: usize,
}

/// A file name safe on any file system, close to the sender's.
fn file_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    while out.starts_with('.') {
        out.remove(0);
    }
    if out.is_empty() {
        out.push_str("file");
    }
    out
}

fn create_private_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Error::io(dir, e))
    }
    #[cfg(not(unix))]
    {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
    }
}

/// Exports one conversation (`Some(id)`) or all into `out`, which must not exist or be
/// empty.
pub fn export(vault: &Vault, out: &Path, conversation: Option<&str>) -> Result<Exported> {
    if fs::read_dir(out).is_ok_and(|mut d| d.next().is_some()) {
        return Err(Error::Export(format!(
            "{} is not empty; export into a new directory",
            out.display()
        )));
    }
    let conversations = match conversation {
        Some(id) if !safe_component(id) => {
            return Err(Error::Export("that is not a conversation id".into()));
        }
        Some(id) => {
            if vault.list(&format!("records/{id}"))?.is_empty() {
                return Err(Error::Export(format!("no records of conversation {id}")));
            }
            vec![id.to_owned()]
        }
        None => vault.list("records")?,
    };
    create_private_dir(out)?;
    let lines_path = out.join("records.jsonl");
    let mut lines = fs::File::create(&lines_path).map_err(|e| Error::io(&lines_path, e))?;
    let mut done = Exported::default();
    for id in conversations {
        for name in vault.list(&format!("records/{id}"))? {
            let rel = format!("records/{id}/{name}");
            let Some(bytes) = vault.read(&rel)? else {
                continue;
            };
            let record: Record =
                serde_json::from_slice(&bytes).map_err(|e| Error::Vault(format!("{rel}: {e}")))?;
            let mut files = Vec::new();
            for (index, a) in record.attachments.iter().enumerate() {
                let mut path = None;
                if let Some(file) = &a.file {
                    let plain = vault
                        .read(file)?
                        .ok_or_else(|| Error::Export(format!("{file} is missing")))?;
                    let hash = hex::encode(mls_client::attachment::sha256(&plain));
                    if Some(&hash) != a.sha256.as_ref() {
                        return Err(Error::Export(format!(
                            "{file} does not match the SHA-256 recorded when it was archived"
                        )));
                    }
                    let rel_out = format!(
                        "attachments/{id}/{:012}-{index}-{}",
                        record.seq,
                        file_name(&a.name)
                    );
                    let dest = out.join(&rel_out);
                    if let Some(parent) = dest.parent() {
                        create_private_dir(parent)?;
                    }
                    fs::write(&dest, plain.as_slice()).map_err(|e| Error::io(&dest, e))?;
                    done.files += 1;
                    path = Some(rel_out);
                }
                files.push(json!({
                    "name": a.name,
                    "media_type": a.media_type,
                    "size": a.size,
                    "sha256": a.sha256,
                    "path": path,
                    "error": a.error,
                }));
            }
            let line = json!({
                "conversation": record.conversation,
                "seq": record.seq,
                "kind": record.kind,
                "time_ms": record.time_ms,
                "epoch": record.epoch,
                "sender_account": record.sender_account,
                "sender_device": record.sender_device,
                "sender_key_verified": record.sender_key_verified,
                "text": record.text,
                "attachments": files,
                "added": record.added,
                "removed": record.removed,
                "error": record.error,
            });
            writeln!(lines, "{line}").map_err(|e| Error::io(&lines_path, e))?;
            done.records += 1;
        }
    }
    lines.sync_all().map_err(|e| Error::io(&lines_path, e))?;
    Ok(done)
}
