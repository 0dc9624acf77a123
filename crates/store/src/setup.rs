//! First-run setup: the one-time link and the creation of the practice and its first admin.

use sqlx::Row;

use crate::accounts::{PracticeRow, UserRow};
use crate::directory::{SealedProfile, email_placeholder, seal_profile};
use crate::invitations::{InvitationRow, insert_invitation};
use crate::keyring::Keyring;
use crate::{Db, StoreError};

/// A stored setup token (only its hash is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupTokenRow {
    pub id: String,
    pub token_hash: String,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub used_ms: Option<i64>,
}

/// Why completing setup did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompleteSetup {
    /// The practice and the admin were created.
    Done,
    /// The token was used (or setup finished) in the meantime: nothing was written.
    AlreadyUsed,
}

impl Db {
    /// Replaces any unused setup token with a new one: only the latest link works.
    pub async fn issue_setup_token(&self, row: &SetupTokenRow) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM setup_tokens WHERE used_ms IS NULL")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO setup_tokens (id, token_hash, created_ms, expires_ms, used_ms) VALUES ($1, $2, $3, $4, NULL)",
        )
        .bind(&row.id)
        .bind(&row.token_hash)
        .bind(row.created_ms)
        .bind(row.expires_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The unused setup token whose hash is `token_hash`, if any.
    pub async fn setup_token(&self, token_hash: &str) -> Result<Option<SetupTokenRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, token_hash, created_ms, expires_ms, used_ms FROM setup_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(SetupTokenRow {
                id: r.try_get("id")?,
                token_hash: r.try_get("token_hash")?,
                created_ms: r.try_get("created_ms")?,
                expires_ms: r.try_get("expires_ms")?,
                used_ms: r.try_get("used_ms")?,
            })
        })
        .transpose()
    }

    /// Consumes the token and creates the practice, the first admin's account and its
    /// enrolment link, in one transaction. If the token was consumed concurrently,
    /// nothing is written. The admin's address and name are sealed with `keyring`.
    pub async fn complete_setup(
        &self,
        keyring: &Keyring,
        token_id: &str,
        now_ms: i64,
        practice: &PracticeRow,
        admin: &UserRow,
        enrolment: &InvitationRow,
    ) -> Result<CompleteSetup, StoreError> {
        let sealed = self.seal_user(keyring, admin).await?;
        let mut tx = self.pool().begin().await?;
        let consumed = sqlx::query(
            "UPDATE setup_tokens SET used_ms = $1 WHERE id = $2 AND used_ms IS NULL AND expires_ms > $1",
        )
        .bind(now_ms)
        .bind(token_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM practice")
            .fetch_one(&mut *tx)
            .await?;
        if consumed != 1 || existing != 0 {
            tx.rollback().await?;
            return Ok(CompleteSetup::AlreadyUsed);
        }
        sqlx::query(
            "INSERT INTO practice (id, name, time_zone, created_ms, patient_auth, self_registration) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&practice.id)
        .bind(&practice.name)
        .bind(&practice.time_zone)
        .bind(practice.created_ms)
        .bind(&practice.patient_auth)
        .bind(i64::from(practice.self_registration))
        .execute(&mut *tx)
        .await?;
        insert_user(&mut tx, admin, &sealed).await?;
        insert_invitation(&mut tx, enrolment).await?;
        tx.commit().await?;
        Ok(CompleteSetup::Done)
    }
}

impl Db {
    /// Seals `user`'s address and name, before the transaction that inserts it (making
    /// the directory's first data key writes too, and SQLite has one writer).
    pub(crate) async fn seal_user(
        &self,
        keyring: &Keyring,
        user: &UserRow,
    ) -> Result<SealedProfile, StoreError> {
        let key = self.directory_key_to_seal(keyring, user.created_ms).await?;
        seal_profile(&key, keyring, &user.id, &user.email, &user.display_name)
    }
}

/// Inserts an account with its sealed profile; the clear columns get no personal data
/// (see migration 0007). An address already taken is a [`StoreError::Conflict`], through
/// the unique blind index.
pub(crate) async fn insert_user(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user: &UserRow,
    sealed: &SealedProfile,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO users (id, email, display_name, role, password_hash, created_ms, disabled_ms, email_index, profile) \
         VALUES ($1, $2, '', $3, $4, $5, $6, $7, $8)",
    )
    .bind(&user.id)
    .bind(email_placeholder(&user.id))
    .bind(&user.role)
    .bind(user.password_hash.as_deref())
    .bind(user.created_ms)
    .bind(user.disabled_ms)
    .bind(&sealed.email_index)
    .bind(&sealed.profile)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
