//! Encrypted backups of messaging devices: one per device, opaque to the server.
//!
//! The body is ciphertext the client made (base64) and `unlock` the client's wrapped
//! keys (JSON); neither opens anything without what only the person holds. Storing is
//! a conditional upsert: a backup replaces the stored one only when its version is
//! higher, decided by one statement, so two browsers (or two tabs) racing cannot put an
//! older state over a newer one.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Db, StoreError};

/// One device's backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupRow {
    pub device_id: String,
    pub user_id: String,
    /// Grows with every backup of the device; a lower or equal one is refused.
    pub version: i64,
    /// How to unlock it (methods, salts, wrapped keys), JSON as the server checked it.
    pub unlock: String,
    /// Size of the encrypted body in bytes.
    pub size: i64,
    /// The encrypted backup, base64.
    pub body: String,
    pub updated_ms: i64,
}

/// A backup without its body: what a list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    pub device_id: String,
    pub version: i64,
    pub unlock: String,
    pub size: i64,
    pub updated_ms: i64,
}

fn info_from(r: &AnyRow) -> Result<BackupInfo, StoreError> {
    Ok(BackupInfo {
        device_id: r.try_get("device_id")?,
        version: r.try_get("version")?,
        unlock: r.try_get("unlock")?,
        size: r.try_get("size")?,
        updated_ms: r.try_get("updated_ms")?,
    })
}

impl Db {
    /// Stores `b` unless the device already has a backup with the same or a higher
    /// version; true if stored.
    pub async fn put_msg_backup(&self, b: &BackupRow) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "INSERT INTO msg_backups (device_id, user_id, version, unlock, size, body, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (device_id) DO UPDATE SET version = excluded.version, \
             unlock = excluded.unlock, size = excluded.size, body = excluded.body, \
             updated_ms = excluded.updated_ms \
             WHERE msg_backups.version < excluded.version AND msg_backups.user_id = excluded.user_id",
        )
        .bind(&b.device_id)
        .bind(&b.user_id)
        .bind(b.version)
        .bind(&b.unlock)
        .bind(b.size)
        .bind(&b.body)
        .bind(b.updated_ms)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// The backup of one device, body included.
    pub async fn msg_backup(&self, device_id: &str) -> Result<Option<BackupRow>, StoreError> {
        let row = sqlx::query(
            "SELECT device_id, user_id, version, unlock, size, body, updated_ms \
             FROM msg_backups WHERE device_id = $1",
        )
        .bind(device_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(BackupRow {
                device_id: r.try_get("device_id")?,
                user_id: r.try_get("user_id")?,
                version: r.try_get("version")?,
                unlock: r.try_get("unlock")?,
                size: r.try_get("size")?,
                body: r.try_get("body")?,
                updated_ms: r.try_get("updated_ms")?,
            })
        })
        .transpose()
    }

    /// The backups of an account's devices (without bodies), newest first.
    pub async fn msg_backups_of_user(&self, user_id: &str) -> Result<Vec<BackupInfo>, StoreError> {
        sqlx::query(
            "SELECT device_id, version, unlock, size, updated_ms FROM msg_backups \
             WHERE user_id = $1 ORDER BY updated_ms DESC, device_id",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(info_from)
        .collect()
    }

    /// Deletes a device's backup (when the device is removed); true if there was one.
    pub async fn delete_msg_backup(&self, device_id: &str) -> Result<bool, StoreError> {
        let n = sqlx::query("DELETE FROM msg_backups WHERE device_id = $1")
            .bind(device_id)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// An account's devices, removed ones included, oldest first (for the device list).
    pub async fn msg_devices_of_user_all(
        &self,
        user_id: &str,
    ) -> Result<Vec<crate::messaging::DeviceRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, user_id, kind, label, signature_key, ledger_seq, created_ms, removed_ms \
             FROM msg_devices WHERE user_id = $1 ORDER BY created_ms, id",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(crate::messaging::DeviceRow {
                    id: r.try_get("id")?,
                    user_id: r.try_get("user_id")?,
                    kind: r.try_get("kind")?,
                    label: r.try_get("label")?,
                    signature_key: r.try_get("signature_key")?,
                    ledger_seq: r.try_get("ledger_seq")?,
                    created_ms: r.try_get("created_ms")?,
                    removed_ms: r.try_get("removed_ms")?,
                })
            })
            .collect()
    }
}
