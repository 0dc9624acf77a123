//! End-to-end encrypted messaging through a real server: what one message costs from
//! sender to receiver, and what a membership change costs in a group of 20 devices.
//!
//! This starts a real Telewarden in this process on loopback (SQLite), sets up a
//! practice with a clinician on a patient's care team and the practice archive, and
//! drives `mls-client` devices against it exactly as the native client does: JSON over
//! HTTP with the session cookie and the page's origin, and one delivery WebSocket
//! (`/ws/messaging?device=…`) per device. Each device runs in its own task, owning its
//! socket: it decrypts or merges what is pushed to it, joins conversations from their
//! Welcomes (fetched over HTTP when the socket says one is waiting), and reports when
//! it is done. Nothing is read from the database behind the server's back; the
//! fixtures (accounts, sessions, care team) are written to it before.
//!
//! 1. **Send to receive**, in a conversation of three (the clinician's device, one of
//!    the patient's devices, the archive): the clinician's device encrypts a message
//!    and posts it; the timer runs from just before the encryption until the patient's
//!    device has decrypted it from its socket (and, in the second column, until the
//!    archive has too). The same again in the group of 20 below (until all 19 others
//!    have decrypted it).
//! 2. **Membership changes in a group of 20 devices**: the clinician's device, the
//!    archive and 18 devices of the patient. Repeatedly, one of the patient's devices
//!    adds a newly registered device of the patient (claims its key package, commits
//!    the add, posts commit and Welcome) and every other member merges the commit from
//!    its socket while the new device joins from its Welcome; then it removes that
//!    device again and all 20 others (the removed one included) process the removal.
//!    Each is split into the committer's client-side cost (MLS commit creation and
//!    merge), the server round trips (claim and commit for an add, commit for a
//!    removal), and the total until every member has processed it.
//! 3. The add and removal totals as multiples of one send-to-receive of the same run:
//!    the absolute figures move with the machine, the ratios much less.
//!
//! Every wait is bounded; a device that fails to decrypt or process anything stops the
//! run with the error.
//!
//! `cargo run --release -p tw-bench --bin messaging` (200 messages, 10 add/remove
//! rounds); `TW_BENCH_QUICK=1` for 40 messages and 3 rounds (CI).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::collections::{BTreeSet, HashSet};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clock::{Clock, SystemClock};
use futures_util::{SinkExt, StreamExt};
use mls_client::{Device, DeviceIdentity, Payload, Received};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tw_bench::messaging::{Api, WAIT, Ws, b64, unb64};

const ADMIN_EMAIL: &str = "admin@bench.example";
const CLINICIAN_EMAIL: &str = "clinician@bench.example";
const PATIENT_EMAIL: &str = "patient@bench.example";
/// Devices in the group whose membership changes: the clinician's, the archive and
/// this many less two of the patient's.
const GROUP: usize = 20;
/// Key packages each device uploads when registered.
const KEY_PACKAGES: usize = 4;

#[derive(Debug, Clone, Copy)]
struct Plan {
    messages: usize,
    messages_in_group: usize,
    rounds: usize,
    warm_up: usize,
}

/// The fixtures' direct line to the database: accounts, care team and sessions.
struct Fixtures {
    db: store::Db,
    keyring: store::keyring::Keyring,
}

impl Fixtures {
    async fn user(&self, id: &str, email: &str, name: &str, role: &str) -> String {
        tw_bench::enrol(&self.db, &self.keyring, id, email, name, role, None).await
    }

    async fn user_id(&self, email: &str) -> String {
        self.db
            .user_by_email(&self.keyring, email)
            .await
            .unwrap()
            .unwrap()
            .id
    }

    /// A session whose sign-in is this very moment (adding a device needs one).
    async fn fresh_session(&self, email: &str) -> String {
        let now = SystemClock.now_ms();
        store::testing::session_cookie(&self.db, &self.keyring, email, now, now).await
    }
}

