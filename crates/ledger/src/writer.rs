//! The single writer task: group commit, checkpoints, recovery after failed writes.
//!
//! All appends go through one task, which owns the head of the chain and the Merkle
//! frontier. Concurrent callers queue on a bounded channel; the task takes what is
//! queued (up to `batch_max`) and stores it in one transaction, so under load the cost
//! of a commit is shared and the log stays strictly ordered without locks in the
//! database. A caller's `append` returns only after its entry is durable — or with an
//! error, so a caller can never mistake a lost write for a stored one.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use clock::SharedClock;
use ed25519_dalek::SigningKey;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::entry::Prepared;
use crate::handle::{Command, Receipt, Reply, Shared};
use crate::merkle::Frontier;
use crate::{
    Checkpoint, Hash, LedgerConfig, LedgerError, LedgerStore, SignedTreeHead, StoreFailure,
    StoredEntry, TreeHead,
};

/// Everything the writer task owns; nobody else touches the head of the log.
pub(crate) struct Writer<S> {
    pub(crate) store: S,
    pub(crate) key: SigningKey,
    pub(crate) clock: SharedClock,
    pub(crate) config: LedgerConfig,
    pub(crate) frontier: Frontier,
    pub(crate) last_chain: Hash,
    pub(crate) last_time_ms: i64,
    pub(crate) checkpointed_size: u64,
    pub(crate) latest: Option<SignedTreeHead>,
    pub(crate) last_checkpoint_attempt: Instant,
    /// Rows of a failed append: the store may have committed them anyway (a lost
    /// acknowledgement), so the next batch first looks at the store's head.
    pub(crate) in_doubt: Option<Vec<StoredEntry>>,
    /// Set when the store's head is not ours; every append then fails.
    pub(crate) poisoned: Option<(u64, String)>,
    pub(crate) shared: Arc<Shared>,
}

impl<S: LedgerStore> Writer<S> {
    pub(crate) async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
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
                    let last = self.last_checkpoint_attempt;
                    let deadline = last.checked_add(self.config.checkpoint_interval);
                    let armed = self.unsigned() > 0 && deadline.is_some();
                    let deadline = deadline.unwrap_or(last);
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
