//! Fresh databases for tests: SQLite always, PostgreSQL too when `TW_TEST_POSTGRES_URL`
//! names a server (e.g. `postgres://postgres@127.0.0.1:5432/postgres`). Each call makes a
//! new database, so tests never see each other's rows.
//!
//! Test support only (feature `testing`): failing to make a test database is a broken
//! test environment, so these helpers panic with the reason instead of returning errors.
#![allow(clippy::panic)]

use crate::keyring::Keyring;
use crate::{Backend, Db, PoolSettings, StoreError};

/// The master key of every [`TestDb`]: fixed, so a test can open what another handle
/// sealed.
pub fn keyring() -> Keyring {
    Keyring::from_bytes([0x5e; 32])
}

/// The environment variable naming a PostgreSQL server for tests.
pub const POSTGRES_ENV: &str = "TW_TEST_POSTGRES_URL";

/// A migrated, empty database that lives as long as this value.
#[derive(Debug)]
pub struct TestDb {
    pub db: Db,
    /// The URL the server under test should be given.
    pub url: String,
    /// The master key to seal and open with ([`keyring`]).
    pub keyring: Keyring,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    /// Runs raw SQL, bypassing every rule: for tests that tamper with stored rows.
    pub async fn exec(&self, sql: &str) -> Result<u64, StoreError> {
        exec(&self.db, sql).await
    }
}

/// The first column of every row `sql` returns, as text: for tests that inspect what is
/// stored, as an attacker with a copy of the database would.
pub async fn texts(db: &Db, sql: &str) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_all(db.pool())
        .await?)
}

/// Runs raw SQL on any database, bypassing every rule: for tests that tamper with rows.
pub async fn exec(db: &Db, sql: &str) -> Result<u64, StoreError> {
    Ok(sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(db.pool())
        .await?
        .rows_affected())
}

/// A fresh migrated SQLite database in a temporary directory.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let db = open(&url).await;
    TestDb {
        db,
        url,
        keyring: keyring(),
        _dir: Some(dir),
    }
}

/// A fresh migrated PostgreSQL database on the server named by `TW_TEST_POSTGRES_URL`,
/// or `None` when the variable is unset.
pub async fn postgres() -> Option<TestDb> {
    let base = std::env::var(POSTGRES_ENV).ok().filter(|v| !v.is_empty())?;
    let url = fresh_postgres_database(&base).await;
    let db = open(&url).await;
    Some(TestDb {
        db,
        url,
        keyring: keyring(),
        _dir: None,
    })
}

/// Every backend available to this test run: SQLite, and PostgreSQL when configured.
pub async fn backends() -> Vec<TestDb> {
    let mut all = vec![sqlite().await];
    all.extend(postgres().await);
    all
}

/// Creates an empty database named `tw_test_<random>` on the server at `base` and
/// returns its URL (not migrated).
pub async fn fresh_postgres_database(base: &str) -> String {
    let admin = Db::connect(base, &PoolSettings::default())
        .await
        .unwrap_or_else(|e| panic!("{POSTGRES_ENV}: cannot connect: {e}"));
    let mut raw = [0u8; 8];
    getrandom::fill(&mut raw).unwrap_or_else(|e| panic!("random: {e}"));
    let name = format!("tw_test_{}", hex::encode(raw));
    // The name is ours (hex), never user input.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(admin.pool())
        .await
        .unwrap_or_else(|e| panic!("create test database: {e}"));
    admin.close().await;
    replace_database(base, &name)
}

fn replace_database(base: &str, name: &str) -> String {
    let (no_query, query) = match base.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (base, None),
    };
    let scheme_end = no_query.find("://").map_or(0, |i| i + 3);
    let host_part = match no_query[scheme_end..].find('/') {
        Some(i) => &no_query[..scheme_end + i],
        None => no_query,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

/// A live, fully signed-in session for the account with `email`, written directly to
/// the database: a fixture for tests and load harnesses that are not about signing in
/// (passkey sign-in itself is tested in the browser). Returns the `Cookie` header value
/// for a plain-HTTP server. The stored id is the SHA-256 (hex) of the token, as the
/// server stores it. `keyring` is the server's master key (the address is found through
/// its blind index).
pub async fn session_cookie(
    db: &Db,
    keyring: &Keyring,
    email: &str,
    now_ms: i64,
    authenticated_ms: i64,
) -> String {
    use sha2::Digest;
    let user = db
        .user_by_email(keyring, email)
        .await
        .unwrap_or_else(|e| panic!("look up {email}: {e}"))
        .unwrap_or_else(|| panic!("no account {email}"));
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).unwrap_or_else(|e| panic!("random: {e}"));
    let token = hex::encode(raw);
    db.insert_session(&crate::sessions::SessionRow {
        id_hash: hex::encode(sha2::Sha256::digest(token.as_bytes())),
        user_id: user.id,
        created_ms: now_ms,
        last_seen_ms: now_ms,
        expires_ms: now_ms + 12 * 3_600_000,
        revoked_ms: None,
        authenticated_ms,
        method: "passkey".into(),
        idle_timeout_ms: 15 * 60_000,
        device_hash: "fixture".into(),
        user_agent: "Test fixture".into(),
        source: "127.0.0.1".into(),
        mfa_pending: false,
    })
    .await
    .unwrap_or_else(|e| panic!("insert session: {e}"));
    format!("tw_session={token}")
}

