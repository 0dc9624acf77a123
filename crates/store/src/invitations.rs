//! Enrolment links: an invitation names the (already created, credential-less) account
//! it enrols, and works once before it expires.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::accounts::UserRow;
use crate::credentials::PasskeyRow;
use crate::keyring::Keyring;
use crate::setup::insert_user;
use crate::{Db, StoreError};

/// `enrol`: a new account; `reenrol`: an account whose credentials an administrator reset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationRow {
    pub id: String,
    pub token_hash: String,
    pub kind: String,
    pub user_id: String,
    pub invited_by: Option<String>,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub used_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
}

fn invitation_from_row(r: &AnyRow) -> Result<InvitationRow, StoreError> {
    Ok(InvitationRow {
        id: r.try_get("id")?,
        token_hash: r.try_get("token_hash")?,
        kind: r.try_get("kind")?,
        user_id: r.try_get("user_id")?,
        invited_by: r.try_get("invited_by")?,
        created_ms: r.try_get("created_ms")?,
        expires_ms: r.try_get("expires_ms")?,
        used_ms: r.try_get("used_ms")?,
        revoked_ms: r.try_get("revoked_ms")?,
    })
}

pub(crate) async fn insert_invitation(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    inv: &InvitationRow,
) -> Result<(), StoreError> {
    // Only the newest link of an account works.
    sqlx::query("UPDATE invitations SET revoked_ms = $1 WHERE user_id = $2 AND used_ms IS NULL AND revoked_ms IS NULL")
        .bind(inv.created_ms)
        .bind(&inv.user_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO invitations (id, token_hash, kind, user_id, invited_by, created_ms, expires_ms, used_ms, revoked_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL)",
    )
    .bind(&inv.id)
    .bind(&inv.token_hash)
    .bind(&inv.kind)
    .bind(&inv.user_id)
    .bind(inv.invited_by.as_deref())
    .bind(inv.created_ms)
    .bind(inv.expires_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Db {
    /// Creates an account without credentials and its enrolment link, together; the
    /// address and name are sealed with `keyring`.
    pub async fn invite_user(
        &self,
        keyring: &Keyring,
        user: &UserRow,
        inv: &InvitationRow,
    ) -> Result<(), StoreError> {
        let sealed = self.seal_user(keyring, user).await?;
        let mut tx = self.pool().begin().await?;
        insert_user(&mut tx, user, &sealed).await?;
        insert_invitation(&mut tx, inv).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A new link for an existing account (re-sent invitation, or re-enrolment after an
    /// administrator reset). Earlier links of the account stop working.
    pub async fn reissue_invitation(&self, inv: &InvitationRow) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        insert_invitation(&mut tx, inv).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn invitation_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<InvitationRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, token_hash, kind, user_id, invited_by, created_ms, expires_ms, used_ms, revoked_ms \
             FROM invitations WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(invitation_from_row).transpose()
    }

    /// The account's newest invitation, used or not.
    pub async fn latest_invitation_of_user(
        &self,
        user_id: &str,
    ) -> Result<Option<InvitationRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, token_hash, kind, user_id, invited_by, created_ms, expires_ms, used_ms, revoked_ms \
             FROM invitations WHERE user_id = $1 ORDER BY created_ms DESC LIMIT 1",
        )
        .bind(user_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(invitation_from_row).transpose()
    }

    /// Enrols with a passkey: uses the invitation and stores the passkey in one
    /// transaction. False (and nothing written) when the invitation is no longer live.
    pub async fn enrol_with_passkey(
        &self,
        invitation_id: &str,
        now_ms: i64,
        passkey: &PasskeyRow,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        if !use_in(&mut tx, invitation_id, now_ms).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        crate::credentials::insert_passkey_in(&mut tx, passkey).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Enrols with a password: uses the invitation and sets the hash in one transaction.
    pub async fn enrol_with_password(
        &self,
        invitation_id: &str,
        now_ms: i64,
        user_id: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        if !use_in(&mut tx, invitation_id, now_ms).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Administrator-assisted recovery in one transaction: every credential removed,
    /// every session ended, a new enrolment link in place.
    pub async fn reset_credentials(
        &self,
        user_id: &str,
        now_ms: i64,
        inv: &InvitationRow,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        crate::credentials::clear_credentials_in(&mut tx, user_id, now_ms).await?;
        insert_invitation(&mut tx, inv).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Uses the invitation: true only once, while it is live.
    pub async fn use_invitation(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let used = use_in(&mut tx, id, now_ms).await?;
        tx.commit().await?;
        Ok(used)
    }
}

async fn use_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "UPDATE invitations SET used_ms = $1 \
         WHERE id = $2 AND used_ms IS NULL AND revoked_ms IS NULL AND expires_ms > $1",
    )
    .bind(now_ms)
    .bind(id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n == 1)
}
