//! Shared test helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use clock::{ManualClock, SharedClock};
use ledger::{LedgerConfig, LedgerHandle, MemoryStore, NewEntry, Outcome, SigningKey};

pub const T0: i64 = 1_700_000_000_000;

pub fn key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

pub fn manual_clock() -> (Arc<ManualClock>, SharedClock) {
    let clock = Arc::new(ManualClock::at_ms(T0));
    let shared: SharedClock = clock.clone();
    (clock, shared)
}

pub fn entry(i: u64) -> NewEntry {
    NewEntry::new(
        format!("user-{}", i % 7),
        "record.read",
        format!("patient/{i}"),
        Outcome::Success,
    )
    .source("203.0.113.9")
    .request_id(format!("req-{i}"))
    .detail("i", i)
    .detail("note", "ünïcode ✓")
}

pub fn config(every: u64) -> LedgerConfig {
    LedgerConfig {
        checkpoint_every: every,
        checkpoint_interval: Duration::from_secs(3600),
        ..LedgerConfig::default()
    }
}

pub async fn open(store: &MemoryStore, every: u64) -> (LedgerHandle, tokio::task::JoinHandle<()>) {
    let (_, clock) = manual_clock();
    ledger::open(store.clone(), key(), clock, config(every))
        .await
        .unwrap()
}

/// A log of `n` entries with a checkpoint every `every` entries (and a final one).
pub async fn build_log(n: u64, every: u64) -> MemoryStore {
    let store = MemoryStore::new();
    let (handle, task) = open(&store, every).await;
    for i in 1..=n {
        let r = handle.append(entry(i)).await.unwrap();
        assert_eq!(r.seq, i);
    }
    handle.shutdown().await.unwrap();
    task.await.unwrap();
    store
}
