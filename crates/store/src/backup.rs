//! Backups of the database: a consistent snapshot while the server runs, loading one
//! into an empty database, and the record of the last backup and the last verified
//! restore (which the assurance checks read).
//!
//! - SQLite: `VACUUM INTO` a new file — one read transaction, so a consistent copy
//!   while the server keeps writing (WAL).
//! - PostgreSQL: every table's rows as JSON (`row_to_json`), read in one
//!   `REPEATABLE READ, READ ONLY` transaction; loaded back with `json_populate_record`
//!   in one transaction, parents before children, after the schema is migrated.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{Backend, Db, StoreError};

/// `server_state` key of the last backup.
const LAST_BACKUP: &str = "backup.last";
/// `server_state` key of the last verified restore.
const LAST_RESTORE: &str = "restore.last_verified";
/// The migrations table: written by migrating, never copied.
pub const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

/// A backup that was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupRecord {
    /// When the snapshot was taken (Unix milliseconds).
    pub time_ms: i64,
    /// The file's size in bytes.
    pub size: u64,
    /// The file's digest (hex SHA-256, as in its trailer).
    pub digest: String,
}

/// A backup that was verified whole and restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreRecord {
    /// When the restore finished (Unix milliseconds).
    pub time_ms: i64,
    /// When the restored backup was taken.
    pub backup_time_ms: i64,
    /// The restored file's digest.
    pub digest: String,
}

/// One table's rows, each a JSON object (PostgreSQL).
#[derive(Debug)]
pub struct TableDump {
    pub name: String,
    pub rows: Vec<String>,
}

fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Db {
    pub async fn record_backup(&self, record: &BackupRecord) -> Result<(), StoreError> {
        let text =
            serde_json::to_string(record).map_err(|e| StoreError::Database(e.to_string()))?;
        self.set_server_state(LAST_BACKUP, &text).await
    }

    /// The last backup written of this database, if any.
    pub async fn last_backup(&self) -> Result<Option<BackupRecord>, StoreError> {
        Ok(self
            .server_state(LAST_BACKUP)
            .await?
            .and_then(|t| serde_json::from_str(&t).ok()))
    }

    pub async fn record_restore(&self, record: &RestoreRecord) -> Result<(), StoreError> {
        let text =
            serde_json::to_string(record).map_err(|e| StoreError::Database(e.to_string()))?;
        self.set_server_state(LAST_RESTORE, &text).await
    }

    /// The last verified restore into this database, if any.
    pub async fn last_verified_restore(&self) -> Result<Option<RestoreRecord>, StoreError> {
        Ok(self
            .server_state(LAST_RESTORE)
            .await?
            .and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// The versions of the migrations applied, in order.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT version FROM _sqlx_migrations WHERE success = TRUE ORDER BY version",
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// SQLite: writes a consistent copy of the database to `dest` (which must not
    /// exist), while others keep reading and writing.
    pub async fn snapshot_sqlite(&self, dest: &Path) -> Result<(), StoreError> {
        if self.backend() != Backend::Sqlite {
            return Err(StoreError::Database("not a SQLite database".into()));
        }
        let dest = dest
            .to_str()
            .ok_or_else(|| StoreError::Database("the snapshot path is not UTF-8".into()))?;
        sqlx::query("VACUUM INTO $1")
            .bind(dest.to_owned())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The user tables of the current schema (PostgreSQL).
    async fn pg_tables<'e, E>(executor: E) -> Result<Vec<String>, StoreError>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        Ok(sqlx::query_scalar(
            "SELECT tablename::text FROM pg_catalog.pg_tables \
             WHERE schemaname = current_schema() ORDER BY tablename",
        )
        .fetch_all(executor)
        .await?)
    }

    /// Whether the database holds no tables at all (a safe restore target).
    pub async fn is_blank(&self) -> Result<bool, StoreError> {
        let n: i64 =
            match self.backend() {
                Backend::Sqlite => {
                    sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'")
                        .fetch_one(self.pool())
                        .await?
                }
                Backend::Postgres => sqlx::query_scalar(
                    "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()",
                )
                .fetch_one(self.pool())
                .await?,
            };
        Ok(n == 0)
    }

    /// PostgreSQL: every table's rows as JSON, from one consistent snapshot.
    pub async fn dump_postgres(&self) -> Result<Vec<TableDump>, StoreError> {
        if self.backend() != Backend::Postgres {
            return Err(StoreError::Database("not a PostgreSQL database".into()));
        }
        let mut tx = self.pool().begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let tables = Self::pg_tables(&mut *tx).await?;
        let mut out = Vec::with_capacity(tables.len());
        for name in tables {
            if name == MIGRATIONS_TABLE {
                continue;
            }
            if !is_identifier(&name) {
                return Err(StoreError::Database(format!(
                    "unexpected table name {name:?}"
                )));
            }
            // The name is checked above and comes from the catalogue.
            let sql = format!("SELECT row_to_json(t)::text FROM \"{name}\" t");
            let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut *tx)
                .await?;
            out.push(TableDump { name, rows });
        }
        tx.commit().await?;
        Ok(out)
    }

    /// PostgreSQL: loads `tables` into this freshly migrated database, in one
    /// transaction (all or nothing), parents before children. Every table named must
    /// exist here.
    pub async fn load_postgres(&self, tables: &[TableDump]) -> Result<u64, StoreError> {
        if self.backend() != Backend::Postgres {
            return Err(StoreError::Database("not a PostgreSQL database".into()));
        }
        let mut tx = self.pool().begin().await?;
        let existing: BTreeSet<String> = Self::pg_tables(&mut *tx).await?.into_iter().collect();
        for t in tables {
            if t.name == MIGRATIONS_TABLE || !existing.contains(&t.name) {
                return Err(StoreError::Database(format!(
                    "the backup holds a table {:?} this database does not have",
                    t.name
                )));
            }
        }
        // Foreign keys: child → parents.
        let edges = sqlx::query(
            "SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent \
             FROM pg_catalog.pg_constraint c WHERE c.contype = 'f'",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for row in edges {
            let child: String = row.try_get("child")?;
            let parent: String = row.try_get("parent")?;
            let strip = |s: String| s.trim_matches('"').to_owned();
            let (child, parent) = (strip(child), strip(parent));
            if child != parent {
                parents.entry(child).or_default().insert(parent);
            }
        }
        let mut done: BTreeSet<&str> = BTreeSet::new();
        let mut order: Vec<&TableDump> = Vec::with_capacity(tables.len());
        while order.len() < tables.len() {
            let before = order.len();
            for t in tables {
                if done.contains(t.name.as_str()) {
                    continue;
                }
                let ready = parents.get(&t.name).is_none_or(|ps| {
                    ps.iter()
                        .all(|p| done.contains(p.as_str()) || !tables.iter().any(|x| &x.name == p))
                });
                if ready {
                    done.insert(&t.name);
                    order.push(t);
                }
            }
            if order.len() == before {
                return Err(StoreError::Database(
                    "the tables' foreign keys form a cycle".into(),
                ));
            }
        }
        let mut rows = 0u64;
        for t in order {
            // The name was checked against this database's own tables above.
            let sql = format!(
                "INSERT INTO \"{0}\" SELECT * FROM json_populate_record(NULL::\"{0}\", $1::json)",
                t.name
            );
            for row in &t.rows {
                sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(row.as_str())
                    .execute(&mut *tx)
                    .await?;
                rows += 1;
            }
        }
        tx.commit().await?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::is_identifier;

    #[test]
    fn only_plain_table_names_are_used_in_sql() {
        assert!(is_identifier("ledger_entries"));
        assert!(!is_identifier("x\"; DROP TABLE users; --"));
        assert!(!is_identifier(""));
        assert!(!is_identifier("Users"));
    }
}
