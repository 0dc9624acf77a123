//! Waiting-room WebSockets at scale.
//!
//! Starts a real Telewarden in a child process (so that its memory is measured alone,
//! without the clients'), with a practice of clinicians, each with ten patients booked
//! for the next hour. Then, side by side in one run:
//! - a small load: one clinician's queue page and their ten waiting patients;
//! - the full load: every patient waiting (5,000 by default) and every clinician's
//!   queue page open, each patient pinging every 25 seconds as browsers do.
//!
//! At each load it measures the latency of a clinician's message to a waiting patient
//! (queue socket → server → the patient's socket), and the server's resident memory;
//! memory per connection is the growth from the small load to the full one, divided by
//! the connections added.
//!
//! `cargo run --release -p tw-bench --bin waiting-room` (5,000 patients);
//! `TW_BENCH_QUICK=1` for 500 (CI); `TW_BENCH_CLIENTS=N` for another count. Each side
//! needs a file descriptor per connection (`ulimit -n`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clock::{Clock, SystemClock};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// Patients per clinician: a busy hour.
const PER_CLINICIAN: usize = 10;
/// Messages timed at each load (one every 60 ms: 12 seconds).
const SAMPLES: usize = 200;
/// Browsers ping a waiting room this often.
const PING_EVERY: Duration = Duration::from_secs(25);

fn main() {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some("serve") {
        let patients = args.next().and_then(|n| n.parse().ok()).unwrap();
        serve(patients);
    } else {
        measure();
    }
}

// ---------------------------------------------------------------------------------
// The server side (child process).

/// Runs Telewarden with the fixtures, prints them as one JSON line, and stops when
/// stdin closes.
#[tokio::main]
async fn serve(patients: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = server::Config {
        data_dir: dir.path().to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        metrics_listen: None,
        ..server::Config::default()
    };
    config.log_level = server::LogLevel::Error;
    // Every client here shares one loopback address at a rate no person reaches: the
    // sentinel watches (its cost is in the figures) but would otherwise throttle the
    // harness itself. Its defence is measured by the sentinel benchmark.
    config.sentinel.mode = server::SentinelMode::Watch;
    config.limits.max_connections = patients * 2 + 256;
    let running = server::start(config, Arc::new(SystemClock)).await.unwrap();
    tw_bench::complete_setup(&running, &tw_bench::http_client()).await;

    let db_url = format!("sqlite://{}", dir.path().join("telewarden.db").display());
    let db = store::Db::connect(&db_url, &store::PoolSettings::default())
        .await
        .unwrap();
    // The server's master key, to seal the fixtures' addresses and names as it would.
    let keyring = store::keyring::Keyring::load_or_create(&dir.path().join("master.key")).unwrap();
    let fixtures = fixtures(&db, &keyring, patients).await;
    db.close().await;

    let line = json!({
        "addr": running.addr.to_string(),
        "origin": running.origin,
        "clinicians": fixtures.clinicians,
        "patients": fixtures.patients,
    });
    println!("{line}");
    std::io::stdout().flush().unwrap();
    // Serve until the parent closes our stdin.
    tokio::task::spawn_blocking(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
    })
    .await
    .unwrap();
    running.shutdown().await.unwrap();
}

struct Fixtures {
    /// Session cookies of the clinicians.
    clinicians: Vec<String>,
    /// `{appointment, cookie, clinician}` per patient.
    patients: Vec<Value>,
}

