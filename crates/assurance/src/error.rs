//! The one error type of this crate.

/// What went wrong in an assessment step; every message is safe to show the security
/// officer.
#[derive(Debug, thiserror::Error)]
pub enum AssuranceError {
    /// The advisory database could not be read or parsed.
    #[error("advisory database: {0}")]
    Advisories(String),
    /// A check id that is not in the catalogue.
    #[error("unknown check `{0}`")]
    UnknownCheck(String),
    /// A question id that is not in the questionnaire.
    #[error("unknown question `{0}`")]
    UnknownQuestion(String),
    /// An answer, score or date that is out of range or out of order.
    #[error("{0}")]
    Invalid(String),
}
