//! The practice and its user accounts.
//!
//! An account's e-mail address and name are sealed at rest (see [`crate::directory`]):
//! every function that returns a [`UserRow`] takes the [`Keyring`] and opens them, so
//! callers see plain strings and the database never holds them.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::directory::{email_index, normalise_email, open_profile};
use crate::keyring::Keyring;
use crate::{Db, StoreError};

/// The columns [`user_from_row`] reads, in order.
macro_rules! user_columns {
    () => {
        "id, role, password_hash, created_ms, disabled_ms, profile"
    };
}

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
/// `email` and `display_name` are as opened from the sealed profile.
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

    /// Every account, staff first then patients, by name (case-insensitively; ties by
    /// id). Sorted here, not in SQL: the database holds only sealed names.
    pub async fn list_users(&self, keyring: &Keyring) -> Result<Vec<UserRow>, StoreError> {
        let rows = sqlx::query(concat!("SELECT ", user_columns!(), " FROM users"))
            .fetch_all(self.pool())
            .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        for r in &rows {
            sealed_profile_of(r)?;
        }
        let key = self.directory_key_to_open(keyring).await?;
        let mut users = rows
            .iter()
            .map(|r| user_from_row(r, &key))
            .collect::<Result<Vec<_>, _>>()?;
        users.sort_by_cached_key(|u| {
            (
                u.role == "patient",
                u.display_name.to_lowercase(),
                u.id.clone(),
            )
        });
        Ok(users)
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

    /// Looks a user up by e-mail address, in any letter case, through its blind index.
    pub async fn user_by_email(
        &self,
        keyring: &Keyring,
        email: &str,
    ) -> Result<Option<UserRow>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE email_index = $1"
        ))
        .bind(email_index(keyring, email))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        sealed_profile_of(&row)?;
        let key = self.directory_key_to_open(keyring).await?;
        let user = user_from_row(&row, &key)?;
        // The index is not bound into the profile: an index copied from another row
        // would hand out the wrong account. The opened address must be the one asked for.
        if normalise_email(&user.email) != normalise_email(email) {
            return Err(StoreError::Malformed(format!(
                "the e-mail index of account {} does not match its profile",
                user.id
            )));
        }
        Ok(Some(user))
    }

    pub async fn user_by_id(
        &self,
        keyring: &Keyring,
        id: &str,
    ) -> Result<Option<UserRow>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        sealed_profile_of(&row)?;
        let key = self.directory_key_to_open(keyring).await?;
        Ok(Some(user_from_row(&row, &key)?))
    }

    pub async fn count_users(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(self.pool())
            .await?)
    }
}

/// An account from a row with [`user_columns!`], its profile opened with the
/// directory's data key.
pub(crate) fn user_from_row(r: &AnyRow, key: &[u8; 32]) -> Result<UserRow, StoreError> {
    let (id, profile) = sealed_profile_of(r)?;
    let (email, display_name) = open_profile(key, &id, &profile)?;
    Ok(UserRow {
        email,
        display_name,
        role: r.try_get("role")?,
        password_hash: r.try_get("password_hash")?,
        created_ms: r.try_get("created_ms")?,
        disabled_ms: r.try_get("disabled_ms")?,
        id,
    })
}

/// The id and sealed profile of a row with [`user_columns!`]; a row still in the clear
/// (written before migration 0007 and not yet sealed) is refused, not served.
pub(crate) fn sealed_profile_of(r: &AnyRow) -> Result<(String, String), StoreError> {
    let id: String = r.try_get("id")?;
    let profile: Option<String> = r.try_get("profile")?;
    match profile {
        Some(p) => Ok((id, p)),
        None => Err(StoreError::Malformed(format!(
            "account {id} is not sealed yet (the server seals the directory when it starts)"
        ))),
    }
}