/// Clinicians and patients (as if enrolled), signed in, each patient booked into their
/// clinician's next hour. Written straight to the database: booking is not what this
/// measures, and the consult tests cover it.
async fn fixtures(db: &store::Db, keyring: &store::keyring::Keyring, patients: usize) -> Fixtures {
    let now = SystemClock.now_ms();
    let clinician_count = patients.div_ceil(PER_CLINICIAN);
    let account = |id: String, email: String, role: &str| {
        (
            store::accounts::UserRow {
                id: id.clone(),
                email,
                display_name: format!("Bench {id}"),
                role: role.into(),
                password_hash: None,
                created_ms: now,
                disabled_ms: None,
            },
            store::invitations::InvitationRow {
                id: format!("inv-{id}"),
                token_hash: format!("bench-{id}"),
                kind: "enrol".into(),
                user_id: id,
                invited_by: None,
                created_ms: now,
                expires_ms: now + 86_400_000,
                used_ms: Some(now),
                revoked_ms: None,
            },
        )
    };
    let mut clinicians = Vec::new();
    for c in 0..clinician_count {
        let email = format!("clinician{c}@bench.example");
        let (user, inv) = account(format!("c{c}"), email.clone(), "clinician");
        db.invite_user(keyring, &user, &inv).await.unwrap();
        clinicians.push(store::testing::session_cookie(db, keyring, &email, now, now).await);
    }
    // Ten 5-minute slots per clinician, back to back from five minutes from now (all
    // within the hour in which a call can be joined).
    let slots: Vec<store::consults::SlotRow> = (0..patients)
        .map(|p| store::consults::SlotRow {
            id: format!("slot{p}"),
            clinician_id: format!("c{}", p / PER_CLINICIAN),
            starts_ms: now + 300_000 + (p % PER_CLINICIAN) as i64 * 300_000,
            ends_ms: now + 600_000 + (p % PER_CLINICIAN) as i64 * 300_000,
            appointment_id: None,
            created_ms: now,
        })
        .collect();
    assert_eq!(
        db.insert_slots(&slots).await.unwrap(),
        slots.len() as u64,
        "every fixture slot is published (none overlap)"
    );
    let mut out = Vec::new();
    for (p, slot) in slots.iter().enumerate() {
        let email = format!("patient{p}@bench.example");
        let (user, inv) = account(format!("p{p}"), email.clone(), "patient");
        db.invite_user(keyring, &user, &inv).await.unwrap();
        let appointment = store::consults::AppointmentRow {
            id: format!("ap{p}"),
            clinician_id: slot.clinician_id.clone(),
            patient_id: Some(user.id.clone()),
            slot_id: Some(slot.id.clone()),
            starts_ms: slot.starts_ms,
            ends_ms: slot.ends_ms,
            status: "booked".into(),
            booked_by: user.id.clone(),
            created_ms: now,
            cancelled_ms: None,
            reminded_ms: None,
            started_ms: None,
            ended_ms: None,
            verified_ms: None,
        };
        assert!(db.book(&appointment, now).await.unwrap());
        out.push(json!({
            "appointment": appointment.id,
            "cookie": store::testing::session_cookie(db, keyring, &email, now, now).await,
            "clinician": p / PER_CLINICIAN,
        }));
    }
    Fixtures {
        clinicians,
        patients: out,
    }
}

// ---------------------------------------------------------------------------------
// The measuring side (parent process).

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Target {
    addr: String,
    origin: String,
}

