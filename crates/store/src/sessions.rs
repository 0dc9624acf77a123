//! Server-side sessions: the browser holds a random id, the database only its hash.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::accounts::{UserRow, sealed_profile_of, user_from_row};
use crate::keyring::Keyring;
use crate::{Db, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id_hash: String,
    pub user_id: String,
    pub created_ms: i64,
    pub last_seen_ms: i64,
    /// Absolute end of the session.
    pub expires_ms: i64,
    pub revoked_ms: Option<i64>,
    /// When the user last proved who they are (sign-in or step-up).
    pub authenticated_ms: i64,
    /// How: `passkey`, `password`, `password+totp`, `recovery_code`.
    pub method: String,
    /// Inactivity after which the session ends.
    pub idle_timeout_ms: i64,
    pub device_hash: String,
    /// A short description of the browser, for the user's session list.
    pub user_agent: String,
    pub source: String,
    /// Signed in with one factor; until a second is enrolled, only enrolment is allowed.
    pub mfa_pending: bool,
}

/// The session columns, as a literal so queries stay `&'static str` (no dynamic SQL).
macro_rules! session_columns {
    () => {
        "s.id_hash, s.user_id, s.created_ms AS s_created_ms, s.last_seen_ms, s.expires_ms, s.revoked_ms, \
         s.authenticated_ms, s.method, s.idle_timeout_ms, s.device_hash, s.user_agent, s.source, s.mfa_pending"
    };
}

fn session_from_row(r: &AnyRow) -> Result<SessionRow, StoreError> {
    Ok(SessionRow {
        id_hash: r.try_get("id_hash")?,
        user_id: r.try_get("user_id")?,
        created_ms: r.try_get("s_created_ms")?,
        last_seen_ms: r.try_get("last_seen_ms")?,
        expires_ms: r.try_get("expires_ms")?,
        revoked_ms: r.try_get("revoked_ms")?,
        authenticated_ms: r.try_get("authenticated_ms")?,
        method: r.try_get("method")?,
        idle_timeout_ms: r.try_get("idle_timeout_ms")?,
        device_hash: r.try_get("device_hash")?,
        user_agent: r.try_get("user_agent")?,
        source: r.try_get("source")?,
        mfa_pending: r.try_get::<i64, _>("mfa_pending")? != 0,
    })
}

impl Db {
    pub async fn insert_session(&self, s: &SessionRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, created_ms, last_seen_ms, expires_ms, revoked_ms, \
             authenticated_ms, method, idle_timeout_ms, device_hash, user_agent, source, mfa_pending) \
             VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&s.id_hash)
        .bind(&s.user_id)
        .bind(s.created_ms)
        .bind(s.last_seen_ms)
        .bind(s.expires_ms)
        .bind(s.authenticated_ms)
        .bind(&s.method)
        .bind(s.idle_timeout_ms)
        .bind(&s.device_hash)
        .bind(&s.user_agent)
        .bind(&s.source)
        .bind(i64::from(s.mfa_pending))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The live session with this id hash and its user: not revoked, not past its
    /// absolute end, not idle for longer than its idle timeout, user not disabled. The
    /// keyring opens the user's sealed profile.
    pub async fn live_session(
        &self,
        keyring: &Keyring,
        id_hash: &str,
        now_ms: i64,
    ) -> Result<Option<(SessionRow, UserRow)>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            session_columns!(),
            ", u.id, u.role, u.password_hash, u.created_ms, u.disabled_ms, u.profile \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id_hash = $1 AND s.revoked_ms IS NULL AND s.expires_ms > $2 \
               AND s.last_seen_ms + s.idle_timeout_ms > $2 AND u.disabled_ms IS NULL"
        ))
        .bind(id_hash)
        .bind(now_ms)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        sealed_profile_of(&r)?;
        let key = self.directory_key_to_open(keyring).await?;
        Ok(Some((session_from_row(&r)?, user_from_row(&r, &key)?)))
    }

    /// Records activity (for the idle timeout).
    pub async fn touch_session(&self, id_hash: &str, now_ms: i64) -> Result<(), StoreError> {
        let _gate = self.write_guard().await;
        sqlx::query(
            "UPDATE sessions SET last_seen_ms = $1 WHERE id_hash = $2 AND revoked_ms IS NULL",
        )
        .bind(now_ms)
        .bind(id_hash)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records a fresh proof of identity (step-up) and clears a pending second factor.
    pub async fn reauthenticate_session(
        &self,
        id_hash: &str,
        now_ms: i64,
        method: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sessions SET authenticated_ms = $1, last_seen_ms = $1, method = $2, mfa_pending = 0 \
             WHERE id_hash = $3 AND revoked_ms IS NULL",
        )
        .bind(now_ms)
        .bind(method)
        .bind(id_hash)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Gives the session a new id (privilege change), keeping everything else; returns
    /// whether the old id was live.
    pub async fn rotate_session(&self, old_hash: &str, new_hash: &str) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE sessions SET id_hash = $1 WHERE id_hash = $2 AND revoked_ms IS NULL",
        )
        .bind(new_hash)
        .bind(old_hash)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Every session of a user, newest first (live, expired and revoked).
    pub async fn sessions_of_user(&self, user_id: &str) -> Result<Vec<SessionRow>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions s WHERE s.user_id = $1 ORDER BY s.created_ms DESC"
        ))
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(session_from_row).collect()
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

    /// Revokes one session of `user_id` (only theirs); returns whether one was revoked.
    pub async fn revoke_session_of_user(
        &self,
        user_id: &str,
        id_hash: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE sessions SET revoked_ms = $1 WHERE id_hash = $2 AND user_id = $3 AND revoked_ms IS NULL",
        )
        .bind(now_ms)
        .bind(id_hash)
        .bind(user_id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Revokes every session of a user except `keep` (if given); returns how many.
    pub async fn revoke_sessions_of_user(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let n = sqlx::query(
            "UPDATE sessions SET revoked_ms = $1 WHERE user_id = $2 AND revoked_ms IS NULL AND id_hash <> $3",
        )
        .bind(now_ms)
        .bind(user_id)
        .bind(keep.unwrap_or(""))
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n)
    }
}
