//! Tampering with stored rows and checkpoints: `verify` names the first bad seq and
//! its kind; `open` refuses to resume.
// Helpers outside #[test] fns are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use ledger::{LedgerError, MemoryStore, ProblemKind, StoredEntry, VerifyReport, verify};

/// 20 entries, checkpoints at 5, 10, 15, 20.
async fn log() -> MemoryStore {
    let store = build_log(20, 5).await;
    let sizes: Vec<u64> = store
        .stored_checkpoints()
        .iter()
        .map(|c| c.sth.head.size)
        .collect();
    assert_eq!(sizes, vec![5, 10, 15, 20]);
    store
}

async fn report(store: &MemoryStore) -> VerifyReport {
    verify(store, &key().verifying_key()).await.unwrap()
}

async fn assert_problem(store: &MemoryStore, seq: u64, kind: ProblemKind) -> VerifyReport {
    let r = report(store).await;
    let p = r
        .problem
        .clone()
        .unwrap_or_else(|| panic!("no problem found; wanted {kind} at {seq}"));
    assert_eq!((p.seq, p.kind), (seq, kind), "{p}");
    r
}

/// Recomputes leaf hashes (but not chain hashes) from `seq` on.
fn rehash_leaves_only(store: &MemoryStore, seq: u64) {
    store.tamper_rows(|rows| {
        for r in rows.iter_mut().filter(|r| r.seq >= seq) {
            r.leaf_hash = r.compute_leaf_hash();
        }
    });
}

fn row_after(store: &MemoryStore, seq: u64) -> StoredEntry {
    let prev = store.rows()[seq as usize - 2].chain_hash;
    StoredEntry::seal(entry(1000), seq, T0, &prev).unwrap()
}

#[tokio::test]
async fn intact_log_verifies() {
    let r = report(&log().await).await;
    assert_eq!(
        r,
        VerifyReport {
            entries: 20,
            checkpoints: 4,
            problem: None
        }
    );
    let empty = report(&MemoryStore::new()).await;
    assert!(empty.is_intact());
    assert_eq!(empty.entries, 0);
}

