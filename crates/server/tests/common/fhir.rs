//! FHIR requests over HTTP, answered as `(status, headers, JSON)`. Every JSON body the
//! API returns is also written to `TW_FHIR_CAPTURE_DIR` when it is set, so the test
//! command can check each one with an independent FHIR R4 validator afterwards.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicU64, Ordering};

use reqwest::header::{CONTENT_TYPE, COOKIE, IF_MATCH, ORIGIN};
use serde_json::Value;

use super::TestServer;

/// Where captured responses go, when the test command asks for them.
pub const CAPTURE_ENV: &str = "TW_FHIR_CAPTURE_DIR";

/// Writes `body` to the capture directory, one file per response.
pub fn capture(path: &str, body: &Value) {
    static N: AtomicU64 = AtomicU64::new(0);
    let Ok(dir) = std::env::var(CAPTURE_ENV) else {
        return;
    };
    if dir.is_empty() || body.get("resourceType").is_none() {
        return;
    }
    std::fs::create_dir_all(&dir).unwrap();
    let name = format!(
        "{}-{}-{}.json",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        body["resourceType"].as_str().unwrap_or("unknown")
    );
    let file = serde_json::json!({ "request": path, "resource": body });
    std::fs::write(std::path::Path::new(&dir).join(name), file.to_string()).unwrap();
}

pub async fn send(
    s: &TestServer,
    method: reqwest::Method,
    path: &str,
    cookie: &str,
    body: Option<String>,
    if_match: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = s
        .client
        .request(method, s.url(path))
        .header(COOKIE, cookie)
        .header(ORIGIN, &s.running().origin)
        .header(CONTENT_TYPE, "application/fhir+json");
    if let Some(b) = body {
        req = req.body(b);
    }
    if let Some(m) = if_match {
        req = req.header(IF_MATCH, m);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
    };
    capture(path, &value);
    (status, headers, value)
}

pub async fn get(s: &TestServer, path: &str, cookie: &str) -> (u16, Value) {
    let (status, _, body) = send(s, reqwest::Method::GET, path, cookie, None, None).await;
    (status, body)
}

pub fn outcome(body: &Value) -> &str {
    assert_eq!(body["resourceType"], "OperationOutcome", "{body}");
    body["issue"][0]["code"].as_str().unwrap()
}

/// Everything the database holds of the records and the account directory, as raw text:
/// the SQLite file and its write-ahead log byte for byte, or PostgreSQL's
/// `record_versions` and `users` rows as stored. For tests that look for plain text where
/// only ciphertext belongs.
pub async fn raw_record_storage(s: &TestServer, db: &store::Db) -> String {
    match db.backend() {
        store::Backend::Sqlite => {
            let mut bytes = Vec::new();
            for name in ["telewarden.db", "telewarden.db-wal"] {
                bytes.extend(std::fs::read(s.dir.path().join(name)).unwrap_or_default());
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        store::Backend::Postgres => {
            let mut rows = Vec::new();
            for sql in [
                "SELECT CAST(t AS TEXT) FROM record_versions t",
                "SELECT CAST(t AS TEXT) FROM users t",
            ] {
                rows.extend(store::testing::texts(db, sql).await.unwrap());
            }
            rows.join("\n")
        }
    }
}
