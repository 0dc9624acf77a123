//! The writer: group commit, failures, checkpoints, shutdown, resume, proofs.
// Helpers outside #[test] fns are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use ledger::{
    ConsistencyProof, InclusionProof, LedgerConfig, LedgerError, LedgerStore, MemoryStore,
    NewEntry, Outcome, SignedTreeHead, chain_hash, prove_consistency, prove_inclusion, verify,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_are_contiguous_distinct_and_grouped() {
    let store = MemoryStore::new();
    store.set_append_delay(Some(Duration::from_millis(20)));
    let (handle, task) = open(&store, 1000).await;
    let mut tasks = Vec::new();
    for i in 0..200u64 {
        let h = handle.clone();
        tasks.push(tokio::spawn(async move { h.append(entry(i)).await }));
    }
    let mut seqs = HashSet::new();
    for t in tasks {
        let r = t.await.unwrap().unwrap();
        assert!(seqs.insert(r.seq), "duplicate receipt seq {}", r.seq);
    }
    assert_eq!(seqs, (1..=200).collect::<HashSet<u64>>());

    let rows = store.rows();
    assert_eq!(rows.len(), 200);
    let mut prev = ledger::GENESIS_CHAIN;
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.seq, i as u64 + 1);
        assert_eq!(row.chain_hash, chain_hash(&prev, &row.leaf_hash));
        prev = row.chain_hash;
    }
    let stats = handle.stats();
    assert_eq!(stats.appends, 200);
    assert!(stats.batches < 200, "no grouping: {stats:?}");
    assert!(stats.largest_batch > 1, "no grouping: {stats:?}");
    assert_eq!(stats.batches, store.append_calls());
    handle.shutdown().await.unwrap();
    task.await.unwrap();
    let report = verify(&store, &key().verifying_key()).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.entries, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_batch_fails_every_caller_and_the_next_append_chains() {
    let store = MemoryStore::new();
    let (handle, task) = open(&store, 1000).await;
    handle.append(entry(0)).await.unwrap();

    // Queue several appends behind a slow, failing append so they share its fate or
    // the next batch's.
    store.set_append_delay(Some(Duration::from_millis(30)));
    store.fail_next_appends(usize::MAX);
    let mut tasks = Vec::new();
    for i in 1..=20u64 {
        let h = handle.clone();
        tasks.push(tokio::spawn(async move { h.append(entry(i)).await }));
    }
    for t in tasks {
        assert!(matches!(t.await.unwrap(), Err(LedgerError::Store(_))));
    }
    let stats = handle.stats();
    assert_eq!(stats.appends, 1);
    assert_eq!(stats.failed_appends, 20);
    assert_eq!(stats.failed_batches, stats.batches - 1);
    assert_eq!(stats.tree_size, 1);
    assert_eq!(store.len(), 1);

    // The store recovers: the next append continues from the last durable state.
    store.fail_next_appends(0);
    store.set_append_delay(None);
    let r = handle.append(entry(99)).await.unwrap();
    assert_eq!(r.seq, 2);
    let rows = store.rows();
    assert_eq!(
        rows[1].chain_hash,
        chain_hash(&rows[0].chain_hash, &rows[1].leaf_hash)
    );
    handle.shutdown().await.unwrap();
    task.await.unwrap();
    assert!(
        verify(&store, &key().verifying_key())
            .await
            .unwrap()
            .is_intact()
    );
}

#[tokio::test]
async fn unavailable_store_then_recovery() {
    let store = MemoryStore::new();
    let (handle, task) = open(&store, 1000).await;
    handle.append(entry(1)).await.unwrap();
    store.set_unavailable(true);
    assert!(matches!(
        handle.append(entry(2)).await,
        Err(LedgerError::Store(_))
    ));
    // Still down while resyncing: fails again, without advancing.
    assert!(matches!(
        handle.append(entry(3)).await,
        Err(LedgerError::Store(_))
    ));
    store.set_unavailable(false);
    assert_eq!(handle.append(entry(4)).await.unwrap().seq, 2);
    handle.shutdown().await.unwrap();
    task.await.unwrap();
    assert!(
        verify(&store, &key().verifying_key())
            .await
            .unwrap()
            .is_intact()
    );
}

