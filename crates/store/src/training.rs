//! Training records: lessons passed, policies acknowledged, reminders sent.

use sqlx::Row;

use crate::{Db, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionRow {
    pub id: String,
    pub user_id: String,
    pub lesson_id: String,
    pub version: i64,
    pub digest: String,
    pub percent: i64,
    pub passed_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcknowledgementRow {
    pub user_id: String,
    pub policy_id: String,
    pub version: i64,
    pub digest: String,
    pub acknowledged_ms: i64,
}

impl Db {
    /// Every lesson pass, of one user or (with `None`) of everyone.
    pub async fn completions(
        &self,
        user_id: Option<&str>,
    ) -> Result<Vec<CompletionRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, user_id, lesson_id, version, digest, percent, passed_ms FROM training_completions \
             WHERE $1 = '' OR user_id = $1 ORDER BY passed_ms",
        )
        .bind(user_id.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CompletionRow {
                    id: r.try_get("id")?,
                    user_id: r.try_get("user_id")?,
                    lesson_id: r.try_get("lesson_id")?,
                    version: r.try_get("version")?,
                    digest: r.try_get("digest")?,
                    percent: r.try_get("percent")?,
                    passed_ms: r.try_get("passed_ms")?,
                })
            })
            .collect()
    }

    /// Records a pass unless the same lesson version was passed by the user since
    /// `not_since_ms` (a replayed or repeated quiz is not recorded twice). True if stored.
    pub async fn insert_completion(
        &self,
        c: &CompletionRow,
        not_since_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let recent: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM training_completions WHERE user_id = $1 AND lesson_id = $2 AND version = $3 AND passed_ms >= $4",
        )
        .bind(&c.user_id)
        .bind(&c.lesson_id)
        .bind(c.version)
        .bind(not_since_ms)
        .fetch_one(&mut *tx)
        .await?;
        if recent > 0 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO training_completions (id, user_id, lesson_id, version, digest, percent, passed_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&c.id)
        .bind(&c.user_id)
        .bind(&c.lesson_id)
        .bind(c.version)
        .bind(&c.digest)
        .bind(c.percent)
        .bind(c.passed_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Records an acknowledgement; false if this version was already acknowledged.
    pub async fn acknowledge_policy(&self, a: &AcknowledgementRow) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "INSERT INTO policy_acknowledgements (user_id, policy_id, version, digest, acknowledged_ms) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, policy_id, version) DO NOTHING",
        )
        .bind(&a.user_id)
        .bind(&a.policy_id)
        .bind(a.version)
        .bind(&a.digest)
        .bind(a.acknowledged_ms)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// The acknowledgements of one user or (with `None`) of everyone.
    pub async fn acknowledgements(
        &self,
        user_id: Option<&str>,
    ) -> Result<Vec<AcknowledgementRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT user_id, policy_id, version, digest, acknowledged_ms FROM policy_acknowledgements \
             WHERE $1 = '' OR user_id = $1 ORDER BY acknowledged_ms",
        )
        .bind(user_id.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AcknowledgementRow {
                    user_id: r.try_get("user_id")?,
                    policy_id: r.try_get("policy_id")?,
                    version: r.try_get("version")?,
                    digest: r.try_get("digest")?,
                    acknowledged_ms: r.try_get("acknowledged_ms")?,
                })
            })
            .collect()
    }

    /// Notes that the reminder `level` for `user_id`'s `due_ms` is sent; false if it
    /// already was (each level goes out once per due date).
    pub async fn reminder_sent(
        &self,
        user_id: &str,
        due_ms: i64,
        level: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "INSERT INTO training_reminders (user_id, due_ms, level, sent_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, due_ms, level) DO NOTHING",
        )
        .bind(user_id)
        .bind(due_ms)
        .bind(level)
        .bind(now_ms)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }
}
