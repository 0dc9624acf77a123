//! Known devices and in-app security notices.

use sqlx::Row;

use crate::{Db, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRow {
    pub id: String,
    pub user_id: String,
    pub created_ms: i64,
    pub kind: String,
    pub message: String,
    pub read_ms: Option<i64>,
}

impl Db {
    /// Records that `user_id` signed in from `device_hash`; true if it was new.
    pub async fn see_device(
        &self,
        user_id: &str,
        device_hash: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE known_devices SET last_seen_ms = $1 WHERE user_id = $2 AND device_hash = $3",
        )
        .bind(now_ms)
        .bind(user_id)
        .bind(device_hash)
        .execute(self.pool())
        .await?
        .rows_affected();
        if updated == 1 {
            return Ok(false);
        }
        let inserted = sqlx::query(
            "INSERT INTO known_devices (user_id, device_hash, first_seen_ms, last_seen_ms) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (user_id, device_hash) DO NOTHING",
        )
        .bind(user_id)
        .bind(device_hash)
        .bind(now_ms)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// Whether the user has signed in from any device before.
    pub async fn has_known_devices(&self, user_id: &str) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM known_devices WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(self.pool())
            .await?;
        Ok(n > 0)
    }

    pub async fn insert_notice(&self, n: &NoticeRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO notices (id, user_id, created_ms, kind, message, read_ms) VALUES ($1, $2, $3, $4, $5, NULL)",
        )
        .bind(&n.id)
        .bind(&n.user_id)
        .bind(n.created_ms)
        .bind(&n.kind)
        .bind(&n.message)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The user's latest notices, newest first.
    pub async fn notices_of_user(
        &self,
        user_id: &str,
        limit: i64,
    ) -> Result<Vec<NoticeRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, user_id, created_ms, kind, message, read_ms FROM notices WHERE user_id = $1 \
             ORDER BY created_ms DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(NoticeRow {
                    id: r.try_get("id")?,
                    user_id: r.try_get("user_id")?,
                    created_ms: r.try_get("created_ms")?,
                    kind: r.try_get("kind")?,
                    message: r.try_get("message")?,
                    read_ms: r.try_get("read_ms")?,
                })
            })
            .collect()
    }

    pub async fn mark_notices_read(&self, user_id: &str, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE notices SET read_ms = $1 WHERE user_id = $2 AND read_ms IS NULL")
            .bind(now_ms)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

impl Db {
    /// Whether `user_id` has an unread notice of `kind`.
    pub async fn has_unread_notice(&self, user_id: &str, kind: &str) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM notices WHERE user_id = $1 AND kind = $2 AND read_ms IS NULL",
        )
        .bind(user_id)
        .bind(kind)
        .fetch_one(self.pool())
        .await?;
        Ok(n > 0)
    }
}
