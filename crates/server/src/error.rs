//! The server's one error type and its one mapping to HTTP.
//!
//! Every error carries a stable [`ErrorCode`], a message written for the person who sees
//! it, and its [`Fault`] — whether the client, the server, or a peer (database, ledger) is
//! to blame — so the monitoring can count attacker-induced failures apart from our bugs.
//! Internal details are logged (without secrets), never sent to the client.

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use proto::ErrorCode;

/// Who caused an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The request was wrong (bad input, no permission): a 4xx.
    Client,
    /// A bug or an unexpected state on our side.
    Server,
    /// Something we depend on failed: the database or the ledger.
    Peer,
}

/// An error on its way to becoming a response.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub status: StatusCode,
    /// What the user is told.
    pub message: String,
    pub fault: Fault,
    /// What the log is told (never secrets or personal data).
    pub internal: Option<String>,
}

impl AppError {
    pub fn new(
        code: ErrorCode,
        status: StatusCode,
        message: impl Into<String>,
        fault: Fault,
    ) -> Self {
        Self {
            code,
            status,
            message: message.into(),
            fault,
            internal: None,
        }
    }

    /// A client error with the default status for its code.
    pub fn client(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(code, default_status(code), message, Fault::Client)
    }

    pub fn not_found() -> Self {
        Self::client(
            ErrorCode::NotFound,
            "We could not find that page. Check the address, or go back to the start page.",
        )
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self {
            internal: Some(detail.into()),
            ..Self::new(
                ErrorCode::Internal,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side. Please try again; if it keeps happening, \
                 tell the practice and quote the reference below.",
                Fault::Server,
            )
        }
    }

    pub fn with_internal(mut self, detail: impl Into<String>) -> Self {
        self.internal = Some(detail.into());
        self
    }
}

/// The HTTP status each code maps to when nothing more specific is said.
pub fn default_status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::CrossOriginRequest => StatusCode::FORBIDDEN,
        ErrorCode::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
        ErrorCode::BadRequest | ErrorCode::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorCode::SetupLinkInvalid => StatusCode::NOT_FOUND,
        ErrorCode::SetupAlreadyDone => StatusCode::CONFLICT,
        ErrorCode::SignInFailed | ErrorCode::SignInRequired | ErrorCode::SecondFactorRequired => {
            StatusCode::UNAUTHORIZED
        }
        ErrorCode::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::StepUpRequired | ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::PasskeyRefused => StatusCode::BAD_REQUEST,
        ErrorCode::InvitationInvalid => StatusCode::NOT_FOUND,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::AuditUnavailable | ErrorCode::DatabaseUnavailable | ErrorCode::Unavailable => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<store::StoreError> for AppError {
    fn from(e: store::StoreError) -> Self {
        if let store::StoreError::Conflict(_) = e {
            return Self::client(
                ErrorCode::Conflict,
                "This changed at the same moment somewhere else. Please reload the page and try again.",
            )
            .with_internal(e.to_string());
        }
        Self::new(
            ErrorCode::DatabaseUnavailable,
            StatusCode::SERVICE_UNAVAILABLE,
            "The practice's records are not reachable just now. Please try again in a minute.",
            Fault::Peer,
        )
        .with_internal(e.to_string())
    }
}

impl From<ledger::LedgerError> for AppError {
    fn from(e: ledger::LedgerError) -> Self {
        Self::new(
            ErrorCode::AuditUnavailable,
            StatusCode::SERVICE_UNAVAILABLE,
            "This could not be recorded in the audit log, so it was not done. Please try again \
             in a minute.",
            Fault::Peer,
        )
        .with_internal(e.to_string())
    }
}

impl IntoResponse for AppError {
    /// The error travels to the error-page middleware in the response extensions, which
    /// renders it as HTML or JSON for the client and logs it with the request id.
    fn into_response(self) -> Response {
        let mut res = self.status.into_response();
        res.extensions_mut().insert(ErrorInfo {
            code: self.code,
            message: self.message,
            fault: self.fault,
            internal: self.internal,
        });
        res
    }
}

/// An error attached to a response, rendered by [`crate::http::error_pages`].
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub code: ErrorCode,
    pub message: String,
    pub fault: Fault,
    pub internal: Option<String>,
}

pub type AppResult<T> = Result<T, AppError>;
