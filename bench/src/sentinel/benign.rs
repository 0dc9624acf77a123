//! The benign workload: a clinic day, compressed in time.
//!
//! - patients at home (each from an address of their own, 127.0.1.x–127.0.2.x): some
//!   sign in with their password (now and then mistyping it first), then look at their
//!   appointments and their record's access log;
//! - clinicians at the clinic, all behind one NAT address (127.0.5.1): pages, then the
//!   records of patients in their care, one at a time, a search now and then;
//!   some sign in with their password, a few mistyping it first;
//! - the front desk (also behind the NAT): reads many records and searches by name;
//! - the security officer looks at the dashboard.
//!
//! Every page is followed by its stylesheet and script, with Chrome's headers. People
//! think between pages (hundreds of milliseconds, jittered: minutes, compressed).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::clinic::{Clinic, FAMILIES, PASSWORD, browser, client_from, ip};

/// The clinic NAT: every clinician and the front desk share it.
pub const NAT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 5, 1));

/// A tiny deterministic generator (xorshift), so runs are alike.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// What the benign clients saw.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    pub requests: u64,
    /// Answers 403, 429 or 503 (refusals), by status.
    pub refused: BTreeMap<u16, u64>,
    /// Answers 5xx other than 503, and transport errors.
    pub errors: u64,
    pub sign_ins: u64,
    pub mistyped: u64,
    pub record_reads: u64,
    /// Latency of every answered request.
    pub latencies: Vec<Duration>,
    /// Examples of refused requests: (who, path, status).
    pub examples: Vec<String>,
}

impl Seen {
    pub fn refused_total(&self) -> u64 {
        self.refused.values().sum()
    }
    fn merge(&mut self, o: Seen) {
        self.requests += o.requests;
        for (k, v) in o.refused {
            *self.refused.entry(k).or_default() += v;
        }
        self.errors += o.errors;
        self.sign_ins += o.sign_ins;
        self.mistyped += o.mistyped;
        self.record_reads += o.record_reads;
        self.latencies.extend(o.latencies);
        for e in o.examples {
            if self.examples.len() < 8 {
                self.examples.push(e);
            }
        }
    }
}

/// How much benign traffic.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// How long the day lasts.
    pub duration: Duration,
    /// Patients active (of the clinic's), clinicians active.
    pub patients: usize,
    pub clinicians: usize,
    pub front_desk: bool,
    /// Think time between pages (ms): a random value in [min, min + spread).
    pub think_min_ms: u64,
    pub think_spread_ms: u64,
    /// Share (%) of sign-ins that start with a mistyped password.
    pub mistype_percent: u64,
}

struct Actor {
    who: String,
    client: reqwest::Client,
    base: String,
    origin: String,
    cookie: String,
    seen: Seen,
    rng: Rng,
    deadline: Instant,
    stop: Arc<AtomicBool>,
    load: Load,
}

impl Actor {
    fn over(&self) -> bool {
        Instant::now() >= self.deadline || self.stop.load(Ordering::Relaxed)
    }

    async fn think(&mut self) {
        let ms = self.load.think_min_ms + self.rng.below(self.load.think_spread_ms);
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }

    fn note(&mut self, path: &str, status: Option<u16>, took: Duration) {
        self.seen.requests += 1;
        match status {
            Some(s @ (403 | 429 | 503)) => {
                *self.seen.refused.entry(s).or_default() += 1;
                if self.seen.examples.len() < 8 {
                    self.seen
                        .examples
                        .push(format!("{} {path} → {s}", self.who));
                }
            }
            Some(s) if s >= 500 => {
                self.seen.errors += 1;
                if self.seen.examples.len() < 8 {
                    self.seen
                        .examples
                        .push(format!("{} {path} → {s} (error)", self.who));
                }
            }
            None => {
                self.seen.errors += 1;
                if self.seen.examples.len() < 8 {
                    self.seen
                        .examples
                        .push(format!("{} {path} → transport error", self.who));
                }
            }
            Some(_) => {}
        }
        if status.is_some() {
            self.seen.latencies.push(took);
        }
    }

