//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in the archive. Messages are meant for the practice's
/// operator as they are; none carries a passphrase, a key, a cookie or message content.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The passphrase does not open this archive directory.
    #[error("wrong passphrase: it does not open the archive in {0}")]
    WrongPassphrase(PathBuf),
    /// No passphrase was given, or a new one is too short.
    #[error("passphrase: {0}")]
    Passphrase(String),
    /// The archive directory is missing, damaged, in use or already set up.
    #[error("archive directory: {0}")]
    Vault(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The server answered with an error status.
    #[error("the server refused {what} (HTTP {status}){hint}")]
    Server {
        /// What was asked.
        what: String,
        /// The HTTP status.
        status: u16,
        /// What to do about it, when known.
        hint: &'static str,
    },
    /// The server could not be reached, or a connection broke.
    #[error("network: {0}")]
    Network(String),
    /// The server sent something that is not what the protocol says.
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
    /// A device key could not be checked against the transparency log.
    #[error("key transparency: {0}")]
    KeyTransparency(String),
    /// The MLS core refused something (its messages carry no key material).
    #[error("{0}")]
    Mls(#[from] mls_client::Error),
    /// The command line or environment lacks something.
    #[error("{0}")]
    Usage(String),
    /// An exported file does not match the hash recorded when it was archived.
    #[error("export: {0}")]
    Export(String),
}

impl Error {
    /// Errors that a later attempt may not meet (the server restarting, a dropped
    /// connection): the listener reconnects instead of stopping.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Network(_) => true,
            Error::Server { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
