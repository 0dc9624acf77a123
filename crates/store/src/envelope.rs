//! Envelope encryption of records, as DESIGN.md lays it out:
//! master key → key-encryption keys (KEKs, versioned, rotatable) → one data key per
//! owner (a patient) → an AEAD over each record version.
//!
//! - A KEK is 32 random bytes, sealed by the [`Keyring`] (purpose `kek`, bound to its
//!   version). A data key is 32 random bytes, sealed by the current KEK and bound to its
//!   owner and the KEK's version. A record version is sealed by its owner's data key and
//!   bound to `(resource type, id, version)`, so a row copied over another does not open.
//! - The account directory (names and e-mail addresses, see [`crate::directory`]) has a
//!   data key of its own, owner `@directory`, wrapped and rotated like the others.
//! - Rotation ([`Db::rotate_kek`]) adds a KEK and re-wraps every data key under it, one
//!   key at a time, while the server runs: the data keys themselves do not change, so
//!   every record stays readable throughout, and nothing is re-encrypted but the keys.
//!   Old KEKs are deleted once no data key needs them.
//!
//! XChaCha20-Poly1305 with random 192-bit nonces throughout: no nonce bookkeeping.

use chacha20poly1305::aead::KeyInit;
use chacha20poly1305::{Key, XChaCha20Poly1305};
use sqlx::Row;
use zeroize::Zeroizing;

use crate::keyring::{self, Keyring};
use crate::{Db, StoreError};

const KEK_PURPOSE: &str = "kek";
/// Data keys re-wrapped per round trip of a rotation.
const ROTATION_BATCH: i64 = 256;

/// Where a sealed record version belongs: a copy moved anywhere else does not open.
#[derive(Debug, Clone, Copy)]
pub struct RecordAad<'a> {
    pub resource_type: &'a str,
    pub id: &'a str,
    pub version: i64,
}

impl RecordAad<'_> {
    fn bytes(&self) -> Vec<u8> {
        format!(
            "telewarden-record-v1\0{}\0{}\0{}",
            self.resource_type, self.id, self.version
        )
        .into_bytes()
    }
}

/// Unwrapped data keys by (master key, owner). A data key never changes once made —
/// rotation re-wraps it under a new KEK but the key inside is the same — so a cached
/// key stays right for as long as the process lives. Bounded: emptied when full.
#[derive(Default)]
pub struct KeyCache {
    keys: std::sync::Mutex<std::collections::HashMap<CacheKey, Zeroizing<[u8; 32]>>>,
}

/// (master key's id, owner).
type CacheKey = (String, String);

/// Most data keys kept unwrapped at once.
const KEY_CACHE_CAPACITY: usize = 10_000;

impl std::fmt::Debug for KeyCache {
    // Never the keys themselves.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache").finish_non_exhaustive()
    }
}

impl KeyCache {
    fn get(&self, keyring: &str, owner: &str) -> Option<Zeroizing<[u8; 32]>> {
        let keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        keys.get(&(keyring.to_owned(), owner.to_owned())).cloned()
    }

    fn clear(&self) {
        self.keys.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn put(&self, keyring: &str, owner: &str, key: &Zeroizing<[u8; 32]>) {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if keys.len() >= KEY_CACHE_CAPACITY {
            keys.clear();
        }
        keys.insert((keyring.to_owned(), owner.to_owned()), key.clone());
    }
}

/// Which master key a cached data key was opened with.
fn keyring_id(keyring: &Keyring) -> String {
    keyring.blind_index("data-key-cache", "")
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub kek_version: i64,
    pub rewrapped: u64,
}

fn random_key() -> Result<Zeroizing<[u8; 32]>, StoreError> {
    let mut key = Zeroizing::new([0u8; 32]);
    getrandom::fill(key.as_mut())
        .map_err(|e| StoreError::Malformed(format!("no randomness: {e}")))?;
    Ok(key)
}

pub(crate) fn seal(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<String, StoreError> {
    keyring::seal_with(&XChaCha20Poly1305::new(&Key::from(*key)), aad, plaintext)
        .map_err(|e| StoreError::Malformed(e.to_string()))
}

pub(crate) fn open(
    key: &[u8; 32],
    aad: &[u8],
    sealed: &str,
) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    keyring::open_with(&XChaCha20Poly1305::new(&Key::from(*key)), aad, sealed)
        .map_err(|e| StoreError::Malformed(e.to_string()))
}

fn key_from(bytes: &[u8]) -> Result<Zeroizing<[u8; 32]>, StoreError> {
    let key: [u8; 32] = bytes
        .try_into()
        .map_err(|_| StoreError::Malformed("a wrapped key has the wrong length".into()))?;
    Ok(Zeroizing::new(key))
}

fn kek_aad(version: i64) -> Vec<u8> {
    format!("telewarden-kek-v1\0{version}").into_bytes()
}

fn data_key_aad(owner: &str, kek_version: i64) -> Vec<u8> {
    format!("telewarden-data-key-v1\0{owner}\0{kek_version}").into_bytes()
}

impl Db {
    /// KEK `version`, unwrapped (a KEK never changes either: cached like data keys).
    async fn kek(
        &self,
        keyring: &Keyring,
        version: i64,
    ) -> Result<Zeroizing<[u8; 32]>, StoreError> {
        let id = keyring_id(keyring);
        // Owners are record ids, "practice" or the account directory ("@directory"):
        // never a NUL, so no owner is mistaken for a KEK.
        let slot = format!("kek\0{version}");
        if let Some(kek) = self.keys.get(&id, &slot) {
            return Ok(kek);
        }
        let kek = self.kek_from_db(keyring, version).await?;
        self.keys.put(&id, &slot, &kek);
        Ok(kek)
    }

