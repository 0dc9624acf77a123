//! A practice on a real Telewarden: the server (SQLite, a fresh directory), its people,
//! their patients' records, and clients that come from chosen loopback addresses.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::PasswordHasher;
use argon2::{Algorithm, Argon2, Params, Version};
use clock::{Clock, SystemClock};
use serde_json::json;

/// Everyone's password (the mistyped ones differ by a letter).
pub const PASSWORD: &str = "Kereru-Harbour-2031";
const IHI_SYSTEM: &str = "http://ns.electronichealth.net.au/id/hi/ihi/1.0";
const IHI: &str = "8003608166690503";
/// A Chrome on Windows, as the practice's browsers send it.
pub const CHROME_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/// Family names of the bench patients (searches use them).
pub const FAMILIES: [&str; 12] = [
    "Tautahi",
    "Brennan",
    "Okonkwo",
    "Nguyen",
    "Haddad",
    "Kowalski",
    "Moana",
    "Fitzgerald",
    "Ramirez",
    "Sato",
    "Abernethy",
    "Lindqvist",
];

/// A person with an account and a session.
#[derive(Debug, Clone)]
pub struct Person {
    pub email: String,
    pub id: String,
    pub cookie: String,
}

/// How big a practice.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub clinicians: usize,
    pub patients: usize,
    /// Patients in each clinician's care team.
    pub per_clinician: usize,
    /// Patients in the care team of the clinician whose account exfiltrates.
    pub exfil_patients: usize,
}

pub struct Clinic {
    pub running: server::Running,
    pub base: String,
    pub origin: String,
    pub db: store::Db,
    pub clinicians: Vec<Person>,
    /// A clinician at the front desk, on every patient's care team.
    pub front_desk: Person,
    pub patients: Vec<Person>,
    pub officer: Person,
    /// The clinician whose session exfiltrates (in the exfiltration measure only).
    pub exfil: Person,
    /// Patient record ids, and for each clinician the ids in their care.
    pub records: Vec<String>,
    pub care: Vec<Vec<String>>,
    pub exfil_records: Vec<String>,
    _dir: tempfile::TempDir,
}