// ---------------------------------------------------------------------------------
// Devices: each in its own task, with its own delivery socket.

/// What a device did with something pushed to it, and when.
#[derive(Debug)]
enum Got {
    Message(String),
    Commit,
    RemovedSelf,
    Joined,
    Failed(String),
}

#[derive(Debug)]
struct Report {
    device: String,
    conversation: String,
    seq: i64,
    got: Got,
    at: Instant,
}

/// A registered device: its MLS state (shared with its task) and its socket task.
struct Member {
    user_id: String,
    cookie: String,
    device_id: String,
    device: Arc<Mutex<Device>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Member {
    fn identity(&self) -> DeviceIdentity {
        self.device.lock().unwrap().identity().clone()
    }

    async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(WAIT, task).await;
        }
    }
}

/// Registers a new device for the session's account with its key packages, and
/// connects its delivery socket.
async fn register(
    s: &Arc<Api>,
    cookie: &str,
    user_id: &str,
    label: &str,
    kind: &str,
    reports: &mpsc::UnboundedSender<Report>,
) -> Member {
    let (device_id, device) = s.register(cookie, user_id, label, kind, KEY_PACKAGES).await;
    let device = Arc::new(Mutex::new(device));
    let ws = s.connect(&device_id, cookie).await;
    let (stop_tx, stop_rx) = oneshot::channel();
    let task = tokio::spawn(run_device(
        s.clone(),
        cookie.to_owned(),
        device_id.clone(),
        device.clone(),
        ws,
        reports.clone(),
        stop_rx,
    ));
    Member {
        user_id: user_id.to_owned(),
        cookie: cookie.to_owned(),
        device_id,
        device,
        stop: Some(stop_tx),
        task: Some(task),
    }
}

/// One device: processes what its socket pushes (others' commits and messages) and
/// joins conversations whose Welcome is waiting, reporting each.
async fn run_device(
    s: Arc<Api>,
    cookie: String,
    device_id: String,
    device: Arc<Mutex<Device>>,
    mut ws: Ws,
    reports: mpsc::UnboundedSender<Report>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut joined: HashSet<String> = HashSet::new();
    // The server drops a socket it has heard nothing from in 75 s; browsers ping.
    let mut ping = tokio::time::interval(Duration::from_secs(20));
    let report = |conversation: &str, seq: i64, got: Got| {
        let _ = reports.send(Report {
            device: device_id.clone(),
            conversation: conversation.to_owned(),
            seq,
            got,
            at: Instant::now(),
        });
    };
    loop {
        let text = tokio::select! {
            _ = &mut stop => break,
            _ = ping.tick() => {
                if ws.send(Message::Ping(Vec::new().into())).await.is_err() {
                    report("", 0, Got::Failed("the socket closed".into()));
                    break;
                }
                continue;
            }
            next = ws.next() => match next {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Close(_)) | Err(_)) | None => {
                    report("", 0, Got::Failed("the socket closed".into()));
                    break;
                }
                Some(Ok(_)) => continue,
            },
        };
        let event: Value = serde_json::from_str(text.as_str()).unwrap();
        let conversation = event["conversation"].as_str().unwrap_or_default();
        match event["type"].as_str() {
            Some("message") => {
                if event["sender_device"].as_str() == Some(device_id.as_str()) {
                    continue;
                }
                let seq = event["seq"].as_i64().unwrap();
                let body = unb64(event["body"].as_str().unwrap());
                let got = match device.lock().unwrap().process(&body) {
                    Ok(Received::Message { payload, .. }) => Got::Message(payload.text),
                    Ok(Received::Commit { .. }) => Got::Commit,
                    Ok(Received::RemovedSelf { .. }) => Got::RemovedSelf,
                    Ok(other) => Got::Failed(format!("unexpected: {other:?}")),
                    Err(e) => Got::Failed(format!("process seq {seq}: {e}")),
                };
                report(conversation, seq, got);
            }
            Some("welcome") => {
                let (status, welcomes) = s
                    .get(
                        &cookie,
                        &format!("/api/messaging/welcomes?device={device_id}"),
                    )
                    .await;
                if status != 200 {
                    report(
                        conversation,
                        0,
                        Got::Failed(format!("welcomes: {status} {welcomes}")),
                    );
                    continue;
                }
                for w in welcomes.as_array().into_iter().flatten() {
                    let id = w["conversation_id"].as_str().unwrap().to_owned();
                    if joined.contains(&id) {
                        continue;
                    }
                    let seq = w["seq"].as_i64().unwrap();
                    let welcome = unb64(w["body"].as_str().unwrap());
                    let got = match device.lock().unwrap().join(&welcome) {
                        Ok(_) => Got::Joined,
                        Err(e) => Got::Failed(format!("join: {e}")),
                    };
                    joined.insert(id.clone());
                    report(&id, seq, got);
                }
            }
            other => report(
                conversation,
                0,
                Got::Failed(format!("event {other:?}: {text}")),
            ),
        }
    }
    let _ = ws.close(None).await;
}

