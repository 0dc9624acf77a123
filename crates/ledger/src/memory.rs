//! An in-memory [`LedgerStore`] for tests, with knobs to tamper with rows and to make
//! the store fail. Clones share state, so a test keeps one clone while the writer owns
//! another.
//!
//! Reads return rows ordered by seq (stable for duplicates), like `ORDER BY seq` would.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::{Checkpoint, GENESIS_CHAIN, Hash, LedgerStore, StoreFailure, StoredEntry};

/// In-memory ledger storage. Not durable; for tests.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    rows: Vec<StoredEntry>,
    checkpoints: Vec<Checkpoint>,
    unavailable: bool,
    fail_appends: usize,
    fail_after_commit: usize,
    fail_checkpoints: bool,
    append_delay: Option<Duration>,
    append_calls: u64,
}

impl Inner {
    fn sort(&mut self) {
        self.rows.sort_by_key(|r| r.seq);
    }

    fn position(&self, seq: u64) -> Option<usize> {
        self.rows.iter().position(|r| r.seq == seq)
    }

    fn check_available(&self) -> Result<(), StoreFailure> {
        if self.unavailable {
            Err(StoreFailure::new("memory store is unavailable (simulated)"))
        } else {
            Ok(())
        }
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A test that panicked while holding the lock already failed; keep going.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ----- inspection -----

    /// A copy of all rows, ordered by seq.
    pub fn rows(&self) -> Vec<StoredEntry> {
        self.lock().rows.clone()
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.lock().rows.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.lock().rows.is_empty()
    }

    /// A copy of all stored checkpoints, in insertion order.
    pub fn stored_checkpoints(&self) -> Vec<Checkpoint> {
        self.lock().checkpoints.clone()
    }

    /// How many times `append` has been called (including failed calls).
    pub fn append_calls(&self) -> u64 {
        self.lock().append_calls
    }

    // ----- failure simulation -----

    /// While on, every operation fails, as if the database were unreachable.
    pub fn set_unavailable(&self, on: bool) {
        self.lock().unavailable = on;
    }

    /// The next `n` appends fail without storing anything.
    pub fn fail_next_appends(&self, n: usize) {
        self.lock().fail_appends = n;
    }

    /// The next `n` appends store their rows but report failure (a lost commit
    /// acknowledgement).
    pub fn fail_next_appends_after_commit(&self, n: usize) {
        self.lock().fail_after_commit = n;
    }

    /// While on, saving a checkpoint fails.
    pub fn set_checkpoints_failing(&self, on: bool) {
        self.lock().fail_checkpoints = on;
    }

    /// Every append sleeps this long first (lets queues fill up in batching tests).
    pub fn set_append_delay(&self, delay: Option<Duration>) {
        self.lock().append_delay = delay;
    }

    // ----- tampering -----

    /// Applies `f` to the row with this seq. Returns whether it existed.
    pub fn tamper_modify(&self, seq: u64, f: impl FnOnce(&mut StoredEntry)) -> bool {
        let mut inner = self.lock();
        let Some(i) = inner.position(seq) else {
            return false;
        };
        f(&mut inner.rows[i]);
        inner.sort();
        true
    }

    /// Deletes the row with this seq, leaving a gap.
    pub fn tamper_delete(&self, seq: u64) -> bool {
        let mut inner = self.lock();
        let Some(i) = inner.position(seq) else {
            return false;
        };
        inner.rows.remove(i);
        true
    }

    /// Deletes the row with this seq and renumbers every later row down by one, so
    /// the seqs stay contiguous (hashes are left alone; see [`Self::tamper_rehash_from`]).
    pub fn tamper_delete_renumber(&self, seq: u64) -> bool {
        let mut inner = self.lock();
        let Some(i) = inner.position(seq) else {
            return false;
        };
        inner.rows.remove(i);
        for r in inner.rows.iter_mut().filter(|r| r.seq > seq) {
            r.seq -= 1;
        }
        true
    }

    /// Inserts `row` at `row.seq`, renumbering that row and every later one up by one
    /// (their hashes are left alone).
    pub fn tamper_insert(&self, row: StoredEntry) {
        let mut inner = self.lock();
        for r in inner.rows.iter_mut().filter(|r| r.seq >= row.seq) {
            r.seq += 1;
        }
        inner.rows.push(row);
        inner.sort();
    }

    /// Exchanges the places of rows `a` and `b`: each keeps its contents and hashes
    /// but takes the other's seq, which is what a reordering looks like to `ORDER BY`.
    pub fn tamper_swap(&self, a: u64, b: u64) -> bool {
        let mut inner = self.lock();
        let (Some(i), Some(j)) = (inner.position(a), inner.position(b)) else {
            return false;
        };
        inner.rows[i].seq = b;
        inner.rows[j].seq = a;
        inner.sort();
        true
    }

    /// Drops every row after `keep_through`.
    pub fn tamper_truncate(&self, keep_through: u64) {
        self.lock().rows.retain(|r| r.seq <= keep_through);
    }

    /// Recomputes leaf and chain hashes of every row from `seq` on, chaining from the
    /// row before: what an attacker with database access (but not the key) does to
    /// make a rewrite look consistent.
    pub fn tamper_rehash_from(&self, seq: u64) {
        let mut inner = self.lock();
        let mut prev = GENESIS_CHAIN;
        for r in inner.rows.iter_mut() {
            if r.seq >= seq {
                r.recompute_hashes(&prev);
            }
            prev = r.chain_hash;
        }
    }

    /// Raw access to the rows (e.g. to create duplicate seqs). Rows are re-sorted after.
    pub fn tamper_rows(&self, f: impl FnOnce(&mut Vec<StoredEntry>)) {
        let mut inner = self.lock();
        f(&mut inner.rows);
        inner.sort();
    }

    /// Raw access to the stored checkpoints.
    pub fn tamper_checkpoints(&self, f: impl FnOnce(&mut Vec<Checkpoint>)) {
        f(&mut self.lock().checkpoints);
    }
}

impl LedgerStore for MemoryStore {
    async fn append(&self, entries: &[StoredEntry]) -> Result<(), StoreFailure> {
        let delay = {
            let mut inner = self.lock();
            inner.append_calls += 1;
            inner.append_delay
        };
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        let mut inner = self.lock();
        inner.check_available()?;
        if inner.fail_appends > 0 {
            inner.fail_appends -= 1;
            return Err(StoreFailure::new("simulated append failure"));
        }
        // Mimic a primary key on seq plus the writer's contiguity contract.
        let first = inner.rows.last().map_or(1, |r| r.seq + 1);
        for (expected, e) in (first..).zip(entries) {
            if e.seq != expected {
                return Err(StoreFailure::new(format!(
                    "constraint violation: seq {} where {expected} was expected",
                    e.seq
                )));
            }
        }
        inner.rows.extend_from_slice(entries);
        if inner.fail_after_commit > 0 {
            inner.fail_after_commit -= 1;
            return Err(StoreFailure::new(
                "simulated lost acknowledgement after commit",
            ));
        }
        Ok(())
    }

