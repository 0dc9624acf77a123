//! `tw-archive` against a real Telewarden (in this process, SQLite, loopback): the
//! archive registers, a patient and a clinician (native `mls-client` devices) exchange
//! messages and a file, the archive process is killed, more is sent, and the restarted
//! archive — same directory, same passphrase — reads everything. A wrong passphrase is
//! refused and changes nothing; `export` writes the records and the file with its hash
//! checked; no file of the archive directory holds any plaintext. Key transparency:
//! real proofs pass, altered ones, another device's, a rolled-back tree head and a
//! wrong ledger key do not.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use archive::kt::{Pins, parse_ledger_key};
use clock::{Clock, SystemClock};
use mls_client::{AttachmentRef, Device, Payload, attachment};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tw_bench::messaging::{Api, b64, unb64};

const PASSPHRASE: &str = "correct horse battery staple";
const CLINICIAN_EMAIL: &str = "clinician@archive.example";
const PATIENT_EMAIL: &str = "patient@archive.example";
const ADMIN_EMAIL: &str = "admin@bench.example";
/// Appears in every message text and in the file: must never be found in the vault or
/// in the archive's output.
const CANARY: &str = "CANARY-7f3a9c-BLOOD-PRESSURE";

struct Practice {
    running: server::Running,
    db: store::Db,
    keyring: store::keyring::Keyring,
    api: Api,
    url: String,
    _data: tempfile::TempDir,
}

impl Practice {
    /// A server on SQLite (`None`) or on the PostgreSQL database at the given URL.
    async fn start(database_url: Option<String>) -> Self {
        let data = tempfile::tempdir().unwrap();
        let mut config = server::Config {
            data_dir: data.path().to_path_buf(),
            listen: "127.0.0.1:0".parse().unwrap(),
            metrics_listen: None,
            database_url: database_url.map(server::Secret::new),
            ..server::Config::default()
        };
        config.log_level = server::LogLevel::Error;
        config.sentinel.mode = server::SentinelMode::Watch;
        config.training.required_before_records = false;
        let db_url = config.effective_database_url().expose().to_owned();
        let running = server::start(config, Arc::new(SystemClock)).await.unwrap();
        tw_bench::complete_setup(&running, &tw_bench::http_client()).await;
        let url = format!("http://{}", running.addr);
        let api = Api::new(&url, &running.origin);
        let db = store::Db::connect(&db_url, &store::PoolSettings::default())
            .await
            .unwrap();
        let keyring =
            store::keyring::Keyring::load_or_create(&data.path().join("master.key")).unwrap();
        Self {
            running,
            db,
            keyring,
            api,
            url,
            _data: data,
        }
    }

    async fn user(&self, id: &str, email: &str, name: &str, role: &str) -> String {
        tw_bench::enrol(&self.db, &self.keyring, id, email, name, role, None).await
    }

    async fn session(&self, email: &str) -> String {
        let now = SystemClock.now_ms();
        store::testing::session_cookie(&self.db, &self.keyring, email, now, now).await
    }
}

/// A native member device.
struct Member {
    cookie: String,
    device_id: String,
    device: Device,
}

impl Member {
    async fn new(p: &Practice, email: &str, user_id: &str) -> Self {
        let cookie = p.session(email).await;
        let (device_id, device) = p
            .api
            .register(&cookie, user_id, "Native", "member", 4)
            .await;
        Self {
            cookie,
            device_id,
            device,
        }
    }

    async fn send(&mut self, p: &Practice, conversation: &str, group: &[u8], payload: &Payload) {
        let message = self.device.encrypt(group, payload).unwrap();
        let (status, body) = p
            .api
            .post(
                &self.cookie,
                &format!("/api/messaging/conversations/{conversation}/messages"),
                &json!({"device_id": self.device_id, "message": b64(&message)}),
            )
            .await;
        assert!((200..300).contains(&status), "send: {status} {body}");
    }