    /// A page and, when it is HTML and answered, its stylesheet and script.
    async fn page(&mut self, path: &str) -> Option<u16> {
        let t = Instant::now();
        let res = browser(
            self.client.get(format!("{}{path}", self.base)),
            Some(&self.cookie),
            "document",
        )
        .send()
        .await;
        let status = match res {
            Ok(r) => {
                let s = r.status().as_u16();
                let _ = r.bytes().await;
                Some(s)
            }
            Err(_) => None,
        };
        self.note(path, status, t.elapsed());
        if status == Some(200) {
            for (asset, dest) in [("/static/app.css", "style"), ("/static/app.js", "script")] {
                let t = Instant::now();
                let res = browser(
                    self.client.get(format!("{}{asset}", self.base)),
                    Some(&self.cookie),
                    dest,
                )
                .header("referer", format!("{}{path}", self.origin))
                .send()
                .await;
                let s = match res {
                    Ok(r) => {
                        let s = r.status().as_u16();
                        let _ = r.bytes().await;
                        Some(s)
                    }
                    Err(_) => None,
                };
                self.note(asset, s, t.elapsed());
            }
        }
        status
    }

    /// The app's own fetch of a FHIR resource (the record page's script).
    async fn fhir(&mut self, path: &str) -> Option<u16> {
        let t = Instant::now();
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .header("user-agent", super::clinic::CHROME_UA)
            .header("accept", "application/fhir+json")
            .header("accept-language", "en-NZ,en;q=0.9")
            .header("sec-fetch-site", "same-origin")
            .header("sec-fetch-mode", "cors")
            .header("sec-fetch-dest", "empty")
            .header("referer", format!("{}/records", self.origin))
            .header("cookie", &self.cookie)
            .send()
            .await;
        let status = match res {
            Ok(r) => {
                let s = r.status().as_u16();
                let _ = r.bytes().await;
                Some(s)
            }
            Err(_) => None,
        };
        self.note(path, status, t.elapsed());
        status
    }

    /// A real password sign-in (perhaps with a mistyped password first).
    async fn sign_in(&mut self, email: &str) {
        self.page("/sign-in").await;
        self.think().await;
        if self.rng.chance(self.load.mistype_percent) {
            let typo = PASSWORD.replace('H', "J");
            self.post_sign_in(email, &typo).await;
            self.seen.mistyped += 1;
            self.think().await;
        }
        self.post_sign_in(email, PASSWORD).await;
        self.seen.sign_ins += 1;
    }

    async fn post_sign_in(&mut self, email: &str, password: &str) {
        let t = Instant::now();
        let res = browser(
            self.client.post(format!("{}/sign-in", self.base)),
            None,
            "document",
        )
        .header("origin", &self.origin)
        .header("referer", format!("{}/sign-in", self.origin))
        .form(&[("email", email), ("password", password)])
        .send()
        .await;
        let status = match res {
            Ok(r) => {
                let s = r.status().as_u16();
                let _ = r.bytes().await;
                Some(s)
            }
            Err(_) => None,
        };
        self.note("/sign-in (POST)", status, t.elapsed());
    }
}

