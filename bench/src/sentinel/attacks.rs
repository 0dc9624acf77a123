//! The attacks: Debian tools against a running server (each on a fresh server, since
//! every tool's traffic comes from 127.0.0.1), an exfiltrating session, and credential
//! stuffing spread over many addresses.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clock::{Clock, SystemClock};

use super::benign::{self, Load, Rng, Seen};
use super::clinic::{self, Clinic, SeenAlert, Size, client_from, ip};
use super::tools;

/// One attack's result.
#[derive(Debug, Default)]
pub struct Outcome {
    pub name: String,
    /// Alert kinds wanted for "detected".
    pub wanted: Vec<&'static str>,
    /// Alerts raised after the attack started (kind → subject).
    pub alerts: Vec<SeenAlert>,
    /// First wanted alert, from the start.
    pub first_alert: Option<Duration>,
    /// First 403/429 seen at the attacker's address, from the start.
    pub first_refusal: Option<Duration>,
    pub requests: String,
    pub notes: Vec<String>,
    /// The light benign workload alongside.
    pub benign: Seen,
    pub skipped: Option<String>,
}

impl Outcome {
    pub fn detected(&self) -> bool {
        self.first_alert.is_some() || self.first_refusal.is_some()
    }
    pub fn time_to_detect(&self) -> Option<Duration> {
        match (self.first_alert, self.first_refusal) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// The practice for the attack runs: small, no exfiltration records.
pub fn small() -> Size {
    Size {
        clinicians: 6,
        patients: 30,
        per_clinician: 10,
        exfil_patients: 0,
    }
}

/// A light benign workload alongside an attack.
pub fn light(duration: Duration) -> Load {
    Load {
        duration,
        patients: 6,
        clinicians: 3,
        front_desk: false,
        think_min_ms: 400,
        think_spread_ms: 1_200,
        mistype_percent: 10,
    }
}

/// Polls `/healthz` from the attacker's address (127.0.0.1) until stopped: when did it
/// first get 403 or 429?
fn watch_refusals(
    base: String,
    started: Instant,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Option<Duration>> {
    tokio::spawn(async move {
        let client = client_from(ip(0, 1));
        for _ in 0..20_000 {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            if let Ok(res) = client.get(format!("{base}/healthz")).send().await
                && matches!(res.status().as_u16(), 403 | 429)
            {
                return Some(started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        None
    })
}

/// Alerts raised since `since_ms` of the wanted kinds; the earliest's delay.
/// Addresses of the benign clients: an alert about one of them is not the attack's.
pub const BENIGN_PREFIXES: [&str; 4] = ["127.0.1.", "127.0.2.", "127.0.5.", "127.0.6."];

pub fn about_benign(a: &SeenAlert) -> bool {
    BENIGN_PREFIXES.iter().any(|p| a.subject.starts_with(p))
}

fn first_wanted(alerts: &[SeenAlert], wanted: &[&str], since_ms: i64) -> Option<Duration> {
    alerts
        .iter()
        .filter(|a| a.first_ms >= since_ms && wanted.contains(&a.kind.as_str()) && !about_benign(a))
        .map(|a| Duration::from_millis((a.first_ms - since_ms).max(0) as u64))
        .min()
}

/// Runs `attack` against a fresh server with the light benign workload beside it.
async fn with_server<F, Fut>(
    name: &str,
    wanted: Vec<&'static str>,
    benign_for: Duration,
    attack: F,
) -> Outcome
where
    F: FnOnce(String, String, String, tempfile::TempDir) -> Fut,
    Fut: std::future::Future<Output = (String, Vec<String>)>,
{
    eprintln!("attack: {name}");
    let clinic = clinic::start(server::SentinelMode::Enforce, small()).await;
    let work = tempfile::tempdir().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let since_ms = SystemClock.now_ms();
    let started = Instant::now();
    let watcher = watch_refusals(clinic.base.clone(), started, stop.clone());
    let cookie = clinic.clinicians[0].cookie.clone();
    let (requests, notes, benign) = {
        let benign = benign::run(&clinic, light(benign_for), 7, stop.clone());
        let attack =
            async { attack(clinic.base.clone(), clinic.origin.clone(), cookie, work).await };
        let ((requests, notes), seen) = tokio::join!(
            async {
                let r = attack.await;
                stop.store(true, Ordering::Relaxed);
                r
            },
            benign
        );
        (requests, notes, seen)
    };
    stop.store(true, Ordering::Relaxed);
    let first_refusal = watcher.await.unwrap_or(None);
    // The engine digests on its own task and the keeper stores: a moment for both.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let alerts: Vec<SeenAlert> = clinic
        .alerts()
        .await
        .into_iter()
        .filter(|a| a.first_ms >= since_ms)
        .collect();
    let first_alert = first_wanted(&alerts, &wanted, since_ms);
    clinic.stop().await;
    Outcome {
        name: name.to_owned(),
        wanted,
        alerts,
        first_alert,
        first_refusal,
        requests,
        notes,
        benign,
        skipped: None,
    }
}

fn skipped(name: &str, why: &str) -> Outcome {
    Outcome {
        name: name.to_owned(),
        skipped: Some(why.to_owned()),
        ..Outcome::default()
    }
}

fn write(dir: &std::path::Path, name: &str, lines: &[String]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path.display().to_string()
}

pub async fn hydra(quick: bool, missing: &[(String, String)]) -> Outcome {
    let name = "hydra http-post-form on /sign-in";
    if let Some((_, why)) = missing.iter().find(|(t, _)| t == "hydra") {
        return skipped(name, why);
    }
    let limit = Duration::from_secs(if quick { 45 } else { 120 });
    let passwords = if quick { 15 } else { 40 };
    with_server(
        name,
        vec!["brute_force", "credential_stuffing", "source_failures", "distributed_stuffing", "bot_headers", "probe"],
        limit,
        move |base, origin, _cookie, work| async move {
            let port = base.rsplit(':').next().unwrap().to_owned();
            let mut users: Vec<String> = (0..3).map(|c| format!("clinician{c}@bench.example")).collect();
            users.extend((0..3).map(|u| format!("admin{u}@bench.example")));
            let pw: Vec<String> = ["123456", "password", "Password1", "letmein", "Summer2024!", "qwerty", "welcome1",
                "admin", "Telehealth1", "Winter2025!"].iter().map(|s| (*s).to_owned())
                .chain((0..).map(|n| format!("Guess{n}!x")))
                .take(passwords)
                .collect();
            let users_file = write(work.path(), "users.txt", &users);
            let pass_file = write(work.path(), "pass.txt", &pw);
            // Colons inside an option are escaped for hydra; the failure condition goes last
            // (hydra 9.4 refuses `F=` before an escaped option).
            let form = format!(
                "/sign-in:email=^USER^&password=^PASS^:H=Origin\\: {}:F=do not match",
                origin.replace(':', "\\:")
            );
            let out = tools::run(
                "hydra",
                &["-L", &users_file, "-P", &pass_file, "-s", &port, "-t", "4", "-V", "-I", "-w", "10",
                  "127.0.0.1", "http-post-form", &form],
                work.path(),
                limit,
            )
            .await;
            let attempts = out.text.matches("[ATTEMPT]").count();
            let claimed = out.text.lines().filter(|l| l.contains("login:") && l.contains("password:") && !l.contains("[ATTEMPT]")).count();
            let mut notes = vec![format!(
                "hydra ran {:.0} s{}; it claims {claimed} valid pairs (a refusal page lacks \"do not match\", so hydra takes it for success: these are the blocks)",
                out.took.as_secs_f64(),
                if out.timed_out { " (killed at the timeout)" } else { "" }
            )];
            if attempts == 0 {
                let tail: Vec<&str> = out.text.lines().rev().take(4).collect();
                notes.push(format!("hydra output ends: {}", tail.join(" / ")));
            }
            (format!("{attempts} attempts ({} users × {} passwords)", users.len(), pw.len()), notes)
        },
    )
    .await
}

pub async fn sqlmap(quick: bool, missing: &[(String, String)]) -> Outcome {
    let name = "sqlmap --batch on /fhir/Patient?name=";
    if let Some((_, why)) = missing.iter().find(|(t, _)| t == "sqlmap") {
        return skipped(name, why);
    }
    let limit = Duration::from_secs(if quick { 60 } else { 180 });
    with_server(
        name,
        vec!["probe", "bot_headers", "enumeration", "source_flood"],
        limit,
        move |base, _origin, cookie, work| async move {
            let url = format!("{base}/fhir/Patient?name=x");
            let traffic = work.path().join("traffic.txt").display().to_string();
            let out_dir = work.path().join("out").display().to_string();
            let out = tools::run(
                "sqlmap",
                &[
                    "-u",
                    &url,
                    "--cookie",
                    &cookie,
                    "--batch",
                    "--level",
                    "1",
                    "--risk",
                    "1",
                    "--flush-session",
                    "--timeout",
                    "10",
                    "--retries",
                    "0",
                    "--output-dir",
                    &out_dir,
                    "-t",
                    &traffic,
                    "-p",
                    "name",
                ],
                work.path(),
                limit,
            )
            .await;
            let requests = std::fs::read_to_string(&traffic)
                .map(|t| t.matches("HTTP request [#").count())
                .unwrap_or(0);
            let injectable = out.text.contains("is vulnerable")
                || out
                    .text
                    .contains("identified the following injection point");
            let mut notes = vec![format!(
                "sqlmap ran {:.0} s{}; injectable found: {}",
                out.took.as_secs_f64(),
                if out.timed_out {
                    " (killed at the timeout)"
                } else {
                    ""
                },
                if injectable { "YES (a finding!)" } else { "no" }
            )];
            for key in [
                "do not appear to be injectable",
                "WAF/IPS",
                "403",
                "all tested parameters",
                "connection timed out",
            ] {
                if let Some(line) = out.text.lines().find(|l| l.contains(key)) {
                    notes.push(format!("sqlmap: {}", line.trim()));
                }
            }
            (format!("{requests} HTTP requests"), notes)
        },
    )
    .await
}

pub async fn slowhttptest(quick: bool, body: bool, missing: &[(String, String)]) -> Outcome {
    let name = if body {
        "slowhttptest slow body (-B)"
    } else {
        "slowhttptest slowloris (-H)"
    };
    if let Some((_, why)) = missing.iter().find(|(t, _)| t == "slowhttptest") {
        return skipped(name, why);
    }
    let secs = if quick { 20 } else { 90 };
    let conns = if quick { 200 } else { 600 };
    let limit = Duration::from_secs(secs + 30);
    with_server(
        name,
        vec!["slow_attack", "source_flood", "bot_headers"],
        Duration::from_secs(secs + 5),
        move |base, _origin, _cookie, work| async move {
            let (mode, path, method) = if body {
                ("-B", "/sign-in", "POST")
            } else {
                ("-H", "/sign-in", "GET")
            };
            let url = format!("{base}{path}");
            let c = conns.to_string();
            let l = secs.to_string();
            let out = tools::run(
                "slowhttptest",
                &[
                    mode, "-c", &c, "-i", "5", "-r", "50", "-s", "8192", "-l", &l, "-t", method,
                    "-x", "24", "-p", "3", "-u", &url,
                ],
                work.path(),
                limit,
            )
            .await;
            let connected = tools::last_number_after(&out.text, "connected:");
            let closed = tools::last_number_after(&out.text, "closed:");
            let available = out
                .text
                .lines()
                .rev()
                .find(|l| l.contains("service available"))
                .map(|l| l.trim().to_owned());
            let notes = vec![format!(
                "slowhttptest ran {:.0} s{}; at its end: connected {:?}, closed {:?}; {}",
                out.took.as_secs_f64(),
                if out.timed_out {
                    " (killed at the timeout)"
                } else {
                    ""
                },
                connected,
                closed,
                available.unwrap_or_else(|| "no availability line".into())
            )];
            (format!("{conns} connections over {secs} s"), notes)
        },
    )
    .await
}

/// The wrk flood, and legitimate signed-in clients beside it.
pub struct Flood {
    pub outcome: Outcome,
    pub baseline: Sample,
    pub during: Sample,
}

#[derive(Debug, Default, Clone)]
pub struct Sample {
    pub sent: u64,
    pub ok_within_1s: u64,
    pub latencies: Vec<Duration>,
}

impl Sample {
    pub fn share(&self) -> f64 {
        self.ok_within_1s as f64 / self.sent.max(1) as f64
    }
    pub fn pct(&mut self, q: f64) -> Duration {
        self.latencies.sort();
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        self.latencies[((self.latencies.len() as f64 - 1.0) * q).round() as usize]
    }
}

/// Legitimate clients: `n` signed-in users, each from its own address, a request every
/// ~200 ms, for `duration`.
async fn legit(clinic: &Clinic, n: usize, duration: Duration) -> Sample {
    let end = Instant::now() + duration;
    let mut tasks = Vec::new();
    for k in 0..n {
        let c = &clinic.clinicians[k % clinic.clinicians.len()];
        let client = client_from(ip(6, k as u8 + 1));
        let cookie = c.cookie.clone();
        let base = clinic.base.clone();
        let care = clinic.care[k % clinic.care.len()].clone();
        tasks.push(tokio::spawn(async move {
            let mut s = Sample::default();
            let mut rng = Rng::new(k as u64 + 99);
            for i in 0..10_000u64 {
                if Instant::now() >= end {
                    break;
                }
                let path = if i % 3 == 0 {
                    format!(
                        "/fhir/Patient/{}",
                        care[rng.below(care.len() as u64) as usize]
                    )
                } else {
                    "/appointments".to_owned()
                };
                let t = Instant::now();
                let res = clinic::browser(
                    client.get(format!("{base}{path}")),
                    Some(&cookie),
                    "document",
                )
                .timeout(Duration::from_secs(5))
                .send()
                .await;
                let took = t.elapsed();
                s.sent += 1;
                if let Ok(r) = res {
                    let ok = r.status() == 200;
                    let _ = r.bytes().await;
                    let took = t.elapsed();
                    s.latencies.push(took);
                    if ok && took <= Duration::from_secs(1) {
                        s.ok_within_1s += 1;
                    }
                } else {
                    s.latencies.push(took);
                }
                tokio::time::sleep(Duration::from_millis(150 + rng.below(100))).await;
            }
            s
        }));
    }
    let mut all = Sample::default();
    for t in tasks {
        let s = t.await.unwrap();
        all.sent += s.sent;
        all.ok_within_1s += s.ok_within_1s;
        all.latencies.extend(s.latencies);
    }
    all
}

pub async fn wrk(quick: bool, missing: &[(String, String)]) -> Option<Flood> {
    let name = "wrk flood on /sign-in";
    if let Some((_, why)) = missing.iter().find(|(t, _)| t == "wrk") {
        return Some(Flood {
            outcome: skipped(name, why),
            baseline: Sample::default(),
            during: Sample::default(),
        });
    }
    eprintln!("attack: {name}");
    let secs = if quick { 10 } else { 60 };
    let clinic = clinic::start(server::SentinelMode::Enforce, small()).await;
    let users = 6;
    let baseline = legit(&clinic, users, Duration::from_secs(secs)).await;
    let work = tempfile::tempdir().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let since_ms = SystemClock.now_ms();
    let started = Instant::now();
    let watcher = watch_refusals(clinic.base.clone(), started, stop.clone());
    let url = format!("{}/sign-in", clinic.base);
    let d = format!("{secs}s");
    let args = ["-t", "2", "-c", "64", "-d", &d, "--timeout", "2s", &url];
    let (out, during) = tokio::join!(
        tools::run("wrk", &args, work.path(), Duration::from_secs(secs + 30)),
        legit(&clinic, users, Duration::from_secs(secs))
    );
    stop.store(true, Ordering::Relaxed);
    let first_refusal = watcher.await.unwrap_or(None);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let alerts: Vec<SeenAlert> = clinic
        .alerts()
        .await
        .into_iter()
        .filter(|a| a.first_ms >= since_ms)
        .collect();
    let wanted = vec![
        "source_flood",
        "global_flood",
        "bot_headers",
        "bot_cadence",
        "no_assets",
    ];
    let first_alert = first_wanted(&alerts, &wanted, since_ms);
    let total = out
        .text
        .lines()
        .find(|l| l.contains("requests in"))
        .map(|l| l.trim().to_owned())
        .unwrap_or_else(|| "?".into());
    let non2xx = out
        .text
        .lines()
        .find(|l| l.contains("Non-2xx"))
        .map(|l| l.trim().to_owned());
    clinic.stop().await;
    Some(Flood {
        outcome: Outcome {
            name: name.to_owned(),
            wanted,
            alerts,
            first_alert,
            first_refusal,
            requests: total,
            notes: vec![format!(
                "wrk -t2 -c64 for {secs} s{}; {}",
                if out.timed_out {
                    " (killed at the timeout)"
                } else {
                    ""
                },
                non2xx.unwrap_or_else(|| "every answer 2xx/3xx".into())
            )],
            benign: Seen::default(),
            skipped: None,
        },
        baseline,
        during,
    })
}

/// Exfiltration: records read before the first alert and before the account is held.
#[derive(Debug, Default)]
pub struct Exfil {
    pub normal_reads: usize,
    pub burst_ok: usize,
    pub before_alert: Option<usize>,
    pub before_hold: Option<usize>,
    pub first_refusal_status: Option<u16>,
    pub alert_kinds: Vec<String>,
    pub available: usize,
}

pub async fn exfiltration(quick: bool) -> Exfil {
    eprintln!("attack: exfiltration");
    let available = if quick { 300 } else { 600 };
    let clinic = clinic::start(
        server::SentinelMode::Enforce,
        Size {
            clinicians: 2,
            patients: 10,
            per_clinician: 5,
            exfil_patients: available,
        },
    )
    .await;
    let client = client_from(ip(7, 1));
    let cookie = clinic.exfil.cookie.clone();
    let read = |id: &String| {
        clinic::browser(
            client.get(format!("{}/fhir/Patient/{id}", clinic.base)),
            Some(&cookie),
            "empty",
        )
        .header("accept", "application/fhir+json")
        .send()
    };
    let since_ms = SystemClock.now_ms();
    let mut out = Exfil {
        available,
        ..Exfil::default()
    };
    // Normal: a dozen records, a few seconds apart (compressed).
    for id in clinic.exfil_records.iter().take(12) {
        if let Ok(r) = read(id).await
            && r.status() == 200
        {
            out.normal_reads += 1;
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    // Then all of them, as fast as one client goes; the time each read finished.
    let mut reads: Vec<(i64, u16)> = Vec::new();
    for id in clinic.exfil_records.iter().skip(12) {
        let status = match read(id).await {
            Ok(r) => {
                let s = r.status().as_u16();
                let _ = r.bytes().await;
                s
            }
            Err(_) => 0,
        };
        reads.push((SystemClock.now_ms(), status));
        if status != 200 && reads.iter().filter(|(_, s)| *s != 200).count() >= 10 {
            break;
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let alerts: Vec<SeenAlert> = clinic
        .alerts()
        .await
        .into_iter()
        .filter(|a| a.first_ms >= since_ms)
        .collect();
    out.alert_kinds = alerts
        .iter()
        .map(|a| format!("{} ({}, {})", a.kind, a.subject_short(), a.severity))
        .collect();
    let first = alerts
        .iter()
        .filter(|a| {
            matches!(
                a.kind.as_str(),
                "bulk_read" | "id_walk" | "model" | "bulk_export"
            )
        })
        .map(|a| a.first_ms)
        .min();
    out.burst_ok = reads.iter().filter(|(_, s)| *s == 200).count();
    if let Some(first) = first {
        out.before_alert = Some(
            out.normal_reads
                + reads
                    .iter()
                    .filter(|(t, s)| *s == 200 && *t < first)
                    .count(),
        );
    }
    if let Some(i) = reads.iter().position(|(_, s)| *s != 200) {
        out.before_hold =
            Some(out.normal_reads + reads[..i].iter().filter(|(_, s)| *s == 200).count());
        out.first_refusal_status = Some(reads[i].1);
    }
    clinic.stop().await;
    out
}

impl SeenAlert {
    pub fn subject_short(&self) -> String {
        self.subject.chars().take(24).collect()
    }
}

/// Credential stuffing spread over 200 addresses, a password or two each, slowly.
pub async fn spread_stuffing(quick: bool) -> Outcome {
    let name = "credential stuffing over 200 addresses";
    let secs = if quick { 25 } else { 120 };
    let wanted = vec![
        "distributed_stuffing",
        "credential_stuffing",
        "brute_force",
        "source_failures",
    ];
    with_server(
        name,
        wanted,
        Duration::from_secs(secs + 5),
        move |base, origin, _c, _w| async move {
            let mut tasks = Vec::new();
            let start = Instant::now();
            for k in 0..200u64 {
                let from = ip(10 + (k / 100) as u8, (k % 100) as u8 + 1);
                let (base, origin) = (base.clone(), origin.clone());
                tasks.push(tokio::spawn(async move {
                    let client = client_from(from);
                    let mut rng = Rng::new(k + 5);
                    let tries = 1 + rng.below(2);
                    let mut sent = 0u64;
                    for t in 0..tries {
                        // Spread over the whole period.
                        let at = Duration::from_millis(rng.below(secs * 1000));
                        let wait = at.saturating_sub(start.elapsed());
                        tokio::time::sleep(wait).await;
                        let email = if rng.chance(30) {
                            format!("clinician{}@bench.example", rng.below(6))
                        } else {
                            format!("leaked{}x{t}@mail.example", k)
                        };
                        let res = clinic::browser(
                            client.post(format!("{base}/sign-in")),
                            None,
                            "document",
                        )
                        .header("origin", &origin)
                        .form(&[("email", email.as_str()), ("password", "Spring2024!")])
                        .send()
                        .await;
                        if res.is_ok() {
                            sent += 1;
                        }
                    }
                    sent
                }));
            }
            let mut sent = 0;
            for t in tasks {
                sent += t.await.unwrap_or(0);
            }
            (
                format!("{sent} sign-in attempts from 200 addresses over {secs} s"),
                Vec::new(),
            )
        },
    )
    .await
}
