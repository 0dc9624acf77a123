//! The crate's one error type.

use std::path::PathBuf;

/// An opaque failure of the backing store.
///
/// Only a message, so that a database crate can build one from any driver error
/// (`StoreFailure::new(err)`) without this crate knowing about the driver. The message
/// must not contain entry contents: it ends up in logs, and audit details can be
/// sensitive.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StoreFailure(pub String);

impl StoreFailure {
    /// A failure described by `message` (anything displayable, e.g. a driver error).
    pub fn new(message: impl std::fmt::Display) -> Self {
        Self(message.to_string())
    }
}

/// Everything that can go wrong in the ledger.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The caller's input was refused (oversize field, bad argument). Nothing was stored.
    #[error("invalid ledger input: {0}")]
    Invalid(String),

    /// Stored data does not match what the hashes or signatures say it must be.
    /// `seq` is the first sequence number known to be affected.
    #[error("audit ledger tampered at seq {seq}: {reason}")]
    Tampered {
        /// First affected sequence number (or tree size, for checkpoint problems).
        seq: u64,
        /// What did not match.
        reason: String,
    },

    /// The backing store failed; the operation did not (durably) happen.
    #[error("audit ledger store failure: {0}")]
    Store(#[from] StoreFailure),

    /// The writer has shut down (or died); nothing more can be appended.
    #[error("audit ledger writer is closed")]
    Closed,

    /// A signature, key id or proof did not verify.
    #[error("verification failed: {0}")]
    Verification(String),

    /// A key file is unusable: unsafe permissions, malformed content.
    #[error("ledger key file {}: {reason}", path.display())]
    KeyFile {
        /// The offending file.
        path: PathBuf,
        /// What is wrong and how to fix it.
        reason: String,
    },

    /// An I/O error while reading or writing a key file.
    #[error("ledger key file {}: {source}", path.display())]
    Io {
        /// The file being accessed.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl LedgerError {
    pub(crate) fn tampered(seq: u64, reason: impl Into<String>) -> Self {
        Self::Tampered {
            seq,
            reason: reason.into(),
        }
    }

    pub(crate) fn verification(reason: impl Into<String>) -> Self {
        Self::Verification(reason.into())
    }
}
