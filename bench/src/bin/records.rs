//! Patient records through the full stack against a bare handler of the same routes.
//!
//! What a record costs beyond HTTP and JSON: for each database (SQLite always;
//! PostgreSQL too when `TW_TEST_POSTGRES_URL` names a server, in a fresh database
//! dropped afterwards), this starts a real Telewarden in this process on loopback, sets
//! up a practice with one signed-in clinician, and beside it a bare axum router serving
//! the same routes (`POST /fhir/Patient`, `GET` and `PUT /fhir/Patient/{id}`) from a
//! map in memory: the same HTTP, the same JSON parsing and serialising, but no session
//! check, no policy, no encryption or decryption, no ledger entry and no database.
//!
//! Both are driven by the same clients (16 at a time by default), with the same bodies,
//! through the same kind of HTTP client, in rounds: in each round every operation runs
//! a fixed number of requests against one side and then the other (ten times as many
//! against the bare handler, which is that much quicker, so that its phases are long
//! enough to time), the side going first alternating from round to round, so that the
//! noise of a busy machine falls on both.
//! The operations are:
//! - create: `POST` a new Patient (for the full stack: a new data key for the new
//!   patient, the record sealed under it, indexed, put in the clinician's care team,
//!   and a ledger entry written before the change is committed);
//! - read: `GET` each Patient created in that round (session, care-team check, ledger
//!   entry, the record opened);
//! - update: `PUT` each of them once more (read the head, check, seal, ledger, write).
//!
//! Every response is checked (201 or 200, a Patient with the right id and version), so
//! no figure counts a failed request. It prints requests per second of each side, the
//! ratio full/bare (the target: the full stack reaches at least a quarter of the bare
//! handler's throughput), and p50/p99 latency, per database.
//!
//! Everything shares one process and the machine's cores: the figures are for
//! comparing the two sides of one run, not for capacity planning.
//!
//! `cargo run --release -p tw-bench --bin records` (10 rounds of 1,000 requests per
//! operation to the full stack); `TW_BENCH_QUICK=1` for 3 rounds of 300 (CI);
//! `TW_BENCH_CLIENTS=N` for another number of concurrent clients.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use clock::{Clock, SystemClock};
use serde_json::{Map, Value, json};

const IHI_SYSTEM: &str = "http://ns.electronichealth.net.au/id/hi/ihi/1.0";
/// A valid IHI (the check digit is right), as the records tests use.
const IHI: &str = "8003608166690503";
const CLINICIAN_EMAIL: &str = "clinician@bench.example";
const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Create,
    Read,
    Update,
}

const OPS: [Op; 3] = [Op::Create, Op::Read, Op::Update];

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Create => "create (POST)",
            Op::Read => "read (GET)",
            Op::Update => "update (PUT)",
        }
    }

    fn index(self) -> usize {
        match self {
            Op::Create => 0,
            Op::Read => 1,
            Op::Update => 2,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Plan {
    rounds: usize,
    per_round: usize,
    clients: usize,
    warm_up: usize,
}

/// The bare handler answers some fifty times faster: it is given this many times more
/// requests per phase, so that its phases too last long enough to time well (each
/// side's rate is its requests over its own time).
const BARE_FACTOR: usize = 10;

fn patient_body(id: Option<&str>, given: &str) -> String {
    let mut body = json!({
        "resourceType": "Patient",
        "name": [{ "family": "Tautahi-Brennan", "given": [given] }],
        "gender": "female",
        "birthDate": "1948-07-02",
        "identifier": [{ "system": IHI_SYSTEM, "value": IHI }],
    });
    if let Some(id) = id {
        body["id"] = id.into();
    }
    body.to_string()
}

// ---------------------------------------------------------------------------------
// The bare handler: the same routes, the same JSON, a map in memory.

/// A stored Patient: its version and elements (without id and meta).
type Record = (u64, Map<String, Value>);

#[derive(Default)]
struct Bare {
    records: Mutex<HashMap<String, Record>>,
    next_id: AtomicU64,
}

fn fhir_response(status: StatusCode, id: &str, version: u64, resource: &Value) -> Response {
    let mut res = (status, resource.to_string()).into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(&format!("W/\"{version}\"")).unwrap(),
    );
    headers.insert(
        header::LOCATION,
        HeaderValue::from_str(&format!("/fhir/Patient/{id}/_history/{version}")).unwrap(),
    );
    res
}

/// The resource as returned: the stored elements with id and meta.
fn with_meta(id: &str, version: u64, stored: &Map<String, Value>) -> Value {
    let mut resource = stored.clone();
    resource.insert("id".into(), id.into());
    resource.insert("meta".into(), json!({ "versionId": version.to_string() }));
    Value::Object(resource)
}

/// The body as a Patient's elements, or `None` if it is not a Patient.
fn parse_patient(bytes: &Bytes) -> Option<Map<String, Value>> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(mut r)) if r.get("resourceType") == Some(&json!("Patient")) => {
            r.remove("id");
            r.remove("meta");
            Some(r)
        }
        _ => None,
    }
}

