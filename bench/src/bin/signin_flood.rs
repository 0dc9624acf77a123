//! Sign-in under a flood of wrong passwords.
//!
//! Starts a real Telewarden (in this process, on loopback, behind a "trusted proxy" so
//! every flood request can claim its own client address), then measures, side by side
//! in one run:
//! - the p50/p99 latency of an unrelated signed-in page with no flood;
//! - the same page's latency while many clients post wrong passwords for many different
//!   accounts from many different addresses (credential stuffing: the worst case, since
//!   every attempt costs an Argon2id hash and no per-account or per-address delay applies);
//! - the sign-in requests answered per second during the flood.
//!
//! `cargo run --release -p tw-bench --bin signin-flood` (full: 15 s of flood);
//! `TW_BENCH_QUICK=1` for a 4-second form (CI).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clock::{Clock, SystemClock};
use server::Config;

const FLOODERS: usize = 32;
const ORIGIN: &str = "http://localhost";

#[tokio::main]
async fn main() {
    let quick = std::env::var_os("TW_BENCH_QUICK").is_some();
    let flood_for = Duration::from_secs(if quick { 4 } else { 15 });
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        metrics_listen: None,
        public_url: Some(ORIGIN.into()),
        behind_proxy: vec!["127.0.0.1/32".parse().unwrap()],
        ..Config::default()
    };
    config.log_level = server::LogLevel::Error;
    // Every client here shares one loopback address at a rate no person reaches: the
    // sentinel watches (its cost is in the figures) but would otherwise throttle the
    // harness itself. Its defence is measured by the sentinel benchmark.
    config.sentinel.mode = server::SentinelMode::Watch;
    config.limits.max_connections = 4096;
    let running = server::start(config, Arc::new(SystemClock)).await.unwrap();
    let base = format!("http://{}", running.addr);
    let http = tw_bench::http_client();

    // A practice with a signed-in administrator whose security page we time.
    tw_bench::complete_setup(&running, &http).await;
    let db_url = format!("sqlite://{}", dir.path().join("telewarden.db").display());
    let keyring = store::keyring::Keyring::load_or_create(&dir.path().join("master.key")).unwrap();
    let cookie = session_for(&db_url, &keyring, "admin@bench.example").await;
    let page = |n: u64| {
        http.get(format!("{base}/account/security"))
            .header("cookie", &cookie)
            .header(
                "x-forwarded-for",
                format!("10.9.{}.{}", n / 250, n % 250 + 1),
            )
            .send()
    };
    assert_eq!(page(0).await.unwrap().status(), 200);

    // Phase 1: the page alone.
    let calm = sample_page(&page, flood_for).await;

    // Phase 2: the same page during the flood.
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    let throttled = Arc::new(AtomicU64::new(0));
    let mut flooders = Vec::new();
    for f in 0..FLOODERS {
        let (stop, answered, throttled, base) = (
            stop.clone(),
            answered.clone(),
            throttled.clone(),
            base.clone(),
        );
        let http = http.clone();
        flooders.push(tokio::spawn(async move {
            let mut i: u64 = 0;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let n = (f as u64) * 1_000_000 + i;
                let res = http
                    .post(format!("{base}/sign-in"))
                    .header("origin", ORIGIN)
                    .header(
                        "x-forwarded-for",
                        format!("203.{}.{}.{}", (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff),
                    )
                    .form(&[
                        ("email", format!("victim{n}@bench.example")),
                        ("password", "Summer2024!guess".into()),
                    ])
                    .send()
                    .await;
                if let Ok(res) = res {
                    if res.status() == 429 {
                        throttled.fetch_add(1, Ordering::Relaxed);
                    }
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let before = answered.load(Ordering::Relaxed);
    let flooded = sample_page(&page, flood_for).await;
    let signins = answered.load(Ordering::Relaxed) - before;
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    for f in flooders {
        let _ = f.await;
    }

    let rate = signins as f64 / elapsed.as_secs_f64();
    println!(
        "# Sign-in flood ({FLOODERS} concurrent clients, wrong passwords, distinct accounts and addresses, {:.0} s)",
        elapsed.as_secs_f64()
    );
    println!();
    println!("| measure | no flood | during flood | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| signed-in page p50 | {:.1} ms | {:.1} ms | {:.2}x |",
        ms(calm.p50),
        ms(flooded.p50),
        ms(flooded.p50) / ms(calm.p50)
    );
    println!(
        "| signed-in page p99 | {:.1} ms | {:.1} ms | {:.2}x |",
        ms(calm.p99),
        ms(flooded.p99),
        ms(flooded.p99) / ms(calm.p99)
    );
    println!(
        "| signed-in page requests | {} | {} | |",
        calm.count, flooded.count
    );
    println!(
        "| signed-in page answered within 1 s | {:.1}% | {:.1}% | |",
        calm.within_1s * 100.0,
        flooded.within_1s * 100.0
    );
    println!("| sign-in attempts answered per second | — | {rate:.1} | |");
    println!(
        "| of which delayed (429) | — | {} | |",
        throttled.load(Ordering::Relaxed)
    );
    running.shutdown().await.unwrap();
}

struct Sample {
    p50: Duration,
    p99: Duration,
    count: usize,
    within_1s: f64,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Requests the page back to back (one at a time) for `duration`.
async fn sample_page<F, Fut>(page: &F, duration: Duration) -> Sample
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = reqwest::Result<reqwest::Response>>,
{
    let end = Instant::now() + duration;
    let mut times = Vec::new();
    let mut n = 0;
    while Instant::now() < end {
        n += 1;
        let t = Instant::now();
        let res = page(n).await.unwrap();
        assert_eq!(res.status(), 200);
        let _ = res.bytes().await;
        times.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    times.sort();
    let pick = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize];
    Sample {
        p50: pick(0.5),
        p99: pick(0.99),
        count: times.len(),
        within_1s: times
            .iter()
            .filter(|t| **t <= Duration::from_secs(1))
            .count() as f64
            / times.len() as f64,
    }
}

async fn session_for(db_url: &str, keyring: &store::keyring::Keyring, email: &str) -> String {
    let db = store::Db::connect(db_url, &store::PoolSettings::default())
        .await
        .unwrap();
    let now = SystemClock.now_ms();
    let cookie = store::testing::session_cookie(&db, keyring, email, now, now).await;
    db.close().await;
    cookie
}
