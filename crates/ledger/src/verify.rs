//! Full verification of a stored log, independent of the writer.
//!
//! Reads every entry once, in pages, rehashing as it goes, and checks each stored
//! checkpoint when the stream reaches its tree size (a running [`Frontier`] gives the
//! root at every size without keeping the leaves). Problems are reported in stream
//! order, so the one named is the first in the log: an entry-level problem at seq 50
//! wins over the root mismatch it also causes at a later checkpoint.

use std::fmt;
use std::iter::Peekable;

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

use crate::entry::chain_hash;
use crate::merkle::Frontier;
use crate::{Checkpoint, GENESIS_CHAIN, Hash, LedgerError, LedgerStore, StoredEntry};

/// Entries read per store call.
pub const VERIFY_PAGE: u32 = 10_000;

/// What kind of damage was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The stored content does not match its stored leaf hash.
    ContentModified,
    /// The stored chain hash does not follow from the previous entry (a row deleted,
    /// inserted or reordered with renumbering, or hashes partly recomputed).
    ChainBroken,
    /// A sequence number is missing (a row deleted without renumbering).
    MissingSeq,
    /// A sequence number repeats or goes backwards.
    OutOfOrder,
    /// A checkpoint's signature (or key id) does not verify.
    BadCheckpointSignature,
    /// A checkpoint's signed root does not match the entries it covers: they were
    /// rewritten with all hashes recomputed.
    CheckpointRootMismatch,
    /// A checkpoint's stored (unsigned) frontier was altered.
    BadCheckpointFrontier,
    /// A checkpoint covers more entries than exist: the tail was cut off.
    TruncatedTail,
}

impl ProblemKind {
    /// Stable snake_case name (as in JSON).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ContentModified => "content_modified",
            Self::ChainBroken => "chain_broken",
            Self::MissingSeq => "missing_seq",
            Self::OutOfOrder => "out_of_order",
            Self::BadCheckpointSignature => "bad_checkpoint_signature",
            Self::CheckpointRootMismatch => "checkpoint_root_mismatch",
            Self::BadCheckpointFrontier => "bad_checkpoint_frontier",
            Self::TruncatedTail => "truncated_tail",
        }
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The first bad sequence number. For checkpoint signature and frontier problems,
    /// the tree size of the offending checkpoint.
    pub seq: u64,
    /// What is wrong.
    pub kind: ProblemKind,
    /// A human-readable explanation.
    pub detail: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "seq {}: {}: {}", self.seq, self.kind, self.detail)
    }
}

impl From<Problem> for LedgerError {
    fn from(p: Problem) -> Self {
        LedgerError::Tampered {
            seq: p.seq,
            reason: format!("{}: {}", p.kind, p.detail),
        }
    }
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// Entries checked and found good (before the problem, if any).
    pub entries: u64,
    /// Checkpoints checked and found good.
    pub checkpoints: u64,
    /// The first problem, or `None` if the log is intact.
    pub problem: Option<Problem>,
}

impl VerifyReport {
    /// Whether no problem was found.
    pub fn is_intact(&self) -> bool {
        self.problem.is_none()
    }
}

/// Checks one row against the expected seq and the previous chain hash.
pub(crate) fn check_row(
    row: &StoredEntry,
    expected: u64,
    prev_chain: &Hash,
) -> Result<(), Problem> {
    if row.seq < expected {
        return Err(Problem {
            seq: row.seq,
            kind: ProblemKind::OutOfOrder,
            detail: format!(
                "seq {} appears where {expected} was expected (duplicate or out of order)",
                row.seq
            ),
        });
    }
    if row.seq > expected {
        return Err(Problem {
            seq: expected,
            kind: ProblemKind::MissingSeq,
            detail: format!(
                "entry {expected} is missing; the next stored entry is {}",
                row.seq
            ),
        });
    }
    if row.compute_leaf_hash() != row.leaf_hash {
        return Err(Problem {
            seq: row.seq,
            kind: ProblemKind::ContentModified,
            detail: "the stored content does not match its leaf hash".into(),
        });
    }
    if chain_hash(prev_chain, &row.leaf_hash) != row.chain_hash {
        return Err(Problem {
            seq: row.seq,
            kind: ProblemKind::ChainBroken,
            detail: "the chain hash does not follow from the previous entry: an entry was \
                     deleted, inserted or reordered here, or hashes were recomputed"
                .into(),
        });
    }
    Ok(())
}

