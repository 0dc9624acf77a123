//! The one error type of this crate.
//!
//! Every message names the fields involved, because the security officer reads them on
//! the incident form and has to know which box to fix.

/// What is wrong with an incident record, a date or a time zone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BreachError {
    /// A required text field is empty (or only spaces).
    #[error("{field} is empty")]
    Empty {
        /// The field, e.g. `title` or `ndb.rationale`.
        field: String,
    },
    /// Two timestamps are in an impossible order.
    #[error("{later} ({later_at}) is before {earlier} ({earlier_at})")]
    OutOfOrder {
        /// The field that should be the later one.
        later: String,
        /// Its value, as RFC 3339 UTC.
        later_at: String,
        /// The field that should be the earlier one.
        earlier: String,
        /// Its value, as RFC 3339 UTC.
        earlier_at: String,
    },
    /// A field that another field depends on is not set.
    #[error("{field} is needed because {because}")]
    Missing {
        /// The missing field.
        field: String,
        /// Which recorded fact needs it.
        because: String,
    },
    /// Counts that cannot all be true.
    #[error("{0}")]
    Counts(String),
    /// A timestamp outside the years this module handles (1970 to 8999).
    #[error("{field} ({ms} ms) is outside 1970-8999")]
    OutOfRange {
        /// The field.
        field: String,
        /// The raw value.
        ms: i64,
    },
    /// Any other contradiction between recorded facts.
    #[error("{0}")]
    Inconsistent(String),
    /// A date or time the user typed could not be read.
    #[error("cannot read the time `{input}`: {reason}")]
    Timestamp {
        /// What was typed.
        input: String,
        /// Why it was rejected.
        reason: String,
    },
    /// An IANA time-zone name that is unknown.
    #[error("unknown time zone `{name}`: {reason}")]
    TimeZone {
        /// The name given.
        name: String,
        /// The underlying reason.
        reason: String,
    },
    /// A duty key (as used in forms) that is not recognised.
    #[error("unknown duty `{0}`")]
    UnknownDuty(String),
    /// Date arithmetic left the supported range.
    #[error("date out of range: {0}")]
    Date(String),
}