#[tokio::test]
async fn a_batch_committed_despite_an_error_is_kept() {
    let store = MemoryStore::new();
    let (handle, task) = open(&store, 1000).await;
    handle.append(entry(1)).await.unwrap();
    store.fail_next_appends_after_commit(1);
    assert!(matches!(
        handle.append(entry(2)).await,
        Err(LedgerError::Store(_))
    ));
    // The row is in the store; the writer notices and continues after it.
    let r = handle.append(entry(3)).await.unwrap();
    assert_eq!(r.seq, 3);
    assert_eq!(handle.stats().tree_size, 3);
    handle.shutdown().await.unwrap();
    task.await.unwrap();
    let report = verify(&store, &key().verifying_key()).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.entries, 3);
}

#[tokio::test]
async fn a_foreign_head_stops_appending() {
    let store = MemoryStore::new();
    let (handle, task) = open(&store, 1000).await;
    handle.append(entry(1)).await.unwrap();
    store.fail_next_appends(1);
    assert!(handle.append(entry(2)).await.is_err());
    // Someone else appends while the writer was in doubt.
    let prev = store.rows()[0].chain_hash;
    let foreign = ledger::StoredEntry::seal(entry(77), 2, T0, &prev).unwrap();
    store.append(&[foreign]).await.unwrap();
    assert!(matches!(
        handle.append(entry(3)).await,
        Err(LedgerError::Tampered { seq: 2, .. })
    ));
    assert!(handle.stats().poisoned);
    assert!(matches!(
        handle.append(entry(4)).await,
        Err(LedgerError::Tampered { .. })
    ));
    handle.shutdown().await.unwrap();
    task.await.unwrap();
}

#[tokio::test]
async fn shutdown_drains_queued_appends_and_checkpoints() {
    let store = MemoryStore::new();
    store.set_append_delay(Some(Duration::from_millis(10)));
    let (handle, task) = open(&store, 1000).await;
    let mut tasks = Vec::new();
    for i in 0..50u64 {
        let h = handle.clone();
        tasks.push(tokio::spawn(async move { h.append(entry(i)).await }));
    }
    // Let every task enqueue, then ask for shutdown behind them.
    while handle.stats().queued + handle.stats().appends < 49 {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    handle.shutdown().await.unwrap();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    task.await.unwrap();
    assert_eq!(store.len(), 50);
    let cps = store.stored_checkpoints();
    assert_eq!(cps.last().unwrap().sth.head.size, 50);
    assert!(matches!(
        handle.append(entry(1)).await,
        Err(LedgerError::Closed)
    ));
    assert!(matches!(
        handle.checkpoint_now().await,
        Err(LedgerError::Closed)
    ));
    assert!(handle.is_closed());
    handle.shutdown().await.unwrap(); // idempotent
}

#[tokio::test]
async fn dropping_every_handle_drains_and_checkpoints() {
    let store = MemoryStore::new();
    let (handle, task) = open(&store, 1000).await;
    handle.append(entry(1)).await.unwrap();
    drop(handle);
    task.await.unwrap();
    assert_eq!(store.stored_checkpoints().last().unwrap().sth.head.size, 1);
}

#[tokio::test]
async fn checkpoints_by_count_and_on_demand() {
    let store = MemoryStore::new();
    let (handle, task) = open(&store, 10).await;
    // Empty log: a checkpoint of size 0 on demand.
    let sth0 = handle.checkpoint_now().await.unwrap();
    assert_eq!(sth0.head.size, 0);
    assert_eq!(sth0.head.root, ledger::EMPTY_ROOT);
    for i in 1..=25 {
        handle.append(entry(i)).await.unwrap();
    }
    let sizes: Vec<u64> = store
        .stored_checkpoints()
        .iter()
        .map(|c| c.sth.head.size)
        .collect();
    assert_eq!(sizes, vec![0, 10, 20]);
    let sth = handle.checkpoint_now().await.unwrap();
    assert_eq!(sth.head.size, 25);
    sth.verify(&handle.verifying_key()).unwrap();
    // Nothing new: the same head comes back, nothing is saved.
    assert_eq!(handle.checkpoint_now().await.unwrap(), sth);
    assert_eq!(store.stored_checkpoints().len(), 4);
    assert_eq!(handle.latest_head().await, Some(sth));
    assert_eq!(handle.stats().checkpoints, 4);
    assert_eq!(handle.stats().checkpointed_size, 25);
    handle.shutdown().await.unwrap();
    task.await.unwrap();
    assert_eq!(
        store.stored_checkpoints().len(),
        4,
        "no empty final checkpoint"
    );
}

#[tokio::test]
async fn checkpoints_by_interval_when_idle() {
    let store = MemoryStore::new();
    let (_, clock) = manual_clock();
    let config = LedgerConfig {
        checkpoint_interval: Duration::from_millis(50),
        ..LedgerConfig::default()
    };
    let (handle, task) = ledger::open(store.clone(), key(), clock, config)
        .await
        .unwrap();
    handle.append(entry(1)).await.unwrap();
    handle.append(entry(2)).await.unwrap();
    let last_size = || store.stored_checkpoints().last().map(|c| c.sth.head.size);
    let mut waited = 0;
    while last_size() != Some(2) && waited < 200 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    }
    assert_eq!(last_size(), Some(2));
    // Idle with nothing new: no more checkpoints.
    let count = store.stored_checkpoints().len();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(store.stored_checkpoints().len(), count);
    handle.shutdown().await.unwrap();
    task.await.unwrap();
}

