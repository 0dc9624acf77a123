//! The public face of the writer: configuration, receipts, stats, the handle, `open`.
//!
//! The handle is what the rest of the server holds: cheap to clone, safe to share,
//! and the only way to append, so every entry gets its sequence number and time from
//! the one writer task.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clock::SharedClock;
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::entry::Prepared;
use crate::resume::resume;
use crate::writer::Writer;
use crate::{Hash, LedgerError, LedgerStore, NewEntry, SignedTreeHead, checkpoint, hexser};

/// Writer tuning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerConfig {
    /// Appends that may wait in the queue before callers are made to wait to enqueue.
    pub queue_capacity: usize,
    /// Most entries stored in one transaction.
    pub batch_max: usize,
    /// Sign a tree head once this many entries are unsigned.
    pub checkpoint_every: u64,
    /// ... or once this much time has passed since the last one and something is new.
    pub checkpoint_interval: Duration,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 4096,
            batch_max: 512,
            checkpoint_every: 1000,
            checkpoint_interval: Duration::from_secs(60),
        }
    }
}

impl LedgerConfig {
    pub(crate) fn validate(&self) -> Result<(), LedgerError> {
        if self.queue_capacity == 0 || self.batch_max == 0 || self.checkpoint_every == 0 {
            return Err(LedgerError::Invalid(
                "queue_capacity, batch_max and checkpoint_every must be at least 1".into(),
            ));
        }
        if self.checkpoint_interval.is_zero() {
            return Err(LedgerError::Invalid(
                "checkpoint_interval must not be zero".into(),
            ));
        }
        Ok(())
    }
}

/// Proof of a durable append, returned to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The entry's sequence number.
    pub seq: u64,
    /// The time the writer assigned.
    pub time_ms: i64,
    /// Its leaf hash.
    #[serde(with = "hexser::hash")]
    pub leaf_hash: Hash,
    /// Its chain hash.
    #[serde(with = "hexser::hash")]
    pub chain_hash: Hash,
}

/// A snapshot of the writer's counters, for the metrics endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerStats {
    /// Entries durably appended.
    pub appends: u64,
    /// Entries whose append failed.
    pub failed_appends: u64,
    /// Append transactions attempted.
    pub batches: u64,
    /// Append transactions that failed.
    pub failed_batches: u64,
    /// Checkpoints saved.
    pub checkpoints: u64,
    /// Checkpoints that could not be saved.
    pub failed_checkpoints: u64,
    /// Entries in the log, as known to the writer.
    pub tree_size: u64,
    /// Tree size of the last saved checkpoint.
    pub checkpointed_size: u64,
    /// Largest batch so far.
    pub largest_batch: u64,
    /// Appends waiting in the queue right now.
    pub queued: u64,
    /// The store's head no longer matches the writer's: every append now fails.
    pub poisoned: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) appends: AtomicU64,
    pub(crate) failed_appends: AtomicU64,
    pub(crate) batches: AtomicU64,
    pub(crate) failed_batches: AtomicU64,
    pub(crate) checkpoints: AtomicU64,
    pub(crate) failed_checkpoints: AtomicU64,
    pub(crate) tree_size: AtomicU64,
    pub(crate) checkpointed_size: AtomicU64,
    pub(crate) largest_batch: AtomicU64,
    pub(crate) poisoned: AtomicBool,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) verifying_key: VerifyingKey,
    pub(crate) counters: Counters,
    pub(crate) latest: Mutex<Option<SignedTreeHead>>,
}

impl Shared {
    pub(crate) fn set_latest(&self, sth: SignedTreeHead) {
        *self.latest.lock().unwrap_or_else(|e| e.into_inner()) = Some(sth);
    }
}

pub(crate) type Reply<T> = oneshot::Sender<Result<T, LedgerError>>;

pub(crate) enum Command {
    Append {
        entry: Prepared,
        reply: Reply<Receipt>,
    },
    Checkpoint {
        reply: Reply<SignedTreeHead>,
    },
    Shutdown {
        reply: Reply<()>,
    },
}

/// A cheap, cloneable handle to the writer task.
#[derive(Clone)]
pub struct LedgerHandle {
    tx: mpsc::Sender<Command>,
    shared: Arc<Shared>,
}

