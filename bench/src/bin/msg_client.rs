//! `msg-client`: the native Rust messaging client, for browser tests and by hand.
//!
//! Registers a new device for the signed-in account whose session cookie it is given
//! (an ordinary member device, or — for the practice administrator — a practice
//! archive device), joins every conversation it is added to, decrypts what arrives and
//! prints one JSON line per event on stdout:
//! `{"event":"registered","device_id":…}`, `{"event":"joined","conversation":…}`,
//! `{"event":"message","conversation":…,"account":…,"device":…,"text":…,
//! "attachments":[{"name":…,"size":…,"sha256":…}]}` (the SHA-256 of each attachment's
//! plaintext, fetched and opened), `{"event":"commit",…}`, `{"event":"removed",…}`.
//! With `--reply TEXT` it answers the first message it reads from someone else.
//! It exits after `--listen-secs` seconds.
//!
//! `msg-client --url http://127.0.0.1:8080 --cookie 'tw_session=…' --kind archive
//!  --label 'Practice archive' --listen-secs 60`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use mls_client::{Device, Payload, Received, attachment};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tw_bench::messaging::{Api, b64, unb64};

struct Args {
    url: String,
    origin: String,
    cookie: String,
    kind: String,
    label: String,
    listen: Duration,
    reply: Option<String>,
}

fn args() -> Args {
    let mut map: HashMap<String, String> = HashMap::new();
    let mut it = std::env::args();
    it.next();
    while let Some(key) = it.next() {
        let Some(name) = key.strip_prefix("--") else {
            panic!("unexpected argument {key}; see the doc comment of msg_client.rs");
        };
        let value = it
            .next()
            .unwrap_or_else(|| panic!("--{name} needs a value"));
        map.insert(name.to_owned(), value);
    }
    let url = map.remove("url").expect("--url is required");
    Args {
        origin: map.remove("origin").unwrap_or_else(|| url.clone()),
        url,
        cookie: map.remove("cookie").expect("--cookie is required"),
        kind: map.remove("kind").unwrap_or_else(|| "member".into()),
        label: map
            .remove("label")
            .unwrap_or_else(|| "Native client".into()),
        listen: Duration::from_secs(
            map.remove("listen-secs")
                .map_or(60, |s| s.parse().expect("--listen-secs is a number")),
        ),
        reply: map.remove("reply"),
    }
}

fn emit(line: Value) {
    println!("{line}");
}

/// One device and what it has read of each conversation.
struct Client {
    api: Api,
    cookie: String,
    device_id: String,
    device: Device,
    /// conversation id → (group id, next sequence number to read)
    groups: HashMap<String, (Vec<u8>, i64)>,
    reply: Option<String>,
}

impl Client {
    async fn join_waiting(&mut self) {
        let (status, welcomes) = self
            .api
            .get(
                &self.cookie,
                &format!("/api/messaging/welcomes?device={}", self.device_id),
            )
            .await;
        assert_eq!(status, 200, "welcomes: {welcomes}");
        for w in welcomes.as_array().into_iter().flatten() {
            let conversation = w["conversation_id"].as_str().unwrap_or_default().to_owned();
            if self.groups.contains_key(&conversation) {
                continue;
            }
            let group = self
                .device
                .join(&unb64(w["body"].as_str().unwrap_or_default()))
                .unwrap();
            let seq = w["seq"].as_i64().unwrap_or(0);
            self.groups.insert(conversation.clone(), (group, seq));
            emit(json!({"event": "joined", "conversation": conversation}));
            self.catch_up(&conversation).await;
        }
    }

    /// Reads and processes everything new in one conversation.
    async fn catch_up(&mut self, conversation: &str) {
        let Some(&(_, from)) = self.groups.get(conversation) else {
            return;
        };
        let (status, messages) = self
            .api
            .get(
                &self.cookie,
                &format!(
                    "/api/messaging/conversations/{conversation}/messages?device={}&from={from}",
                    self.device_id
                ),
            )
            .await;
        if status != 200 {
            emit(json!({"event": "refused", "conversation": conversation, "status": status}));
            return;
        }
        for m in messages.as_array().into_iter().flatten() {
            self.handle(conversation, m).await;
        }
    }

