//! The storage boundary.
//!
//! Deliberately small, so SQLite and PostgreSQL implementations stay obvious. The
//! store is not trusted: everything read back is rehashed, and anything it could get
//! wrong (order, gaps, contents) is detected by the writer at start or by
//! [`verify`](crate::verify()).

use std::future::Future;

use crate::{Checkpoint, Hash, StoreFailure, StoredEntry};

/// Durable storage for entries and checkpoints.
pub trait LedgerStore: Send + Sync + 'static {
    /// Appends the entries in one transaction: all or none. Entries arrive with
    /// contiguous seqs following the current last entry.
    fn append(
        &self,
        entries: &[StoredEntry],
    ) -> impl Future<Output = Result<(), StoreFailure>> + Send;

    /// The entry with the highest seq, if any.
    fn last_entry(&self) -> impl Future<Output = Result<Option<StoredEntry>, StoreFailure>> + Send;

    /// Up to `limit` entries with seq >= from_seq, ascending by seq.
    fn entries(
        &self,
        from_seq: u64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<StoredEntry>, StoreFailure>> + Send;

    /// Leaf hashes of entries from_seq..=to_seq ascending (for proofs).
    fn leaf_hashes(
        &self,
        from_seq: u64,
        to_seq: u64,
    ) -> impl Future<Output = Result<Vec<Hash>, StoreFailure>> + Send;

    /// Stores a checkpoint.
    fn save_checkpoint(
        &self,
        checkpoint: &Checkpoint,
    ) -> impl Future<Output = Result<(), StoreFailure>> + Send;

    /// All checkpoints ascending by tree size.
    fn checkpoints(&self) -> impl Future<Output = Result<Vec<Checkpoint>, StoreFailure>> + Send;

    /// The checkpoint with the largest tree size, if any.
    fn latest_checkpoint(
        &self,
    ) -> impl Future<Output = Result<Option<Checkpoint>, StoreFailure>> + Send;
}
