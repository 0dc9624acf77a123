//! `tw-archive`: the practice's lasting archive device for end-to-end encrypted
//! messaging.
//!
//! Every conversation includes the practice archive, a device whose keys the practice
//! holds so it keeps the clinical record while the server reads nothing. This crate is
//! that device as a long-running program on the practice's own machine: its MLS state
//! and every decrypted record live in a directory sealed under a passphrase
//! ([`vault`]), saved after every batch so a crash or restart loses nothing and a
//! restarted archive reads what was sent while it was down ([`archive`]); every
//! member's key is checked against the audit ledger's transparency log before it is
//! trusted ([`kt`]); [`export`] writes the records out in the clear.
//!
//! Status goes to standard output as JSON lines of counts and ids, warnings also to
//! standard error; message content appears only in export files.

pub mod api;
pub mod archive;
mod error;
pub mod export;
pub mod kt;
pub mod record;
pub mod vault;

pub use error::{Error, Result};

/// One status line on standard output (counts and ids, never content).
#[allow(clippy::print_stdout)]
pub(crate) fn emit(line: serde_json::Value) {
    println!("{line}");
}

/// A warning: a status line, and the same on standard error for whoever watches logs.
pub(crate) fn warn(what: &str, details: serde_json::Value) {
    eprintln!("tw-archive: warning: {what}: {details}");
    emit(serde_json::json!({"event": "warning", "what": what, "details": details}));
}