async fn bare_create(State(bare): State<Arc<Bare>>, bytes: Bytes) -> Response {
    let Some(resource) = parse_patient(&bytes) else {
        return (StatusCode::BAD_REQUEST, "not a Patient").into_response();
    };
    let id = format!("{:032x}", bare.next_id.fetch_add(1, Ordering::Relaxed));
    let out = with_meta(&id, 1, &resource);
    bare.records
        .lock()
        .unwrap()
        .insert(id.clone(), (1, resource));
    fhir_response(StatusCode::CREATED, &id, 1, &out)
}

async fn bare_read(State(bare): State<Arc<Bare>>, Path(id): Path<String>) -> Response {
    let found = bare
        .records
        .lock()
        .unwrap()
        .get(&id)
        .map(|(version, r)| (*version, with_meta(&id, *version, r)));
    match found {
        Some((version, out)) => fhir_response(StatusCode::OK, &id, version, &out),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn bare_update(
    State(bare): State<Arc<Bare>>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    let Some(resource) = parse_patient(&bytes) else {
        return (StatusCode::BAD_REQUEST, "not a Patient").into_response();
    };
    let out;
    let version;
    {
        let mut records = bare.records.lock().unwrap();
        let entry = records.entry(id.clone()).or_insert((0, Map::new()));
        entry.0 += 1;
        version = entry.0;
        out = with_meta(&id, version, &resource);
        entry.1 = resource;
    }
    let status = if version == 1 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    fhir_response(status, &id, version, &out)
}

/// Serves the bare handler on a loopback ephemeral port.
async fn start_bare() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let router = Router::new()
        .route("/fhir/Patient", post(bare_create))
        .route("/fhir/Patient/{id}", get(bare_read).put(bare_update))
        .with_state(Arc::new(Bare::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (addr, task)
}

// ---------------------------------------------------------------------------------
// The full stack: a real Telewarden with a practice and a signed-in clinician.

struct Full {
    running: server::Running,
    cookie: String,
    _dir: tempfile::TempDir,
}

async fn start_full(database_url: Option<String>) -> Full {
    let dir = tempfile::tempdir().unwrap();
    let mut config = server::Config {
        data_dir: dir.path().to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        metrics_listen: None,
        database_url: database_url.map(server::Secret::new),
        ..server::Config::default()
    };
    config.log_level = server::LogLevel::Error;
    // Every client here shares one loopback address at a rate no person reaches: the
    // sentinel watches (its cost is in the figures) but would otherwise throttle the
    // harness itself. Its defence is measured by the sentinel benchmark.
    config.sentinel.mode = server::SentinelMode::Watch;
    // The clinicians here are fixtures that read records; training is measured elsewhere.
    config.training.required_before_records = false;
    let db_url = config.effective_database_url().expose().to_owned();
    let running = server::start(config, Arc::new(SystemClock)).await.unwrap();
    tw_bench::complete_setup(&running, &tw_bench::http_client()).await;

    // A clinician as if invited and enrolled, signed in: the session and enrolment are
    // not what this measures, and the identity tests cover them.
    let db = store::Db::connect(&db_url, &store::PoolSettings::default())
        .await
        .unwrap();
    let now = SystemClock.now_ms();
    // The server's master key, to seal the clinician's address and name as it would.
    let keyring = store::keyring::Keyring::load_or_create(&dir.path().join("master.key")).unwrap();
    tw_bench::enrol(
        &db,
        &keyring,
        "bench-clinician",
        CLINICIAN_EMAIL,
        "Dr Bench",
        "clinician",
        None,
    )
    .await;
    let cookie = store::testing::session_cookie(&db, &keyring, CLINICIAN_EMAIL, now, now).await;
    db.close().await;
    Full {
        running,
        cookie,
        _dir: dir,
    }
}

// ---------------------------------------------------------------------------------
// The clients.

/// One side as the clients see it. Both sides get the same headers; the bare handler
/// ignores the cookie and the origin.
struct Side {
    base: String,
    origin: String,
    cookie: String,
    http: reqwest::Client,
}

impl Side {
    fn new(addr: std::net::SocketAddr, origin: &str, cookie: &str) -> Self {
        Self {
            base: format!("http://{addr}"),
            origin: origin.to_owned(),
            cookie: cookie.to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                // Below the server's keep-alive (10 s): a connection that waited while
                // the other side ran is never reused just as the server closes it.
                .pool_idle_timeout(Duration::from_secs(5))
                .build()
                .unwrap(),
        }
    }

    /// One request, checked; the id of the Patient answered.
    async fn request(&self, op: Op, id: Option<&str>, n: usize) -> String {
        let given = format!("Aroha {n}");
        let req = match op {
            Op::Create => self
                .http
                .post(format!("{}/fhir/Patient", self.base))
                .body(patient_body(None, &given)),
            Op::Read => self
                .http
                .get(format!("{}/fhir/Patient/{}", self.base, id.unwrap())),
            Op::Update => self
                .http
                .put(format!("{}/fhir/Patient/{}", self.base, id.unwrap()))
                .body(patient_body(id, &given)),
        };
        let res = req
            .header(header::COOKIE, &self.cookie)
            .header(header::ORIGIN, &self.origin)
            .header(header::CONTENT_TYPE, "application/fhir+json")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: {op:?}: {e}", self.base));
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        let (expected, version) = match op {
            Op::Create => (201, "1"),
            Op::Read => (200, "1"),
            Op::Update => (200, "2"),
        };
        assert_eq!(status, expected, "{op:?} {}: {text}", self.base);
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["resourceType"], "Patient", "{text}");
        assert_eq!(body["meta"]["versionId"], version, "{op:?}: {text}");
        let answered = body["id"].as_str().expect("a Patient has an id");
        if let Some(id) = id {
            assert_eq!(answered, id);
        }
        if op != Op::Read {
            assert_eq!(body["name"][0]["given"][0], given.as_str());
        }
        answered.to_owned()
    }
}

struct Phase {
    elapsed: Duration,
    latencies: Vec<Duration>,
    /// Ids created (for a create).
    ids: Vec<String>,
}

/// `count` requests of `op`, `clients` at a time: creates, or one request per id.
async fn phase(side: &Arc<Side>, op: Op, ids: &[String], count: usize, clients: usize) -> Phase {
    let ids: Arc<Vec<String>> = Arc::new(ids.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (side, ids, next) = (side.clone(), ids.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            let mut created = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    break;
                }
                let id = (op != Op::Create).then(|| ids[n].as_str());
                let t = Instant::now();
                let answered = side.request(op, id, n).await;
                times.push(t.elapsed());
                if op == Op::Create {
                    created.push(answered);
                }
            }
            (times, created)
        }));
    }
    let mut latencies = Vec::with_capacity(count);
    let mut created = Vec::new();
    for t in tasks {
        let (times, ids) = t.await.unwrap();
        latencies.extend(times);
        created.extend(ids);
    }
    let elapsed = started.elapsed();
    assert_eq!(latencies.len(), count);
    Phase {
        elapsed,
        latencies,
        ids: created,
    }
}

