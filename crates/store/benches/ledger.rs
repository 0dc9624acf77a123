//! Audit ledger throughput on SQLite, side by side:
//! - appends through the group-commit writer (many callers at once, as under load),
//!   against the same writer forced to one entry per transaction;
//! - full verification (`telewarden audit verify`), entries per second.
//!
//! `cargo bench -p store --bench ledger`. Set `TW_BENCH_QUICK=1` for a short run (CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use clock::SystemClock;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ledger::{LedgerConfig, NewEntry, Outcome, SigningKey};
use tokio::runtime::Runtime;

/// Concurrent callers appending, as requests do under load.
const CALLERS: u64 = 64;

fn entry(i: u64) -> NewEntry {
    NewEntry::new(
        "user:5f1c0d2a9b7e4c3f8a6d1e2b3c4d5e6f",
        "record.read",
        format!("patient:{i}"),
        Outcome::Success,
    )
    .source("203.0.113.17")
    .request_id(format!("{i:024x}"))
    .detail("resource", "Observation")
    .detail("bytes", 1834)
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn appends(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("ledger_append_sqlite");
    group.throughput(Throughput::Elements(1));
    if quick() {
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(3))
            .warm_up_time(Duration::from_secs(1));
    }
    for (name, batch_max) in [("group_commit", 512usize), ("one_per_transaction", 1)] {
        let t = rt.block_on(store::testing::sqlite());
        let config = LedgerConfig {
            batch_max,
            checkpoint_every: 1000,
            ..LedgerConfig::default()
        };
        let (handle, _task) = rt
            .block_on(ledger::open(
                t.db.clone(),
                SigningKey::from_bytes(&[9; 32]),
                Arc::new(SystemClock),
                config,
            ))
            .unwrap();
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let started = Instant::now();
                    let per_caller = iters.div_ceil(CALLERS);
                    let mut tasks = Vec::new();
                    for c in 0..CALLERS {
                        let h = handle.clone();
                        tasks.push(tokio::spawn(async move {
                            for i in 0..per_caller {
                                h.append(entry(c * per_caller + i)).await.unwrap();
                            }
                        }));
                    }
                    for t in tasks {
                        t.await.unwrap();
                    }
                    started
                        .elapsed()
                        .mul_f64(iters as f64 / (per_caller * CALLERS) as f64)
                })
            })
        });
        rt.block_on(handle.shutdown()).unwrap();
    }
    group.finish();
}

fn verification(c: &mut Criterion) {
    let rt = runtime();
    let n: u64 = if quick() { 5_000 } else { 50_000 };
    let t = rt.block_on(store::testing::sqlite());
    let key = SigningKey::from_bytes(&[9; 32]);
    let (handle, task) = rt
        .block_on(ledger::open(
            t.db.clone(),
            key.clone(),
            Arc::new(SystemClock),
            LedgerConfig::default(),
        ))
        .unwrap();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for c in 0..CALLERS {
            let h = handle.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..n / CALLERS {
                    h.append(entry(c * n + i)).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        handle.shutdown().await.unwrap();
        task.await.unwrap();
    });
    let verifying = key.verifying_key();
    let mut group = c.benchmark_group("ledger_verify_sqlite");
    group.throughput(Throughput::Elements(n / CALLERS * CALLERS));
    group.sample_size(10);
    if quick() {
        group
            .measurement_time(Duration::from_secs(3))
            .warm_up_time(Duration::from_secs(1));
    }
    group.bench_function("full_verify", |b| {
        b.iter(|| {
            let report = rt.block_on(ledger::verify(&t.db, &verifying)).unwrap();
            assert!(report.is_intact());
        })
    });
    group.finish();
}

fn quick() -> bool {
    std::env::var_os("TW_BENCH_QUICK").is_some()
}

criterion_group!(benches, appends, verification);
criterion_main!(benches);
