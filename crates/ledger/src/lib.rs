//! A tamper-evident, append-only audit log.
//!
//! Every entry is hashed (RFC 6962 leaf hash over a fixed canonical encoding) and
//! chained to the one before it; the leaf hashes form an RFC 6962 Merkle tree whose
//! head is periodically signed with Ed25519. Modifying, deleting, inserting or
//! reordering stored rows is then detectable ([`verify()`]), and signed tree heads held
//! outside the server pin the history they cover ([`ConsistencyProof`]).
//!
//! The crate knows nothing about telehealth, nor about databases: storage sits behind
//! [`LedgerStore`]. Appends go through a single writer task ([`open`]) that batches
//! concurrent callers into one transaction and answers each only once its entry is
//! durable. See `docs/ledger.md` for the threat model.

mod checkpoint;
mod entry;
mod error;
mod handle;
mod hexser;
pub mod keyfile;
#[cfg(any(test, feature = "testing"))]
mod memory;
pub mod merkle;
mod proof;
mod resume;
mod store;
mod verify;
mod writer;

/// A SHA-256 digest.
pub type Hash = [u8; 32];

pub use checkpoint::{Checkpoint, STH_TAG, SignedTreeHead, TreeHead, key_id};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
pub use entry::{
    ENTRY_TAG, GENESIS_CHAIN, MAX_DETAILS_BYTES, MAX_DETAILS_DEPTH, MAX_FIELD_BYTES, NewEntry,
    Outcome, StoredEntry, canonical_json, chain_hash,
};
pub use error::{LedgerError, StoreFailure};
pub use handle::{LedgerConfig, LedgerHandle, LedgerStats, Receipt, open};
pub use hexser::{hash_from_hex, hash_to_hex};
#[cfg(any(test, feature = "testing"))]
pub use memory::MemoryStore;
pub use merkle::{EMPTY_ROOT, Frontier};
pub use proof::{ConsistencyProof, InclusionProof, prove_consistency, prove_inclusion};
pub use store::LedgerStore;
pub use verify::{Problem, ProblemKind, VERIFY_PAGE, VerifyReport, verify};
