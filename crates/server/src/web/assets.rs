//! Static assets compiled into the binary, served with a content hash as ETag so
//! browsers revalidate cheaply and never run a stale script.

use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use sha2::{Digest, Sha256};

use crate::error::AppError;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../static/app.css"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/app.js"),
    },
    Asset {
        name: "passkeys.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/passkeys.js"),
    },
    Asset {
        name: "step-up.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/step-up.js"),
    },
    Asset {
        name: "call.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/call.js"),
    },
    Asset {
        name: "queue.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/queue.js"),
    },
    Asset {
        name: "security.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/security.js"),
    },
    Asset {
        name: "phishing.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/phishing.js"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../../static/favicon.svg"),
    },
];

pub async fn serve(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return AppError::not_found().into_response();
    };
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(asset.body))[..20]);
    let cache = [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (
            header::ETAG,
            HeaderValue::from_str(&etag).unwrap_or_else(|_| HeaderValue::from_static("\"0\"")),
        ),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (
        cache,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        )],
        asset.body,
    )
        .into_response()
}
