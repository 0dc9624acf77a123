//! What the sentinel costs: memory per tracked source (the engine in-process) and the
//! request overhead of its layer (enforce against off, side by side).

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clock::{Clock, SystemClock};
use sentinel::{Event, HeaderFacts, RequestEvent, Sentinel};

use super::benign::Rng;
use super::clinic::{self, Size, client_from};

#[derive(Debug)]
pub struct Memory {
    pub sources: u64,
    pub tracked: usize,
    pub memory_bytes: usize,
    pub evictions: u64,
    pub took: Duration,
}

fn request(source: IpAddr, at_ms: i64) -> Event {
    Event::Request(RequestEvent {
        at_ms,
        method: reqwest::Method::GET,
        route: "/sign-in".into(),
        path: "/sign-in".into(),
        status: 200,
        bytes_out: 2_000,
        duration_ms: 3,
        source,
        user_agent: Some(clinic::CHROME_UA.into()),
        headers: HeaderFacts {
            accept: true,
            accept_language: true,
            referer: false,
            sec_fetch: true,
            cookie: false,
        },
        html: true,
        session: None,
        account: None,
        probes: Vec::new(),
    })
}

/// Feeds `steps` distinct sources (each seen 4 times, enough to pass the sketch's
/// admission) to one engine, measuring after each step.
pub fn memory(steps: &[u64]) -> Vec<Memory> {
    let (s, _engine) = Sentinel::new(sentinel::Config::default(), Arc::new(SystemClock));
    let base = SystemClock.now_ms();
    let mut fed = 0u64;
    let mut out = Vec::new();
    let started = Instant::now();
    for &target in steps {
        while fed < target {
            // 10.x.y.z: 2^24 distinct addresses.
            let n = fed as u32 + 1;
            let source = IpAddr::from([10, (n >> 16) as u8, (n >> 8) as u8, n as u8]);
            let at = base + (fed / 1000) as i64;
            for r in 0..4 {
                s.process_now(request(source, at + r));
            }
            fed += 1;
        }
        let h = s.health();
        out.push(Memory {
            sources: target,
            tracked: h.tracked_sources,
            memory_bytes: h.memory_bytes,
            evictions: h.evictions,
            took: started.elapsed(),
        });
        eprintln!("memory: {target} sources fed");
    }
    out
}

/// Throughput of one route on both servers.
#[derive(Debug, Default)]
pub struct Overhead {
    pub route: String,
    /// Requests per second per round: (enforce, off).
    pub rounds: Vec<(f64, f64)>,
    pub requests: [u64; 2],
    pub busy: [Duration; 2],
    pub not_ok: [u64; 2],
}

impl Overhead {
    pub fn rate(&self, side: usize) -> f64 {
        self.requests[side] as f64 / self.busy[side].as_secs_f64()
    }
    /// off/enforce − 1: the throughput lost to the sentinel.
    pub fn overhead(&self) -> f64 {
        self.rate(1) / self.rate(0) - 1.0
    }
}

/// `count` requests of `path` with `workers` at a time, each from one of `clients`
/// (picked at random, so no address has a machine's cadence).
async fn phase(
    base: &str,
    path: &str,
    cookie: Option<&str>,
    clients: &Arc<Vec<reqwest::Client>>,
    count: usize,
    workers: usize,
) -> (Duration, u64) {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (next, clients) = (next.clone(), clients.clone());
        let url = format!("{base}{path}");
        let cookie = cookie.map(str::to_owned);
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new(w as u64 + 31);
            let mut bad = 0u64;
            while next.fetch_add(1, Ordering::Relaxed) < count {
                let client = &clients[rng.below(clients.len() as u64) as usize];
                let res = clinic::browser(client.get(&url), cookie.as_deref(), "document")
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status() == 200 => {
                        let _ = r.bytes().await;
                    }
                    _ => bad += 1,
                }
            }
            bad
        }));
    }
    let mut bad = 0;
    for t in tasks {
        bad += t.await.unwrap_or(0);
    }
    (started.elapsed(), bad)
}

/// Enforce against off, on `/healthz` and an authenticated page, alternating.
pub async fn overhead(quick: bool) -> Vec<Overhead> {
    eprintln!("overhead: starting both servers");
    let size = Size {
        clinicians: 1,
        patients: 2,
        per_clinician: 2,
        exfil_patients: 0,
    };
    // A load test sends far more per address and per session than any person does:
    // the rate limits are lifted so that what is measured is the sentinel's work on
    // every request (inspection, gate, events, detectors), not its refusals.
    let on = clinic::start_with(server::SentinelMode::Enforce, size, |c| {
        c.sentinel.requests_per_minute = u32::MAX / 16;
    })
    .await;
    let off = clinic::start(server::SentinelMode::Off, size).await;
    // 1,000 addresses: each sends a few requests a second, as many users would.
    let clients: Arc<Vec<reqwest::Client>> = Arc::new(
        (0..1000u32)
            .map(|n| {
                client_from(IpAddr::from([
                    127,
                    0,
                    20 + (n / 250) as u8,
                    (n % 250) as u8 + 1,
                ]))
            })
            .collect(),
    );
    let (rounds, per) = if quick { (4, 1500) } else { (10, 5000) };
    let workers = 16;
    let routes: [(&str, bool); 2] = [("/healthz", false), ("/account/security", true)];
    let mut out: Vec<Overhead> = routes
        .iter()
        .map(|(r, auth)| Overhead {
            route: format!("GET {r}{}", if *auth { " (signed in)" } else { "" }),
            ..Overhead::default()
        })
        .collect();
    let sides = [&on, &off];
    // Warm-up.
    for (r, auth) in routes {
        for side in sides {
            let cookie = auth.then_some(side.clinicians[0].cookie.as_str());
            phase(&side.base, r, cookie, &clients, 200, workers).await;
        }
    }
    for round in 0..rounds {
        for (i, (r, auth)) in routes.iter().enumerate() {
            let mut rates = [0.0; 2];
            for k in 0..2 {
                let side = (round + k) % 2;
                let c = sides[side];
                let cookie = auth.then_some(c.clinicians[0].cookie.as_str());
                let (took, bad) = phase(&c.base, r, cookie, &clients, per, workers).await;
                out[i].requests[side] += per as u64;
                out[i].busy[side] += took;
                out[i].not_ok[side] += bad;
                rates[side] = per as f64 / took.as_secs_f64();
            }
            out[i].rounds.push((rates[0], rates[1]));
        }
        eprintln!("overhead: round {} of {rounds}", round + 1);
    }
    on.stop().await;
    off.stop().await;
    out
}
