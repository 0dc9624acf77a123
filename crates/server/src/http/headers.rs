//! The one security-headers middleware: every response, including errors and static
//! files, carries the same strict policy.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;
use http::header;

use crate::http::meta::RequestMeta;
use crate::state::AppState;

/// No inline script or style, nothing from other origins, no framing. WebAssembly may
/// be compiled (`'wasm-unsafe-eval'`, not `'unsafe-eval'`: no JS eval) for the
/// messaging page's MLS core, itself served from 'self'.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; media-src 'self'; \
     manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Camera and microphone for consults on our own pages; everything else off.
pub const PERMISSIONS_POLICY: &str = "camera=(self), microphone=(self), display-capture=(), \
     geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), hid=()";

/// Two years, as the HSTS preload list asks.
pub const HSTS: &str = "max-age=63072000; includeSubDomains";

pub async fn set(State(_state): State<AppState>, req: Request, next: Next) -> Response {
    let https = req
        .extensions()
        .get::<RequestMeta>()
        .is_some_and(|m| m.https)
        || req
            .extensions()
            .get::<crate::listen::Connection>()
            .is_some_and(|c| c.tls);
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static(PERMISSIONS_POLICY),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    // Pages may show personal information: never keep them in shared or browser caches
    // unless the handler chose otherwise (static assets do).
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
