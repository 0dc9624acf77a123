//! Cross-site request forgery protection without tokens.
//!
//! A state-changing request (anything but GET, HEAD, OPTIONS) is served only when the
//! browser's own headers show it came from our pages: `Sec-Fetch-Site: same-origin`, or
//! an `Origin` equal to our public origin or to the request's `Host`. Unlike tower-http's
//! `CsrfLayer` (which follows Go's `CrossOriginProtection`), a request carrying neither
//! header is refused too: every browser we support sends one, so a request without them
//! is not from a page of ours.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, header};
use proto::ErrorCode;

use crate::error::AppError;
use crate::state::AppState;

pub async fn protect(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_safe_method(req.method()) || is_same_origin(req.headers(), &state.origin) {
        return next.run(req).await;
    }
    tracing::info!(method = %req.method(), "cross-origin state-changing request refused");
    AppError::client(
        ErrorCode::CrossOriginRequest,
        "This request did not come from Telewarden's own pages, so it was refused to protect \
         your account. Go back to Telewarden, reload the page and try again.",
    )
    .into_response()
}

fn is_safe_method(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether the request's fetch metadata or `Origin` shows our own origin.
pub fn is_same_origin(headers: &HeaderMap, public_origin: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return site.as_bytes() == b"same-origin";
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    if origin.eq_ignore_ascii_case(public_origin) {
        return true;
    }
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    const ORIGIN: &str = "https://tele.example.org";

    #[test]
    fn fetch_metadata_decides_when_present() {
        assert!(is_same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            ORIGIN
        ));
        for site in ["cross-site", "same-site", "none"] {
            let h = headers(&[("sec-fetch-site", site), ("origin", ORIGIN)]);
            assert!(!is_same_origin(&h, ORIGIN), "{site}");
        }
    }

    #[test]
    fn origin_must_match_public_origin_or_host() {
        assert!(is_same_origin(&headers(&[("origin", ORIGIN)]), ORIGIN));
        let h = headers(&[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080"),
        ]);
        assert!(is_same_origin(&h, ORIGIN));
        let h = headers(&[
            ("origin", "https://evil.example"),
            ("host", "tele.example.org"),
        ]);
        assert!(!is_same_origin(&h, ORIGIN));
        assert!(!is_same_origin(&headers(&[("origin", "null")]), ORIGIN));
    }

    #[test]
    fn neither_header_is_refused() {
        assert!(!is_same_origin(
            &headers(&[("host", "tele.example.org")]),
            ORIGIN
        ));
    }
}