#[tokio::test]
async fn failing_checkpoint_is_reported_and_retried() {
    let store = MemoryStore::new();
    let (handle, task) = open(&store, 1000).await;
    handle.append(entry(1)).await.unwrap();
    store.set_checkpoints_failing(true);
    assert!(matches!(
        handle.checkpoint_now().await,
        Err(LedgerError::Store(_))
    ));
    assert_eq!(handle.stats().failed_checkpoints, 1);
    store.set_checkpoints_failing(false);
    assert_eq!(handle.checkpoint_now().await.unwrap().head.size, 1);
    handle.shutdown().await.unwrap();
    task.await.unwrap();
}

#[tokio::test]
async fn resume_continues_the_chain_and_signs_the_unsigned_tail() {
    let store = build_log(23, 10).await; // checkpoints 10, 20, 23
    // Entries after the last checkpoint, as if the server crashed before signing.
    {
        let (clock, shared) = manual_clock();
        clock.advance_ms(1000);
        let (h, task) = ledger::open(store.clone(), key(), shared, config(1000))
            .await
            .unwrap();
        assert_eq!(h.stats().tree_size, 23);
        assert_eq!(h.latest_head().await.unwrap().head.size, 23);
        assert_eq!(h.append(entry(24)).await.unwrap().seq, 24);
        assert_eq!(h.append(entry(25)).await.unwrap().seq, 25);
        // Abort without the final checkpoint: simulate a crash.
        task.abort();
        let _ = task.await;
        drop(h);
    }
    assert_eq!(store.stored_checkpoints().last().unwrap().sth.head.size, 23);
    let (h, task) = open(&store, 1000).await;
    assert_eq!(h.stats().tree_size, 25);
    assert_eq!(h.append(entry(26)).await.unwrap().seq, 26);
    // The unsigned tail was signed at start, before any new work.
    let sizes: Vec<u64> = store
        .stored_checkpoints()
        .iter()
        .map(|c| c.sth.head.size)
        .collect();
    assert_eq!(sizes, vec![10, 20, 23, 25]);
    h.shutdown().await.unwrap();
    task.await.unwrap();
    let report = verify(&store, &key().verifying_key()).await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.entries, 26);
}

#[tokio::test]
async fn time_comes_from_the_clock_and_never_runs_backwards() {
    let store = MemoryStore::new();
    let (clock, shared) = manual_clock();
    let (h, task) = ledger::open(store.clone(), key(), shared, config(1000))
        .await
        .unwrap();
    assert_eq!(h.append(entry(1)).await.unwrap().time_ms, T0);
    clock.advance_ms(5);
    assert_eq!(h.append(entry(2)).await.unwrap().time_ms, T0 + 5);
    clock.advance_ms(-100);
    assert_eq!(h.append(entry(3)).await.unwrap().time_ms, T0 + 5);
    h.shutdown().await.unwrap();
    task.await.unwrap();
}