    async fn kek_from_db(
        &self,
        keyring: &Keyring,
        version: i64,
    ) -> Result<Zeroizing<[u8; 32]>, StoreError> {
        let wrapped: String =
            sqlx::query_scalar("SELECT wrapped FROM key_encryption_keys WHERE version = $1")
                .bind(version)
                .fetch_optional(self.pool())
                .await?
                .ok_or_else(|| {
                    StoreError::Malformed(format!("key-encryption key {version} is missing"))
                })?;
        let bytes = keyring
            .open(KEK_PURPOSE, &kek_aad(version), &wrapped)
            .map_err(|_| {
                StoreError::Malformed(format!(
                    "key-encryption key {version} does not open with this master key"
                ))
            })?;
        key_from(&bytes)
    }

    /// The newest KEK's version, creating the first one if there is none.
    async fn current_kek_version(&self, keyring: &Keyring, now_ms: i64) -> Result<i64, StoreError> {
        let newest: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM key_encryption_keys")
                .fetch_one(self.pool())
                .await?;
        if let Some(v) = newest {
            return Ok(v);
        }
        self.add_kek(keyring, 1, now_ms).await?;
        Ok(
            sqlx::query_scalar("SELECT MAX(version) FROM key_encryption_keys")
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// Adds KEK `version` unless another node just did.
    async fn add_kek(
        &self,
        keyring: &Keyring,
        version: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let kek = random_key()?;
        let wrapped = keyring
            .seal(KEK_PURPOSE, &kek_aad(version), kek.as_ref())
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        sqlx::query(
            "INSERT INTO key_encryption_keys (version, wrapped, created_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (version) DO NOTHING",
        )
        .bind(version)
        .bind(wrapped)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Forgets every unwrapped key this process holds, so the next use reads and
    /// unwraps them again (tests; after restoring a backup under this process).
    pub fn forget_unwrapped_keys(&self) {
        self.keys.clear();
    }

    /// `owner`'s data key, created (under the current KEK) on first use.
    pub async fn data_key(
        &self,
        keyring: &Keyring,
        owner: &str,
        now_ms: i64,
    ) -> Result<Zeroizing<[u8; 32]>, StoreError> {
        if let Some(key) = self.existing_data_key(keyring, owner).await? {
            return Ok(key);
        }
        let kek_version = self.current_kek_version(keyring, now_ms).await?;
        let kek = self.kek(keyring, kek_version).await?;
        let key = random_key()?;
        let inserted = {
            let _gate = self.write_guard().await;
            sqlx::query(
                "INSERT INTO data_keys (owner, kek_version, wrapped, created_ms) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (owner) DO NOTHING",
            )
            .bind(owner)
            .bind(kek_version)
            .bind(seal(&kek, &data_key_aad(owner, kek_version), key.as_ref())?)
            .bind(now_ms)
            .execute(self.pool())
            .await?
            .rows_affected()
        };
        if inserted == 1 {
            self.keys.put(&keyring_id(keyring), owner, &key);
            return Ok(key);
        }
        // Someone else made it first; everyone uses that key.
        self.existing_data_key(keyring, owner)
            .await?
            .ok_or_else(|| StoreError::Malformed("a data key vanished as it was made".into()))
    }

    pub(crate) async fn existing_data_key(
        &self,
        keyring: &Keyring,
        owner: &str,
    ) -> Result<Option<Zeroizing<[u8; 32]>>, StoreError> {
        let id = keyring_id(keyring);
        if let Some(key) = self.keys.get(&id, owner) {
            return Ok(Some(key));
        }
        // A rotation may re-wrap the key and delete its old KEK between reading the row
        // and reading the KEK: read once more, and the row names the new KEK.
        let found = match self.read_data_key(keyring, owner).await {
            Err(StoreError::Malformed(_)) => self.read_data_key(keyring, owner).await,
            done => done,
        }?;
        if let Some(key) = &found {
            self.keys.put(&id, owner, key);
        }
        Ok(found)
    }

    async fn read_data_key(
        &self,
        keyring: &Keyring,
        owner: &str,
    ) -> Result<Option<Zeroizing<[u8; 32]>>, StoreError> {
        let Some(row) = sqlx::query("SELECT kek_version, wrapped FROM data_keys WHERE owner = $1")
            .bind(owner)
            .fetch_optional(self.pool())
            .await?
        else {
            return Ok(None);
        };
        let kek_version: i64 = row.try_get("kek_version")?;
        let wrapped: String = row.try_get("wrapped")?;
        let kek = self.kek(keyring, kek_version).await?;
        let bytes = open(&kek, &data_key_aad(owner, kek_version), &wrapped)?;
        Ok(Some(key_from(&bytes)?))
    }

    /// Seals one record version of `owner` under their data key.
    pub async fn seal_record(
        &self,
        keyring: &Keyring,
        owner: &str,
        aad: RecordAad<'_>,
        plaintext: &[u8],
        now_ms: i64,
    ) -> Result<String, StoreError> {
        let key = self.data_key(keyring, owner, now_ms).await?;
        seal(&key, &aad.bytes(), plaintext)
    }

    /// Opens a record version sealed by [`Db::seal_record`] for the same owner and place.
    pub async fn open_record(
        &self,
        keyring: &Keyring,
        owner: &str,
        aad: RecordAad<'_>,
        sealed: &str,
    ) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        let key = self
            .existing_data_key(keyring, owner)
            .await?
            .ok_or_else(|| StoreError::Malformed("no data key for this record's owner".into()))?;
        open(&key, &aad.bytes(), sealed)
    }

    /// Adds a KEK and re-wraps every data key under it, online; then deletes the KEKs
    /// nothing needs any more. Safe to run again after an interruption.
    pub async fn rotate_kek(&self, keyring: &Keyring, now_ms: i64) -> Result<Rotation, StoreError> {
        let old = self.current_kek_version(keyring, now_ms).await?;
        let new = old + 1;
        self.add_kek(keyring, new, now_ms).await?;
        let new_kek = self.kek(keyring, new).await?;
        let mut rewrapped = 0;
        loop {
            let rows = sqlx::query(
                "SELECT owner, kek_version, wrapped FROM data_keys WHERE kek_version < $1 ORDER BY owner LIMIT $2",
            )
            .bind(new)
            .bind(ROTATION_BATCH)
            .fetch_all(self.pool())
            .await?;
            if rows.is_empty() {
                break;
            }
            for row in rows {
                let owner: String = row.try_get("owner")?;
                let version: i64 = row.try_get("kek_version")?;
                let wrapped: String = row.try_get("wrapped")?;
                let kek = self.kek(keyring, version).await?;
                let key = open(&kek, &data_key_aad(&owner, version), &wrapped)?;
                let rewrapped_key = seal(&new_kek, &data_key_aad(&owner, new), &key)?;
                // Only if nobody changed it meanwhile (another rotation).
                rewrapped += sqlx::query(
                    "UPDATE data_keys SET kek_version = $1, wrapped = $2 WHERE owner = $3 AND kek_version = $4",
                )
                .bind(new)
                .bind(rewrapped_key)
                .bind(&owner)
                .bind(version)
                .execute(self.pool())
                .await?
                .rows_affected();
            }
        }
        sqlx::query(
            "DELETE FROM key_encryption_keys WHERE version < $1 \
             AND NOT EXISTS (SELECT 1 FROM data_keys WHERE data_keys.kek_version = key_encryption_keys.version)",
        )
        .bind(new)
        .execute(self.pool())
        .await?;
        Ok(Rotation {
            kek_version: new,
            rewrapped,
        })
    }

    /// The KEK versions kept, oldest first (for checks and tests).
    pub async fn kek_versions(&self) -> Result<Vec<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT version FROM key_encryption_keys ORDER BY version")
                .fetch_all(self.pool())
                .await?,
        )
    }
}
