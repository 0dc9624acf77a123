//! The native messaging client the harnesses and the browser tests share: JSON over
//! HTTP with the session cookie and the page's origin, one delivery WebSocket per
//! device, and `mls-client` for all cryptography. Every request and connect is bounded.

use std::time::Duration;

use base64::Engine;
use mls_client::{Device, DeviceIdentity};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// The longest any one request or wait may take.
pub const WAIT: Duration = Duration::from_secs(30);

/// A Telewarden server reached over HTTP (`base` like `http://127.0.0.1:8080`).
#[derive(Debug)]
pub struct Api {
    pub base: String,
    pub origin: String,
    pub http: reqwest::Client,
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl Api {
    pub fn new(base: &str, origin: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            origin: origin.to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_idle_timeout(Duration::from_secs(5))
                .build()
                .unwrap(),
        }
    }

    /// A same-origin JSON POST: the status and the JSON answer (Null when none).
    pub async fn post(&self, cookie: &str, path: &str, body: &Value) -> (u16, Value) {
        let res = tokio::time::timeout(
            WAIT,
            self.http
                .post(format!("{}{path}", self.base))
                .header("origin", &self.origin)
                .header("cookie", cookie)
                .json(body)
                .send(),
        )
        .await
        .unwrap_or_else(|_| panic!("POST {path} timed out"))
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, cookie: &str, path: &str) -> (u16, Value) {
        let res = self.get_raw(cookie, path).await;
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn get_raw(&self, cookie: &str, path: &str) -> reqwest::Response {
        tokio::time::timeout(
            WAIT,
            self.http
                .get(format!("{}{path}", self.base))
                .header("cookie", cookie)
                .send(),
        )
        .await
        .unwrap_or_else(|_| panic!("GET {path} timed out"))
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Registers a new device of `user_id` (the session must be freshly signed in)
    /// with `key_packages` key packages; its id and the device.
    pub async fn register(
        &self,
        cookie: &str,
        user_id: &str,
        label: &str,
        kind: &str,
        key_packages: usize,
    ) -> (String, Device) {
        let device_id = new_device_id();
        let mut device = Device::create(DeviceIdentity::new(user_id, &device_id).unwrap()).unwrap();
        let packages: Vec<String> = device
            .key_packages(key_packages)
            .unwrap()
            .iter()
            .map(|k| b64(k))
            .collect();
        let (status, body) = self
            .post(
                cookie,
                "/api/messaging/devices",
                &json!({
                    "device_id": device_id,
                    "label": label,
                    "kind": kind,
                    "signature_key": hex::encode(device.signature_key()),
                    "key_packages": packages,
                }),
            )
            .await;
        assert_eq!(status, 201, "register {label}: {body}");
        (device_id, device)
    }

    /// The device's delivery socket.
    pub async fn connect(&self, device_id: &str, cookie: &str) -> Ws {
        let ws_base = self
            .base
            .replacen("http://", "ws://", 1)
            .replacen("https://", "wss://", 1);
        let mut req = format!("{ws_base}/ws/messaging?device={device_id}")
            .into_client_request()
            .unwrap();
        let headers = req.headers_mut();
        headers.insert("origin", HeaderValue::from_str(&self.origin).unwrap());
        headers.insert("cookie", HeaderValue::from_str(cookie).unwrap());
        let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(req))
            .await
            .expect("the delivery socket connects in time")
            .unwrap_or_else(|e| panic!("connect the delivery socket: {e}"));
        ws
    }
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn unb64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .unwrap_or_else(|e| panic!("the server sent something not base64: {e}"))
}

/// A device id as the server wants it: 128 random bits in lowercase hex.
pub fn new_device_id() -> String {
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).unwrap();
    hex::encode(raw)
}