#[derive(Default)]
struct Tally {
    requests: usize,
    busy: Duration,
    latencies: Vec<Duration>,
    /// Requests per second of each round.
    rates: Vec<f64>,
}

impl Tally {
    fn add(&mut self, p: &Phase) {
        self.requests += p.latencies.len();
        self.busy += p.elapsed;
        self.latencies.extend(&p.latencies);
        self.rates
            .push(p.latencies.len() as f64 / p.elapsed.as_secs_f64());
    }

    fn rate(&self) -> f64 {
        self.requests as f64 / self.busy.as_secs_f64()
    }

    fn percentile(&mut self, q: f64) -> Duration {
        self.latencies.sort();
        self.latencies[((self.latencies.len() as f64 - 1.0) * q).round() as usize]
    }
}

/// Per operation: (full stack, bare handler).
struct Results {
    database: &'static str,
    tallies: [(Tally, Tally); 3],
    took: Duration,
}

/// One operation on both sides (full stack, then bare), `first` side first: `count`
/// requests to the full stack, `count × BARE_FACTOR` to the bare handler.
async fn both(
    sides: [&Arc<Side>; 2],
    first: usize,
    op: Op,
    ids: [&[String]; 2],
    count: usize,
    clients: usize,
) -> [Phase; 2] {
    let second = 1 - first;
    let counts = [count, count * BARE_FACTOR];
    let a = phase(sides[first], op, ids[first], counts[first], clients).await;
    let b = phase(sides[second], op, ids[second], counts[second], clients).await;
    if first == 0 { [a, b] } else { [b, a] }
}

