//! The practice and its user accounts.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Db, StoreError};

/// The practice this deployment serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeRow {
    pub id: String,
    pub name: String,
    pub time_zone: String,
    pub created_ms: i64,
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
        let row = sqlx::query("SELECT id, name, time_zone, created_ms FROM practice LIMIT 1")
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| {
            Ok(PracticeRow {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                time_zone: r.try_get("time_zone")?,
                created_ms: r.try_get("created_ms")?,
            })
        })
        .transpose()
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
