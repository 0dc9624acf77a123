//! Error pages: every error response — from a handler, an extractor, a limit or a
//! timeout — is rendered the same way: an HTML page for browsers, JSON for everything
//! else, each with a stable code and the request id, never internals. The error is
//! logged here, once, with its code and (for our own faults) the internal detail.

use axum::Json;
use axum::extract::{Request, State};
use axum::response::{Html, IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};
use proto::{ErrorBody, ErrorCode};

use crate::error::{ErrorInfo, Fault};
use crate::http::meta::RequestMeta;
use crate::state::AppState;
use crate::web::templates::ErrorPage;

pub async fn render(
    State(state): State<AppState>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let wants_html = accepts_html(req.headers());
    let fhir = req.uri().path().starts_with("/fhir/");
    let request_id = req
        .extensions()
        .get::<RequestMeta>()
        .map(|m| m.request_id.clone())
        .unwrap_or_default();
    let res = next.run(req).await;
    let status = res.status();
    if status.is_success() || status.is_redirection() || status.is_informational() {
        return res;
    }
    let info = if let Some(info) = res.extensions().get::<ErrorInfo>() {
        info.clone()
    } else if let Some(refusal) = res.extensions().get::<sentinel::Refusal>() {
        refused(*refusal, res.headers())
    } else if is_ours(res.headers()) {
        // A page the handler rendered itself (e.g. a form with its errors shown).
        return res;
    } else {
        from_status(status)
    };
    log(&info, status, &request_id);
    state.metrics.observe_error(info.code);
    let mut out = if fhir {
        operation_outcome(status, &info, &request_id)
    } else if wants_html {
        let page = ErrorPage::new(status, &info, &request_id);
        (status, Html(page.render_or_plain())).into_response()
    } else {
        let body = ErrorBody {
            code: info.code,
            message: info.message.clone(),
            request_id,
        };
        (status, Json(body)).into_response()
    };
    // Keep headers the handler chose (e.g. Allow on 405, Set-Cookie), minus the body's.
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().append(name.clone(), value.clone());
        }
    }
    out
}

/// A FHIR error: an OperationOutcome with one issue, its code from the status.
fn operation_outcome(status: StatusCode, info: &ErrorInfo, request_id: &str) -> Response {
    let code = match status.as_u16() {
        401 => "login",
        403 => "forbidden",
        404 | 410 => "not-found",
        409 | 412 => "conflict",
        413 => "too-long",
        429 => "throttled",
        400 | 422 => "invalid",
        408 => "timeout",
        s if s >= 500 => "exception",
        _ => "processing",
    };
    let body = serde_json::json!({
        "resourceType": "OperationOutcome",
        "issue": [{
            "severity": "error",
            "code": code,
            "details": { "coding": [{ "system": "https://telewarden.org/fhir/CodeSystem/error", "code": info.code.as_str() }], "text": info.message },
            "diagnostics": format!("request {request_id}"),
        }],
    });
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/fhir+json; charset=utf-8"),
    );
    res
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

fn is_ours(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.starts_with("text/html")
                || ct.starts_with("application/json")
                || ct.starts_with("application/fhir+json")
        })
}

/// The sentinel turned the request away: say so in words, and what to do.
fn refused(refusal: sentinel::Refusal, headers: &HeaderMap) -> ErrorInfo {
    let wait = headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(60);
    let (code, message) = match refusal {
        sentinel::Refusal::Blocked => (
            ErrorCode::Forbidden,
            "Requests from your network are paused for a while because of unusual activity. \
             If you think this is a mistake, please contact the practice."
                .to_owned(),
        ),
        sentinel::Refusal::Throttled => (
            ErrorCode::TooManyAttempts,
            format!("Too many requests. Please wait {wait} seconds, then try again."),
        ),
        sentinel::Refusal::Shed => (
            ErrorCode::Unavailable,
            format!("Telewarden is very busy right now. Please try again in {wait} seconds."),
        ),
    };
    ErrorInfo {
        code,
        message,
        fault: Fault::Client,
        internal: None,
    }
}

fn from_status(status: StatusCode) -> ErrorInfo {
    let (code, message) = match status {
        StatusCode::NOT_FOUND => (
            ErrorCode::NotFound,
            "We could not find that page. Check the address, or go back to the start page.",
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::MethodNotAllowed,
            "That action is not available here. Go back and use the buttons on the page.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            ErrorCode::BodyTooLarge,
            "What you sent is larger than Telewarden accepts. Please send less at a time.",
        ),
        StatusCode::REQUEST_TIMEOUT => (
            ErrorCode::RequestTimeout,
            "That took too long to arrive. Please check your connection and try again.",
        ),
        s if s.is_server_error() => (
            ErrorCode::Internal,
            "Something went wrong on our side. Please try again; if it keeps happening, \
             tell the practice and quote the reference below.",
        ),
        _ => (
            ErrorCode::BadRequest,
            "Telewarden could not understand that request. Go back, check what you entered \
             and try again.",
        ),
    };
    let fault = if status.is_server_error() {
        Fault::Server
    } else {
        Fault::Client
    };
    ErrorInfo {
        code,
        message: message.to_owned(),
        fault,
        internal: None,
    }
}

fn log(info: &ErrorInfo, status: StatusCode, request_id: &str) {
    let internal = info.internal.as_deref().unwrap_or("");
    match info.fault {
        Fault::Client => tracing::info!(
            code = info.code.as_str(),
            status = status.as_u16(),
            request_id,
            "request refused"
        ),
        Fault::Server => tracing::error!(
            code = info.code.as_str(),
            status = status.as_u16(),
            request_id,
            internal,
            "request failed: our fault"
        ),
        Fault::Peer => tracing::warn!(
            code = info.code.as_str(),
            status = status.as_u16(),
            request_id,
            internal,
            "request failed: a dependency failed"
        ),
    }
}