/// A client whose connections come from `ip` (any 127.x.y.z on loopback).
pub fn client_from(ip: IpAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// `127.0.a.b`.
pub fn ip(a: u8, b: u8) -> IpAddr {
    IpAddr::from([127, 0, a, b])
}

fn phc(password: &str) -> String {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap();
    let mut salt = [0u8; 16];
    salt[..8].copy_from_slice(&SystemClock.now_ms().to_le_bytes());
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_with_salt(password.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

async fn add_user(
    db: &store::Db,
    keyring: &store::keyring::Keyring,
    id: &str,
    email: &str,
    name: &str,
    role: &str,
    hash: &str,
) {
    tw_bench::enrol(db, keyring, id, email, name, role, Some(hash)).await;
}

async fn person(
    db: &store::Db,
    keyring: &store::keyring::Keyring,
    id: &str,
    email: &str,
) -> Person {
    let now = SystemClock.now_ms();
    Person {
        email: email.into(),
        id: id.into(),
        cookie: store::testing::session_cookie(db, keyring, email, now, now).await,
    }
}

/// Starts a server in `mode` on loopback and sets up a practice of `size`.
pub async fn start(mode: server::SentinelMode, size: Size) -> Clinic {
    start_with(mode, size, |_| {}).await
}

/// [`start`], with the server's configuration adjusted by `tune` first.
pub async fn start_with(
    mode: server::SentinelMode,
    size: Size,
    tune: impl FnOnce(&mut server::Config),
) -> Clinic {
    let dir = tempfile::tempdir().unwrap();
    let mut config = server::Config {
        data_dir: dir.path().to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        metrics_listen: None,
        ..server::Config::default()
    };
    config.log_level = server::LogLevel::Error;
    config.sentinel.mode = mode;
    // The clinicians here are fixtures that read records; training is measured elsewhere.
    config.training.required_before_records = false;
    config.limits.max_connections = 4096;
    tune(&mut config);
    let db_url = config.effective_database_url().expose().to_owned();
    let running = server::start(config, Arc::new(SystemClock)).await.unwrap();
    // Setup from an address of its own, as the administrator's browser.
    tw_bench::complete_setup(&running, &tw_bench::http_client()).await;
    let db = store::Db::connect(&db_url, &store::PoolSettings::default())
        .await
        .unwrap();
    // The server made the master key at start; the fixtures seal with the same one.
    let keyring = store::keyring::Keyring::load_or_create(&dir.path().join("master.key")).unwrap();
    db.set_practice_policy("passkey_or_password_totp", false)
        .await
        .unwrap();
    let hash = phc(PASSWORD);

    let mut ids = vec![
        (
            "bench-registrar".to_owned(),
            "registrar@bench.example".to_owned(),
            "clinician",
        ),
        (
            "bench-frontdesk".to_owned(),
            "frontdesk@bench.example".to_owned(),
            "clinician",
        ),
        (
            "bench-officer".to_owned(),
            "security@bench.example".to_owned(),
            "security_officer",
        ),
        (
            "bench-exfil".to_owned(),
            "locum@bench.example".to_owned(),
            "clinician",
        ),
    ];
    for c in 0..size.clinicians {
        ids.push((
            format!("bench-clin-{c}"),
            format!("clinician{c}@bench.example"),
            "clinician",
        ));
    }
    for p in 0..size.patients {
        ids.push((
            format!("bench-pat-{p}"),
            format!("patient{p}@bench.example"),
            "patient",
        ));
    }
    for (id, email, role) in &ids {
        add_user(&db, &keyring, id, email, email, role, &hash).await;
    }
    let registrar = person(&db, &keyring, "bench-registrar", "registrar@bench.example").await;
    let front_desk = person(&db, &keyring, "bench-frontdesk", "frontdesk@bench.example").await;
    let officer = person(&db, &keyring, "bench-officer", "security@bench.example").await;
    let exfil = person(&db, &keyring, "bench-exfil", "locum@bench.example").await;
    let mut clinicians = Vec::new();
    for c in 0..size.clinicians {
        clinicians.push(
            person(
                &db,
                &keyring,
                &format!("bench-clin-{c}"),
                &format!("clinician{c}@bench.example"),
            )
            .await,
        );
    }
    let mut patients = Vec::new();
    for p in 0..size.patients {
        patients.push(
            person(
                &db,
                &keyring,
                &format!("bench-pat-{p}"),
                &format!("patient{p}@bench.example"),
            )
            .await,
        );
    }

    // Records: the registrar registers every patient through /fhir (from addresses of
    // its own, a few dozen each, so no setup address looks like a flood).
    let base = format!("http://{}", running.addr);
    let total = size.patients + size.exfil_patients;
    let records = create_records(&base, &running.origin, &registrar.cookie, total).await;
    let now = SystemClock.now_ms();
    let (clinic_records, exfil_records) = records.split_at(size.patients);
    let mut care = Vec::new();
    for c in 0..size.clinicians {
        let mine: Vec<String> = (0..size.per_clinician.min(clinic_records.len()))
            .map(|k| clinic_records[(c * size.per_clinician + k) % clinic_records.len()].clone())
            .collect();
        for r in &mine {
            db.add_to_care_team(r, &clinicians[c].id, now)
                .await
                .unwrap();
        }
        care.push(mine);
    }
    for r in clinic_records {
        db.add_to_care_team(r, &front_desk.id, now).await.unwrap();
    }
    for r in exfil_records {
        db.add_to_care_team(r, &exfil.id, now).await.unwrap();
    }
    Clinic {
        origin: running.origin.clone(),
        running,
        base,
        db,
        clinicians,
        front_desk,
        patients,
        officer,
        exfil,
        records: clinic_records.to_vec(),
        care,
        exfil_records: exfil_records.to_vec(),
        _dir: dir,
    }
}

async fn create_records(base: &str, origin: &str, cookie: &str, count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    let mut client = client_from(ip(3, 1));
    for n in 0..count {
        if n % 50 == 0 {
            client = client_from(ip(3, (n / 50 % 250) as u8 + 1));
        }
        let body = json!({
            "resourceType": "Patient",
            "name": [{ "family": FAMILIES[n % FAMILIES.len()], "given": [format!("Aroha{n}")] }],
            "gender": if n % 2 == 0 { "female" } else { "male" },
            "birthDate": format!("19{:02}-0{}-1{}", 30 + n % 60, 1 + n % 9, n % 10),
            "identifier": [{ "system": IHI_SYSTEM, "value": IHI }],
        });
        let res = client
            .post(format!("{base}/fhir/Patient"))
            .header("cookie", cookie)
            .header("origin", origin)
            .header("content-type", "application/fhir+json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        assert_eq!(status, 201, "create a patient: {text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    ids
}

/// An alert as stored: kind, subject, first seen (ms).
#[derive(Debug, Clone)]
pub struct SeenAlert {
    pub kind: String,
    pub subject: String,
    pub severity: String,
    pub first_ms: i64,
    pub summary: String,
}

impl Clinic {
    /// Every alert stored so far.
    pub async fn alerts(&self) -> Vec<SeenAlert> {
        self.db
            .alerts(true, 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|a| SeenAlert {
                kind: a.kind,
                subject: a.subject,
                severity: a.severity,
                first_ms: a.first_ms,
                summary: a.summary,
            })
            .collect()
    }

    /// Stops the server.
    pub async fn stop(self) {
        self.db.close().await;
        self.running.shutdown().await.unwrap();
    }
}

/// A browser's request: Chrome's headers, the session cookie if any.
pub fn browser(
    req: reqwest::RequestBuilder,
    cookie: Option<&str>,
    dest: &str,
) -> reqwest::RequestBuilder {
    let accept = match dest {
        "document" => {
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
        }
        "style" => "text/css,*/*;q=0.1",
        _ => "*/*",
    };
    let req = req
        .header("user-agent", CHROME_UA)
        .header("accept", accept)
        .header("accept-language", "en-NZ,en;q=0.9,mi;q=0.8")
        .header("sec-fetch-site", "same-origin")
        .header(
            "sec-fetch-mode",
            if dest == "document" {
                "navigate"
            } else {
                "no-cors"
            },
        )
        .header("sec-fetch-dest", dest);
    match cookie {
        Some(c) => req.header("cookie", c),
        None => req,
    }
}