/// A direct edit of the stored audit ledger, as someone with write access to the
/// database would make it: each one `ledger::verify` (and `telewarden audit verify`)
/// must name at [`LedgerEdit::first_bad`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerEdit {
    /// Changes the target of entry `seq`.
    Modify(u64),
    /// Deletes entry `seq`, leaving a gap.
    Delete(u64),
    /// Moves entries `seq..` up by one and forges a row at `seq` that copies the
    /// hashes of entry `seq - 1`.
    Insert(u64),
    /// Swaps entries `seq` and `seq + 1`.
    Swap(u64),
    /// Deletes every entry after `seq` (a truncated tail, when a signed tree head
    /// covers more).
    TruncateAfter(u64),
}

impl LedgerEdit {
    /// The five edits that must be caught, for a ledger of `size` entries (at least
    /// three) all covered by a signed tree head.
    pub fn all(size: u64) -> [Self; 5] {
        let mid = size / 2;
        [
            Self::Modify(mid),
            Self::Delete(mid),
            Self::Insert(mid.max(2)),
            Self::Swap(mid.min(size - 1)),
            Self::TruncateAfter(size - 1),
        ]
    }

    /// The sequence number verification must name as the first bad one.
    pub fn first_bad(self) -> u64 {
        match self {
            Self::Modify(s) | Self::Delete(s) | Self::Insert(s) | Self::Swap(s) => s,
            Self::TruncateAfter(s) => s + 1,
        }
    }

    /// Makes the edit with raw SQL (the same on SQLite and PostgreSQL).
    pub async fn apply(self, db: &Db) -> Result<(), StoreError> {
        match self {
            Self::Modify(seq) => {
                exec(
                    db,
                    &format!(
                        "UPDATE ledger_entries SET target = target || ':forged' WHERE seq = {seq}"
                    ),
                )
                .await?;
            }
            Self::Delete(seq) => {
                exec(db, &format!("DELETE FROM ledger_entries WHERE seq = {seq}")).await?;
            }
            Self::Insert(seq) => {
                let last: i64 = sqlx::query_scalar("SELECT MAX(seq) FROM ledger_entries")
                    .fetch_one(db.pool())
                    .await?;
                let last = u64::try_from(last).unwrap_or(0);
                // Make room (highest first, so the primary key never collides).
                for s in (seq..=last).rev() {
                    exec(
                        db,
                        &format!("UPDATE ledger_entries SET seq = {} WHERE seq = {s}", s + 1),
                    )
                    .await?;
                }
                exec(
                    db,
                    &format!(
                        "INSERT INTO ledger_entries (seq, time_ms, actor, action, target, outcome, \
                         source, request_id, details, leaf_hash, chain_hash) \
                         SELECT {seq}, time_ms, 'user:mallory', action, target, outcome, source, \
                         request_id, details, leaf_hash, chain_hash \
                         FROM ledger_entries WHERE seq = {}",
                        seq - 1
                    ),
                )
                .await?;
            }
            Self::Swap(seq) => {
                // Through a free number.
                let free = 1_000_000_000u64;
                for (from, to) in [(seq, free), (seq + 1, seq), (free, seq + 1)] {
                    exec(
                        db,
                        &format!("UPDATE ledger_entries SET seq = {to} WHERE seq = {from}"),
                    )
                    .await?;
                }
            }
            Self::TruncateAfter(seq) => {
                exec(db, &format!("DELETE FROM ledger_entries WHERE seq > {seq}")).await?;
            }
        }
        Ok(())
    }
}

async fn open(url: &str) -> Db {
    let db = Db::connect(url, &PoolSettings::default())
        .await
        .unwrap_or_else(|e| panic!("open test database: {e}"));
    db.migrate()
        .await
        .unwrap_or_else(|e| panic!("migrate test database: {e}"));
    db
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(replace_database("postgres://h", "x"), "postgres://h/x");
        assert_eq!(
            replace_database("postgres://h/db?sslmode=disable", "x"),
            "postgres://h/x?sslmode=disable"
        );
    }
}