    async fn last_entry(&self) -> Result<Option<StoredEntry>, StoreFailure> {
        let inner = self.lock();
        inner.check_available()?;
        Ok(inner.rows.last().cloned())
    }

    async fn entries(&self, from_seq: u64, limit: u32) -> Result<Vec<StoredEntry>, StoreFailure> {
        let inner = self.lock();
        inner.check_available()?;
        Ok(inner
            .rows
            .iter()
            .filter(|r| r.seq >= from_seq)
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn leaf_hashes(&self, from_seq: u64, to_seq: u64) -> Result<Vec<Hash>, StoreFailure> {
        let inner = self.lock();
        inner.check_available()?;
        Ok(inner
            .rows
            .iter()
            .filter(|r| (from_seq..=to_seq).contains(&r.seq))
            .map(|r| r.leaf_hash)
            .collect())
    }

    async fn save_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreFailure> {
        let mut inner = self.lock();
        inner.check_available()?;
        if inner.fail_checkpoints {
            return Err(StoreFailure::new("simulated checkpoint failure"));
        }
        inner.checkpoints.push(checkpoint.clone());
        Ok(())
    }

    async fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreFailure> {
        let inner = self.lock();
        inner.check_available()?;
        let mut all = inner.checkpoints.clone();
        all.sort_by_key(|c| c.sth.head.size);
        Ok(all)
    }

    async fn latest_checkpoint(&self) -> Result<Option<Checkpoint>, StoreFailure> {
        let inner = self.lock();
        inner.check_available()?;
        Ok(inner
            .checkpoints
            .iter()
            .max_by_key(|c| c.sth.head.size)
            .cloned())
    }
}