#[tokio::test]
async fn modified_field() {
    let store = log().await;
    store.tamper_modify(7, |e| e.outcome = ledger::Outcome::Denied);
    let r = assert_problem(&store, 7, ProblemKind::ContentModified).await;
    assert_eq!(r.entries, 6);
    assert_eq!(r.checkpoints, 1);

    let store = log().await;
    store.tamper_modify(13, |e| e.details = r#"{"i":13}"#.into());
    assert_problem(&store, 13, ProblemKind::ContentModified).await;

    let store = log().await;
    store.tamper_modify(1, |e| e.time_ms -= 1);
    assert_problem(&store, 1, ProblemKind::ContentModified).await;
}

#[tokio::test]
async fn deleted_row_leaves_a_gap() {
    let store = log().await;
    store.tamper_delete(7);
    assert_problem(&store, 7, ProblemKind::MissingSeq).await;
}

#[tokio::test]
async fn deleted_row_with_renumbering() {
    let store = log().await;
    store.tamper_delete_renumber(7);
    assert_problem(&store, 7, ProblemKind::ContentModified).await;

    let store = log().await;
    store.tamper_delete_renumber(7);
    rehash_leaves_only(&store, 7);
    assert_problem(&store, 7, ProblemKind::ChainBroken).await;

    let store = log().await;
    store.tamper_delete_renumber(7);
    store.tamper_rehash_from(7);
    let r = assert_problem(&store, 6, ProblemKind::CheckpointRootMismatch).await;
    assert!(r.problem.unwrap().detail.contains("6..=10"));
}

#[tokio::test]
async fn inserted_row() {
    let store = log().await;
    store.tamper_insert(row_after(&store, 7));
    // The inserted row is self-consistent; the first row it displaced is not.
    assert_problem(&store, 8, ProblemKind::ContentModified).await;

    let store = log().await;
    store.tamper_insert(row_after(&store, 7));
    rehash_leaves_only(&store, 8);
    assert_problem(&store, 8, ProblemKind::ChainBroken).await;

    let store = log().await;
    store.tamper_insert(row_after(&store, 12));
    store.tamper_rehash_from(12);
    assert_problem(&store, 11, ProblemKind::CheckpointRootMismatch).await;
}

#[tokio::test]
async fn swapped_rows() {
    let store = log().await;
    assert!(store.tamper_swap(7, 9));
    assert_problem(&store, 7, ProblemKind::ContentModified).await;

    let store = log().await;
    store.tamper_swap(7, 9);
    rehash_leaves_only(&store, 7);
    assert_problem(&store, 7, ProblemKind::ChainBroken).await;
}

#[tokio::test]
async fn truncated_tail() {
    let store = log().await;
    store.tamper_truncate(17);
    let r = assert_problem(&store, 18, ProblemKind::TruncatedTail).await;
    assert_eq!(r.entries, 17);
    assert_eq!(r.checkpoints, 3);

    let store = log().await;
    store.tamper_truncate(12);
    assert_problem(&store, 13, ProblemKind::TruncatedTail).await;

    let store = log().await;
    store.tamper_truncate(0);
    assert_problem(&store, 1, ProblemKind::TruncatedTail).await;
}

#[tokio::test]
async fn duplicate_seq() {
    let store = log().await;
    store.tamper_rows(|rows| {
        let dup = rows[6].clone();
        rows.push(dup);
    });
    assert_problem(&store, 7, ProblemKind::OutOfOrder).await;
}

#[tokio::test]
async fn full_rewrite_is_caught_by_the_signed_root() {
    let store = log().await;
    store.tamper_modify(12, |e| e.actor = "nobody".into());
    store.tamper_rehash_from(12);
    let r = assert_problem(&store, 11, ProblemKind::CheckpointRootMismatch).await;
    let p = r.problem.unwrap();
    assert!(p.detail.contains("11..=15"), "{}", p.detail);
    assert!(p.detail.contains("recomputed"), "{}", p.detail);
    assert_eq!(r.entries, 15);
    assert_eq!(r.checkpoints, 2);

    // Before the first checkpoint, the range starts at 1.
    let store = log().await;
    store.tamper_modify(2, |e| e.actor = "nobody".into());
    store.tamper_rehash_from(2);
    assert_problem(&store, 1, ProblemKind::CheckpointRootMismatch).await;
}

#[tokio::test]
async fn bad_checkpoints() {
    let store = log().await;
    store.tamper_checkpoints(|cps| cps[1].sth.signature[10] ^= 1);
    assert_problem(&store, 10, ProblemKind::BadCheckpointSignature).await;

    let store = log().await;
    store.tamper_checkpoints(|cps| cps[2].sth.head.root[0] ^= 1);
    assert_problem(&store, 15, ProblemKind::BadCheckpointSignature).await;

    // Signed by some other key.
    let store = log().await;
    let other = ledger::SigningKey::from_bytes(&[1; 32]);
    store.tamper_checkpoints(|cps| cps[0].sth = cps[0].sth.head.sign(&other));
    assert_problem(&store, 5, ProblemKind::BadCheckpointSignature).await;

    let store = log().await;
    store.tamper_checkpoints(|cps| cps[1].frontier[0][0] ^= 1);
    assert_problem(&store, 10, ProblemKind::BadCheckpointFrontier).await;

    // A forged checkpoint beyond the end is a bad signature, not a truncation.
    let store = log().await;
    store.tamper_checkpoints(|cps| {
        let mut forged = cps[3].clone();
        forged.sth.head.size = 30;
        cps.push(forged);
    });
    assert_problem(&store, 30, ProblemKind::BadCheckpointSignature).await;
}

#[tokio::test]
async fn the_first_problem_wins() {
    let store = log().await;
    store.tamper_modify(14, |e| e.actor = "x".into());
    store.tamper_delete(9);
    store.tamper_checkpoints(|cps| cps[3].sth.signature[0] ^= 1);
    assert_problem(&store, 9, ProblemKind::MissingSeq).await;
}

/// 20 signed entries plus 3 unsigned ones (the server stopped before signing them).
async fn log_with_unsigned_tail() -> MemoryStore {
    let store = log().await;
    let (h, task) = open(&store, 1000).await;
    for i in 21..=23 {
        h.append(entry(i)).await.unwrap();
    }
    task.abort();
    let _ = task.await;
    drop(h);
    assert_eq!(store.stored_checkpoints().last().unwrap().sth.head.size, 20);
    store
}

async fn open_err(store: &MemoryStore) -> (u64, String) {
    let (_, clock) = manual_clock();
    match ledger::open(store.clone(), key(), clock, config(1000)).await {
        Err(LedgerError::Tampered { seq, reason }) => (seq, reason),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("open accepted a tampered log"),
    }
}

#[tokio::test]
async fn open_refuses_tampering_it_can_see() {
    let store = log_with_unsigned_tail().await;
    assert!(report(&store).await.is_intact());
    store.tamper_modify(22, |e| e.target = "elsewhere".into());
    assert_eq!(open_err(&store).await.0, 22);

    let store = log_with_unsigned_tail().await;
    store.tamper_delete(22);
    assert_eq!(open_err(&store).await.0, 22);

    let store = log_with_unsigned_tail().await;
    store.tamper_delete_renumber(21);
    rehash_leaves_only(&store, 21);
    assert_eq!(open_err(&store).await.0, 21);

    let store = log().await;
    store.tamper_truncate(17);
    let (seq, reason) = open_err(&store).await;
    assert_eq!(seq, 18);
    assert!(reason.contains("truncated"), "{reason}");

    let store = log().await;
    store.tamper_truncate(0);
    assert_eq!(open_err(&store).await.0, 1);

    let store = log().await;
    store.tamper_modify(20, |e| e.actor = "x".into());
    assert_eq!(open_err(&store).await.0, 20);

    let store = log().await;
    store.tamper_checkpoints(|cps| cps[3].sth.signature[0] ^= 1);
    assert_eq!(open_err(&store).await.0, 20);

    let store = log().await;
    store.tamper_checkpoints(|cps| cps[3].frontier[0][0] ^= 1);
    assert_eq!(open_err(&store).await.0, 20);
}

#[tokio::test]
async fn open_refuses_another_key() {
    let store = log().await;
    let (_, clock) = manual_clock();
    let other = ledger::SigningKey::from_bytes(&[3; 32]);
    let r = ledger::open(store, other, clock, config(1000)).await;
    assert!(matches!(r, Err(LedgerError::Tampered { seq: 20, .. })));
}