struct Walk<'k> {
    key: &'k VerifyingKey,
    frontier: Frontier,
    /// Tree size of the last checkpoint whose root matched.
    anchor: u64,
    checkpoints: u64,
}

impl Walk<'_> {
    /// Checks every checkpoint whose size has been reached.
    fn checkpoints_at<I: Iterator<Item = Checkpoint>>(
        &mut self,
        cps: &mut Peekable<I>,
    ) -> Result<(), Problem> {
        while let Some(cp) = cps.next_if(|c| c.sth.head.size <= self.frontier.size()) {
            let size = cp.sth.head.size;
            if let Err(e) = cp.sth.verify(self.key) {
                return Err(Problem {
                    seq: size,
                    kind: ProblemKind::BadCheckpointSignature,
                    detail: format!("checkpoint for tree size {size}: {e}"),
                });
            }
            if self.frontier.root() != cp.sth.head.root {
                let first = if size > self.anchor {
                    self.anchor + 1
                } else {
                    size
                };
                return Err(Problem {
                    seq: first,
                    kind: ProblemKind::CheckpointRootMismatch,
                    detail: format!(
                        "entries {first}..={size} no longer produce the root signed for tree \
                         size {size}: they were rewritten with recomputed hashes, and the first \
                         altered entry is somewhere in that range"
                    ),
                });
            }
            if cp.frontier != self.frontier.hashes() {
                return Err(Problem {
                    seq: size,
                    kind: ProblemKind::BadCheckpointFrontier,
                    detail: format!(
                        "the stored frontier of the checkpoint for tree size {size} was altered \
                         (its signed root still matches the entries)"
                    ),
                });
            }
            self.anchor = size;
            self.checkpoints += 1;
        }
        Ok(())
    }
}

/// Verifies the whole log: every entry's leaf and chain hash, contiguous seqs from 1,
/// every checkpoint's signature and root, and that no checkpoint covers entries that
/// no longer exist. Store failures are errors; damage is reported in the report.
pub async fn verify<S: LedgerStore>(
    store: &S,
    key: &VerifyingKey,
) -> Result<VerifyReport, LedgerError> {
    let mut cps = store.checkpoints().await?;
    cps.sort_by_key(|c| c.sth.head.size);
    let mut cps = cps.into_iter().peekable();
    let mut walk = Walk {
        key,
        frontier: Frontier::new(),
        anchor: 0,
        checkpoints: 0,
    };
    let mut prev_chain = GENESIS_CHAIN;
    let report = |walk: &Walk<'_>, problem| VerifyReport {
        entries: walk.frontier.size(),
        checkpoints: walk.checkpoints,
        problem,
    };

    loop {
        let next = walk.frontier.size() + 1;
        let page = store.entries(next, VERIFY_PAGE).await?;
        if page.is_empty() {
            break;
        }
        for row in &page {
            let checked = walk
                .checkpoints_at(&mut cps)
                .and_then(|()| check_row(row, walk.frontier.size() + 1, &prev_chain));
            if let Err(p) = checked {
                return Ok(report(&walk, Some(p)));
            }
            walk.frontier.push(row.leaf_hash);
            prev_chain = row.chain_hash;
        }
    }
    if let Err(p) = walk.checkpoints_at(&mut cps) {
        return Ok(report(&walk, Some(p)));
    }
    // Whatever is left covers entries beyond the end of the log.
    if let Some(cp) = cps.next() {
        let size = cp.sth.head.size;
        let n = walk.frontier.size();
        let problem = match cp.sth.verify(key) {
            Err(e) => Problem {
                seq: size,
                kind: ProblemKind::BadCheckpointSignature,
                detail: format!("checkpoint for tree size {size}: {e}"),
            },
            Ok(()) => Problem {
                seq: n + 1,
                kind: ProblemKind::TruncatedTail,
                detail: format!(
                    "a checkpoint covers {size} entries but only {n} exist: entries {}..={size} \
                     were removed",
                    n + 1
                ),
            },
        };
        return Ok(report(&walk, Some(problem)));
    }
    Ok(report(&walk, None))
}