async fn measure(database: &'static str, database_url: Option<String>, plan: Plan) -> Results {
    let started = Instant::now();
    let full = start_full(database_url).await;
    let (bare_addr, bare_task) = start_bare().await;
    let sides = [
        Arc::new(Side::new(
            full.running.addr,
            &full.running.origin,
            &full.cookie,
        )),
        Arc::new(Side::new(bare_addr, &full.running.origin, &full.cookie)),
    ];
    let sides = [&sides[0], &sides[1]];

    // Warm-up, not counted: connections, caches, the first key-encryption key.
    let created = both(sides, 0, Op::Create, [&[], &[]], plan.warm_up, plan.clients).await;
    let ids = [created[0].ids.clone(), created[1].ids.clone()];
    for op in [Op::Read, Op::Update] {
        both(sides, 0, op, [&ids[0], &ids[1]], plan.warm_up, plan.clients).await;
    }

    let mut tallies: [(Tally, Tally); 3] = Default::default();
    for round in 0..plan.rounds {
        let first = round % 2;
        let mut ids: [Vec<String>; 2] = Default::default();
        for op in OPS {
            let phases = both(
                sides,
                first,
                op,
                [&ids[0], &ids[1]],
                plan.per_round,
                plan.clients,
            )
            .await;
            let t = &mut tallies[op.index()];
            t.0.add(&phases[0]);
            t.1.add(&phases[1]);
            if op == Op::Create {
                let [a, b] = phases;
                ids = [a.ids, b.ids];
            }
        }
        eprintln!(
            "{database}: round {} of {} done ({:.0} s)",
            round + 1,
            plan.rounds,
            started.elapsed().as_secs_f64()
        );
    }

    full.running.shutdown().await.unwrap();
    bare_task.abort();
    Results {
        database,
        tallies,
        took: started.elapsed(),
    }
}

/// Drops the benchmark's PostgreSQL database (the server has stopped).
async fn drop_postgres_database(base: &str, url: &str) {
    let name = url
        .rsplit('/')
        .next()
        .and_then(|n| n.split('?').next())
        .unwrap();
    assert!(name.starts_with("tw_test_"), "{name}");
    let admin = store::Db::connect(base, &store::PoolSettings::default())
        .await
        .unwrap();
    if let Err(e) = store::testing::exec(&admin, &format!("DROP DATABASE IF EXISTS {name}")).await {
        eprintln!("could not drop {name}: {e}");
    }
    admin.close().await;
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(results: &mut [Results], plan: Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Patient records: full stack against a bare in-memory handler ({} concurrent clients; {} rounds of {} requests per operation to the full stack, {} to the bare handler)",
        plan.clients,
        plan.rounds,
        plan.per_round,
        plan.per_round * BARE_FACTOR
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| database | operation | full stack req/s | bare req/s | full/bare | per-round full/bare | full p50 | full p99 | bare p50 | bare p99 |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
    let mut worst: Option<(f64, String)> = None;
    for r in results.iter_mut() {
        for op in OPS {
            let (full, bare) = &mut r.tallies[op.index()];
            let ratio = full.rate() / bare.rate();
            let per_round: Vec<f64> = full
                .rates
                .iter()
                .zip(&bare.rates)
                .map(|(f, b)| f / b)
                .collect();
            let lo = per_round.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = per_round.iter().copied().fold(0.0, f64::max);
            let _ = writeln!(
                out,
                "| {} | {} | {:.0} | {:.0} | **{:.3}** | {:.3}–{:.3} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms |",
                r.database,
                op.name(),
                full.rate(),
                bare.rate(),
                ratio,
                lo,
                hi,
                ms(full.percentile(0.5)),
                ms(full.percentile(0.99)),
                ms(bare.percentile(0.5)),
                ms(bare.percentile(0.99)),
            );
            if worst.as_ref().is_none_or(|(w, _)| ratio < *w) {
                worst = Some((ratio, format!("{} {}", r.database, op.name())));
            }
        }
    }
    let _ = writeln!(out);
    for r in results.iter() {
        let _ = writeln!(
            out,
            "{}: measured in {:.1} s",
            r.database,
            r.took.as_secs_f64()
        );
    }
    if let Some((ratio, which)) = worst {
        let verdict = if ratio >= 0.25 { "met" } else { "NOT met" };
        let _ = writeln!(
            out,
            "Target (full stack ≥ 0.25 × bare throughput): {verdict}; lowest ratio {ratio:.3} ({which})."
        );
    }
    out
}

#[tokio::main]
async fn main() {
    let quick = std::env::var_os("TW_BENCH_QUICK").is_some();
    let clients = std::env::var("TW_BENCH_CLIENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(16);
    let plan = if quick {
        Plan {
            rounds: 3,
            per_round: 300,
            clients,
            warm_up: 50,
        }
    } else {
        Plan {
            rounds: 10,
            per_round: 1000,
            clients,
            warm_up: 200,
        }
    };
    let total = Instant::now();
    let mut results = vec![measure("SQLite", None, plan).await];
    if let Ok(base) = std::env::var(store::testing::POSTGRES_ENV)
        && !base.is_empty()
    {
        let url = store::testing::fresh_postgres_database(&base).await;
        results.push(measure("PostgreSQL", Some(url.clone()), plan).await);
        drop_postgres_database(&base, &url).await;
    }
    print!("{}", report(&mut results, plan));
    println!("Whole run: {:.1} s", total.elapsed().as_secs_f64());
}
