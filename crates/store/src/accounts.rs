//! The practice and its user accounts.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Db, StoreError};

/// The practice this deployment serves, and its sign-in policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeRow {
    pub id: String,
    pub name: String,
    pub time_zone: String,
    pub created_ms: i64,
    /// How patients may sign in: `passkey_only` or `passkey_or_password_totp`.
    pub patient_auth: String,
    /// Whether patients may create their own accounts.
    pub self_registration: bool,
}

/// One account. `role` is the server's role name; `password_hash` a PHC string.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub password_hash: Option<String>,
    pub created_ms: i64,
    pub disabled_ms: Option<i64>,
}

impl std::fmt::Debug for UserRow {
    // Names and addresses are personal information: keep them out of debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("disabled_ms", &self.disabled_ms)
            .finish_non_exhaustive()
    }
}

impl Db {
    /// The practice, once first-run setup has created it.
    pub async fn practice(&self) -> Result<Option<PracticeRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, time_zone, created_ms, patient_auth, self_registration FROM practice LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(PracticeRow {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                time_zone: r.try_get("time_zone")?,
                created_ms: r.try_get("created_ms")?,
                patient_auth: r.try_get("patient_auth")?,
                self_registration: r.try_get::<i64, _>("self_registration")? != 0,
            })
        })
        .transpose()
    }

    /// Changes the practice's sign-in settings.
    pub async fn set_practice_policy(
        &self,
        patient_auth: &str,
        self_registration: bool,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE practice SET patient_auth = $1, self_registration = $2")
            .bind(patient_auth)
            .bind(i64::from(self_registration))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Every account, staff first then patients, by name.
    pub async fn list_users(&self) -> Result<Vec<UserRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, email, display_name, role, password_hash, created_ms, disabled_ms FROM users \
             ORDER BY CASE role WHEN 'patient' THEN 1 ELSE 0 END, display_name",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// How many enabled accounts hold `role`.
    pub async fn count_enabled_with_role(&self, role: &str) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM users WHERE role = $1 AND disabled_ms IS NULL",
            )
            .bind(role)
            .fetch_one(self.pool())
            .await?,
        )
    }

    pub async fn set_user_role(&self, id: &str, role: &str) -> Result<bool, StoreError> {
        let n = sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
            .bind(role)
            .bind(id)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Disables (with `Some(now)`) or re-enables (`None`) an account. Disabling also ends
    /// its sessions, in the same transaction.
    pub async fn set_user_disabled(
        &self,
        id: &str,
        disabled_ms: Option<i64>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let n = sqlx::query("UPDATE users SET disabled_ms = $1 WHERE id = $2")
            .bind(disabled_ms)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if let Some(now) = disabled_ms {
            sqlx::query(
                "UPDATE sessions SET revoked_ms = $1 WHERE user_id = $2 AND revoked_ms IS NULL",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Sets (or with `None` removes) the account's password hash.
    pub async fn set_password_hash(
        &self,
        id: &str,
        hash: Option<&str>,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(id)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Looks a user up by e-mail address (already normalised by the caller).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, email, display_name, role, password_hash, created_ms, disabled_ms FROM users WHERE email = $1",
        )
            .bind(email)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn user_by_id(&self, id: &str) -> Result<Option<UserRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, email, display_name, role, password_hash, created_ms, disabled_ms FROM users WHERE id = $1",
        )
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn count_users(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(self.pool())
            .await?)
    }
}

pub(crate) fn user_from_row(r: &AnyRow) -> Result<UserRow, StoreError> {
    Ok(UserRow {
        id: r.try_get("id")?,
        email: r.try_get("email")?,
        display_name: r.try_get("display_name")?,
        role: r.try_get("role")?,
        password_hash: r.try_get("password_hash")?,
        created_ms: r.try_get("created_ms")?,
        disabled_ms: r.try_get("disabled_ms")?,
    })
}
