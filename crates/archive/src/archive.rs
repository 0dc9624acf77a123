//! The archive device at work: registering, joining what it is added to, reading every
//! conversation from where it stopped, and saving after every batch.
//!
//! One rule keeps nothing from being lost: between decrypting a message (which moves
//! the device's ratchets on, so it cannot be decrypted a second time) and saving the
//! batch, nothing may fail out. Problems met there — a file that cannot be fetched, a
//! key that cannot be proven — are written into the record or reported as a warning;
//! only then is the batch saved, records first and the state (the device and the
//! cursors) last. A crash before the state is saved leaves the old device and the old
//! cursors, which read the same messages again and rewrite the same records.
//!
//! Everything is read over HTTP (`…/messages?from=`, paged); the delivery socket only
//! says when to read. The server's copy of a message carries its time, the socket's
//! does not, and one path is simpler to get right than two.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ledger::{ConsistencyProof, InclusionProof, VerifyingKey};
use mls_client::{Device, DeviceIdentity, Payload, Received, attachment};
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use zeroize::Zeroizing;

use crate::api::{Api, b64, field, int, unb64};
use crate::error::{Error, Result};
use crate::kt::{Pins, parse_ledger_key};
use crate::record::{AttachmentRecord, Conversation, Record, State, file_path, record_path};
use crate::vault::{Vault, safe_component};
use crate::{emit, warn};

const STATE: &str = "state.bin";
/// Key packages uploaded at registration and at each top-up.
const KEY_PACKAGES: usize = 20;
/// Top up when the server holds fewer unclaimed key packages than this: every new
/// conversation claims one of the archive's, and a conversation cannot start without
/// every archive device.
const LOW_KEY_PACKAGES: i64 = 10;
/// The server's page of messages.
const PAGE: usize = 100;
/// The server drops a socket it has heard nothing from in 75 s.
const PING: Duration = Duration::from_secs(20);
/// Tries to fetch one attachment before recording it as missing.
const BLOB_TRIES: u32 = 3;

