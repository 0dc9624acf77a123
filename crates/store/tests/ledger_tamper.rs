//! The audit ledger on the real databases: appends through the group-commit writer, then
//! direct edits of the stored rows, each of which `ledger::verify` must catch at the
//! first bad sequence number. Runs on SQLite and, when configured, PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use clock::ManualClock;
use ledger::{LedgerConfig, LedgerStore, NewEntry, Outcome, ProblemKind, SigningKey};
use store::testing::{self, LedgerEdit, TestDb};

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

/// Writes `n` entries and a checkpoint every 10 entries, then shuts the writer down.
async fn fill(t: &TestDb, n: u64) {
    let clock = Arc::new(ManualClock::at_ms(1_750_000_000_000));
    let config = LedgerConfig {
        checkpoint_every: 10,
        checkpoint_interval: Duration::from_secs(3600),
        ..LedgerConfig::default()
    };
    let (handle, task) = ledger::open(t.db.clone(), key(), clock.clone(), config)
        .await
        .unwrap();
    for i in 1..=n {
        clock.advance_ms(1_000);
        let r = handle
            .append(
                NewEntry::new(
                    "user:u1",
                    "record.read",
                    format!("patient:{i}"),
                    Outcome::Success,
                )
                .source("127.0.0.1")
                .request_id(format!("req-{i}"))
                .detail("n", i),
            )
            .await
            .unwrap();
        assert_eq!(r.seq, i);
    }
    handle.shutdown().await.unwrap();
    task.await.unwrap();
}

async fn first_problem(t: &TestDb) -> Option<(u64, ProblemKind)> {
    let report = ledger::verify(&t.db, &key().verifying_key()).await.unwrap();
    report.problem.map(|p| (p.seq, p.kind))
}

#[tokio::test]
async fn intact_ledger_verifies_on_both_databases() {
    for t in testing::backends().await {
        fill(&t, 25).await;
        let report = ledger::verify(&t.db, &key().verifying_key()).await.unwrap();
        assert!(report.is_intact(), "{:?}: {report:?}", t.backend());
        assert_eq!(report.entries, 25);
        // 10, 20 and the final checkpoint at 25 written on shutdown.
        assert_eq!(report.checkpoints, 3);
        assert_eq!(
            t.db.latest_checkpoint()
                .await
                .unwrap()
                .unwrap()
                .sth
                .head
                .size,
            25
        );
    }
}

#[tokio::test]
async fn modified_row_is_named() {
    for t in testing::backends().await {
        fill(&t, 25).await;
        LedgerEdit::Modify(7).apply(&t.db).await.unwrap();
        assert_eq!(
            first_problem(&t).await,
            Some((7, ProblemKind::ContentModified)),
            "{:?}",
            t.backend()
        );
    }
}

#[tokio::test]
async fn deleted_row_is_named() {
    for t in testing::backends().await {
        fill(&t, 25).await;
        LedgerEdit::Delete(12).apply(&t.db).await.unwrap();
        assert_eq!(
            first_problem(&t).await,
            Some((12, ProblemKind::MissingSeq)),
            "{:?}",
            t.backend()
        );
    }
}