    async fn handle(&mut self, conversation: &str, m: &Value) {
        let seq = m["seq"].as_i64().unwrap_or(-1);
        let Some(entry) = self.groups.get_mut(conversation) else {
            return;
        };
        if seq < entry.1 {
            return;
        }
        entry.1 = seq + 1;
        if m["sender_device"].as_str() == Some(self.device_id.as_str()) {
            return;
        }
        match self
            .device
            .process(&unb64(m["body"].as_str().unwrap_or_default()))
        {
            Ok(Received::Message {
                sender, payload, ..
            }) => {
                let mut files = Vec::new();
                for a in &payload.attachments {
                    let res = self
                        .api
                        .get_raw(
                            &self.cookie,
                            &format!(
                                "/api/messaging/blobs/{}?device={}",
                                a.blob_id, self.device_id
                            ),
                        )
                        .await;
                    let blob = res.bytes().await.unwrap_or_default();
                    let opened = attachment::open(&blob, &a.key, &a.sha256).ok();
                    files.push(json!({
                        "name": a.name,
                        "size": a.size,
                        "sha256": opened.map(|p| hex::encode(attachment::sha256(&p))),
                    }));
                }
                emit(json!({
                    "event": "message",
                    "conversation": conversation,
                    "seq": seq,
                    "account": sender.account,
                    "device": sender.device,
                    "text": payload.text,
                    "attachments": files,
                }));
                if let Some(text) = self.reply.take() {
                    self.send(conversation, &text).await;
                }
            }
            Ok(Received::Commit {
                added,
                removed,
                epoch,
                ..
            }) => emit(json!({
                "event": "commit", "conversation": conversation, "epoch": epoch,
                "added": added.len(), "removed": removed.len(),
            })),
            Ok(Received::RemovedSelf { .. }) => {
                emit(json!({"event": "removed", "conversation": conversation}));
                self.groups.remove(conversation);
            }
            Ok(Received::OwnMessage { .. }) => {}
            Err(e) => emit(json!({
                "event": "error", "conversation": conversation, "seq": seq, "error": e.to_string(),
            })),
        }
    }

    async fn send(&mut self, conversation: &str, text: &str) {
        let Some((group, _)) = self.groups.get(conversation) else {
            return;
        };
        let message = self.device.encrypt(group, &Payload::text(text)).unwrap();
        let (status, answer) = self
            .api
            .post(
                &self.cookie,
                &format!("/api/messaging/conversations/{conversation}/messages"),
                &json!({"device_id": self.device_id, "message": b64(&message)}),
            )
            .await;
        emit(
            json!({"event": "sent", "conversation": conversation, "status": status, "answer": answer}),
        );
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = args();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let api = Api::new(&args.url, &args.origin);
    let (status, me) = api.get(&args.cookie, "/api/me").await;
    assert_eq!(status, 200, "the session is not signed in: {me}");
    let user_id = me["user_id"].as_str().unwrap_or_default().to_owned();
    let (device_id, device) = api
        .register(&args.cookie, &user_id, &args.label, &args.kind, 20)
        .await;
    emit(json!({"event": "registered", "device_id": device_id, "account": user_id}));
    let mut ws = api.connect(&device_id, &args.cookie).await;
    let mut client = Client {
        api,
        cookie: args.cookie,
        device_id,
        device,
        groups: HashMap::new(),
        reply: args.reply,
    };
    client.join_waiting().await;
    let deadline = Instant::now() + args.listen;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(next) = tokio::time::timeout(left, ws.next()).await else {
            break;
        };
        let Some(Ok(Message::Text(text))) = next else {
            if matches!(next, Some(Ok(_))) {
                continue;
            }
            emit(json!({"event": "disconnected"}));
            break;
        };
        let event: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        match event["type"].as_str() {
            Some("welcome") => client.join_waiting().await,
            Some("message") => {
                let conversation = event["conversation"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let expected = client.groups.get(&conversation).map(|g| g.1);
                match expected {
                    Some(next_seq) if event["seq"].as_i64() == Some(next_seq) => {
                        client.handle(&conversation, &event).await;
                    }
                    Some(_) => client.catch_up(&conversation).await,
                    None => client.join_waiting().await,
                }
            }
            _ => {
                let ids: Vec<String> = client.groups.keys().cloned().collect();
                for id in ids {
                    client.catch_up(&id).await;
                }
            }
        }
    }
    emit(json!({"event": "done"}));
}
