//! The single writer: group commit, checkpoints, resume.
//!
//! All appends go through one task, which owns the head of the chain and the Merkle
//! frontier. Concurrent callers queue on a bounded channel; the task takes what is
//! queued (up to `batch_max`) and stores it in one transaction, so under load the cost
//! of a commit is shared and the log stays strictly ordered without locks in the
//! database. A caller's `append` returns only after its entry is durable — or with an
//! error, so a caller can never mistake a lost write for a stored one.

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
use crate::merkle::Frontier;
use crate::verify::check_row;
use crate::{
    Checkpoint, GENESIS_CHAIN, Hash, LedgerError, LedgerStore, NewEntry, SignedTreeHead,
    StoreFailure, StoredEntry, TreeHead, checkpoint, hexser,
};

/// Entries read per store call while resuming.
const RESUME_PAGE: u32 = 10_000;

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
    fn validate(&self) -> Result<(), LedgerError> {
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
struct Counters {
    appends: AtomicU64,
    failed_appends: AtomicU64,
    batches: AtomicU64,
    failed_batches: AtomicU64,
    checkpoints: AtomicU64,
    failed_checkpoints: AtomicU64,
    tree_size: AtomicU64,
    checkpointed_size: AtomicU64,
    largest_batch: AtomicU64,
    poisoned: AtomicBool,
}

#[derive(Debug)]
struct Shared {
    verifying_key: VerifyingKey,
    counters: Counters,
    latest: Mutex<Option<SignedTreeHead>>,
}

impl Shared {
    fn set_latest(&self, sth: SignedTreeHead) {
        *self.latest.lock().unwrap_or_else(|e| e.into_inner()) = Some(sth);
    }
}

type Reply<T> = oneshot::Sender<Result<T, LedgerError>>;

enum Command {
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

struct Resumed {
    frontier: Frontier,
    last_chain: Hash,
    last_time_ms: i64,
    latest: Option<SignedTreeHead>,
    checkpointed_size: u64,
}

/// Rebuilds the writer's state from the latest checkpoint plus the entries after it.
async fn resume<S: LedgerStore>(store: &S, key: &VerifyingKey) -> Result<Resumed, LedgerError> {
    let mut state = Resumed {
        frontier: Frontier::new(),
        last_chain: GENESIS_CHAIN,
        last_time_ms: i64::MIN,
        latest: None,
        checkpointed_size: 0,
    };
    if let Some(cp) = store.latest_checkpoint().await? {
        let size = cp.sth.head.size;
        cp.sth.verify(key).map_err(|e| {
            LedgerError::tampered(
                size,
                format!("latest checkpoint: {e} (forged, or was the key file replaced?)"),
            )
        })?;
        state.frontier = cp.frontier()?;
        if size > 0 {
            let row = store.entries(size, 1).await?.into_iter().next();
            let Some(row) = row.filter(|r| r.seq == size) else {
                let first_missing = match store.last_entry().await? {
                    Some(last) if last.seq < size => last.seq + 1,
                    Some(_) => size,
                    None => 1,
                };
                return Err(LedgerError::tampered(
                    first_missing,
                    format!(
                        "truncated: the latest checkpoint covers {size} entries but entry \
                         {first_missing} is missing"
                    ),
                ));
            };
            let leaf = row.compute_leaf_hash();
            let odd_leaf_ok = size % 2 == 0 || state.frontier.hashes().last() == Some(&leaf);
            if leaf != row.leaf_hash || !odd_leaf_ok {
                return Err(LedgerError::tampered(
                    size,
                    "the last checkpointed entry was modified",
                ));
            }
            state.last_chain = row.chain_hash;
            state.last_time_ms = row.time_ms;
        }
        state.checkpointed_size = size;
        state.latest = Some(cp.sth);
    }
    loop {
        let next = state.frontier.size() + 1;
        let page = store.entries(next, RESUME_PAGE).await?;
        if page.is_empty() {
            break;
        }
        for row in &page {
            check_row(row, state.frontier.size() + 1, &state.last_chain)?;
            state.frontier.push(row.leaf_hash);
            state.last_chain = row.chain_hash;
            state.last_time_ms = row.time_ms;
        }
    }
    Ok(state)
}

struct Writer<S> {
    store: S,
    key: SigningKey,
    clock: SharedClock,
    config: LedgerConfig,
    frontier: Frontier,
    last_chain: Hash,
    last_time_ms: i64,
    checkpointed_size: u64,
    latest: Option<SignedTreeHead>,
    last_checkpoint_attempt: Instant,
    /// Rows of a failed append: the store may have committed them anyway (a lost
    /// acknowledgement), so the next batch first looks at the store's head.
    in_doubt: Option<Vec<StoredEntry>>,
    /// Set when the store's head is not ours; every append then fails.
    poisoned: Option<(u64, String)>,
    shared: Arc<Shared>,
}

impl<S: LedgerStore> Writer<S> {
    async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        if self.unsigned() > 0 {
            // Sign what a previous run left unsigned before taking new work.
            let _ = self.checkpoint().await;
        }
        let mut carried: Option<Command> = None;
        let mut closing: Vec<Reply<()>> = Vec::new();
        loop {
            let command = match carried.take() {
                Some(c) => c,
                None => {
                    let armed = self.unsigned() > 0;
                    let deadline = self.last_checkpoint_attempt + self.config.checkpoint_interval;
                    tokio::select! {
                        biased;
                        c = rx.recv() => match c {
                            Some(c) => c,
                            None => break,
                        },
                        () = tokio::time::sleep_until(deadline), if armed => {
                            let _ = self.checkpoint().await;
                            continue;
                        }
                    }
                }
            };
            match command {
                Command::Append { entry, reply } => {
                    let mut batch = vec![(entry, reply)];
                    while batch.len() < self.config.batch_max {
                        match rx.try_recv() {
                            Ok(Command::Append { entry, reply }) => batch.push((entry, reply)),
                            Ok(other) => {
                                carried = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    self.commit(batch).await;
                    self.maybe_checkpoint().await;
                }
                Command::Checkpoint { reply } => {
                    let result = self.checkpoint_now().await;
                    let _ = reply.send(result);
                }
                Command::Shutdown { reply } => {
                    // Refuse new work, but keep draining what is already queued.
                    rx.close();
                    closing.push(reply);
                }
            }
        }
        let result = if self.unsigned() > 0 {
            self.checkpoint().await.map(|_| ())
        } else {
            Ok(())
        };
        for reply in closing {
            let _ = reply.send(result.as_ref().map(|_| ()).map_err(duplicate));
        }
    }

    fn unsigned(&self) -> u64 {
        self.frontier.size() - self.checkpointed_size
    }

    async fn commit(&mut self, batch: Vec<(Prepared, Reply<Receipt>)>) {
        let n = batch.len() as u64;
        let shared = Arc::clone(&self.shared);
        let counters = &shared.counters;
        counters.batches.fetch_add(1, Ordering::Relaxed);
        counters.largest_batch.fetch_max(n, Ordering::Relaxed);

        if let Err(e) = self.resync().await {
            counters.failed_batches.fetch_add(1, Ordering::Relaxed);
            counters.failed_appends.fetch_add(n, Ordering::Relaxed);
            for (_, reply) in batch {
                let _ = reply.send(Err(duplicate(&e)));
            }
            return;
        }

        // Never let time run backwards inside the log, even if the clock does.
        let time_ms = self.clock.now_ms().max(self.last_time_ms);
        let first_seq = self.frontier.size() + 1;
        let mut prev = self.last_chain;
        let mut rows = Vec::with_capacity(batch.len());
        let mut replies = Vec::with_capacity(batch.len());
        for (seq, (entry, reply)) in (first_seq..).zip(batch) {
            let row = StoredEntry::seal_prepared(entry, seq, time_ms, &prev);
            prev = row.chain_hash;
            rows.push(row);
            replies.push(reply);
        }

        match self.store.append(&rows).await {
            Ok(()) => {
                self.advance(&rows);
                counters.appends.fetch_add(n, Ordering::Relaxed);
                for (row, reply) in rows.iter().zip(replies) {
                    let _ = reply.send(Ok(Receipt {
                        seq: row.seq,
                        time_ms: row.time_ms,
                        leaf_hash: row.leaf_hash,
                        chain_hash: row.chain_hash,
                    }));
                }
            }
            Err(failure) => {
                tracing::warn!(error = %failure, entries = n, first_seq, "audit ledger append failed");
                counters.failed_batches.fetch_add(1, Ordering::Relaxed);
                counters.failed_appends.fetch_add(n, Ordering::Relaxed);
                for reply in replies {
                    let _ = reply.send(Err(LedgerError::Store(failure.clone())));
                }
                self.in_doubt = Some(rows);
            }
        }
    }

    fn advance(&mut self, rows: &[StoredEntry]) {
        for row in rows {
            self.frontier.push(row.leaf_hash);
            self.last_chain = row.chain_hash;
            self.last_time_ms = row.time_ms;
        }
        self.shared
            .counters
            .tree_size
            .store(self.frontier.size(), Ordering::Relaxed);
    }

    /// After a failed append, finds out what the store actually holds: nothing new
    /// (continue), some or all of the failed rows (keep them, they are durable), or
    /// something else (another writer or an edit: stop appending).
    async fn resync(&mut self) -> Result<(), LedgerError> {
        if let Some((seq, reason)) = &self.poisoned {
            return Err(LedgerError::tampered(*seq, reason.clone()));
        }
        let Some(doubt) = &self.in_doubt else {
            return Ok(());
        };
        let last = self.store.last_entry().await?;
        let head = self.frontier.size();
        let adopt = match &last {
            None => (head == 0).then_some(0),
            Some(l) if l.seq == head && l.chain_hash == self.last_chain => Some(0),
            Some(l) => l
                .seq
                .checked_sub(head + 1)
                .and_then(|i| usize::try_from(i).ok())
                .filter(|&i| doubt.get(i) == Some(l))
                .map(|i| i + 1),
        };
        let doubt = self.in_doubt.take().unwrap_or_default();
        match adopt {
            Some(count) => {
                if count > 0 {
                    tracing::warn!(
                        entries = count,
                        "an audit ledger append reported as failed had been committed; keeping it"
                    );
                    self.advance(&doubt[..count]);
                    self.shared
                        .counters
                        .appends
                        .fetch_add(count as u64, Ordering::Relaxed);
                }
                Ok(())
            }
            None => {
                let reason = "the store's last entry is not one this writer wrote \
                              (a second writer, or a manual edit); appending is stopped"
                    .to_string();
                tracing::error!(head, "{reason}");
                self.shared.counters.poisoned.store(true, Ordering::Relaxed);
                self.poisoned = Some((head + 1, reason.clone()));
                Err(LedgerError::tampered(head + 1, reason))
            }
        }
    }

    async fn maybe_checkpoint(&mut self) {
        let unsigned = self.unsigned();
        let due = unsigned >= self.config.checkpoint_every
            || self.last_checkpoint_attempt.elapsed() >= self.config.checkpoint_interval;
        if unsigned > 0 && due {
            let _ = self.checkpoint().await;
        }
    }

    async fn checkpoint_now(&mut self) -> Result<SignedTreeHead, LedgerError> {
        if self.unsigned() == 0
            && let Some(latest) = &self.latest
        {
            return Ok(latest.clone());
        }
        self.checkpoint().await
    }

    async fn checkpoint(&mut self) -> Result<SignedTreeHead, LedgerError> {
        self.last_checkpoint_attempt = Instant::now();
        let previous_ms = self.latest.as_ref().map_or(i64::MIN, |l| l.head.time_ms);
        let head = TreeHead {
            size: self.frontier.size(),
            root: self.frontier.root(),
            time_ms: self.clock.now_ms().max(self.last_time_ms).max(previous_ms),
        };
        let sth = head.sign(&self.key);
        let cp = Checkpoint {
            sth: sth.clone(),
            frontier: self.frontier.hashes().to_vec(),
        };
        let shared = Arc::clone(&self.shared);
        let counters = &shared.counters;
        match self.store.save_checkpoint(&cp).await {
            Ok(()) => {
                self.checkpointed_size = head.size;
                self.latest = Some(sth.clone());
                self.shared.set_latest(sth.clone());
                counters.checkpoints.fetch_add(1, Ordering::Relaxed);
                counters
                    .checkpointed_size
                    .store(head.size, Ordering::Relaxed);
                Ok(sth)
            }
            Err(failure) => {
                tracing::warn!(error = %failure, size = head.size, "audit ledger checkpoint failed");
                counters.failed_checkpoints.fetch_add(1, Ordering::Relaxed);
                Err(failure.into())
            }
        }
    }
}

/// A copy of an error for the second and later callers who share one failure.
fn duplicate(e: &LedgerError) -> LedgerError {
    match e {
        LedgerError::Store(f) => LedgerError::Store(f.clone()),
        LedgerError::Tampered { seq, reason } => LedgerError::tampered(*seq, reason.clone()),
        LedgerError::Closed => LedgerError::Closed,
        other => LedgerError::Store(StoreFailure::new(other)),
    }
}