#[tokio::test]
async fn deleted_row_with_renumbering_is_named() {
    for t in testing::backends().await {
        fill(&t, 25).await;
        t.exec("DELETE FROM ledger_entries WHERE seq = 12")
            .await
            .unwrap();
        // Close the gap, lowest first so the primary key never collides.
        for seq in 13..=25 {
            t.exec(&format!(
                "UPDATE ledger_entries SET seq = {} WHERE seq = {seq}",
                seq - 1
            ))
            .await
            .unwrap();
        }
        let (seq, kind) = first_problem(&t).await.unwrap();
        assert_eq!(seq, 12, "{:?}", t.backend());
        assert!(
            matches!(
                kind,
                ProblemKind::ContentModified | ProblemKind::ChainBroken
            ),
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn inserted_row_is_named() {
    for t in testing::backends().await {
        fill(&t, 25).await;
        // Make room at 9, then forge a row there copying 8's hashes.
        LedgerEdit::Insert(9).apply(&t.db).await.unwrap();
        let (seq, kind) = first_problem(&t).await.unwrap();
        assert_eq!(seq, 9, "{:?}", t.backend());
        assert!(
            matches!(
                kind,
                ProblemKind::ContentModified | ProblemKind::ChainBroken
            ),
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn reordered_rows_are_named() {
    for t in testing::backends().await {
        fill(&t, 25).await;
        // Swap 15 and 16.
        LedgerEdit::Swap(15).apply(&t.db).await.unwrap();
        let (seq, kind) = first_problem(&t).await.unwrap();
        assert_eq!(seq, 15, "{:?}", t.backend());
        assert!(
            matches!(
                kind,
                ProblemKind::ContentModified | ProblemKind::ChainBroken
            ),
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn truncated_tail_after_signed_head_is_named() {
    for t in testing::backends().await {
        fill(&t, 25).await;
        LedgerEdit::TruncateAfter(21).apply(&t.db).await.unwrap();
        assert_eq!(
            first_problem(&t).await,
            Some((22, ProblemKind::TruncatedTail)),
            "{:?}",
            t.backend()
        );
    }
}

#[tokio::test]
async fn rewritten_history_with_recomputed_hashes_is_caught_by_the_signed_head() {
    for t in testing::backends().await {
        fill(&t, 25).await;
        // The attacker edits entry 14 and recomputes every hash after it.
        let mut rows = t.db.entries(1, 100).await.unwrap();
        rows[13].target = "patient:forged".into();
        let mut prev = rows[12].chain_hash;
        for row in rows.iter_mut().skip(13) {
            row.recompute_hashes(&prev);
            prev = row.chain_hash;
            t.exec(&format!(
                "UPDATE ledger_entries SET target = '{}', leaf_hash = '{}', chain_hash = '{}' WHERE seq = {}",
                row.target,
                hex_of(&row.leaf_hash),
                hex_of(&row.chain_hash),
                row.seq
            ))
            .await
            .unwrap();
        }
        let (seq, kind) = first_problem(&t).await.unwrap();
        assert_eq!(
            kind,
            ProblemKind::CheckpointRootMismatch,
            "{:?}",
            t.backend()
        );
        // Between the last good signed head (10) and the first bad one (20).
        assert_eq!(seq, 11);
    }
}

#[tokio::test]
async fn writer_resumes_and_refuses_a_tampered_tail() {
    for t in testing::backends().await {
        fill(&t, 12).await;
        // A clean restart continues the chain.
        fill_more(&t, 13).await;
        assert!(
            ledger::verify(&t.db, &key().verifying_key())
                .await
                .unwrap()
                .is_intact()
        );
        // Tamper with an entry after the last checkpoint: the writer refuses to open.
        t.exec("UPDATE ledger_entries SET outcome = 'denied' WHERE seq = (SELECT MAX(seq) FROM ledger_entries)")
            .await
            .unwrap();
        let clock = Arc::new(ManualClock::at_ms(1_760_000_000_000));
        let opened = ledger::open(t.db.clone(), key(), clock, LedgerConfig::default()).await;
        assert!(
            opened.is_err(),
            "{:?}: a tampered ledger must not be appended to",
            t.backend()
        );
    }
}

async fn fill_more(t: &TestDb, expected_next: u64) {
    let clock = Arc::new(ManualClock::at_ms(1_760_000_000_000));
    let (handle, task) = ledger::open(t.db.clone(), key(), clock, LedgerConfig::default())
        .await
        .unwrap();
    let r = handle
        .append(NewEntry::new(
            "system",
            "server.started",
            "server",
            Outcome::Success,
        ))
        .await
        .unwrap();
    assert_eq!(r.seq, expected_next);
    handle.shutdown().await.unwrap();
    task.await.unwrap();
}

fn hex_of(h: &[u8; 32]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}
