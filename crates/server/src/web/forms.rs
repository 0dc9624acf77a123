//! Form handling shared by pages.

/// Messages for the fields of a form that need fixing, shown beside each field and, in
/// the order they were found (the form's order), in the summary above it.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors(Vec<(&'static str, &'static str)>);

impl FieldErrors {
    /// Records the first problem with `field`.
    pub fn add(&mut self, field: &'static str, message: &'static str) {
        if self.get(field).is_none() {
            self.0.push((field, message));
        }
    }

    pub fn get(&self, field: &str) -> Option<&'static str> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| *m)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `(field, message)` in the form's order, for the summary at the top of a form.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.0.iter().copied()
    }
}

/// A URL-encoded form, like `axum::Form`, whose failures become our error pages: a body
/// that stops arriving is a 408, one over the limit a 413, anything malformed a 400 —
/// each with a message for people instead of the parser's words.
#[derive(Debug)]
pub struct Form<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for Form<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = crate::error::AppError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::{BytesRejection, FailedToBufferBody, FormRejection};
        use proto::ErrorCode;

        use crate::error::AppError;

        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(value)) => Ok(Form(value)),
            Err(FormRejection::BytesRejection(BytesRejection::FailedToBufferBody(
                FailedToBufferBody::LengthLimitError(_),
            ))) => Err(AppError::client(
                ErrorCode::BodyTooLarge,
                "What you sent is larger than Telewarden accepts. Please send less at a time.",
            )),
            Err(e) if caused_by_timeout(&e) => Err(AppError::client(
                ErrorCode::RequestTimeout,
                "That took too long to arrive. Please check your connection and try again.",
            )),
            Err(e) => Err(AppError::client(
                ErrorCode::BadRequest,
                "Telewarden could not read that form. Go back, reload the page and try again.",
            )
            .with_internal(e.body_text())),
        }
    }
}

fn caused_by_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(e);
    while let Some(err) = current {
        if err.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        current = err.source();
    }
    false
}

/// A JSON body, like `axum::Json`, with the same error pages as [`Form`].
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for JsonBody<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = crate::error::AppError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::{BytesRejection, FailedToBufferBody, JsonRejection};
        use proto::ErrorCode;

        use crate::error::AppError;

        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
            Err(JsonRejection::BytesRejection(BytesRejection::FailedToBufferBody(
                FailedToBufferBody::LengthLimitError(_),
            ))) => Err(AppError::client(
                ErrorCode::BodyTooLarge,
                "What you sent is larger than Telewarden accepts.",
            )),
            Err(e) if caused_by_timeout(&e) => Err(AppError::client(
                ErrorCode::RequestTimeout,
                "That took too long to arrive. Please check your connection and try again.",
            )),
            Err(e) => Err(AppError::client(
                ErrorCode::BadRequest,
                "Telewarden could not understand that request. Please reload the page and try again.",
            )
            .with_internal(e.body_text())),
        }
    }
}

/// The body of a request to one of the identity routes, extracted as
/// `Result<Form<_>, AppError>` (or `JsonBody`): when it could not be read (malformed,
/// too large, too slow), the refusal is written to the ledger under the route's own
/// `action` — outcome `denied`, the error code as the reason, nothing of the body — and
/// then returned.
pub async fn read_or_refuse<T>(
    state: &crate::state::AppState,
    meta: &crate::http::meta::RequestMeta,
    actor: &crate::audit::Actor,
    action: &str,
    target: &str,
    body: Result<T, crate::error::AppError>,
) -> crate::error::AppResult<T> {
    match body {
        Ok(value) => Ok(value),
        Err(e) => {
            let entry = crate::audit::entry(meta, actor, action, target, ledger::Outcome::Denied)
                .detail("reason", e.code.as_str());
            state.audit(entry).await?;
            Err(e)
        }
    }
}
