//! Cross-site request forgery protection without tokens.
//!
//! A state-changing request (anything but GET, HEAD, OPTIONS) is served only when the
//! browser's own headers show it came from our pages: `Sec-Fetch-Site: same-origin`, or
//! an `Origin` equal to our public origin or to the origin the request itself was sent to
//! (its scheme, HTTP or HTTPS, and its `Host`). Unlike tower-http's
//! `CsrfLayer` (which follows Go's `CrossOriginProtection`), a request carrying neither
//! header is refused too: every browser we support sends one, so a request without them
//! is not from a page of ours.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, header};
use proto::ErrorCode;

use crate::error::AppError;
use crate::http::meta::RequestMeta;
use crate::state::AppState;

pub async fn protect(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let https = req
        .extensions()
        .get::<RequestMeta>()
        .is_some_and(|m| m.https);
    if is_safe_method(req.method()) || is_same_origin(req.headers(), &state.origin, https) {
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

/// Whether the request's fetch metadata or `Origin` shows our own origin. `https`: the
/// request reached us over HTTPS (directly or through a trusted proxy); an `Origin`
/// matched against the request's `Host` must have that scheme too, since
/// `http://host` and `https://host` are different origins.
pub fn is_same_origin(headers: &HeaderMap, public_origin: &str, https: bool) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return site.as_bytes() == b"same-origin";
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    if origin.eq_ignore_ascii_case(public_origin) {
        return true;
    }
    let authority = if https {
        origin.strip_prefix("https://")
    } else {
        origin.strip_prefix("http://")
    };
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
            ORIGIN,
            true
        ));
        for site in ["cross-site", "same-site", "none"] {
            let h = headers(&[("sec-fetch-site", site), ("origin", ORIGIN)]);
            assert!(!is_same_origin(&h, ORIGIN, true), "{site}");
        }
    }

    #[test]
    fn origin_must_match_public_origin_or_host() {
        assert!(is_same_origin(
            &headers(&[("origin", ORIGIN)]),
            ORIGIN,
            true
        ));
        let h = headers(&[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080"),
        ]);
        assert!(is_same_origin(&h, ORIGIN, false));
        let h = headers(&[
            ("origin", "https://evil.example"),
            ("host", "tele.example.org"),
        ]);
        assert!(!is_same_origin(&h, ORIGIN, true));
        assert!(!is_same_origin(
            &headers(&[("origin", "null")]),
            ORIGIN,
            true
        ));
    }

    #[test]
    fn the_host_fallback_compares_the_scheme_too() {
        let public = "https://tele.example.org";
        // Reached over HTTPS at another name: only an https:// Origin for it is ours.
        let https_origin = headers(&[
            ("origin", "https://10.0.0.5:8443"),
            ("host", "10.0.0.5:8443"),
        ]);
        assert!(is_same_origin(&https_origin, public, true));
        let http_origin = headers(&[
            ("origin", "http://10.0.0.5:8443"),
            ("host", "10.0.0.5:8443"),
        ]);
        assert!(
            !is_same_origin(&http_origin, public, true),
            "http page on an https request"
        );
        // Reached over plain HTTP: an https:// Origin is not this origin either.
        assert!(!is_same_origin(&https_origin, public, false));
        assert!(is_same_origin(&http_origin, public, false));
        // The public origin itself is ours whatever the hop in front of us spoke.
        let h = headers(&[("origin", public), ("host", "backend:8080")]);
        assert!(is_same_origin(&h, public, false));
    }

    #[test]
    fn neither_header_is_refused() {
        assert!(!is_same_origin(
            &headers(&[("host", "tele.example.org")]),
            ORIGIN,
            true
        ));
    }
}