    /// Seals and uploads a file; the reference to put in a message.
    async fn upload(
        &self,
        p: &Practice,
        conversation: &str,
        name: &str,
        bytes: &[u8],
    ) -> AttachmentRef {
        let sealed = attachment::seal(bytes).unwrap();
        let res = p
            .api
            .http
            .post(format!(
                "{}/api/messaging/conversations/{conversation}/blobs?device={}",
                p.url, self.device_id
            ))
            .header("origin", &p.api.origin)
            .header("cookie", &self.cookie)
            .body(sealed.ciphertext.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
        let body: Value = res.json().await.unwrap();
        AttachmentRef {
            blob_id: body["blob_id"].as_str().unwrap().to_owned(),
            name: name.into(),
            media_type: "text/plain".into(),
            size: bytes.len() as u64,
            key: sealed.key,
            sha256: sealed.sha256,
        }
    }

    /// Reads and processes everything new (the patient's device keeps up by hand).
    async fn read(&mut self, p: &Practice, conversation: &str, from: &mut i64) {
        let (status, messages) = p
            .api
            .get(
                &self.cookie,
                &format!(
                    "/api/messaging/conversations/{conversation}/messages?device={}&from={from}",
                    self.device_id
                ),
            )
            .await;
        assert_eq!(status, 200);
        for m in messages.as_array().unwrap() {
            *from = m["seq"].as_i64().unwrap() + 1;
            if m["sender_device"] != self.device_id.as_str() {
                self.device
                    .process(&unb64(m["body"].as_str().unwrap()))
                    .unwrap();
            }
        }
    }
}

/// The `tw-archive` binary with the passphrase and cookie in its environment.
fn tw_archive(passphrase: &str, cookie: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tw-archive"));
    cmd.env("TW_ARCHIVE_PASSPHRASE", passphrase)
        .env("TW_ARCHIVE_COOKIE", cookie)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// A running `tw-archive run`: its status lines as they come, and all its output.
struct Running {
    child: Child,
    lines: mpsc::UnboundedReceiver<Value>,
    output: Arc<std::sync::Mutex<String>>,
    messages: u64,
}

impl Running {
    fn start(dir: &Path, cookie: &str) -> Self {
        let mut child = tw_archive(PASSPHRASE, cookie)
            .args(["run", "--dir"])
            .arg(dir)
            .args(["--listen-secs", "120"])
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::unbounded_channel();
        let output = Arc::new(std::sync::Mutex::new(String::new()));
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let out = output.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                out.lock().unwrap().push_str(&line);
                out.lock().unwrap().push('\n');
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        let out = output.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                out.lock().unwrap().push_str(&line);
                out.lock().unwrap().push('\n');
            }
        });
        Self {
            child,
            lines,
            output,
            messages: 0,
        }
    }

    /// Waits for the next status line that passes `test`.
    async fn wait_for(&mut self, what: &str, test: impl Fn(&Value) -> bool) -> Value {
        let output = self.output.clone();
        tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let Some(v) = self.lines.recv().await else {
                    panic!(
                        "the archive exited; its output:\n{}",
                        output.lock().unwrap()
                    );
                };
                if v["event"] == "archived" {
                    self.messages += v["messages"].as_u64().unwrap_or(0);
                }
                if test(&v) {
                    return v;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {what}; output:\n{}", self.output.lock().unwrap()))
    }

    /// Waits until this run has archived `n` messages.
    async fn wait_messages(&mut self, n: u64) {
        if self.messages >= n {
            return;
        }
        let want = n;
        let mut seen = self.messages;
        while seen < want {
            self.wait_for("archived messages", |v| v["event"] == "archived")
                .await;
            seen = self.messages;
        }
    }

    /// Kills it as a crash would (SIGKILL): whatever it saved must be enough.
    async fn kill(mut self) -> String {
        self.child.kill().await.unwrap();
        let _ = self.child.wait().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.output.lock().unwrap().clone()
    }
}

