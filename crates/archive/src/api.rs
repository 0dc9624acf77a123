//! The server's messaging API as the archive uses it: JSON over HTTP with the session
//! cookie and the page's origin, and the device's delivery WebSocket. Every request and
//! connect is bounded in time; every answer is parsed, never trusted to have a shape.

use std::time::Duration;

use base64::Engine;
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::error::{Error, Result};

/// The longest any one request or connect may take.
pub const WAIT: Duration = Duration::from_secs(30);

/// The delivery socket.
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A Telewarden server and the session used with it.
pub struct Api {
    base: String,
    origin: String,
    cookie: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the cookie.
        f.debug_struct("Api")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

fn hint(status: u16) -> &'static str {
    match status {
        401 => "; the session has ended: sign in again and pass the new session cookie",
        403 => {
            "; this account may not do that (an archive device is registered by the practice administrator, freshly signed in)"
        }
        _ => "",
    }
}

impl Api {
    /// `base` like `https://clinic.example`; `origin` is what the server takes as its own
    /// origin (the same, unless it sits behind a proxy).
    pub fn new(base: &str, origin: &str, cookie: &str) -> Result<Self> {
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::Protocol(format!(
                "the server address must start with http:// or https://, not {base:?}"
            )));
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(WAIT)
            .build()
            .map_err(|e| Error::Network(e.to_string()))?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            origin: origin.trim_end_matches('/').to_owned(),
            cookie: cookie.trim().to_owned(),
            http,
        })
    }

    /// The server's base address.
    pub fn base(&self) -> &str {
        &self.base
    }

    async fn send(&self, what: &str, req: reqwest::RequestBuilder) -> Result<Vec<u8>> {
        let res = req
            .header("cookie", &self.cookie)
            .send()
            .await
            .map_err(|e| Error::Network(format!("{what}: {e}")))?;
        let status = res.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(Error::Server {
                what: what.to_owned(),
                status,
                hint: hint(status),
            });
        }
        let body = res
            .bytes()
            .await
            .map_err(|e| Error::Network(format!("{what}: {e}")))?;
        Ok(body.to_vec())
    }

    fn json(what: &str, bytes: &[u8]) -> Result<Value> {
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(bytes).map_err(|e| Error::Protocol(format!("{what}: {e}")))
    }

    /// A GET answered with JSON.
    pub async fn get(&self, path: &str) -> Result<Value> {
        let what = format!("GET {}", path_only(path));
        let bytes = self
            .send(&what, self.http.get(format!("{}{path}", self.base)))
            .await?;
        Self::json(&what, &bytes)
    }

    /// A GET whose answer is kept as bytes.
    pub async fn get_bytes(&self, path: &str) -> Result<Vec<u8>> {
        let what = format!("GET {}", path_only(path));
        self.send(&what, self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// A same-origin JSON POST.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value> {
        let what = format!("POST {}", path_only(path));
        let bytes = self
            .send(
                &what,
                self.http
                    .post(format!("{}{path}", self.base))
                    .header("origin", &self.origin)
                    .json(body),
            )
            .await?;
        Self::json(&what, &bytes)
    }

    /// The device's delivery socket.
    pub async fn connect(&self, device_id: &str) -> Result<Ws> {
        let ws_base = self
            .base
            .replacen("http://", "ws://", 1)
            .replacen("https://", "wss://", 1);
        let mut req = format!("{ws_base}/ws/messaging?device={device_id}")
            .into_client_request()
            .map_err(|e| Error::Network(format!("delivery socket: {e}")))?;
        let headers = req.headers_mut();
        let value = |v: &str| {
            HeaderValue::from_str(v).map_err(|_| Error::Protocol("a header is not valid".into()))
        };
        headers.insert("origin", value(&self.origin)?);
        headers.insert("cookie", value(&self.cookie)?);
        let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(req))
            .await
            .map_err(|_| Error::Network("the delivery socket did not connect in time".into()))?
            .map_err(|e| match e {
                tokio_tungstenite::tungstenite::Error::Http(res) => Error::Server {
                    what: "the delivery socket".into(),
                    status: res.status().as_u16(),
                    hint: hint(res.status().as_u16()),
                },
                other => Error::Network(format!("delivery socket: {other}")),
            })?;
        Ok(ws)
    }
}

/// The path without its query, for error messages.
fn path_only(path: &str) -> &str {
    path.split('?').next().unwrap_or(path)
}

/// Standard base64.
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes standard base64 the server sent.
pub fn unb64(what: &str, s: &str) -> Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|_| Error::Protocol(format!("{what} is not base64")))
}

/// A string field of a JSON answer.
pub fn field<'a>(v: &'a Value, name: &str) -> Result<&'a str> {
    v.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| Error::Protocol(format!("the field {name} is missing")))
}

/// An integer field of a JSON answer.
pub fn int(v: &Value, name: &str) -> Result<i64> {
    v.get(name)
        .and_then(Value::as_i64)
        .ok_or_else(|| Error::Protocol(format!("the field {name} is missing")))
}
