//! Telewarden's database layer.
//!
//! One code path serves both databases: SQLite (the embedded default, WAL mode) and
//! PostgreSQL (`postgres://…`), through sqlx's `Any` driver. The SQL is kept portable
//! (TEXT and BIGINT columns, `$n` placeholders, times as Unix milliseconds, hashes as
//! hex), so one set of queries and one set of migrations serve both, and one conformance
//! suite (this crate's tests, run on both in CI) proves it.
//!
//! The repositories here ([`accounts`], [`credentials`], [`sessions`], [`setup`], the ledger's
//! [`ledger::LedgerStore`]) hold SQL only; rules live in the server's domain modules.

mod db;
mod error;
mod ledger_store;

pub mod accounts;
pub mod alerts;
pub mod assurance;
pub mod backup;
pub mod break_glass;
pub mod ceremonies;
pub mod consults;
pub mod credentials;
pub mod directory;
pub mod envelope;
pub mod invitations;
pub mod keyring;
pub mod messaging;
pub mod messaging_backups;
pub mod notices;
pub mod phishing;
pub mod records;
pub mod server_state;
pub mod sessions;
pub mod setup;
pub mod training;

#[cfg(feature = "testing")]
pub mod testing;

pub use db::{Backend, Db, MigrationStatus, PoolSettings, known_migrations};
pub use error::StoreError;
