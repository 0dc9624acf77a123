use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use std::sync::Arc;

use sqlx::migrate::Migrator;
use sqlx::{AnyConnection, AnyPool, Connection, Executor};

use crate::StoreError;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Which database engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Pool tuning; the defaults suit one practice on one machine.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// Whether the schema is up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrationStatus {
    pub applied: usize,
    pub expected: usize,
}

impl MigrationStatus {
    pub fn is_current(&self) -> bool {
        self.applied == self.expected
    }
}

/// A connection pool to the practice's database.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// Unwrapped data keys (see [`crate::envelope`]).
    pub(crate) keys: Arc<crate::envelope::KeyCache>,
    /// SQLite has one writer at a time; a writer that finds the lock taken sleeps in
    /// growing steps (up to 50 ms). The busiest writers queue here instead.
    write_gate: Arc<tokio::sync::Mutex<()>>,
}

impl Db {
    /// Opens the database at `url` (`sqlite://PATH` or `postgres://…`), creating a SQLite
    /// file if it does not exist. Does not migrate; call [`Db::migrate`].
    pub async fn connect(url: &str, settings: &PoolSettings) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = backend_of(url)?;
        let url = match backend {
            Backend::Sqlite => sqlite_url_with_create(url),
            Backend::Postgres => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|e| StoreError::BadUrl(redact(&e.to_string())))?;
        if backend == Backend::Sqlite {
            // One direct connection first: a damaged file then fails at once with its
            // own error, instead of as a pool timeout after every retry.
            let mut probe = AnyConnection::connect_with(&options).await?;
            probe.execute("SELECT COUNT(*) FROM sqlite_master").await?;
            probe.close().await?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers proceed while the single writer commits; NORMAL
                        // synchronous is durable across application crashes in WAL mode.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(StoreError::from)
            .map_err(|e| match e {
                StoreError::Database(m) => StoreError::Unavailable(redact(&m)),
                other => other,
            })?;
        let db = Db {
            pool,
            backend,
            keys: Arc::default(),
            write_gate: Arc::default(),
        };
        // Touch the schema: a file that is not a database fails here, clearly.
        db.ping().await?;
        Ok(db)
    }

    /// Holds SQLite's writers in line (nothing on PostgreSQL, whose rows lock apart).
    pub(crate) async fn write_guard(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite => Some(self.write_gate.lock().await),
            Backend::Postgres => None,
        }
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| match sqlx::Error::from(e) {
                sqlx::Error::Migrate(m) => classify_migrate(m.to_string()),
                other => StoreError::from(other),
            })
    }

    /// How many of the known migrations the database has applied.
    pub async fn migration_status(&self) -> Result<MigrationStatus, StoreError> {
        let expected = MIGRATOR
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .count();
        let applied: i64 =
            match sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_one(&self.pool)
                .await
            {
                Ok(n) => n,
                // No migrations table yet: nothing applied.
                Err(sqlx::Error::Database(_)) => 0,
                Err(e) => return Err(e.into()),
            };
        Ok(MigrationStatus {
            applied: usize::try_from(applied).unwrap_or(0),
            expected,
        })
    }

    /// A cheap round trip that also reads the schema (catches a corrupt SQLite file).
    pub async fn ping(&self) -> Result<(), StoreError> {
        let sql = match self.backend {
            Backend::Sqlite => "SELECT COUNT(*) FROM sqlite_master",
            Backend::Postgres => "SELECT COUNT(*) FROM pg_catalog.pg_namespace",
        };
        let _: i64 = sqlx::query_scalar(sql).fetch_one(&self.pool).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for the repositories in this crate.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Waits for in-flight queries and closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The versions of the migrations this build knows, in order.
pub fn known_migrations() -> Vec<i64> {
    MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| m.version)
        .collect()
}

fn backend_of(url: &str) -> Result<Backend, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        Err(StoreError::BadUrl(
            "expected sqlite://PATH or postgres://USER@HOST/DATABASE".into(),
        ))
    }
}

/// SQLite opens read-write-create only when asked (`mode=rwc`).
fn sqlite_url_with_create(url: &str) -> String {
    if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

fn classify_migrate(msg: String) -> StoreError {
    if msg.contains("file is not a database") || msg.contains("malformed") {
        StoreError::Corrupt(msg)
    } else {
        StoreError::Migration(msg)
    }
}

/// Removes a password from anything that looks like a URL with credentials.
pub(crate) fn redact(text: &str) -> String {
    // `scheme://user:password@host` → `scheme://user:***@host`
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail.find(['/', ' ', '"', '\'']).unwrap_or(tail.len());
        let authority = &tail[..end];
        match (authority.find(':'), authority.rfind('@')) {
            (Some(c), Some(a)) if c < a => {
                out.push_str(&authority[..=c]);
                out.push_str("***");
                out.push_str(&authority[a..]);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_in_urls() {
        assert_eq!(
            redact("cannot reach postgres://tw:s3cret@db.local/tw now"),
            "cannot reach postgres://tw:***@db.local/tw now"
        );
        assert_eq!(redact("postgres://tw@db/tw"), "postgres://tw@db/tw");
        assert_eq!(redact("no url here"), "no url here");
    }

    #[test]
    fn rejects_unknown_schemes() {
        assert!(matches!(
            backend_of("mysql://x"),
            Err(StoreError::BadUrl(_))
        ));
        assert_eq!(backend_of("sqlite:///tmp/x.db").ok(), Some(Backend::Sqlite));
        assert_eq!(backend_of("postgres://x/y").ok(), Some(Backend::Postgres));
    }

    #[test]
    fn sqlite_urls_open_for_create() {
        assert_eq!(
            sqlite_url_with_create("sqlite:///a.db"),
            "sqlite:///a.db?mode=rwc"
        );
        assert_eq!(
            sqlite_url_with_create("sqlite:///a.db?x=1"),
            "sqlite:///a.db?x=1&mode=rwc"
        );
        assert_eq!(
            sqlite_url_with_create("sqlite:///a.db?mode=ro"),
            "sqlite:///a.db?mode=ro"
        );
    }
}