/// Waits until each of `devices` has reported on `seq` of `conversation` (anything
/// else reported meanwhile is from an earlier step and ignored); when each did.
async fn wait_for(
    reports: &mut mpsc::UnboundedReceiver<Report>,
    conversation: &str,
    seq: i64,
    devices: &[&str],
    expect: impl Fn(&Got) -> bool,
) -> Vec<(String, Instant)> {
    let mut waiting: BTreeSet<&str> = devices.iter().copied().collect();
    let mut out = Vec::with_capacity(devices.len());
    let deadline = tokio::time::Instant::now() + WAIT;
    while !waiting.is_empty() {
        let r = tokio::time::timeout_at(deadline, reports.recv())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "timed out waiting for {} devices on seq {seq}",
                    waiting.len()
                )
            })
            .expect("the devices report");
        if let Got::Failed(e) = &r.got {
            panic!("device {}: {e}", r.device);
        }
        if r.conversation != conversation || r.seq != seq || !waiting.contains(r.device.as_str()) {
            continue;
        }
        assert!(
            expect(&r.got),
            "device {} on seq {seq}: {:?}",
            r.device,
            r.got
        );
        waiting.remove(r.device.as_str());
        out.push((r.device, r.at));
    }
    out
}

fn latest(times: &[(String, Instant)]) -> Instant {
    times.iter().map(|(_, t)| *t).max().unwrap()
}

fn time_of(times: &[(String, Instant)], device: &str) -> Instant {
    times.iter().find(|(d, _)| d == device).unwrap().1
}

// ---------------------------------------------------------------------------------
// Conversations.

struct Conversation {
    id: String,
    group: Vec<u8>,
}

/// `creator` starts a conversation about `patient_id` and adds the devices claimed for
/// `people`; waits until every added device has joined and every earlier member merged.
async fn start_conversation(
    s: &Api,
    creator: &Member,
    patient_id: &str,
    people: &[&str],
    reports: &mut mpsc::UnboundedReceiver<Report>,
) -> Conversation {
    let group = creator.device.lock().unwrap().create_group().unwrap();
    let (status, body) = s
        .post(
            &creator.cookie,
            "/api/messaging/conversations",
            &json!({"device_id": creator.device_id, "patient_id": patient_id, "group_id": hex::encode(&group)}),
        )
        .await;
    assert_eq!(status, 201, "start: {body}");
    let c = Conversation {
        id: body["id"].as_str().unwrap().to_owned(),
        group,
    };
    let (claimed, _) = claim(s, creator, &c, people).await;
    let added: Vec<&str> = claimed.iter().map(|(d, _)| d.as_str()).collect();
    let packages: Vec<Vec<u8>> = claimed.iter().map(|(_, k)| k.clone()).collect();
    let commit = creator
        .device
        .lock()
        .unwrap()
        .add_members(&c.group, &packages)
        .unwrap();
    let (seq, _) = submit(s, creator, &c, &commit, &added, &[]).await;
    creator
        .device
        .lock()
        .unwrap()
        .merge_pending(&c.group)
        .unwrap();
    // A Welcome's sequence number is the first its device reads: the commit's, plus one.
    wait_for(reports, &c.id, seq + 1, &added, |g| {
        matches!(g, Got::Joined)
    })
    .await;
    c
}

