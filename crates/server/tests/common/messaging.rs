//! The native Rust messaging client the tests drive: one `mls_client::Device` per
//! member, talking to the real server over HTTP like a browser would (same-origin
//! JSON requests with the session cookie). The server only ever sees ciphertext.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use base64::Engine;
use mls_client::{Device, DeviceIdentity, Payload, Received};
use reqwest::header::{COOKIE, ORIGIN};
use serde_json::{Value, json};

use super::TestServer;

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn unb64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

pub fn new_device_id() -> String {
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).unwrap();
    hex::encode(raw)
}

/// A same-origin JSON POST; the status and the JSON answer (Null when there is none).
pub async fn post(s: &TestServer, cookie: &str, path: &str, body: &Value) -> (u16, Value) {
    let res = s
        .client
        .post(s.url(path))
        .header(ORIGIN, &s.running().origin)
        .header(COOKIE, cookie)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub async fn get(s: &TestServer, cookie: &str, path: &str) -> (u16, Value) {
    let res = s
        .client
        .get(s.url(path))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// One device of one person, with what it has read.
pub struct Member {
    pub user_id: String,
    pub cookie: String,
    pub device_id: String,
    pub device: Device,
    /// conversation id → (group id, next sequence number to read)
    pub groups: HashMap<String, (Vec<u8>, i64)>,
}

/// Registers a new device for `email` (with a fresh sign-in) and uploads key packages.
pub async fn device(s: &TestServer, email: &str, label: &str, kind: &str) -> Member {
    let cookie = s.session_for(email, 0).await;
    let user_id = s.user_id(email).await;
    let device_id = new_device_id();
    let mut device = Device::create(DeviceIdentity::new(&user_id, &device_id).unwrap()).unwrap();
    let packages: Vec<String> = device
        .key_packages(8)
        .unwrap()
        .iter()
        .map(|k| b64(k))
        .collect();
    let (status, body) = post(
        s,
        &cookie,
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
    Member {
        user_id,
        cookie,
        device_id,
        device,
        groups: HashMap::new(),
    }
}

impl Member {
    pub fn identity(&self) -> DeviceIdentity {
        self.device.identity().clone()
    }

    pub fn group(&self, conversation: &str) -> Vec<u8> {
        self.groups[conversation].0.clone()
    }

    /// Starts a conversation about `patient_id` holding only this device.
    pub async fn start(&mut self, s: &TestServer, patient_id: &str) -> String {
        let group = self.device.create_group().unwrap();
        let (status, body) = post(
            s,
            &self.cookie,
            "/api/messaging/conversations",
            &json!({"device_id": self.device_id, "patient_id": patient_id, "group_id": hex::encode(&group)}),
        )
        .await;
        assert_eq!(status, 201, "start: {body}");
        let id = body["id"].as_str().unwrap().to_owned();
        self.groups.insert(id.clone(), (group, 1));
        id
    }

    /// Claims key packages for `people` and commits their addition; the server's
    /// status (200 accepted, 409 another commit took the epoch).
    pub async fn add(&mut self, s: &TestServer, conversation: &str, people: &[&str]) -> u16 {
        let (status, claimed) = post(
            s,
            &self.cookie,
            &format!("/api/messaging/conversations/{conversation}/claim"),
            &json!({"device_id": self.device_id, "user_ids": people}),
        )
        .await;
        assert_eq!(status, 200, "claim: {claimed}");
        let claimed = claimed.as_array().unwrap().clone();
        assert!(!claimed.is_empty(), "nobody to add");
        let packages: Vec<Vec<u8>> = claimed
            .iter()
            .map(|c| unb64(c["key_package"].as_str().unwrap()))
            .collect();
        let added: Vec<String> = claimed
            .iter()
            .map(|c| c["device_id"].as_str().unwrap().to_owned())
            .collect();
        let group = self.group(conversation);
        let commit = self.device.add_members(&group, &packages).unwrap();
        self.submit(s, conversation, &commit, &added, &[]).await
    }

    /// Commits the removal of `devices` (`(account, device)` pairs).
    pub async fn remove(
        &mut self,
        s: &TestServer,
        conversation: &str,
        devices: &[(&str, &str)],
    ) -> u16 {
        let ids: Vec<DeviceIdentity> = devices
            .iter()
            .map(|(a, d)| DeviceIdentity::new(*a, *d).unwrap())
            .collect();
        let group = self.group(conversation);
        let commit = self.device.remove_members(&group, &ids).unwrap();
        let removed: Vec<String> = devices.iter().map(|(_, d)| (*d).to_owned()).collect();
        self.submit(s, conversation, &commit, &[], &removed).await
    }

    /// Sends a pending commit; merges it if accepted, discards it otherwise.
    pub async fn submit(
        &mut self,
        s: &TestServer,
        conversation: &str,
        commit: &mls_client::Commit,
        added: &[String],
        removed: &[String],
    ) -> u16 {
        let group = self.group(conversation);
        let (status, body) = post(
            s,
            &self.cookie,
            &format!("/api/messaging/conversations/{conversation}/commits"),
            &json!({
                "device_id": self.device_id,
                "commit": b64(&commit.commit),
                "welcome": commit.welcome.as_deref().map(b64),
                "added": added,
                "removed": removed,
            }),
        )
        .await;
        if status == 200 {
            self.device.merge_pending(&group).unwrap();
            let seq = body["seq"].as_i64().unwrap();
            self.groups.get_mut(conversation).unwrap().1 = seq + 1;
        } else {
            self.device.discard_pending(&group).unwrap();
        }
        status
    }

    /// Encrypts and sends `payload`: the status and the answer.
    pub async fn send(
        &mut self,
        s: &TestServer,
        conversation: &str,
        payload: &Payload,
    ) -> (u16, Value) {
        let message = self.encrypt(conversation, payload);
        self.send_raw(s, conversation, &message).await
    }

    pub fn encrypt(&mut self, conversation: &str, payload: &Payload) -> Vec<u8> {
        let group = self.group(conversation);
        self.device.encrypt(&group, payload).unwrap()
    }

    pub async fn send_raw(
        &mut self,
        s: &TestServer,
        conversation: &str,
        message: &[u8],
    ) -> (u16, Value) {
        post(
            s,
            &self.cookie,
            &format!("/api/messaging/conversations/{conversation}/messages"),
            &json!({"device_id": self.device_id, "message": b64(message)}),
        )
        .await
    }

    pub async fn send_text(&mut self, s: &TestServer, conversation: &str, text: &str) -> u16 {
        self.send(s, conversation, &Payload::text(text)).await.0
    }

    /// Joins every conversation a Welcome waits for.
    pub async fn join(&mut self, s: &TestServer) {
        let (status, welcomes) = get(
            s,
            &self.cookie,
            &format!("/api/messaging/welcomes?device={}", self.device_id),
        )
        .await;
        assert_eq!(status, 200, "welcomes: {welcomes}");
        for w in welcomes.as_array().unwrap() {
            let conversation = w["conversation_id"].as_str().unwrap().to_owned();
            if self.groups.contains_key(&conversation) {
                continue;
            }
            let group = self
                .device
                .join(&unb64(w["body"].as_str().unwrap()))
                .unwrap();
            self.groups
                .insert(conversation, (group, w["seq"].as_i64().unwrap()));
        }
    }

    /// The raw messages from `from` on, as the server gives them to this device.
    pub async fn fetch(&self, s: &TestServer, conversation: &str, from: i64) -> (u16, Value) {
        get(
            s,
            &self.cookie,
            &format!(
                "/api/messaging/conversations/{conversation}/messages?device={}&from={from}",
                self.device_id
            ),
        )
        .await
    }

    /// Reads and processes everything new in the conversation (skipping what this
    /// device sent); each message's result, in order.
    pub async fn sync(
        &mut self,
        s: &TestServer,
        conversation: &str,
    ) -> Vec<mls_client::Result<Received>> {
        let from = self.groups[conversation].1;
        let (status, messages) = self.fetch(s, conversation, from).await;
        assert_eq!(status, 200, "read: {messages}");
        let mut out = Vec::new();
        for m in messages.as_array().unwrap() {
            let seq = m["seq"].as_i64().unwrap();
            self.groups.get_mut(conversation).unwrap().1 = seq + 1;
            if m["sender_device"].as_str() == Some(self.device_id.as_str()) {
                continue;
            }
            out.push(self.device.process(&unb64(m["body"].as_str().unwrap())));
        }
        out
    }

    /// The texts of the application messages read by [`Member::sync`].
    pub async fn texts(&mut self, s: &TestServer, conversation: &str) -> Vec<String> {
        self.sync(s, conversation)
            .await
            .into_iter()
            .filter_map(|r| match r.unwrap() {
                Received::Message { payload, .. } => Some(payload.text),
                _ => None,
            })
            .collect()
    }
}
