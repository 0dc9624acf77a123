//! Telewarden's wire types.
//!
//! Everything a client can receive or send as JSON is defined here once, so the server,
//! the command line, the tests and the browser's WebAssembly core agree on it. This crate
//! depends on no database or server code and builds for `wasm32-unknown-unknown`.

use serde::{Deserialize, Serialize};

/// A stable, searchable error code. It appears in every error response and in the log
/// line for that request, so a user's report leads straight to the cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// The page or resource does not exist.
    NotFound,
    /// The method is not allowed on this path.
    MethodNotAllowed,
    /// A state-changing request did not come from this site's own pages.
    CrossOriginRequest,
    /// The request body is larger than the configured limit.
    BodyTooLarge,
    /// The client took too long to send the request.
    RequestTimeout,
    /// The request could not be understood (malformed form, JSON or parameters).
    BadRequest,
    /// A submitted form has fields that are not acceptable; the message says which.
    InvalidInput,
    /// The setup link is unknown, used, or expired.
    SetupLinkInvalid,
    /// Setup has already been completed.
    SetupAlreadyDone,
    /// The e-mail address or password is wrong.
    SignInFailed,
    /// The request needs a signed-in session.
    SignInRequired,
    /// Too many failed attempts: wait before trying again (never a permanent lock).
    TooManyAttempts,
    /// The action is sensitive: prove it is you again (a sign-in within the last minutes).
    StepUpRequired,
    /// A second step to prove it is you is needed, or the code given was not accepted.
    SecondFactorRequired,
    /// The passkey (WebAuthn) answer was not accepted.
    PasskeyRefused,
    /// The signed-in person may not do this.
    Forbidden,
    /// The invitation link is unknown, used, expired or replaced by a newer one.
    InvitationInvalid,
    /// The same thing changed at the same moment elsewhere; reload and try again.
    Conflict,
    /// The audit ledger could not record the action, so the action was not done.
    AuditUnavailable,
    /// The database could not be reached.
    DatabaseUnavailable,
    /// The server is shutting down or overloaded.
    Unavailable,
    /// An unexpected problem on the server; the request id identifies it in the log.
    Internal,
}

impl ErrorCode {
    /// The code as it appears on the wire and in logs, e.g. `cross-origin-request`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "not-found",
            ErrorCode::MethodNotAllowed => "method-not-allowed",
            ErrorCode::CrossOriginRequest => "cross-origin-request",
            ErrorCode::BodyTooLarge => "body-too-large",
            ErrorCode::RequestTimeout => "request-timeout",
            ErrorCode::BadRequest => "bad-request",
            ErrorCode::InvalidInput => "invalid-input",
            ErrorCode::SetupLinkInvalid => "setup-link-invalid",
            ErrorCode::SetupAlreadyDone => "setup-already-done",
            ErrorCode::SignInFailed => "sign-in-failed",
            ErrorCode::SignInRequired => "sign-in-required",
            ErrorCode::TooManyAttempts => "too-many-attempts",
            ErrorCode::StepUpRequired => "step-up-required",
            ErrorCode::SecondFactorRequired => "second-factor-required",
            ErrorCode::PasskeyRefused => "passkey-refused",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::InvitationInvalid => "invitation-invalid",
            ErrorCode::Conflict => "conflict",
            ErrorCode::AuditUnavailable => "audit-unavailable",
            ErrorCode::DatabaseUnavailable => "database-unavailable",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The JSON body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    /// A sentence for a person: what happened and what to do next.
    pub message: String,
    /// The request id, also in the `X-Request-Id` header and the server log.
    pub request_id: String,
}

/// `/healthz`: the process is alive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
}

/// `/readyz`: whether the server can do its work, check by check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Readiness {
    pub ready: bool,
    pub checks: Vec<ReadinessCheck>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadinessCheck {
    /// `database`, `migrations` or `ledger`.
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_serialise_as_their_stable_text() {
        for code in [
            ErrorCode::CrossOriginRequest,
            ErrorCode::AuditUnavailable,
            ErrorCode::NotFound,
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
        }
    }
}
