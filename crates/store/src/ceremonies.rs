//! Short-lived state between two requests: WebAuthn ceremonies, and sign-ins that passed
//! their first factor and await the second. Each is used once and expires.

use sqlx::Row;

use crate::{Db, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CeremonyRow {
    pub id: String,
    /// `register`, `authenticate`, `step_up`.
    pub kind: String,
    pub user_id: Option<String>,
    pub state_json: String,
    pub created_ms: i64,
    pub expires_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSignInRow {
    pub id_hash: String,
    pub user_id: String,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub failures: i64,
}

impl Db {
    pub async fn insert_ceremony(&self, c: &CeremonyRow) -> Result<(), StoreError> {
        // Expired ceremonies are of no use to anyone: clear them as we go.
        sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_ms <= $1")
            .bind(c.created_ms)
            .execute(self.pool())
            .await?;
        sqlx::query(
            "INSERT INTO webauthn_ceremonies (id, kind, user_id, state_json, created_ms, expires_ms) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&c.id)
        .bind(&c.kind)
        .bind(c.user_id.as_deref())
        .bind(&c.state_json)
        .bind(c.created_ms)
        .bind(c.expires_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Removes and returns the ceremony if it exists, is of `kind` and has not expired.
    /// Deleting first makes it single use even under concurrent requests.
    pub async fn take_ceremony(
        &self,
        id: &str,
        kind: &str,
        now_ms: i64,
    ) -> Result<Option<CeremonyRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, kind, user_id, state_json, created_ms, expires_ms FROM webauthn_ceremonies WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let deleted = sqlx::query("DELETE FROM webauthn_ceremonies WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?
            .rows_affected();
        let c = CeremonyRow {
            id: r.try_get("id")?,
            kind: r.try_get("kind")?,
            user_id: r.try_get("user_id")?,
            state_json: r.try_get("state_json")?,
            created_ms: r.try_get("created_ms")?,
            expires_ms: r.try_get("expires_ms")?,
        };
        Ok((deleted == 1 && c.kind == kind && c.expires_ms > now_ms).then_some(c))
    }

    pub async fn insert_pending_signin(&self, p: &PendingSignInRow) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM pending_signins WHERE expires_ms <= $1")
            .bind(p.created_ms)
            .execute(self.pool())
            .await?;
        sqlx::query(
            "INSERT INTO pending_signins (id_hash, user_id, created_ms, expires_ms, failures) VALUES ($1, $2, $3, $4, 0)",
        )
        .bind(&p.id_hash)
        .bind(&p.user_id)
        .bind(p.created_ms)
        .bind(p.expires_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn pending_signin(
        &self,
        id_hash: &str,
        now_ms: i64,
    ) -> Result<Option<PendingSignInRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id_hash, user_id, created_ms, expires_ms, failures FROM pending_signins \
             WHERE id_hash = $1 AND expires_ms > $2",
        )
        .bind(id_hash)
        .bind(now_ms)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(PendingSignInRow {
                id_hash: r.try_get("id_hash")?,
                user_id: r.try_get("user_id")?,
                created_ms: r.try_get("created_ms")?,
                expires_ms: r.try_get("expires_ms")?,
                failures: r.try_get("failures")?,
            })
        })
        .transpose()
    }

    /// Counts one try of the second step, atomically and before it is checked; false
    /// when the pending sign-in is gone, expired, or has had `max` tries already.
    pub async fn pending_signin_attempt(
        &self,
        id_hash: &str,
        max: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE pending_signins SET failures = failures + 1 WHERE id_hash = $1 AND failures < $2 AND expires_ms > $3",
        )
        .bind(id_hash)
        .bind(max)
        .bind(now_ms)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Ends the pending sign-in; true if it was there (single use).
    pub async fn take_pending_signin(&self, id_hash: &str) -> Result<bool, StoreError> {
        let n = sqlx::query("DELETE FROM pending_signins WHERE id_hash = $1")
            .bind(id_hash)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n == 1)
    }
}