async fn connect(t: &Target, path: &str, cookie: &str) -> Ws {
    let mut req = format!("ws://{}{path}", t.addr)
        .into_client_request()
        .unwrap();
    let headers = req.headers_mut();
    headers.insert("origin", HeaderValue::from_str(&t.origin).unwrap());
    headers.insert("cookie", HeaderValue::from_str(cookie).unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .unwrap_or_else(|e| panic!("connect {path}: {e}"));
    ws
}

/// A waiting patient: waits to be told they are waiting, then pings as a browser does
/// and reports each clinician message (its sequence number) as it arrives.
async fn patient(
    t: Arc<Target>,
    appointment: String,
    cookie: String,
    arrived: mpsc::UnboundedSender<(u64, Instant)>,
    ready: tokio::sync::oneshot::Sender<()>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut ws = connect(&t, &format!("/ws/appointments/{appointment}"), &cookie).await;
    loop {
        let Some(Ok(Message::Text(text))) = ws.next().await else {
            panic!("the waiting room closed before the patient was waiting");
        };
        let m: Value = serde_json::from_str(text.as_str()).unwrap();
        if m["t"] == "state" && m["state"] == "waiting" {
            break;
        }
    }
    let _ = ready.send(());
    // Spread the pings over the interval, as real browsers would be.
    let offset = Duration::from_millis(rand_below(PING_EVERY.as_millis() as u64));
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + offset, PING_EVERY);
    loop {
        tokio::select! {
            _ = ping.tick() => {
                ws.send(Message::Text(r#"{"t":"ping"}"#.into())).await.unwrap();
            }
            next = ws.next() => match next {
                Some(Ok(Message::Text(text))) => {
                    let m: Value = serde_json::from_str(text.as_str()).unwrap();
                    if m["t"] == "message" {
                        let seq = m["text"].as_str().and_then(|s| s.strip_prefix("seq ")).and_then(|n| n.parse().ok()).unwrap();
                        let _ = arrived.send((seq, Instant::now()));
                    }
                }
                Some(Ok(_)) => {}
                _ => panic!("a waiting patient's socket closed"),
            },
            _ = stop.changed() => break,
        }
    }
    let _ = ws.close(None).await;
}

fn rand_below(n: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(n);
    h.finish() % n.max(1)
}

/// Resident memory of `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

struct Latency {
    p50: Duration,
    p99: Duration,
    max: Duration,
}

/// Sends numbered messages from clinicians' queue sockets to their waiting patients,
/// one at a time, and times each until the patient's socket has it.
async fn time_messages(
    queues: &mut [Ws],
    patients: &[Value],
    arrived: &mut mpsc::UnboundedReceiver<(u64, Instant)>,
    seq: &mut u64,
) -> Latency {
    let mut times = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES {
        // Spread over every clinician whose queue is open, and their patients.
        let c = i % queues.len();
        let p = c * PER_CLINICIAN + (i / queues.len()) % PER_CLINICIAN;
        let appointment = patients[p.min(patients.len() - 1)]["appointment"]
            .as_str()
            .unwrap();
        *seq += 1;
        let message =
            json!({"t": "message", "appointment": appointment, "text": format!("seq {seq}")});
        let sent = Instant::now();
        queues[c]
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
        loop {
            let Ok(Some((got, at))) =
                tokio::time::timeout(Duration::from_secs(10), arrived.recv()).await
            else {
                let said = tokio::time::timeout(Duration::from_millis(100), queues[c].next()).await;
                panic!("message {seq} did not arrive within 10 s; the queue socket said {said:?}");
            };
            if got == *seq {
                times.push(at - sent);
                break;
            }
        }
        // Within a clinician socket's rate limit (20 messages a second).
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    times.sort();
    let pick = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize];
    Latency {
        p50: pick(0.5),
        p99: pick(0.99),
        max: times[times.len() - 1],
    }
}

#[tokio::main]
async fn measure() {
    let quick = std::env::var_os("TW_BENCH_QUICK").is_some();
    let count: usize = std::env::var("TW_BENCH_CLIENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if quick { 500 } else { 5000 });
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["serve", &count.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let setup: Value = serde_json::from_str(&line).expect("the server's fixtures");
    let target = Arc::new(Target {
        addr: setup["addr"].as_str().unwrap().into(),
        origin: setup["origin"].as_str().unwrap().into(),
    });
    let clinicians: Vec<String> = setup["clinicians"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    let patients = setup["patients"].as_array().unwrap().clone();
    let (arrived_tx, mut arrived) = mpsc::unbounded_channel();
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let mut seq = 0;

    // Warm up: allocations that happen once (pools, caches) are not per connection.
    {
        let mut ws = connect(&target, "/ws/queue", &clinicians[0]).await;
        let _ = ws.next().await;
        let _ = ws.close(None).await;
    }

    let open = |range: std::ops::Range<usize>| {
        let gate = Arc::new(Semaphore::new(64));
        let mut ready = Vec::new();
        let mut tasks = Vec::new();
        for p in &patients[range] {
            let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
            ready.push(ready_rx);
            let (t, arrived, stop, gate) = (
                target.clone(),
                arrived_tx.clone(),
                stop.clone(),
                gate.clone(),
            );
            let appointment = p["appointment"].as_str().unwrap().to_owned();
            let cookie = p["cookie"].as_str().unwrap().to_owned();
            tasks.push(tokio::spawn(async move {
                let permit = gate.acquire_owned().await.unwrap();
                let (inner_ready, inner_rx) = tokio::sync::oneshot::channel();
                let run = tokio::spawn(patient(t, appointment, cookie, arrived, inner_ready, stop));
                let _ = inner_rx.await;
                drop(permit);
                let _ = ready_tx.send(());
                run.await.unwrap();
            }));
        }
        (ready, tasks)
    };

    // The small load: one clinician and their patients.
    let small = PER_CLINICIAN.min(patients.len());
    let mut queues = vec![connect(&target, "/ws/queue", &clinicians[0]).await];
    let (ready, mut tasks) = open(0..small);
    for r in ready {
        r.await.expect("a patient is waiting");
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let small_rss = rss_kib(pid);
    let small_latency = time_messages(&mut queues, &patients, &mut arrived, &mut seq).await;

    // The full load: everyone.
    let started = Instant::now();
    for cookie in &clinicians[1..] {
        queues.push(connect(&target, "/ws/queue", cookie).await);
    }
    let (ready, more) = open(small..patients.len());
    tasks.extend(more);
    for r in ready {
        r.await.expect("a patient is waiting");
    }
    let opened_in = started.elapsed();
    // Queue updates for every clinician page: read them so the server's sends are done.
    for q in &mut queues {
        while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(20), q.next()).await {}
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let full_rss = rss_kib(pid);
    let full_latency = time_messages(&mut queues, &patients, &mut arrived, &mut seq).await;
    let connections = patients.len() + clinicians.len();
    let added = connections - (small + 1);
    let per_connection = (full_rss.saturating_sub(small_rss)) as f64 / added as f64;

    let _ = stop_tx.send(true);
    for t in tasks {
        t.await.unwrap();
    }
    for mut q in queues {
        let _ = q.close(None).await;
    }
    drop(child.stdin.take());
    let status = child.wait().unwrap();
    assert!(status.success(), "the server stopped cleanly");

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "# Waiting room: {} patients waiting and {} clinicians' queue pages open ({} WebSockets)",
        patients.len(),
        clinicians.len(),
        connections
    );
    println!();
    println!(
        "| measure | {} sockets | {connections} sockets | ratio |",
        small + 1
    );
    println!("|---|---|---|---|");
    for (name, a, b) in [
        (
            "clinician → patient message p50",
            small_latency.p50,
            full_latency.p50,
        ),
        (
            "clinician → patient message p99",
            small_latency.p99,
            full_latency.p99,
        ),
        (
            "clinician → patient message max",
            small_latency.max,
            full_latency.max,
        ),
    ] {
        println!(
            "| {name} | {:.2} ms | {:.2} ms | {:.2}x |",
            ms(a),
            ms(b),
            ms(b) / ms(a)
        );
    }
    println!(
        "| server resident memory | {:.1} MiB | {:.1} MiB | {:.2}x |",
        small_rss as f64 / 1024.0,
        full_rss as f64 / 1024.0,
        full_rss as f64 / small_rss as f64
    );
    println!("| server memory per added connection | — | {per_connection:.1} KiB | |");
    println!(
        "| time to open every socket (64 at a time) | — | {:.1} s | |",
        opened_in.as_secs_f64()
    );
}