/// Runs the day until `load.duration` passes or `stop` is set; what the clients saw.
pub async fn run(clinic: &Clinic, load: Load, seed: u64, stop: Arc<AtomicBool>) -> Seen {
    let deadline = Instant::now() + load.duration;
    let mut tasks = Vec::new();
    let total = Arc::new(Mutex::new(Seen::default()));
    let actor = |who: String, from: IpAddr, cookie: &str, n: u64| Actor {
        who,
        client: client_from(from),
        base: clinic.base.clone(),
        origin: clinic.origin.clone(),
        cookie: cookie.to_owned(),
        seen: Seen::default(),
        rng: Rng::new(seed ^ (n + 1).wrapping_mul(0x1234_5678_9abc)),
        deadline,
        stop: stop.clone(),
        load,
    };

    for (k, p) in clinic.patients.iter().take(load.patients).enumerate() {
        let from = ip(1 + (k / 250) as u8, (k % 250) as u8 + 1);
        let mut a = actor(format!("patient {k}"), from, &p.cookie, k as u64);
        let email = p.email.clone();
        let total = total.clone();
        tasks.push(tokio::spawn(async move {
            // Stagger the start over the first part of the day.
            let wait = a.rng.below(a.load.duration.as_millis() as u64 / 3 + 1);
            tokio::time::sleep(Duration::from_millis(wait)).await;
            for visit in 0..20 {
                if a.over() {
                    break;
                }
                if visit == 0 && a.rng.chance(40) {
                    a.sign_in(&email).await;
                    a.think().await;
                }
                for path in ["/", "/appointments", "/records/access", "/account/security"] {
                    if a.over() {
                        break;
                    }
                    if path == "/account/security" && !a.rng.chance(30) {
                        continue;
                    }
                    a.page(path).await;
                    a.think().await;
                }
                // A patient comes back later in the day.
                let away = 2_000 + a.rng.below(6_000);
                tokio::time::sleep(Duration::from_millis(away)).await;
            }
            total.lock().unwrap().merge(a.seen);
        }));
    }

    for (k, c) in clinic.clinicians.iter().take(load.clinicians).enumerate() {
        let mut a = actor(format!("clinician {k}"), NAT, &c.cookie, 1000 + k as u64);
        let care = clinic.care[k].clone();
        let email = c.email.clone();
        let total = total.clone();
        tasks.push(tokio::spawn(async move {
            let wait = a.rng.below(2_000);
            tokio::time::sleep(Duration::from_millis(wait)).await;
            if a.rng.chance(50) {
                a.sign_in(&email).await;
                a.think().await;
            }
            for step in 0..400u64 {
                if a.over() {
                    break;
                }
                match step % 6 {
                    0 => {
                        a.page("/").await;
                    }
                    1 => {
                        a.page("/appointments").await;
                    }
                    2..=4 if !care.is_empty() => {
                        let id = &care[a.rng.below(care.len() as u64) as usize];
                        a.page(&format!("/records/patients/{id}")).await;
                        a.fhir(&format!("/fhir/Patient/{id}")).await;
                        a.seen.record_reads += 2;
                    }
                    _ => {
                        let family = FAMILIES[a.rng.below(FAMILIES.len() as u64) as usize];
                        a.page("/records").await;
                        let given = a.rng.below(40);
                        a.fhir(&format!("/fhir/Patient?family={family}&given=Aroha{given}"))
                            .await;
                    }
                }
                a.think().await;
            }
            total.lock().unwrap().merge(a.seen);
        }));
    }

    if load.front_desk {
        let mut a = actor("front desk".into(), NAT, &clinic.front_desk.cookie, 9_999);
        let records = clinic.records.clone();
        let total = total.clone();
        tasks.push(tokio::spawn(async move {
            for step in 0..400u64 {
                if a.over() {
                    break;
                }
                if step % 4 == 0 {
                    a.page("/records").await;
                    let family = FAMILIES[a.rng.below(FAMILIES.len() as u64) as usize];
                    a.fhir(&format!("/fhir/Patient?family={family}")).await;
                } else {
                    let id = &records[a.rng.below(records.len() as u64) as usize];
                    a.page(&format!("/records/patients/{id}")).await;
                    a.seen.record_reads += 1;
                }
                a.think().await;
            }
            total.lock().unwrap().merge(a.seen);
        }));
    }

    {
        let mut a = actor(
            "security officer".into(),
            ip(5, 9),
            &clinic.officer.cookie,
            7_777,
        );
        let total = total.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..10 {
                if a.over() {
                    break;
                }
                a.page("/security").await;
                let away = 5_000 + a.rng.below(5_000);
                tokio::time::sleep(Duration::from_millis(away)).await;
            }
            total.lock().unwrap().merge(a.seen);
        }));
    }

    for t in tasks {
        let _ = t.await;
    }
    total.lock().unwrap().clone()
}