/// A device id as the server wants it: 32 lowercase hex digits.
fn is_device_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Why [`Archive::run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Deadline,
    Signal,
}

/// The archive: its vault, its saved state and its MLS device.
pub struct Archive {
    api: Api,
    vault: Vault,
    state: State,
    device: Device,
    ledger_key: VerifyingKey,
    /// Devices whose key failed its proof this run (warned once, tried again next run).
    unproven: HashSet<String>,
    /// Welcomes that could not be joined this run.
    failed_welcomes: HashSet<(String, i64)>,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive")
            .field("device_id", &self.state.device_id)
            .field("conversations", &self.state.conversations.len())
            .finish_non_exhaustive()
    }
}

/// Reads and decodes the sealed state.
fn load_state(vault: &Vault) -> Result<State> {
    let bytes = vault
        .read(STATE)?
        .ok_or_else(|| Error::Vault("state.bin is missing".into()))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Vault(format!("state.bin: {e}")))
}

impl Archive {
    /// Sets up a new archive in `dir`: a new archive device of the signed-in
    /// administrator, saved before the server hears of it (so its keys are never lost),
    /// then registered. `ledger_key` pins the ledger's public key obtained out of band;
    /// without it the key the server serves now is pinned.
    pub async fn register(
        dir: &Path,
        passphrase: &[u8],
        api: Api,
        label: &str,
        ledger_key: Option<&str>,
    ) -> Result<Archive> {
        let vault = Vault::create(dir, passphrase)?;
        let mut registered = false;
        let result = Self::register_in(vault, api, label, ledger_key, &mut registered).await;
        if result.is_err() && !registered {
            // Nothing registered: leave the directory as it was so it can be tried again.
            let _ = std::fs::remove_file(dir.join(STATE));
            let _ = std::fs::remove_file(dir.join("vault.json"));
        }
        result
    }

    async fn register_in(
        vault: Vault,
        api: Api,
        label: &str,
        ledger_key: Option<&str>,
        registered: &mut bool,
    ) -> Result<Archive> {
        let me = api.get("/api/me").await?;
        let account = field(&me, "user_id")?.to_owned();
        let served = String::from_utf8_lossy(&api.get_bytes("/ledger/public-key").await?)
            .trim()
            .to_owned();
        let pinned = match ledger_key {
            Some(pin) if pin.trim() != served => {
                return Err(Error::KeyTransparency(
                    "the server's ledger public key is not the one given with --ledger-key".into(),
                ));
            }
            Some(pin) => pin.trim().to_owned(),
            None => served,
        };
        let ledger_key = parse_ledger_key(&pinned)?;
        let mut raw = [0u8; 16];
        getrandom::fill(&mut raw).map_err(|e| Error::Vault(format!("no randomness: {e}")))?;
        let device_id = hex::encode(raw);
        let mut device = Device::create(DeviceIdentity::new(&account, &device_id)?)?;
        let packages: Vec<String> = device
            .key_packages(KEY_PACKAGES)?
            .iter()
            .map(|k| b64(k))
            .collect();
        let state = State {
            server: api.base().to_owned(),
            account: account.clone(),
            device_id: device_id.clone(),
            device: String::new(),
            ledger_key: pinned,
            kt: Pins::default(),
            free_key_packages: 0,
            conversations: Default::default(),
            records: 0,
        };
        let mut archive = Archive {
            api,
            vault,
            state,
            device,
            ledger_key,
            unproven: HashSet::new(),
            failed_welcomes: HashSet::new(),
        };
        archive.save()?;
        archive
            .api
            .post(
                "/api/messaging/devices",
                &json!({
                    "device_id": device_id,
                    "label": label,
                    "kind": "archive",
                    "signature_key": hex::encode(archive.device.signature_key()),
                    "key_packages": packages,
                }),
            )
            .await?;
        *registered = true;
        archive.state.free_key_packages = KEY_PACKAGES as i64;
        archive.save()?;
        // The archive's own key must be in the log under the pinned ledger key; this
        // also shows the pin is right. The device is registered by now, so a failure
        // is a warning for the operator rather than a reason to throw its keys away.
        let own_key = archive.device.signature_key();
        if let Err(e) = archive.prove(&device_id, &account, &own_key).await {
            warn(
                "key_transparency",
                json!({"device": device_id, "error": e.to_string()}),
            );
        }
        archive.save()?;
        emit(json!({"event": "registered", "device_id": device_id, "account": account}));
        Ok(archive)
    }

    /// Opens an existing archive for running: the passphrase is checked first, and a
    /// wrong one changes nothing.
    pub fn open(dir: &Path, passphrase: &[u8], api: Api) -> Result<Archive> {
        let vault = Vault::open(dir, passphrase, true)?;
        let state = load_state(&vault)?;
        let device = Device::import_state(&crate::api::unb64("the saved device", &state.device)?)?;
        let ledger_key = parse_ledger_key(&state.ledger_key)?;
        Ok(Archive {
            api,
            vault,
            state,
            device,
            ledger_key,
            unproven: HashSet::new(),
            failed_welcomes: HashSet::new(),
        })
    }

    /// The saved server address of the archive in `dir` (for `run` without `--url`).
    pub fn saved_server(dir: &Path, passphrase: &[u8]) -> Result<String> {
        let vault = Vault::open(dir, passphrase, false)?;
        Ok(load_state(&vault)?.server)
    }

    /// The archive device's id.
    pub fn device_id(&self) -> &str {
        &self.state.device_id
    }

    /// Saves the state: the device (every key it holds), cursors and pins.
    fn save(&mut self) -> Result<()> {
        self.state.device = b64(&Zeroizing::new(self.device.export_state()?));
        let bytes = Zeroizing::new(
            serde_json::to_vec(&self.state).map_err(|e| Error::Vault(format!("state: {e}")))?,
        );
        self.vault.write(STATE, &bytes)
    }

    /// Saves a batch: its records (and their files, already written), then the state.
    fn save_batch(&mut self, records: &[Record]) -> Result<()> {
        for r in records {
            let bytes = Zeroizing::new(
                serde_json::to_vec(r).map_err(|e| Error::Vault(format!("record: {e}")))?,
            );
            self.vault
                .write(&record_path(&r.conversation, r.seq), &bytes)?;
        }
        self.state.records += records.len() as u64;
        self.save()
    }

    /// Runs until `until` (or forever), or until interrupted (Ctrl-C, SIGTERM): joins,
    /// catches up, then listens; a dropped connection or a server restart is retried
    /// with a growing pause. Stops on errors a retry cannot mend (a closed session, a
    /// damaged vault).
    pub async fn run(&mut self, until: Option<Instant>) -> Result<()> {
        emit(json!({
            "event": "started",
            "device_id": self.state.device_id,
            "conversations": self.state.conversations.len(),
            "records": self.state.records,
        }));
        let mut pause = Duration::from_secs(1);
        loop {
            match self.session(until).await {
                Ok(stop) => {
                    emit(json!({"event": "stopped", "why": match stop {
                        Stop::Deadline => "time",
                        Stop::Signal => "signal",
                    }, "records": self.state.records}));
                    return Ok(());
                }
                Err(e) if e.is_transient() => {
                    warn("reconnecting", json!({"error": e.to_string()}));
                    let wake = Instant::now() + pause;
                    if until.is_some_and(|u| u <= wake) {
                        emit(
                            json!({"event": "stopped", "why": "time", "records": self.state.records}),
                        );
                        return Ok(());
                    }
                    tokio::select! {
                        _ = tokio::time::sleep_until(wake) => {}
                        _ = shutdown() => {
                            emit(json!({"event": "stopped", "why": "signal", "records": self.state.records}));
                            return Ok(());
                        }
                    }
                    pause = (pause * 2).min(Duration::from_secs(60));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One connection: socket first (so nothing sent meanwhile is missed), then
    /// everything since the cursors, then whatever the socket announces.
    async fn session(&mut self, until: Option<Instant>) -> Result<Stop> {
        let mut ws = self.api.connect(&self.state.device_id).await?;
        self.sync().await?;
        let mut ping = tokio::time::interval(PING);
        let far = Instant::now() + Duration::from_secs(100 * 365 * 86_400);
        let deadline = until.unwrap_or(far);
        let stop = shutdown();
        tokio::pin!(stop);
        loop {
            let text = tokio::select! {
                _ = tokio::time::sleep_until(deadline) => return Ok(Stop::Deadline),
                _ = &mut stop => return Ok(Stop::Signal),
                _ = ping.tick() => {
                    ws.send(Message::Ping(Vec::new().into()))
                        .await
                        .map_err(|e| Error::Network(format!("delivery socket: {e}")))?;
                    continue;
                }
                next = ws.next() => match next {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | None => {
                        return Err(Error::Network("the delivery socket closed".into()));
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Err(Error::Network(format!("delivery socket: {e}"))),
                },
            };
            let event: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let conversation = event.get("conversation").and_then(Value::as_str);
            match (event.get("type").and_then(Value::as_str), conversation) {
                (Some("welcome"), _) => self.join_waiting().await?,
                (Some("message"), Some(id)) if self.state.conversations.contains_key(id) => {
                    let id = id.to_owned();
                    self.catch_up_or_warn(&id).await?;
                }
                (Some("message"), _) => self.join_waiting().await?,
                _ => self.sync().await?,
            }
        }
    }

    /// Joins waiting conversations, tops up key packages, and reads every conversation
    /// from its cursor.
    pub async fn sync(&mut self) -> Result<()> {
        self.join_waiting().await?;
        self.top_up().await?;
        let ids: Vec<String> = self
            .state
            .conversations
            .iter()
            .filter(|(_, c)| !c.removed)
            .map(|(id, _)| id.clone())
            .collect();
        for id in ids {
            self.catch_up_or_warn(&id).await?;
        }
        Ok(())
    }

    /// Uploads key packages when the server is running low of the archive's.
    async fn top_up(&mut self) -> Result<()> {
        if self.state.free_key_packages >= LOW_KEY_PACKAGES {
            return Ok(());
        }
        let packages: Vec<String> = self
            .device
            .key_packages(KEY_PACKAGES)?
            .iter()
            .map(|k| b64(k))
            .collect();
        // Their private keys are saved before the server can hand the packages out.
        self.save()?;
        let answer = self
            .api
            .post(
                &format!(
                    "/api/messaging/devices/{}/key-packages",
                    self.state.device_id
                ),
                &json!({"key_packages": packages}),
            )
            .await?;
        self.state.free_key_packages = int(&answer, "free")?;
        self.save()?;
        emit(json!({"event": "key_packages", "free": self.state.free_key_packages}));
        Ok(())
    }

    /// Joins every conversation whose Welcome is waiting for this device.
    async fn join_waiting(&mut self) -> Result<()> {
        let welcomes = self
            .api
            .get(&format!(
                "/api/messaging/welcomes?device={}",
                self.state.device_id
            ))
            .await?;
        let mut joined = Vec::new();
        for w in welcomes.as_array().into_iter().flatten() {
            let conversation = field(w, "conversation_id")?.to_owned();
            let seq = int(w, "seq")?;
            if !safe_component(&conversation) {
                return Err(Error::Protocol("a conversation id is not plain".into()));
            }
            if self
                .state
                .conversations
                .get(&conversation)
                .is_some_and(|c| !c.removed)
                || self.failed_welcomes.contains(&(conversation.clone(), seq))
            {
                continue;
            }
            let body = unb64("a Welcome", field(w, "body")?)?;
            match self.device.join(&body) {
                Ok(group) => {
                    self.state.conversations.insert(
                        conversation.clone(),
                        Conversation {
                            group: hex::encode(&group),
                            next_seq: seq,
                            removed: false,
                        },
                    );
                    self.state.free_key_packages -= 1;
                    joined.push((conversation, seq, group));
                }
                Err(e) => {
                    warn(
                        "welcome_refused",
                        json!({"conversation": conversation, "error": e.to_string()}),
                    );
                    self.failed_welcomes.insert((conversation, seq));
                }
            }
        }
        if joined.is_empty() {
            return Ok(());
        }
        // Saved at once: joining used up key package private keys.
        self.save()?;
        for (conversation, _, group) in &joined {
            emit(json!({"event": "joined", "conversation": conversation}));
            self.prove_members(group).await;
        }
        self.save()?;
        for (conversation, _, _) in joined {
            self.catch_up_or_warn(&conversation).await?;
        }
        self.top_up().await
    }

    /// [`Archive::catch_up`], where a refusal about this one conversation (the server
    /// says 403 or 404) is a warning, not the end of the run.
    async fn catch_up_or_warn(&mut self, conversation: &str) -> Result<()> {
        match self.catch_up(conversation).await {
            Err(Error::Server { status, .. }) if status == 403 || status == 404 => {
                warn(
                    "conversation_refused",
                    json!({"conversation": conversation, "status": status}),
                );
                Ok(())
            }
            other => other,
        }
    }

    /// Reads one conversation from its cursor to the end, a page at a time, saving
    /// after each page.
    async fn catch_up(&mut self, conversation: &str) -> Result<()> {
        loop {
            let Some(c) = self.state.conversations.get(conversation) else {
                return Ok(());
            };
            if c.removed {
                return Ok(());
            }
            let from = c.next_seq;
            let page = self
                .api
                .get(&format!(
                    "/api/messaging/conversations/{conversation}/messages?device={}&from={from}",
                    self.state.device_id
                ))
                .await?;
            let messages = page
                .as_array()
                .ok_or_else(|| Error::Protocol("messages are not a list".into()))?;
            if messages.is_empty() {
                return Ok(());
            }
            // Parse the whole page before decrypting any of it: a malformed page then
            // changes nothing.
            let mut parsed = Vec::with_capacity(messages.len());
            for m in messages {
                parsed.push((
                    int(m, "seq")?,
                    int(m, "epoch")?,
                    int(m, "created_ms")?,
                    field(m, "sender_device")?.to_owned(),
                    unb64("a message", field(m, "body")?)?,
                ));
            }
            let mut records = Vec::new();
            let mut last = from - 1;
            for (seq, epoch, time_ms, sender_device, body) in parsed {
                if seq <= last {
                    continue;
                }
                last = seq;
                if sender_device == self.state.device_id {
                    continue;
                }
                let record = self
                    .process(conversation, seq, epoch, time_ms, sender_device, &body)
                    .await;
                records.extend(record);
                if self
                    .state
                    .conversations
                    .get(conversation)
                    .is_none_or(|c| c.removed)
                {
                    break;
                }
            }
            if let Some(c) = self.state.conversations.get_mut(conversation) {
                c.next_seq = c.next_seq.max(last + 1);
            }
            let messages_archived = records.iter().filter(|r| r.kind == "message").count();
            let count = records.len();
            self.save_batch(&records)?;
            emit(json!({
                "event": "archived",
                "conversation": conversation,
                "records": count,
                "messages": messages_archived,
                "total": self.state.records,
            }));
            if messages.len() < PAGE {
                return Ok(());
            }
        }
    }

    /// Decrypts and applies one message; never fails (see the module's rule).
    async fn process(
        &mut self,
        conversation: &str,
        seq: i64,
        epoch: i64,
        time_ms: i64,
        sender_device: String,
        body: &[u8],
    ) -> Option<Record> {
        let mut record = Record {
            conversation: conversation.to_owned(),
            seq,
            kind: String::new(),
            time_ms,
            epoch,
            sender_account: None,
            sender_device,
            sender_key_verified: None,
            text: None,
            attachments: Vec::new(),
            added: Vec::new(),
            removed: Vec::new(),
            error: None,
        };
        match self.device.process(body) {
            Ok(Received::Message {
                group,
                sender,
                payload,
                ..
            }) => {
                record.kind = "message".into();
                record.sender_key_verified = Some(self.sender_proven(&group, &sender));
                record.sender_account = Some(sender.account);
                record.sender_device = sender.device;
                record.attachments = self.fetch_attachments(conversation, seq, &payload).await;
                record.text = Some(payload.text);
                Some(record)
            }
            Ok(Received::Commit {
                group,
                added,
                removed,
                ..
            }) => {
                record.kind = "membership".into();
                record.added = added
                    .iter()
                    .map(|d| format!("{}/{}", d.account, d.device))
                    .collect();
                record.removed = removed
                    .iter()
                    .map(|d| format!("{}/{}", d.account, d.device))
                    .collect();
                if !added.is_empty() {
                    self.prove_members(&group).await;
                }
                Some(record)
            }
            Ok(Received::RemovedSelf { .. }) => {
                record.kind = "removed".into();
                if let Some(c) = self.state.conversations.get_mut(conversation) {
                    c.removed = true;
                }
                warn("removed", json!({"conversation": conversation}));
                Some(record)
            }
            Ok(Received::OwnMessage { .. }) => None,
            Err(e) => {
                record.kind = "undecryptable".into();
                record.error = Some(e.to_string());
                warn(
                    "undecryptable",
                    json!({"conversation": conversation, "seq": seq}),
                );
                Some(record)
            }
        }
    }

    /// Fetches, opens and seals into the vault each file of a message. A file that
    /// cannot be had after a few tries is recorded with the reason.
    async fn fetch_attachments(
        &mut self,
        conversation: &str,
        seq: i64,
        payload: &Payload,
    ) -> Vec<AttachmentRecord> {
        let mut out = Vec::new();
        for (index, a) in payload.attachments.iter().enumerate() {
            let mut rec = AttachmentRecord {
                name: a.name.clone(),
                media_type: a.media_type.clone(),
                size: a.size,
                sha256: None,
                file: None,
                error: None,
            };
            let mut last_error = String::new();
            for attempt in 0..BLOB_TRIES {
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
                }
                if !safe_component(&a.blob_id) {
                    last_error = "the blob id is not plain".into();
                    break;
                }
                let blob = match self
                    .api
                    .get_bytes(&format!(
                        "/api/messaging/blobs/{}?device={}",
                        a.blob_id, self.state.device_id
                    ))
                    .await
                {
                    Ok(b) => b,
                    Err(e) => {
                        last_error = e.to_string();
                        continue;
                    }
                };
                let plain = match attachment::open(&blob, &a.key, &a.sha256) {
                    Ok(p) => Zeroizing::new(p),
                    Err(e) => {
                        last_error = e.to_string();
                        break;
                    }
                };
                let path = file_path(conversation, seq, index);
                if let Err(e) = self.vault.write(&path, &plain) {
                    last_error = e.to_string();
                    continue;
                }
                rec.sha256 = Some(hex::encode(attachment::sha256(&plain)));
                rec.file = Some(path);
                last_error.clear();
                break;
            }
            if rec.file.is_none() {
                warn(
                    "attachment_missing",
                    json!({"conversation": conversation, "seq": seq, "error": last_error}),
                );
                rec.error = Some(last_error);
            }
            out.push(rec);
        }
        out
    }

    /// Whether the sender's key, as the group knows it, was proven in the log.
    fn sender_proven(&self, group: &[u8], sender: &DeviceIdentity) -> bool {
        self.device.members(group).is_ok_and(|members| {
            members.iter().any(|m| {
                m.identity == *sender
                    && self
                        .state
                        .kt
                        .is_verified(&m.identity.device, &m.signature_key)
            })
        })
    }

    /// Checks every member of a group not yet proven; warns about each that fails.
    async fn prove_members(&mut self, group: &[u8]) {
        let Ok(members) = self.device.members(group) else {
            return;
        };
        for m in members {
            let id = &m.identity;
            if self.state.kt.is_verified(&id.device, &m.signature_key)
                || self.unproven.contains(&id.device)
            {
                continue;
            }
            if let Err(e) = self.prove(&id.device, &id.account, &m.signature_key).await {
                warn(
                    "key_transparency",
                    json!({"device": id.device, "error": e.to_string()}),
                );
                if !e.is_transient() {
                    self.unproven.insert(id.device.clone());
                }
            }
        }
    }

    /// Fetches a device's key proof and checks it (see [`crate::kt`]).
    async fn prove(&mut self, device_id: &str, account: &str, signature_key: &[u8]) -> Result<()> {
        if !is_device_id(device_id) {
            return Err(Error::KeyTransparency(
                "a member's device id is not 32 hex digits".into(),
            ));
        }
        // A head larger than the one remembered is taken only with a proof that it
        // extends it (no split view); if the log grows between the two requests, ask
        // again.
        for _ in 0..3 {
            let answer = self
                .api
                .get(&format!("/api/messaging/devices/{device_id}/key-proof"))
                .await?;
            let proof: InclusionProof = serde_json::from_value(answer)
                .map_err(|e| Error::KeyTransparency(format!("the proof does not parse: {e}")))?;
            let consistency = match self.state.kt.consistency_from(&proof) {
                None => None,
                Some(from) => {
                    let answer = self
                        .api
                        .get(&format!("/api/messaging/key-log/consistency?from={from}"))
                        .await?;
                    let c: ConsistencyProof = serde_json::from_value(answer).map_err(|e| {
                        Error::KeyTransparency(format!("the consistency proof does not parse: {e}"))
                    })?;
                    if c.new.head.size > proof.sth.head.size {
                        continue;
                    }
                    Some(c)
                }
            };
            return self.state.kt.check_consistent(
                &self.ledger_key,
                device_id,
                account,
                signature_key,
                &proof,
                consistency.as_ref(),
            );
        }
        Err(Error::KeyTransparency(
            "the key log kept growing while it was being checked; it is checked again next time"
                .into(),
        ))
    }
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