/// Every file under `dir`, by path, with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                out.insert(path, bytes);
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The clinician starts a conversation with the patient and the archive, checking each
/// claimed key package against the transparency log before adding it; the patient
/// joins. The conversation, its group and the patient's first sequence number.
async fn start_conversation(
    p: &Practice,
    clinician: &mut Member,
    patient: &mut Member,
    patient_id: &str,
    archive_device: &str,
) -> (String, Vec<u8>, i64) {
    let ledger_key = parse_ledger_key(&p.running.ledger_public_key).unwrap();
    let group = clinician.device.create_group().unwrap();
    let (status, body) = p
        .api
        .post(
            &clinician.cookie,
            "/api/messaging/conversations",
            &json!({"device_id": clinician.device_id, "patient_id": patient_id, "group_id": hex::encode(&group)}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let conversation = body["id"].as_str().unwrap().to_owned();
    let (status, claimed) = p
        .api
        .post(
            &clinician.cookie,
            &format!("/api/messaging/conversations/{conversation}/claim"),
            &json!({"device_id": clinician.device_id, "user_ids": [patient_id, "archive"]}),
        )
        .await;
    assert_eq!(status, 200, "{claimed}");
    let mut pins = Pins::default();
    let mut added = Vec::new();
    let mut packages = Vec::new();
    for c in claimed.as_array().unwrap() {
        let device_id = c["device_id"].as_str().unwrap();
        let package = unb64(c["key_package"].as_str().unwrap());
        let (status, proof) = p
            .api
            .get(
                &clinician.cookie,
                &format!("/api/messaging/devices/{device_id}/key-proof"),
            )
            .await;
        assert_eq!(status, 200);
        let proof: ledger::InclusionProof = serde_json::from_value(proof).unwrap();
        pins.check_key_package(&ledger_key, device_id, &package, &proof)
            .unwrap();
        added.push(device_id.to_owned());
        packages.push(package);
    }
    assert!(added.iter().any(|d| d == archive_device) && added.contains(&patient.device_id));
    let commit = clinician.device.add_members(&group, &packages).unwrap();
    let (status, body) = p
        .api
        .post(
            &clinician.cookie,
            &format!("/api/messaging/conversations/{conversation}/commits"),
            &json!({"device_id": clinician.device_id, "commit": b64(&commit.commit),
                    "welcome": commit.welcome.as_deref().map(b64), "added": added, "removed": []}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    clinician.device.merge_pending(&group).unwrap();
    let (_, welcomes) = p
        .api
        .get(
            &patient.cookie,
            &format!("/api/messaging/welcomes?device={}", patient.device_id),
        )
        .await;
    let w = &welcomes[0];
    patient
        .device
        .join(&unb64(w["body"].as_str().unwrap()))
        .unwrap();
    (conversation, group, w["seq"].as_i64().unwrap())
}

/// SQLite always; PostgreSQL too when `TW_TEST_POSTGRES_URL` is set.
async fn database_choices() -> Vec<Option<String>> {
    let mut v = vec![None];
    if let Ok(base) = std::env::var(store::testing::POSTGRES_ENV)
        && !base.is_empty()
    {
        v.push(Some(store::testing::fresh_postgres_database(&base).await));
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_archive_survives_a_crash_keeps_everything_sealed_and_exports_it() {
    for database in database_choices().await {
        survives_a_crash(database).await;
    }
}

async fn survives_a_crash(database: Option<String>) {
    let p = Practice::start(database).await;
    let clinician_id = p
        .user("arch-clinician", CLINICIAN_EMAIL, "Dr Archive", "clinician")
        .await;
    let patient_id = p
        .user("arch-patient", PATIENT_EMAIL, "Mere Archive", "patient")
        .await;
    p.db.add_to_care_team(&patient_id, &clinician_id, SystemClock.now_ms())
        .await
        .unwrap();
    let admin_cookie = p.session(ADMIN_EMAIL).await;
    let vault = tempfile::tempdir().unwrap();
    let dir = vault.path().join("archive");

    // Register, pinning the ledger key the server printed at start.
    let out = tw_archive(PASSPHRASE, &admin_cookie)
        .args(["register", "--dir"])
        .arg(&dir)
        .args([
            "--url",
            &p.url,
            "--ledger-key",
            &p.running.ledger_public_key,
        ])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "register: {out:?}");
    let registered: Value =
        serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(registered["event"], "registered");
    let archive_device = registered["device_id"].as_str().unwrap().to_owned();

    let mut archive = Running::start(&dir, &admin_cookie);
    archive.wait_for("start", |v| v["event"] == "started").await;

    let mut clinician = Member::new(&p, CLINICIAN_EMAIL, &clinician_id).await;
    let mut patient = Member::new(&p, PATIENT_EMAIL, &patient_id).await;

    let (conversation, group, mut patient_from) = start_conversation(
        &p,
        &mut clinician,
        &mut patient,
        &patient_id,
        &archive_device,
    )
    .await;
    archive
        .wait_for("joined", |v| {
            v["event"] == "joined" && v["conversation"] == conversation.as_str()
        })
        .await;

    // Three messages and a file while the archive runs.
    let file = format!("Referral letter.\n{CANARY} systolic 180\n").into_bytes();
    let text = |n: u32| format!("message {n} {CANARY}");
    clinician
        .send(&p, &conversation, &group, &Payload::text(text(1)))
        .await;
    patient.read(&p, &conversation, &mut patient_from).await;
    patient
        .send(&p, &conversation, &group, &Payload::text(text(2)))
        .await;
    clinician.read(&p, &conversation, &mut 0).await;
    let attachment = clinician
        .upload(&p, &conversation, "referral letter.txt", &file)
        .await;
    clinician
        .send(
            &p,
            &conversation,
            &group,
            &Payload {
                text: text(3),
                attachments: vec![attachment],
            },
        )
        .await;
    archive.wait_messages(3).await;
    let mut output = archive.kill().await;

    // While it is down: two more.
    patient.read(&p, &conversation, &mut patient_from).await;
    patient
        .send(&p, &conversation, &group, &Payload::text(text(4)))
        .await;
    clinician
        .send(&p, &conversation, &group, &Payload::text(text(5)))
        .await;

    // A wrong passphrase is refused and leaves every file as it was.
    let before = snapshot(&dir);
    let wrong = tw_archive("not the right passphrase", &admin_cookie)
        .args(["run", "--dir"])
        .arg(&dir)
        .output()
        .await
        .unwrap();
    assert_eq!(wrong.status.code(), Some(3), "{wrong:?}");
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong passphrase"));
    assert_eq!(snapshot(&dir), before, "a wrong passphrase changes nothing");

    // Restarted: it reads what was sent while it was down, then what comes live.
    let mut archive = Running::start(&dir, &admin_cookie);
    let started = archive.wait_for("start", |v| v["event"] == "started").await;
    assert_eq!(started["conversations"], 1);
    assert_eq!(started["device_id"], archive_device.as_str());
    archive.wait_messages(2).await;
    patient.read(&p, &conversation, &mut patient_from).await;
    patient
        .send(&p, &conversation, &group, &Payload::text(text(6)))
        .await;
    archive.wait_messages(3).await;
    output.push_str(&archive.kill().await);

    // Export: every message once, in order, with the file and its hash.
    let export_dir = vault.path().join("export");
    let exported = tw_archive(PASSPHRASE, "")
        .args(["export", "--dir"])
        .arg(&dir)
        .arg("--out")
        .arg(&export_dir)
        .output()
        .await
        .unwrap();
    assert!(exported.status.success(), "{exported:?}");
    output.push_str(&String::from_utf8_lossy(&exported.stdout));
    output.push_str(&String::from_utf8_lossy(&exported.stderr));
    let lines: Vec<Value> = std::fs::read_to_string(export_dir.join("records.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let messages: Vec<&Value> = lines.iter().filter(|l| l["kind"] == "message").collect();
    let texts: Vec<&str> = messages
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, (1..=6).map(text).collect::<Vec<_>>());
    let seqs: Vec<i64> = messages
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    for m in &messages {
        assert_eq!(m["conversation"], conversation.as_str());
        assert!(m["time_ms"].as_i64().unwrap() > 0);
        assert_eq!(m["sender_key_verified"], true, "{m}");
    }
    assert_eq!(messages[0]["sender_account"], clinician_id.as_str());
    assert_eq!(messages[0]["sender_device"], clinician.device_id.as_str());
    assert_eq!(messages[1]["sender_account"], patient_id.as_str());
    let files = messages[2]["attachments"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    let saved = std::fs::read(export_dir.join(files[0]["path"].as_str().unwrap())).unwrap();
    assert_eq!(saved, file);
    assert_eq!(
        files[0]["sha256"].as_str().unwrap(),
        hex::encode(attachment::sha256(&file))
    );
    assert_eq!(files[0]["name"], "referral letter.txt");

    // One conversation on its own; an existing export is not overwritten.
    let one = vault.path().join("one");
    let status = tw_archive(PASSPHRASE, "")
        .args(["export", "--conversation", &conversation, "--dir"])
        .arg(&dir)
        .arg("--out")
        .arg(&one)
        .output()
        .await
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    assert_eq!(
        std::fs::read_to_string(one.join("records.jsonl"))
            .unwrap()
            .lines()
            .count(),
        lines.len()
    );
    let again = tw_archive(PASSPHRASE, "")
        .args(["export", "--dir"])
        .arg(&dir)
        .arg("--out")
        .arg(&export_dir)
        .output()
        .await
        .unwrap();
    assert!(!again.status.success());

    // Nothing in the archive directory, nor in anything it printed, is plaintext.
    let files = snapshot(&dir);
    assert!(files.len() > 5, "state, records and the file: {files:?}");
    for (path, bytes) in &files {
        assert!(
            !contains(bytes, CANARY.as_bytes()),
            "{} holds plaintext",
            path.display()
        );
        assert!(
            !contains(bytes, b"systolic"),
            "{} holds the file",
            path.display()
        );
        assert!(
            !contains(bytes, b"message 1"),
            "{} holds a message",
            path.display()
        );
    }
    assert!(
        !output.contains(CANARY),
        "the archive printed plaintext:\n{output}"
    );
    assert!(!output.contains("message 1"));

    p.db.close().await;
    p.running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn altered_or_stale_key_proofs_are_refused() {
    let p = Practice::start(None).await;
    let patient_id = p
        .user("kt-patient", PATIENT_EMAIL, "Mere Proof", "patient")
        .await;
    let clinician_id = p
        .user("kt-clinician", CLINICIAN_EMAIL, "Dr Proof", "clinician")
        .await;
    let patient = Member::new(&p, PATIENT_EMAIL, &patient_id).await;
    let clinician = Member::new(&p, CLINICIAN_EMAIL, &clinician_id).await;
    let key = parse_ledger_key(&p.running.ledger_public_key).unwrap();
    let proof_of = |id: String| {
        let p = &p;
        let cookie = patient.cookie.clone();
        async move {
            let (status, proof) = p
                .api
                .get(&cookie, &format!("/api/messaging/devices/{id}/key-proof"))
                .await;
            assert_eq!(status, 200, "{proof}");
            serde_json::from_value::<ledger::InclusionProof>(proof).unwrap()
        }
    };
    let proof = proof_of(patient.device_id.clone()).await;
    let sig = patient.device.signature_key();
    let id = patient.device_id.as_str();

    // The genuine proof passes, and is remembered.
    let mut pins = Pins::default();
    pins.check(&key, id, &patient_id, &sig, &proof).unwrap();
    assert!(pins.is_verified(id, &sig));
    assert_eq!(pins.max_tree_size, proof.sth.head.size);

    let refused = |pins: &mut Pins, proof: &ledger::InclusionProof, account: &str, sig: &[u8]| {
        let before = pins.clone();
        let err = pins.check(&key, id, account, sig, proof).unwrap_err();
        assert!(matches!(err, archive::Error::KeyTransparency(_)), "{err}");
        assert_eq!(*pins, before, "a refused proof is not remembered");
        err.to_string()
    };
    // Another key written into the entry: the leaf no longer matches.
    let mut forged = proof.clone();
    forged.entry.details = forged
        .entry
        .details
        .replace(&hex::encode(&sig), &"ab".repeat(32));
    refused(&mut Pins::default(), &forged, &patient_id, &sig);
    // The genuine proof, but a device that uses another key than the logged one.
    let other_key = clinician.device.signature_key();
    let why = refused(&mut Pins::default(), &proof, &patient_id, &other_key);
    assert!(why.contains("logged key differs"), "{why}");
    // The genuine proof claimed for another account.
    refused(&mut Pins::default(), &proof, &clinician_id, &sig);
    // Another device's genuine proof offered for this one.
    let theirs = proof_of(clinician.device_id.clone()).await;
    let why = refused(&mut Pins::default(), &theirs, &patient_id, &sig);
    assert!(why.contains("another device"), "{why}");
    // A tree head smaller than one seen before: rolled back.
    let mut ahead = Pins {
        max_tree_size: proof.sth.head.size + 1,
        ..Pins::default()
    };
    let why = refused(&mut ahead, &proof, &patient_id, &sig);
    assert!(why.contains("rolled back"), "{why}");
    // Signed by another key than the pinned one.
    let stranger = ledger::SigningKey::from_bytes(&[7u8; 32]).verifying_key();
    let mut pins_other = Pins::default();
    assert!(
        pins_other
            .check(&stranger, id, &patient_id, &sig, &proof)
            .is_err()
    );
    // A claimed key package that is not the claimed device's.
    let mut device = patient.device;
    let package = device.key_packages(1).unwrap().remove(0);
    assert!(
        Pins::default()
            .check_key_package(&key, &clinician.device_id, &package, &theirs)
            .is_err()
    );
    Pins::default()
        .check_key_package(&key, id, &package, &proof)
        .unwrap();

    p.db.close().await;
    p.running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_archive_warns_and_marks_senders_whose_keys_are_not_proven() {
    let p = Practice::start(None).await;
    let clinician_id = p
        .user("warn-clinician", CLINICIAN_EMAIL, "Dr Warn", "clinician")
        .await;
    let patient_id = p
        .user("warn-patient", PATIENT_EMAIL, "Mere Warn", "patient")
        .await;
    p.db.add_to_care_team(&patient_id, &clinician_id, SystemClock.now_ms())
        .await
        .unwrap();
    let admin_cookie = p.session(ADMIN_EMAIL).await;
    let vault = tempfile::tempdir().unwrap();
    let dir = vault.path().join("archive");
    let out = tw_archive(PASSPHRASE, &admin_cookie)
        .args(["register", "--dir"])
        .arg(&dir)
        .args(["--url", &p.url])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "register: {out:?}");
    let registered: Value =
        serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    let archive_device = registered["device_id"].as_str().unwrap().to_owned();

    // As if the archive had once been shown a far larger log: every proof the server
    // gives now has a smaller tree head, as after a rollback.
    {
        let v = archive::vault::Vault::open(&dir, PASSPHRASE.as_bytes(), true).unwrap();
        let mut state: archive::record::State =
            serde_json::from_slice(&v.read("state.bin").unwrap().unwrap()).unwrap();
        state.kt.max_tree_size = 1_000_000;
        state.kt.verified.clear();
        v.write("state.bin", &serde_json::to_vec(&state).unwrap())
            .unwrap();
    }

    let mut archive = Running::start(&dir, &admin_cookie);
    archive.wait_for("start", |v| v["event"] == "started").await;
    let mut clinician = Member::new(&p, CLINICIAN_EMAIL, &clinician_id).await;
    let mut patient = Member::new(&p, PATIENT_EMAIL, &patient_id).await;
    let (conversation, group, _) = start_conversation(
        &p,
        &mut clinician,
        &mut patient,
        &patient_id,
        &archive_device,
    )
    .await;
    let warning = archive
        .wait_for("a key-transparency warning", |v| {
            v["event"] == "warning" && v["what"] == "key_transparency"
        })
        .await;
    let why = warning["details"]["error"].as_str().unwrap();
    assert!(why.contains("rolled back"), "{why}");
    clinician
        .send(&p, &conversation, &group, &Payload::text("unproven sender"))
        .await;
    archive.wait_messages(1).await;
    let output = archive.kill().await;
    assert!(output.contains("tw-archive: warning: key_transparency"));

    let export_dir = vault.path().join("export");
    let exported = tw_archive(PASSPHRASE, "")
        .args(["export", "--dir"])
        .arg(&dir)
        .arg("--out")
        .arg(&export_dir)
        .output()
        .await
        .unwrap();
    assert!(exported.status.success(), "{exported:?}");
    let line = std::fs::read_to_string(export_dir.join("records.jsonl")).unwrap();
    let record: Value = serde_json::from_str(line.lines().last().unwrap()).unwrap();
    assert_eq!(record["kind"], "message");
    assert_eq!(record["sender_key_verified"], false, "{record}");

    p.db.close().await;
    p.running.shutdown().await.unwrap();
}