/// Claims key packages for the devices of `people` not yet in the group: `(device
/// id, key package)` each, and how long the request took.
async fn claim(
    s: &Api,
    by: &Member,
    c: &Conversation,
    people: &[&str],
) -> (Vec<(String, Vec<u8>)>, Duration) {
    let t = Instant::now();
    let (status, claimed) = s
        .post(
            &by.cookie,
            &format!("/api/messaging/conversations/{}/claim", c.id),
            &json!({"device_id": by.device_id, "user_ids": people}),
        )
        .await;
    let took = t.elapsed();
    assert_eq!(status, 200, "claim: {claimed}");
    let out = claimed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["device_id"].as_str().unwrap().to_owned(),
                unb64(c["key_package"].as_str().unwrap()),
            )
        })
        .collect();
    (out, took)
}

/// Posts a commit (the committer merges only once this accepted it): its sequence
/// number and how long the request took.
async fn submit(
    s: &Api,
    by: &Member,
    c: &Conversation,
    commit: &mls_client::Commit,
    added: &[&str],
    removed: &[&str],
) -> (i64, Duration) {
    let t = Instant::now();
    let (status, body) = s
        .post(
            &by.cookie,
            &format!("/api/messaging/conversations/{}/commits", c.id),
            &json!({
                "device_id": by.device_id,
                "commit": b64(&commit.commit),
                "welcome": commit.welcome.as_deref().map(b64),
                "added": added,
                "removed": removed,
            }),
        )
        .await;
    let took = t.elapsed();
    assert_eq!(status, 200, "commit: {body}");
    (body["seq"].as_i64().unwrap(), took)
}

// ---------------------------------------------------------------------------------
// The measurements.

/// One message each time from `sender`: from just before the encryption until `first`
/// has decrypted it, and until every one of `receivers` has.
async fn send_to_receive(
    s: &Api,
    sender: &Member,
    c: &Conversation,
    first: &str,
    receivers: &[&str],
    count: usize,
    reports: &mut mpsc::UnboundedReceiver<Report>,
) -> (Vec<Duration>, Vec<Duration>) {
    let mut to_first = Vec::with_capacity(count);
    let mut to_all = Vec::with_capacity(count);
    for n in 0..count {
        let text = format!("Your results are back ({n}); nothing to worry about.");
        let t0 = Instant::now();
        let message = sender
            .device
            .lock()
            .unwrap()
            .encrypt(&c.group, &Payload::text(text.clone()))
            .unwrap();
        let (status, body) = s
            .post(
                &sender.cookie,
                &format!("/api/messaging/conversations/{}/messages", c.id),
                &json!({"device_id": sender.device_id, "message": b64(&message)}),
            )
            .await;
        assert_eq!(status, 200, "send: {body}");
        let seq = body["seq"].as_i64().unwrap();
        let times = wait_for(
            reports,
            &c.id,
            seq,
            receivers,
            |g| matches!(g, Got::Message(t) if *t == text),
        )
        .await;
        to_first.push(time_of(&times, first) - t0);
        to_all.push(latest(&times) - t0);
    }
    (to_first, to_all)
}

#[derive(Default)]
struct Change {
    /// The committer's MLS work: making the commit and merging it.
    client: Vec<Duration>,
    /// Claim (for an add) and commit requests.
    server: Vec<Duration>,
    /// Until every member has processed it (and an added device joined).
    total: Vec<Duration>,
}

impl Change {
    fn push(&mut self, client: Duration, server: Duration, total: Duration) {
        self.client.push(client);
        self.server.push(server);
        self.total.push(total);
    }
}

