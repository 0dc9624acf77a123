//! What a user signs in with: passkeys, a TOTP second factor, recovery codes.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Db, StoreError};

/// A registered passkey; `passkey_json` is the WebAuthn library's credential record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRow {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub credential_id: String,
    pub passkey_json: String,
    pub created_ms: i64,
    pub last_used_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpRow {
    pub user_id: String,
    pub secret_sealed: String,
    pub created_ms: i64,
    pub confirmed_ms: Option<i64>,
    pub last_step: Option<i64>,
}

fn passkey_from_row(r: &AnyRow) -> Result<PasskeyRow, StoreError> {
    Ok(PasskeyRow {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        name: r.try_get("name")?,
        credential_id: r.try_get("credential_id")?,
        passkey_json: r.try_get("passkey_json")?,
        created_ms: r.try_get("created_ms")?,
        last_used_ms: r.try_get("last_used_ms")?,
    })
}

impl Db {
    pub async fn insert_passkey(&self, p: &PasskeyRow) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        insert_passkey_in(&mut tx, p).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn passkeys_of_user(&self, user_id: &str) -> Result<Vec<PasskeyRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, user_id, name, credential_id, passkey_json, created_ms, last_used_ms \
             FROM passkeys WHERE user_id = $1 ORDER BY created_ms",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(passkey_from_row).collect()
    }

    pub async fn passkey_by_credential_id(
        &self,
        credential_id: &str,
    ) -> Result<Option<PasskeyRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, user_id, name, credential_id, passkey_json, created_ms, last_used_ms \
             FROM passkeys WHERE credential_id = $1",
        )
        .bind(credential_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(passkey_from_row).transpose()
    }

    /// Stores the updated credential (signature counter) after a sign-in.
    pub async fn passkey_used(
        &self,
        id: &str,
        passkey_json: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE passkeys SET passkey_json = $1, last_used_ms = $2 WHERE id = $3")
            .bind(passkey_json)
            .bind(now_ms)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Renames one of the user's passkeys; returns whether it exists.
    pub async fn rename_passkey(
        &self,
        user_id: &str,
        id: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query("UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3")
            .bind(name)
            .bind(id)
            .bind(user_id)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Removes one of the user's passkeys; returns whether it existed.
    pub async fn delete_passkey(&self, user_id: &str, id: &str) -> Result<bool, StoreError> {
        let n = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Replaces the user's TOTP secret with a new, unconfirmed one.
    pub async fn put_totp(&self, t: &TotpRow) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM totp WHERE user_id = $1")
            .bind(&t.user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO totp (user_id, secret_sealed, created_ms, confirmed_ms, last_step) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&t.user_id)
        .bind(&t.secret_sealed)
        .bind(t.created_ms)
        .bind(t.confirmed_ms)
        .bind(t.last_step)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn totp_of_user(&self, user_id: &str) -> Result<Option<TotpRow>, StoreError> {
        let row = sqlx::query(
            "SELECT user_id, secret_sealed, created_ms, confirmed_ms, last_step FROM totp WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(TotpRow {
                user_id: r.try_get("user_id")?,
                secret_sealed: r.try_get("secret_sealed")?,
                created_ms: r.try_get("created_ms")?,
                confirmed_ms: r.try_get("confirmed_ms")?,
                last_step: r.try_get("last_step")?,
            })
        })
        .transpose()
    }

    /// Records an accepted TOTP step, only if it is newer than the last one (so two
    /// concurrent requests cannot both use one code). Also confirms the secret.
    pub async fn accept_totp_step(
        &self,
        user_id: &str,
        step: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE totp SET last_step = $1, confirmed_ms = COALESCE(confirmed_ms, $2) \
             WHERE user_id = $3 AND (last_step IS NULL OR last_step < $1)",
        )
        .bind(step)
        .bind(now_ms)
        .bind(user_id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    pub async fn delete_totp(&self, user_id: &str) -> Result<bool, StoreError> {
        let n = sqlx::query("DELETE FROM totp WHERE user_id = $1")
            .bind(user_id)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Replaces all recovery codes of the user with these hashes.
    pub async fn replace_recovery_codes(
        &self,
        user_id: &str,
        hashes: &[String],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        for h in hashes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash, created_ms, used_ms) VALUES ($1, $2, $3, NULL)")
                .bind(user_id)
                .bind(h)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Uses up a recovery code: true only the first time for an existing code.
    pub async fn use_recovery_code(
        &self,
        user_id: &str,
        code_hash: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE recovery_codes SET used_ms = $1 WHERE user_id = $2 AND code_hash = $3 AND used_ms IS NULL",
        )
        .bind(now_ms)
        .bind(user_id)
        .bind(code_hash)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Recovery codes the user has ever been given that still exist (used or not):
    /// zero only before the first set.
    pub async fn recovery_codes_issued(&self, user_id: &str) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1")
                .bind(user_id)
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// Unused recovery codes left.
    pub async fn recovery_codes_left(&self, user_id: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_ms IS NULL",
        )
        .bind(user_id)
        .fetch_one(self.pool())
        .await?)
    }

    /// Removes every credential of a user and ends their sessions, in one transaction.
    pub async fn clear_credentials(&self, user_id: &str, now_ms: i64) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        clear_credentials_in(&mut tx, user_id, now_ms).await?;
        tx.commit().await?;
        Ok(())
    }
}

pub(crate) async fn insert_passkey_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    p: &PasskeyRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO passkeys (id, user_id, name, credential_id, passkey_json, created_ms, last_used_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&p.id)
    .bind(&p.user_id)
    .bind(&p.name)
    .bind(&p.credential_id)
    .bind(&p.passkey_json)
    .bind(p.created_ms)
    .bind(p.last_used_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Passkeys, password, TOTP and recovery codes removed; sessions ended.
pub(crate) async fn clear_credentials_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    for sql in [
        "DELETE FROM passkeys WHERE user_id = $1",
        "DELETE FROM totp WHERE user_id = $1",
        "DELETE FROM recovery_codes WHERE user_id = $1",
        "UPDATE users SET password_hash = NULL WHERE id = $1",
    ] {
        sqlx::query(sql).bind(user_id).execute(&mut **tx).await?;
    }
    sqlx::query("UPDATE sessions SET revoked_ms = $1 WHERE user_id = $2 AND revoked_ms IS NULL")
        .bind(now_ms)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
