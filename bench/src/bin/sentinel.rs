//! The sentinel measured: a benign clinic day, real attack tools, exfiltration, spread
//! credential stuffing, memory per tracked source, the layer's overhead and the CRS
//! inspector table, printed as one Markdown report.
//!
//! Everything runs on loopback. Each measure that attacks starts its own Telewarden
//! (in this process, SQLite in a fresh directory, sentinel enforcing), because every
//! Debian tool's traffic comes from 127.0.0.1: a block earned by one tool must not
//! count for the next. Benign clients come from other addresses (127.0.1.x–127.0.7.x;
//! the clinic NAT is 127.0.5.1), bound with `local_address`; the server sees the real
//! peer address. Every loop is bounded in count and time, and every tool runs under a
//! timeout and is killed if it overruns.
//!
//! `cargo run --release -p tw-bench --bin sentinel-attacks` (full form, about 20
//! minutes); `TW_BENCH_QUICK=1` for the short form (CI, under 4 minutes on 2 cores).
//! The Debian tools (hydra, sqlmap, slowhttptest, wrk) are installed with apt-get when
//! missing and running as root; otherwise their rows say why they were skipped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::too_many_lines
)]

#[path = "../sentinel/attacks.rs"]
mod attacks;
#[path = "../sentinel/benign.rs"]
mod benign;
#[path = "../sentinel/clinic.rs"]
mod clinic;
#[path = "../sentinel/cost.rs"]
mod cost;
#[path = "../sentinel/report.rs"]
mod report;
#[path = "../sentinel/tools.rs"]
mod tools;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use clock::{Clock, SystemClock};

#[tokio::main]
async fn main() {
    let quick = std::env::var_os("TW_BENCH_QUICK").is_some();
    let whole = Instant::now();
    let missing = tools::ensure().await;
    let mut r = report::Report::new(quick);
    // The CRS table (the inspector alone, and perhaps a build) beside everything else.
    let crs = tokio::spawn(report::run_crs(quick));

    // 1. The benign clinic day.
    eprintln!("benign: setting up the practice");
    let size = clinic::Size {
        clinicians: 8,
        patients: if quick { 40 } else { 120 },
        per_clinician: 12,
        exfil_patients: 0,
    };
    let day = clinic::start(server::SentinelMode::Enforce, size).await;
    let load = benign::Load {
        duration: Duration::from_secs(if quick { 30 } else { 180 }),
        patients: size.patients,
        clinicians: size.clinicians,
        front_desk: true,
        think_min_ms: 300,
        think_spread_ms: 1_500,
        mistype_percent: 15,
    };
    eprintln!("benign: the clinic day ({} s)", load.duration.as_secs());
    let since = SystemClock.now_ms();
    let seen = benign::run(&day, load, 1, Arc::new(AtomicBool::new(false))).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let alerts: Vec<_> = day
        .alerts()
        .await
        .into_iter()
        .filter(|a| a.first_ms >= since)
        .collect();
    r.benign(&load, &size, seen, &alerts);
    day.stop().await;

    // 2. The attack tools.
    let hydra = attacks::hydra(quick, &missing).await;
    let sqlmap = attacks::sqlmap(quick, &missing).await;
    let slowloris = attacks::slowhttptest(quick, false, &missing).await;
    let slowbody = attacks::slowhttptest(quick, true, &missing).await;
    let flood = attacks::wrk(quick, &missing).await.unwrap();
    // 4. Spread stuffing (a tool of our own, many addresses).
    let stuffing = attacks::spread_stuffing(quick).await;
    r.attacks(&[
        &hydra,
        &sqlmap,
        &slowloris,
        &slowbody,
        &flood.outcome,
        &stuffing,
    ]);
    r.flood(flood);

    // 3. Exfiltration.
    let exfil = attacks::exfiltration(quick).await;
    r.exfiltration(&exfil);

    // 5. Memory.
    let steps: &[u64] = if quick {
        &[10_000, 100_000]
    } else {
        &[10_000, 100_000, 1_000_000]
    };
    r.memory(&cost::memory(steps));

    // 6. Overhead.
    r.overhead(&cost::overhead(quick).await);

    // 7. CRS.
    r.crs(crs.await.unwrap_or(None));

    r.summary(whole.elapsed());
    print!("{}", r.text());
}