/// One round: `committer` adds a new device of the patient to the group, then removes
/// it; every other member processes both.
#[allow(clippy::too_many_arguments)]
async fn add_and_remove(
    s: &Arc<Api>,
    fixtures: &Fixtures,
    committer: &Member,
    others: &[&str],
    c: &Conversation,
    n: usize,
    reports_tx: &mpsc::UnboundedSender<Report>,
    reports: &mut mpsc::UnboundedReceiver<Report>,
    add: &mut Change,
    remove: &mut Change,
) {
    let cookie = fixtures.fresh_session(PATIENT_EMAIL).await;
    let mut new = register(
        s,
        &cookie,
        &committer.user_id,
        &format!("Tablet {n}"),
        "member",
        reports_tx,
    )
    .await;
    // Let the server subscribe the new socket before anything is published to it.
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Add.
    let t0 = Instant::now();
    let (claimed, claim_took) = claim(s, committer, c, &[&committer.user_id]).await;
    assert_eq!(claimed.len(), 1, "only the new device is claimed");
    assert_eq!(claimed[0].0, new.device_id);
    let t1 = Instant::now();
    let commit = committer
        .device
        .lock()
        .unwrap()
        .add_members(&c.group, &[claimed[0].1.clone()])
        .unwrap();
    let made = t1.elapsed();
    let (seq, commit_took) = submit(s, committer, c, &commit, &[&new.device_id], &[]).await;
    let t2 = Instant::now();
    committer
        .device
        .lock()
        .unwrap()
        .merge_pending(&c.group)
        .unwrap();
    let merged = t2.elapsed();
    let processed = wait_for(reports, &c.id, seq, others, |g| matches!(g, Got::Commit)).await;
    let joined = wait_for(reports, &c.id, seq + 1, &[&new.device_id], |g| {
        matches!(g, Got::Joined)
    })
    .await;
    let done = latest(&processed).max(latest(&joined));
    add.push(made + merged, claim_took + commit_took, done - t0);

    // Remove.
    let mut everyone: Vec<&str> = others.to_vec();
    everyone.push(&new.device_id);
    let t0 = Instant::now();
    let commit = committer
        .device
        .lock()
        .unwrap()
        .remove_members(&c.group, &[new.identity()])
        .unwrap();
    let made = t0.elapsed();
    let (seq, commit_took) = submit(s, committer, c, &commit, &[], &[&new.device_id]).await;
    let t2 = Instant::now();
    committer
        .device
        .lock()
        .unwrap()
        .merge_pending(&c.group)
        .unwrap();
    let merged = t2.elapsed();
    let processed = wait_for(reports, &c.id, seq, &everyone, |g| {
        matches!(g, Got::Commit | Got::RemovedSelf)
    })
    .await;
    remove.push(made + merged, commit_took, latest(&processed) - t0);

    // The device goes from the account too, so the next claim does not offer it.
    new.stop().await;
    let (status, body) = s
        .post(
            &new.cookie,
            &format!("/api/messaging/devices/{}/remove", new.device_id),
            &json!({}),
        )
        .await;
    assert_eq!(status, 204, "remove the device: {body}");
}

// ---------------------------------------------------------------------------------
// Reporting.

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(v: &[Duration], q: f64) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v[((v.len() as f64 - 1.0) * q).round() as usize]
}

fn median(v: &[Duration]) -> Duration {
    percentile(v, 0.5)
}

