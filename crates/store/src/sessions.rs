//! Server-side sessions: the browser holds a random id, the database only its hash.

use sqlx::Row;

use crate::accounts::{UserRow, user_from_row};
use crate::{Db, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id_hash: String,
    pub user_id: String,
    pub created_ms: i64,
    pub last_seen_ms: i64,
    pub expires_ms: i64,
    pub revoked_ms: Option<i64>,
}

impl Db {
    pub async fn insert_session(&self, s: &SessionRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, created_ms, last_seen_ms, expires_ms, revoked_ms) \
             VALUES ($1, $2, $3, $4, $5, NULL)",
        )
        .bind(&s.id_hash)
        .bind(&s.user_id)
        .bind(s.created_ms)
        .bind(s.last_seen_ms)
        .bind(s.expires_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The live session with this id hash and its user, if the session exists, is not
    /// revoked and has not expired at `now_ms`.
    pub async fn live_session(
        &self,
        id_hash: &str,
        now_ms: i64,
    ) -> Result<Option<(SessionRow, UserRow)>, StoreError> {
        let row = sqlx::query(
            "SELECT s.id_hash, s.user_id, s.created_ms AS s_created_ms, s.last_seen_ms, s.expires_ms, s.revoked_ms, \
                    u.id, u.email, u.display_name, u.role, u.password_hash, u.created_ms, u.disabled_ms \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id_hash = $1 AND s.revoked_ms IS NULL AND s.expires_ms > $2 AND u.disabled_ms IS NULL",
        )
        .bind(id_hash)
        .bind(now_ms)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let session = SessionRow {
            id_hash: r.try_get("id_hash")?,
            user_id: r.try_get("user_id")?,
            created_ms: r.try_get("s_created_ms")?,
            last_seen_ms: r.try_get("last_seen_ms")?,
            expires_ms: r.try_get("expires_ms")?,
            revoked_ms: r.try_get("revoked_ms")?,
        };
        Ok(Some((session, user_from_row(&r)?)))
    }

    /// Every session of a user, newest first (live, expired and revoked).
    pub async fn sessions_of_user(&self, user_id: &str) -> Result<Vec<SessionRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id_hash, user_id, created_ms, last_seen_ms, expires_ms, revoked_ms FROM sessions \
             WHERE user_id = $1 ORDER BY created_ms DESC",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SessionRow {
                    id_hash: r.try_get("id_hash")?,
                    user_id: r.try_get("user_id")?,
                    created_ms: r.try_get("created_ms")?,
                    last_seen_ms: r.try_get("last_seen_ms")?,
                    expires_ms: r.try_get("expires_ms")?,
                    revoked_ms: r.try_get("revoked_ms")?,
                })
            })
            .collect()
    }

    /// Marks the session revoked; returns whether a live session was revoked.
    pub async fn revoke_session(&self, id_hash: &str, now_ms: i64) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE sessions SET revoked_ms = $1 WHERE id_hash = $2 AND revoked_ms IS NULL",
        )
        .bind(now_ms)
        .bind(id_hash)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }
}