impl fmt::Debug for LedgerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LedgerHandle")
            .field("key_id", &self.key_id())
            .field("closed", &self.tx.is_closed())
            .finish_non_exhaustive()
    }
}

impl LedgerHandle {
    /// Appends an entry and waits until it is durable.
    ///
    /// Validation errors come back before anything is queued. If the returned future
    /// is dropped after queueing, the entry may still be written; the caller just does
    /// not learn its receipt.
    pub async fn append(&self, entry: NewEntry) -> Result<Receipt, LedgerError> {
        let entry = entry.prepare()?;
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Append { entry, reply })
            .await
            .map_err(|_| LedgerError::Closed)?;
        rx.await.map_err(|_| LedgerError::Closed)?
    }

    /// Signs and saves a tree head now, after everything queued before this call;
    /// returns the latest one if nothing is new since.
    pub async fn checkpoint_now(&self) -> Result<SignedTreeHead, LedgerError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Checkpoint { reply })
            .await
            .map_err(|_| LedgerError::Closed)?;
        rx.await.map_err(|_| LedgerError::Closed)?
    }

    /// Finishes every queued append, saves a final checkpoint if anything is
    /// unsigned, and stops the writer. Later appends fail with [`LedgerError::Closed`].
    /// Calling it again once the writer is closed returns `Ok`.
    pub async fn shutdown(&self) -> Result<(), LedgerError> {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Command::Shutdown { reply }).await.is_err() {
            return Ok(());
        }
        rx.await.unwrap_or(Ok(()))
    }

    /// The key that verifies this ledger's tree heads.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.shared.verifying_key
    }

    /// [`checkpoint::key_id`] of the verifying key.
    pub fn key_id(&self) -> String {
        checkpoint::key_id(&self.shared.verifying_key)
    }

    /// Current counters.
    pub fn stats(&self) -> LedgerStats {
        let c = &self.shared.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        LedgerStats {
            appends: get(&c.appends),
            failed_appends: get(&c.failed_appends),
            batches: get(&c.batches),
            failed_batches: get(&c.failed_batches),
            checkpoints: get(&c.checkpoints),
            failed_checkpoints: get(&c.failed_checkpoints),
            tree_size: get(&c.tree_size),
            checkpointed_size: get(&c.checkpointed_size),
            largest_batch: get(&c.largest_batch),
            queued: (self.tx.max_capacity() - self.tx.capacity()) as u64,
            poisoned: c.poisoned.load(Ordering::Relaxed),
        }
    }

    /// The most recently saved signed tree head.
    pub async fn latest_head(&self) -> Option<SignedTreeHead> {
        self.shared
            .latest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether the writer has stopped accepting appends.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// Opens the ledger: verifies the latest checkpoint and the entries after it, then
/// starts the writer task. A mismatch is [`LedgerError::Tampered`]; the server should
/// then refuse to start (or report not ready).
///
/// Must be called inside a Tokio runtime with the time driver enabled (the writer
/// uses a timer for interval checkpoints). The returned task ends after
/// [`LedgerHandle::shutdown`] or once every handle is dropped and the queue drained.
pub async fn open<S: LedgerStore>(
    store: S,
    key: SigningKey,
    clock: SharedClock,
    config: LedgerConfig,
) -> Result<(LedgerHandle, JoinHandle<()>), LedgerError> {
    config.validate()?;
    let verifying_key = key.verifying_key();
    let state = resume(&store, &verifying_key).await?;
    let shared = Arc::new(Shared {
        verifying_key,
        counters: Counters::default(),
        latest: Mutex::new(state.latest.clone()),
    });
    shared
        .counters
        .tree_size
        .store(state.frontier.size(), Ordering::Relaxed);
    shared
        .counters
        .checkpointed_size
        .store(state.checkpointed_size, Ordering::Relaxed);
    let (tx, rx) = mpsc::channel(config.queue_capacity);
    let writer = Writer {
        store,
        key,
        clock,
        config,
        frontier: state.frontier,
        last_chain: state.last_chain,
        last_time_ms: state.last_time_ms,
        checkpointed_size: state.checkpointed_size,
        latest: state.latest,
        last_checkpoint_attempt: Instant::now(),
        in_doubt: None,
        poisoned: None,
        shared: Arc::clone(&shared),
    };
    let task = tokio::spawn(writer.run(rx));
    Ok((LedgerHandle { tx, shared }, task))
}
