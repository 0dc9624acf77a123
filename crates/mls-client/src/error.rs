//! The crate's one error type.

/// Everything that can go wrong in this crate. The messages are meant to be shown to a
/// person (or logged) as they are; they never contain key material.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A device identity part is empty, too long or contains a forbidden character.
    #[error("invalid device identity: {0}")]
    InvalidIdentity(&'static str),
    /// The bytes are not a well-formed MLS message of the expected kind.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// The message belongs to a group this device is not (or no longer) a member of.
    #[error("this device is not a member of that group")]
    UnknownGroup,
    /// A key package failed validation (signature, ciphersuite, lifetime, credential).
    #[error("invalid key package: {0}")]
    InvalidKeyPackage(String),
    /// The message could not be decrypted or authenticated: tampered, replayed, too old,
    /// from a removed member, or sent to an epoch this device does not have.
    #[error("the message could not be decrypted or verified: {0}")]
    Rejected(String),
    /// A group operation (create, add, remove, merge, join) failed.
    #[error("group operation failed: {0}")]
    Group(String),
    /// `merge_pending` or `discard_pending` was called with no pending commit.
    #[error("there is no pending commit in this group")]
    NoPendingCommit,
    /// A device to remove is not a member of the group.
    #[error("{0} is not a member of this group")]
    NotMember(String),
    /// The message payload is malformed or over the size limits.
    #[error("invalid message payload: {0}")]
    Payload(String),
    /// An attachment could not be opened: wrong key, altered file or hash mismatch.
    #[error("the attachment could not be opened: {0}")]
    Attachment(&'static str),
    /// A saved device state is damaged or of an unknown version.
    #[error("the saved device state cannot be read: {0}")]
    State(String),
    /// Randomness or a cryptographic primitive failed.
    #[error("cryptographic failure: {0}")]
    Crypto(String),
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// Short helper: turn any displayable error into a string for the variants that carry one.
pub(crate) fn msg(e: impl std::fmt::Display) -> String {
    e.to_string()
}
