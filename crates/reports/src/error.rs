//! The crate's one error type.

/// Everything that can go wrong while rendering a report or building or
/// verifying an evidence pack.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// An evidence-pack member name that would be unsafe or ambiguous to
    /// extract (absolute, `..`, control characters, too long for a tar header…).
    #[error("invalid evidence pack member name {name:?}: {reason}")]
    InvalidName {
        /// The rejected name.
        name: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The same member name was added twice (or clashes with a directory
    /// another member implies).
    #[error("evidence pack member {0:?} was added twice or clashes with another member")]
    DuplicateName(String),
    /// The document would need more pages than the renderer allows; a guard
    /// against runaway input rather than a practical limit.
    #[error("report needs more than {max} PDF pages")]
    TooManyPages {
        /// The page limit.
        max: usize,
    },
    /// Writing or reading the tar archive failed (including a damaged header).
    #[error("evidence pack archive is unreadable or could not be written: {0}")]
    Archive(#[source] std::io::Error),
    /// The archive contains something other than regular files.
    #[error("evidence pack member {0:?} is not a regular file")]
    NotAFile(String),
    /// The archive has no `SHA256SUMS` member.
    #[error("evidence pack has no SHA256SUMS manifest")]
    ManifestMissing,
    /// A manifest line is not `<64 hex digits>  <name>`.
    #[error("SHA256SUMS line {line} is malformed")]
    ManifestMalformed {
        /// 1-based line number (0 when the manifest is not UTF-8 at all).
        line: usize,
    },
    /// A member's contents do not hash to the value the manifest records.
    #[error(
        "evidence pack member {name:?} does not match SHA256SUMS: expected {expected}, found {actual}"
    )]
    HashMismatch {
        /// The member.
        name: String,
        /// The hash in the manifest.
        expected: String,
        /// The hash of the member's contents.
        actual: String,
    },
    /// The manifest lists a file that the archive does not contain.
    #[error("evidence pack member {0:?} is listed in SHA256SUMS but missing from the archive")]
    MissingMember(String),
    /// The archive contains a file that the manifest does not list.
    #[error("evidence pack member {0:?} is not listed in SHA256SUMS")]
    UnlistedMember(String),
    /// The archive (or its manifest) contains the same name twice, so which
    /// copy the manifest vouches for would be ambiguous.
    #[error("evidence pack contains {0:?} more than once")]
    DuplicateMember(String),
}
