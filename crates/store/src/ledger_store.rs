//! The audit ledger's rows, in the same database as everything else.
//!
//! Hashes are stored as lowercase hex; the Merkle frontier of a checkpoint as hex hashes
//! separated by commas. Every read re-parses them and refuses malformed values, so a
//! tampered row surfaces as a clear error (or a verification finding), never a panic.

use std::time::Duration;

use ledger::{
    Checkpoint, Hash, LedgerStore, Outcome, SignedTreeHead, StoreFailure, StoredEntry, TreeHead,
};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Db, StoreError};

/// A batch append must not hold every waiting caller forever.
const APPEND_TIMEOUT: Duration = Duration::from_secs(15);

impl LedgerStore for Db {
    async fn append(&self, entries: &[StoredEntry]) -> Result<(), StoreFailure> {
        tokio_timeout(APPEND_TIMEOUT, self.append_entries(entries))
            .await
            .unwrap_or_else(|| Err(StoreFailure::new("ledger append timed out")))
    }

    async fn last_entry(&self) -> Result<Option<StoredEntry>, StoreFailure> {
        let row = sqlx::query(
            "SELECT seq, time_ms, actor, action, target, outcome, source, request_id, details, leaf_hash, chain_hash \
             FROM ledger_entries ORDER BY seq DESC LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await
        .map_err(fail)?;
        row.as_ref().map(entry_from_row).transpose()
    }

    async fn entries(&self, from_seq: u64, limit: u32) -> Result<Vec<StoredEntry>, StoreFailure> {
        let rows = sqlx::query(
            "SELECT seq, time_ms, actor, action, target, outcome, source, request_id, details, leaf_hash, chain_hash \
             FROM ledger_entries WHERE seq >= $1 ORDER BY seq ASC LIMIT $2",
        )
        .bind(to_i64(from_seq)?)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(fail)?;
        rows.iter().map(entry_from_row).collect()
    }

    async fn leaf_hashes(&self, from_seq: u64, to_seq: u64) -> Result<Vec<Hash>, StoreFailure> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT leaf_hash FROM ledger_entries WHERE seq >= $1 AND seq <= $2 ORDER BY seq ASC",
        )
        .bind(to_i64(from_seq)?)
        .bind(to_i64(to_seq)?)
        .fetch_all(self.pool())
        .await
        .map_err(fail)?;
        rows.iter().map(|h| parse_hash(h, "leaf_hash")).collect()
    }

    async fn save_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreFailure> {
        let head = &checkpoint.sth.head;
        let frontier: Vec<String> = checkpoint.frontier.iter().map(hex::encode).collect();
        sqlx::query(
            "INSERT INTO ledger_checkpoints (tree_size, time_ms, root, key_id, signature, frontier) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(to_i64(head.size)?)
        .bind(head.time_ms)
        .bind(hex::encode(head.root))
        .bind(&checkpoint.sth.key_id)
        .bind(hex::encode(checkpoint.sth.signature))
        .bind(frontier.join(","))
        .execute(self.pool())
        .await
        .map_err(fail)?;
        Ok(())
    }

    async fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreFailure> {
        let rows = sqlx::query(
            "SELECT tree_size, time_ms, root, key_id, signature, frontier FROM ledger_checkpoints ORDER BY tree_size ASC",
        )
        .fetch_all(self.pool())
        .await
        .map_err(fail)?;
        rows.iter().map(checkpoint_from_row).collect()
    }

    async fn latest_checkpoint(&self) -> Result<Option<Checkpoint>, StoreFailure> {
        let row = sqlx::query(
            "SELECT tree_size, time_ms, root, key_id, signature, frontier FROM ledger_checkpoints \
             ORDER BY tree_size DESC LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await
        .map_err(fail)?;
        row.as_ref().map(checkpoint_from_row).transpose()
    }
}

impl Db {
    async fn append_entries(&self, entries: &[StoredEntry]) -> Result<(), StoreFailure> {
        let _gate = self.write_guard().await;
        let mut tx = self.pool().begin().await.map_err(fail)?;
        for e in entries {
            sqlx::query(
                "INSERT INTO ledger_entries \
                 (seq, time_ms, actor, action, target, outcome, source, request_id, details, leaf_hash, chain_hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(to_i64(e.seq)?)
            .bind(e.time_ms)
            .bind(&e.actor)
            .bind(&e.action)
            .bind(&e.target)
            .bind(e.outcome.as_str())
            .bind(&e.source)
            .bind(&e.request_id)
            .bind(&e.details)
            .bind(hex::encode(e.leaf_hash))
            .bind(hex::encode(e.chain_hash))
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
            if let Some(patient) = patient_of(&e.details) {
                sqlx::query("INSERT INTO ledger_patients (patient_id, seq) VALUES ($1, $2)")
                    .bind(patient)
                    .bind(to_i64(e.seq)?)
                    .execute(&mut *tx)
                    .await
                    .map_err(fail)?;
            }
        }
        tx.commit().await.map_err(fail)
    }

    /// The newest ledger entries about `patient_id`'s record, newest first.
    pub async fn entries_about_patient(
        &self,
        patient_id: &str,
        limit: i64,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.seq, e.time_ms, e.actor, e.action, e.target, e.outcome, e.source, e.request_id, \
             e.details, e.leaf_hash, e.chain_hash \
             FROM ledger_patients p JOIN ledger_entries e ON e.seq = p.seq \
             WHERE p.patient_id = $1 ORDER BY e.seq DESC LIMIT $2",
        )
        .bind(patient_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| entry_from_row(r).map_err(|e| StoreError::Corrupt(e.to_string())))
            .collect()
    }
}

/// The patient an entry's details name (`"patient": "Patient/<id>"`), if any.
fn patient_of(details: &str) -> Option<String> {
    let details: serde_json::Value = serde_json::from_str(details).ok()?;
    details
        .get("patient")?
        .as_str()?
        .strip_prefix("Patient/")
        .map(str::to_owned)
}

async fn tokio_timeout<F: Future>(d: Duration, f: F) -> Option<F::Output> {
    tokio::time::timeout(d, f).await.ok()
}

fn fail(e: sqlx::Error) -> StoreFailure {
    // Driver messages name tables and constraints, never bound values.
    StoreFailure::new(crate::StoreError::from(e))
}

fn to_i64(v: u64) -> Result<i64, StoreFailure> {
    i64::try_from(v).map_err(|_| StoreFailure::new("sequence number out of range"))
}

fn parse_hash(text: &str, column: &str) -> Result<Hash, StoreFailure> {
    let bytes = hex::decode(text).map_err(|_| StoreFailure::new(format!("{column} is not hex")))?;
    bytes
        .try_into()
        .map_err(|_| StoreFailure::new(format!("{column} is not 32 bytes")))
}

fn entry_from_row(r: &AnyRow) -> Result<StoredEntry, StoreFailure> {
    let seq: i64 = r.try_get("seq").map_err(fail)?;
    let outcome: String = r.try_get("outcome").map_err(fail)?;
    Ok(StoredEntry {
        seq: u64::try_from(seq).map_err(|_| StoreFailure::new("negative sequence number"))?,
        time_ms: r.try_get("time_ms").map_err(fail)?,
        actor: r.try_get("actor").map_err(fail)?,
        action: r.try_get("action").map_err(fail)?,
        target: r.try_get("target").map_err(fail)?,
        outcome: outcome
            .parse::<Outcome>()
            .map_err(|_| StoreFailure::new(format!("entry {seq}: unknown outcome")))?,
        source: r.try_get("source").map_err(fail)?,
        request_id: r.try_get("request_id").map_err(fail)?,
        details: r.try_get("details").map_err(fail)?,
        leaf_hash: parse_hash(
            &r.try_get::<String, _>("leaf_hash").map_err(fail)?,
            "leaf_hash",
        )?,
        chain_hash: parse_hash(
            &r.try_get::<String, _>("chain_hash").map_err(fail)?,
            "chain_hash",
        )?,
    })
}

fn checkpoint_from_row(r: &AnyRow) -> Result<Checkpoint, StoreFailure> {
    let size: i64 = r.try_get("tree_size").map_err(fail)?;
    let signature_hex: String = r.try_get("signature").map_err(fail)?;
    let signature: [u8; 64] = hex::decode(&signature_hex)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            StoreFailure::new(format!("checkpoint {size}: signature is not 64 hex bytes"))
        })?;
    let frontier_text: String = r.try_get("frontier").map_err(fail)?;
    let frontier = frontier_text
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|h| parse_hash(h, "frontier"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Checkpoint {
        sth: SignedTreeHead {
            head: TreeHead {
                size: u64::try_from(size).map_err(|_| StoreFailure::new("negative tree size"))?,
                root: parse_hash(&r.try_get::<String, _>("root").map_err(fail)?, "root")?,
                time_ms: r.try_get("time_ms").map_err(fail)?,
            },
            key_id: r.try_get("key_id").map_err(fail)?,
            signature,
        },
        frontier,
    })
}
