use thiserror::Error;

/// Everything that can go wrong in the database layer.
///
/// Messages name the problem and, where it helps the operator, the fix; they never carry
/// row contents, so they are safe to log.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database URL is not one we can use.
    #[error("database URL is not usable: {0}")]
    BadUrl(String),
    /// The database could not be opened or reached.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The file is not a SQLite database, or a page is damaged.
    #[error("the database is corrupted or not a Telewarden database: {0}")]
    Corrupt(String),
    /// Migrations could not be applied.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// A row violates a uniqueness rule (e.g. the e-mail address is taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A stored value could not be understood (a tampered or foreign row).
    #[error("stored data is malformed: {0}")]
    Malformed(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.message().to_owned())
            }
            sqlx::Error::Database(db) => {
                let msg = db.message();
                // SQLITE_NOTADB (26) and SQLITE_CORRUPT (11) mean the file itself is bad.
                if msg.contains("file is not a database") || msg.contains("malformed") {
                    StoreError::Corrupt(msg.to_owned())
                } else {
                    StoreError::Database(msg.to_owned())
                }
            }
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
                StoreError::Unavailable(e.to_string())
            }
            sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => {
                StoreError::Unavailable(e.to_string())
            }
            sqlx::Error::Configuration(_) => StoreError::BadUrl(e.to_string()),
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
                StoreError::Malformed(e.to_string())
            }
            sqlx::Error::Migrate(m) => StoreError::Migration(m.to_string()),
            _ => StoreError::Database(e.to_string()),
        }
    }
}
