//! The account directory, sealed at rest (migration 0007): a user's e-mail address and
//! name are personal information — most accounts are patients — so the `users` table
//! holds them only as a sealed `profile`, and finds an address only through its keyed
//! blind index (`email_index`).
//!
//! The profile is sealed under one data key of its own (owner [`DIRECTORY_OWNER`] in
//! `data_keys`), wrapped by the current key-encryption key like every patient's data key:
//! [`Db::rotate_kek`] re-wraps it with the others, and the profiles themselves never need
//! re-sealing. One key rather than one per person, because listing the directory would
//! otherwise unwrap a key per account; the associated data still binds each profile to
//! its row's id and column, so a profile copied onto another row does not open.

use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::keyring::Keyring;
use crate::{Backend, Db, StoreError, envelope};

/// The owner of the directory's data key. `@` is in no FHIR id and no account id, so the
/// key is never mistaken for a patient's.
pub const DIRECTORY_OWNER: &str = "@directory";

/// The blind index's field name (HMAC input domain).
const EMAIL_INDEX_FIELD: &str = "users.email";

/// What an account's e-mail address is compared as: trimmed and lower-cased, so sign-in
/// finds it in any letter case.
pub(crate) fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The keyed blind index of `email` (normalised first): equal addresses give equal
/// indexes, and without the master key the index says nothing about the address.
pub fn email_index(keyring: &Keyring, email: &str) -> String {
    keyring.blind_index(EMAIL_INDEX_FIELD, &normalise_email(email))
}

/// Binds a profile to its row and column.
fn profile_aad(user_id: &str) -> Vec<u8> {
    format!("telewarden-user-profile-v1\0{user_id}\0users.profile").into_bytes()
}

/// An account's directory columns as they are stored.
pub(crate) struct SealedProfile {
    pub email_index: String,
    pub profile: String,
}

/// What the old `email` column holds once the row is sealed: the row's own id, which is
/// unique and not null (as the column's constraints demand) and no one's address.
pub(crate) fn email_placeholder(user_id: &str) -> &str {
    user_id
}

pub(crate) fn seal_profile(
    key: &[u8; 32],
    keyring: &Keyring,
    user_id: &str,
    email: &str,
    name: &str,
) -> Result<SealedProfile, StoreError> {
    let plaintext = Zeroizing::new(json!({ "email": email, "name": name }).to_string());
    Ok(SealedProfile {
        email_index: email_index(keyring, email),
        profile: envelope::seal(key, &profile_aad(user_id), plaintext.as_bytes())?,
    })
}

/// Opens a profile sealed for `user_id`: `(email, name)`.
pub(crate) fn open_profile(
    key: &[u8; 32],
    user_id: &str,
    sealed: &str,
) -> Result<(String, String), StoreError> {
    let bytes = envelope::open(key, &profile_aad(user_id), sealed).map_err(|_| {
        StoreError::Malformed(format!(
            "the profile of account {user_id} does not open (altered, or moved from another row)"
        ))
    })?;
    let bad = || StoreError::Malformed(format!("the profile of account {user_id} is not readable"));
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let field = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
    Ok((
        field("email").ok_or_else(bad)?,
        field("name").ok_or_else(bad)?,
    ))
}

impl Db {
    /// The directory's data key for sealing, made on first use.
    pub(crate) async fn directory_key_to_seal(
        &self,
        keyring: &Keyring,
        now_ms: i64,
    ) -> Result<Zeroizing<[u8; 32]>, StoreError> {
        self.data_key(keyring, DIRECTORY_OWNER, now_ms).await
    }

    /// The directory's data key for opening: it exists once any account does.
    pub(crate) async fn directory_key_to_open(
        &self,
        keyring: &Keyring,
    ) -> Result<Zeroizing<[u8; 32]>, StoreError> {
        self.existing_data_key(keyring, DIRECTORY_OWNER)
            .await?
            .ok_or_else(|| {
                StoreError::Malformed("the account directory's data key is missing".into())
            })
    }

    /// Seals every account written before the directory was sealed (migration 0007) and
    /// blanks its clear columns, in one transaction; returns how many. Run at every start
    /// after the migrations: once nothing is left in the clear it only counts.
    ///
    /// On SQLite, an update leaves the old bytes in free space of the table's and the old
    /// unique index's pages, and in the write-ahead log; after sealing anything the file is
    /// rebuilt (`VACUUM`) and the log emptied, so the addresses and names are gone from the
    /// disk, not only from the rows. PostgreSQL's old row versions are rewritten away
    /// (`VACUUM FULL users`); its write-ahead log and any earlier backup still hold them
    /// until they are recycled.
    pub async fn seal_directory(&self, keyring: &Keyring, now_ms: i64) -> Result<u64, StoreError> {
        let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE profile IS NULL")
            .fetch_one(self.pool())
            .await?;
        if pending == 0 {
            return Ok(0);
        }
        // Before the transaction: making the key writes too, and SQLite has one writer.
        let key = self.directory_key_to_seal(keyring, now_ms).await?;
        let sealed = {
            let _gate = self.write_guard().await;
            let mut tx = self.pool().begin().await?;
            let rows: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT id, email, display_name FROM users WHERE profile IS NULL ORDER BY id",
            )
            .fetch_all(&mut *tx)
            .await?;
            let mut sealed = 0;
            for (id, email, name) in rows {
                let p = seal_profile(&key, keyring, &id, &email, &name)?;
                sealed += sqlx::query(
                    "UPDATE users SET email = $1, display_name = '', email_index = $2, profile = $3 \
                     WHERE id = $4 AND profile IS NULL",
                )
                .bind(email_placeholder(&id))
                .bind(&p.email_index)
                .bind(&p.profile)
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(|e| match StoreError::from(e) {
                    StoreError::Conflict(_) => StoreError::Conflict(format!(
                        "account {id} has the e-mail address of another account apart from \
                         letter case; change one of them before upgrading"
                    )),
                    other => other,
                })?
                .rows_affected();
            }
            tx.commit().await?;
            sealed
        };
        if sealed > 0 {
            match self.backend() {
                Backend::Sqlite => {
                    sqlx::raw_sql("VACUUM").execute(self.pool()).await?;
                    sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                        .execute(self.pool())
                        .await?;
                }
                Backend::Postgres => {
                    sqlx::raw_sql("VACUUM FULL users")
                        .execute(self.pool())
                        .await?;
                }
            }
        }
        Ok(sealed)
    }
}