#[tokio::main]
async fn main() {
    let quick = std::env::var_os("TW_BENCH_QUICK").is_some();
    let plan = if quick {
        Plan {
            messages: 40,
            messages_in_group: 20,
            rounds: 3,
            warm_up: 5,
        }
    } else {
        Plan {
            messages: 200,
            messages_in_group: 100,
            rounds: 10,
            warm_up: 20,
        }
    };
    let started = Instant::now();

    let dir = tempfile::tempdir().unwrap();
    let mut config = server::Config {
        data_dir: dir.path().to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        metrics_listen: None,
        ..server::Config::default()
    };
    config.log_level = server::LogLevel::Error;
    // Every device here shares one loopback address at a rate no person reaches: the
    // sentinel watches (its cost is in the figures) but would otherwise throttle the
    // harness itself. Its defence is measured by the sentinel benchmark.
    config.sentinel.mode = server::SentinelMode::Watch;
    config.training.required_before_records = false;
    let db_url = config.effective_database_url().expose().to_owned();
    let running = server::start(config, Arc::new(SystemClock)).await.unwrap();
    tw_bench::complete_setup(&running, &tw_bench::http_client()).await;
    let s = Arc::new(Api::new(
        &format!("http://{}", running.addr),
        &running.origin,
    ));

    // A clinician and a patient as if invited and enrolled, the clinician on the
    // patient's care team.
    let fixtures = Fixtures {
        db: store::Db::connect(&db_url, &store::PoolSettings::default())
            .await
            .unwrap(),
        keyring: store::keyring::Keyring::load_or_create(&dir.path().join("master.key")).unwrap(),
    };
    let clinician_id = fixtures
        .user("bench-clinician", CLINICIAN_EMAIL, "Dr Bench", "clinician")
        .await;
    let patient_id = fixtures
        .user("bench-patient", PATIENT_EMAIL, "Aroha Bench", "patient")
        .await;
    fixtures
        .db
        .add_to_care_team(&patient_id, &clinician_id, SystemClock.now_ms())
        .await
        .unwrap();
    let admin_id = fixtures.user_id(ADMIN_EMAIL).await;

    let (reports_tx, mut reports) = mpsc::unbounded_channel();
    let clinician_cookie = fixtures.fresh_session(CLINICIAN_EMAIL).await;
    let clinician = register(
        &s,
        &clinician_cookie,
        &clinician_id,
        "Clinic desktop",
        "member",
        &reports_tx,
    )
    .await;
    let admin_cookie = fixtures.fresh_session(ADMIN_EMAIL).await;
    let archive = register(
        &s,
        &admin_cookie,
        &admin_id,
        "Practice archive",
        "archive",
        &reports_tx,
    )
    .await;
    let patient_cookie = fixtures.fresh_session(PATIENT_EMAIL).await;
    let phone = register(
        &s,
        &patient_cookie,
        &patient_id,
        "Phone",
        "member",
        &reports_tx,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    // 1. Send to receive, in a conversation of three.
    let small = start_conversation(
        &s,
        &clinician,
        &patient_id,
        &[&patient_id, "archive"],
        &mut reports,
    )
    .await;
    let receivers = [phone.device_id.as_str(), archive.device_id.as_str()];
    send_to_receive(
        &s,
        &clinician,
        &small,
        &phone.device_id,
        &receivers,
        plan.warm_up,
        &mut reports,
    )
    .await;
    let (latency, latency_all) = send_to_receive(
        &s,
        &clinician,
        &small,
        &phone.device_id,
        &receivers,
        plan.messages,
        &mut reports,
    )
    .await;
    eprintln!(
        "send to receive: {} messages done ({:.0} s)",
        plan.messages,
        started.elapsed().as_secs_f64()
    );

    // 2. The group of 20: the phone starts it with the patient's 17 other devices, the
    // clinician's and the archive.
    let mut tablets = Vec::new();
    for n in 0..GROUP - 3 {
        let cookie = fixtures.fresh_session(PATIENT_EMAIL).await;
        tablets.push(
            register(
                &s,
                &cookie,
                &patient_id,
                &format!("Device {n}"),
                "member",
                &reports_tx,
            )
            .await,
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let big = start_conversation(
        &s,
        &phone,
        &patient_id,
        &[&patient_id, &clinician_id, "archive"],
        &mut reports,
    )
    .await;
    let mut others: Vec<&str> = vec![&clinician.device_id, &archive.device_id];
    others.extend(tablets.iter().map(|t| t.device_id.as_str()));
    assert_eq!(others.len() + 1, GROUP);
    assert_eq!(
        phone
            .device
            .lock()
            .unwrap()
            .members(&big.group)
            .unwrap()
            .len(),
        GROUP
    );
    eprintln!(
        "group of {GROUP} built ({:.0} s)",
        started.elapsed().as_secs_f64()
    );

    let mut in_group: Vec<&str> = others.clone();
    in_group.retain(|d| *d != clinician.device_id);
    in_group.push(&phone.device_id);
    let (group_latency, group_latency_all) = send_to_receive(
        &s,
        &clinician,
        &big,
        &phone.device_id,
        &in_group,
        plan.messages_in_group,
        &mut reports,
    )
    .await;

    let (mut add, mut remove) = (Change::default(), Change::default());
    // One round not counted: the first of everything (connections, code paths).
    let (mut skip_add, mut skip_remove) = (Change::default(), Change::default());
    add_and_remove(
        &s,
        &fixtures,
        &phone,
        &others,
        &big,
        0,
        &reports_tx,
        &mut reports,
        &mut skip_add,
        &mut skip_remove,
    )
    .await;
    for n in 1..=plan.rounds {
        add_and_remove(
            &s,
            &fixtures,
            &phone,
            &others,
            &big,
            n,
            &reports_tx,
            &mut reports,
            &mut add,
            &mut remove,
        )
        .await;
        eprintln!(
            "add/remove round {n} of {} done ({:.0} s)",
            plan.rounds,
            started.elapsed().as_secs_f64()
        );
    }
    assert_eq!(
        phone
            .device
            .lock()
            .unwrap()
            .members(&big.group)
            .unwrap()
            .len(),
        GROUP
    );

    for mut m in [clinician, archive, phone].into_iter().chain(tablets) {
        m.stop().await;
    }
    fixtures.db.close().await;
    running.shutdown().await.unwrap();

    // 3. The report.
    let send = median(&latency);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Messaging (MLS) through the full stack: SQLite, HTTP and WebSocket on loopback ({} messages, {} add/remove rounds in a group of {GROUP} devices)",
        plan.messages, plan.rounds
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| send to receive | messages | median | p95 | median until all decrypted | p95 until all |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    let _ = writeln!(
        out,
        "| conversation of 3 (clinician → patient; archive) | {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms |",
        latency.len(),
        ms(median(&latency)),
        ms(percentile(&latency, 0.95)),
        ms(median(&latency_all)),
        ms(percentile(&latency_all, 0.95)),
    );
    let _ = writeln!(
        out,
        "| group of {GROUP} (clinician → patient's phone; all {} others) | {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms |",
        GROUP - 1,
        group_latency.len(),
        ms(median(&group_latency)),
        ms(percentile(&group_latency, 0.95)),
        ms(median(&group_latency_all)),
        ms(percentile(&group_latency_all, 0.95)),
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| membership change (median of {}) | committer client-side | server round trips | total until all processed | total ÷ one send-to-receive |",
        plan.rounds
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    for (name, c) in [
        (
            format!(
                "add one device to {GROUP} (claim + commit + Welcome; {} merge, 1 joins)",
                GROUP - 1
            ),
            &add,
        ),
        (
            format!(
                "remove one device from {} (commit; {} process)",
                GROUP + 1,
                GROUP
            ),
            &remove,
        ),
    ] {
        let total = median(&c.total);
        let _ = writeln!(
            out,
            "| {name} | {:.2} ms | {:.2} ms | {:.2} ms | **{:.1}×** |",
            ms(median(&c.client)),
            ms(median(&c.server)),
            ms(total),
            total.as_secs_f64() / send.as_secs_f64(),
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "One send-to-receive (conversation of 3, median): {:.2} ms. Whole run: {:.1} s.",
        ms(send),
        started.elapsed().as_secs_f64()
    );
    print!("{out}");
}