#[tokio::test]
async fn invalid_entries_are_refused_before_queueing() {
    let store = MemoryStore::new();
    let (h, task) = open(&store, 1000).await;
    let big = NewEntry::new("a", "b", "c", Outcome::Failure).detail("k", "x".repeat(20_000));
    assert!(matches!(h.append(big).await, Err(LedgerError::Invalid(_))));
    assert_eq!(h.stats().batches, 0);
    h.shutdown().await.unwrap();
    task.await.unwrap();
    assert!(store.is_empty());
}

#[tokio::test]
async fn bad_config_is_refused() {
    let (_, clock) = manual_clock();
    let config = LedgerConfig {
        queue_capacity: 0,
        ..LedgerConfig::default()
    };
    let r = ledger::open(MemoryStore::new(), key(), clock, config).await;
    assert!(matches!(r, Err(LedgerError::Invalid(_))));
}

#[tokio::test]
async fn inclusion_and_consistency_proofs_verify_offline() {
    let store = build_log(37, 10).await;
    let cps = store.checkpoints().await.unwrap();
    let heads: Vec<SignedTreeHead> = cps.iter().map(|c| c.sth.clone()).collect();
    let vk = key().verifying_key();
    let latest = heads.last().unwrap().clone();
    assert_eq!(latest.head.size, 37);
    for seq in 1..=37 {
        let proof = prove_inclusion(&store, seq, &latest).await.unwrap();
        // Through JSON, as it would travel.
        let json = serde_json::to_string(&proof).unwrap();
        let back: InclusionProof = serde_json::from_str(&json).unwrap();
        back.verify(&vk).unwrap();
    }
    let mut forged = prove_inclusion(&store, 5, &latest).await.unwrap();
    forged.entry.actor = "someone-else".into();
    assert!(forged.verify(&vk).is_err());
    let mut forged = prove_inclusion(&store, 5, &latest).await.unwrap();
    forged.entry.leaf_hash = forged.entry.compute_leaf_hash();
    forged.leaf_index = 6;
    assert!(forged.verify(&vk).is_err());
    assert!(prove_inclusion(&store, 38, &latest).await.is_err());
    assert!(prove_inclusion(&store, 0, &latest).await.is_err());

    for old in &heads {
        for new in &heads {
            let r = prove_consistency(&store, old, new).await;
            if old.head.size > new.head.size {
                assert!(r.is_err());
                continue;
            }
            let proof = r.unwrap();
            let json = serde_json::to_string(&proof).unwrap();
            let back: ConsistencyProof = serde_json::from_str(&json).unwrap();
            back.verify(&vk).unwrap();
        }
    }
    // A proof under another key does not verify.
    let other = ledger::SigningKey::from_bytes(&[9; 32]).verifying_key();
    let p = prove_consistency(&store, &heads[1], &latest).await.unwrap();
    assert!(p.verify(&other).is_err());
}

#[tokio::test]
async fn proofs_refuse_a_rewritten_log() {
    let store = build_log(20, 10).await;
    let cps = store.checkpoints().await.unwrap();
    let latest = cps.last().unwrap().sth.clone();
    store.tamper_modify(3, |e| e.target = "patient/other".into());
    store.tamper_rehash_from(3);
    assert!(matches!(
        prove_inclusion(&store, 3, &latest).await,
        Err(LedgerError::Tampered { .. })
    ));
    assert!(matches!(
        prove_consistency(&store, &cps[1].sth, &latest).await,
        Err(LedgerError::Tampered { .. })
    ));
}

#[tokio::test]
async fn handle_is_cheap_send_sync_and_debug() {
    fn assert_traits<T: Clone + Send + Sync + std::fmt::Debug + 'static>() {}
    assert_traits::<ledger::LedgerHandle>();
    let store = MemoryStore::new();
    let (h, task) = open(&store, 1000).await;
    assert!(format!("{h:?}").contains(&h.key_id()));
    let _ = Arc::new(h.clone());
    h.shutdown().await.unwrap();
    task.await.unwrap();
}
