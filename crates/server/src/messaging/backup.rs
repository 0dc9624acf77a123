//! Encrypted device backups: so a patient who loses a phone does not lose the
//! conversation.
//!
//! One backup per device, because what is restored *is* that device: its MLS state
//! (keys, groups, epochs) and the history it has shown. A per-account backup would hold
//! several devices' states, and restoring one device from it would still pick one.
//!
//! The browser encrypts the backup under a random data key and wraps that key with a
//! key only the person can derive — a passkey's PRF output or a recovery phrase (both
//! through HKDF-SHA-256 with a random salt). The server keeps the ciphertext and the
//! wrapped keys and checks only their shape and size; it cannot open either.
//!
//! Rules: only the owning account stores or reads a device's backup; a backup replaces
//! the stored one only when its version is higher (409 otherwise, so a stale tab never
//! overwrites newer state); reading the body back (restoring) needs a fresh sign-in,
//! like adding a device, since it puts that device in a new browser. Storing and
//! restoring are in the ledger — sizes and versions, never content.

use ledger::Outcome;
use proto::ErrorCode;
use serde::{Deserialize, Serialize};
use store::messaging_backups::{BackupInfo, BackupRow};

use super::devices::own_device;
use super::{bad, decode};
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::session::CurrentUser;
use crate::state::AppState;

/// Largest encrypted backup accepted (the device state and its history).
pub const MAX_BACKUP_BYTES: usize = 4 * 1024 * 1024;
/// Largest request body for storing a backup: the base64 body and the unlock list.
pub const MAX_BACKUP_REQUEST_BYTES: usize = MAX_BACKUP_BYTES / 3 * 4 + 64 * 1024;
/// Ways to unlock one backup, at most (e.g. two passkeys and a phrase).
const MAX_UNLOCKS: usize = 4;
/// Largest wrapped key (a 32-byte key, AES-GCM tag and IV leave room to spare).
const MAX_WRAPPED_KEY_BYTES: usize = 256;
const MAX_SALT_BYTES: usize = 64;
const MAX_CREDENTIAL_ID_CHARS: usize = 1400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// A key from a passkey's PRF extension (hmac-secret).
    Prf,
    /// A key from a recovery phrase the person wrote down.
    Phrase,
}

/// One way to unlock a backup: the data key wrapped under a key derived from `method`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unlock {
    pub method: Method,
    /// The passkey whose PRF output unlocks it (base64url, as `credential.id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
    /// HKDF salt (and the PRF input), base64.
    pub salt: String,
    /// The data key, encrypted (AES-GCM, IV first), base64.
    pub wrapped_key: String,
}

#[derive(Debug, Deserialize)]
pub struct NewBackup {
    pub version: i64,
    pub unlock: Vec<Unlock>,
    /// The encrypted backup, base64.
    pub body: String,
}

/// A backup as listed (no body).
#[derive(Debug, Serialize)]
pub struct BackupView {
    pub device_id: String,
    pub version: i64,
    pub unlock: Vec<Unlock>,
    pub size: i64,
    pub updated_ms: i64,
}

/// A backup with its body, for restoring.
#[derive(Debug, Serialize)]
pub struct FullBackup {
    #[serde(flatten)]
    pub view: BackupView,
    pub body: String,
}

fn view_of(info: BackupInfo) -> AppResult<BackupView> {
    let unlock = serde_json::from_str(&info.unlock)
        .map_err(|_| AppError::internal("a stored backup's unlock list is not valid"))?;
    Ok(BackupView {
        device_id: info.device_id,
        version: info.version,
        unlock,
        size: info.size,
        updated_ms: info.updated_ms,
    })
}

fn check_unlocks(unlocks: &[Unlock]) -> AppResult<()> {
    if unlocks.is_empty() || unlocks.len() > MAX_UNLOCKS {
        return Err(bad(format!(
            "A backup needs between 1 and {MAX_UNLOCKS} ways to unlock it."
        )));
    }
    for (i, u) in unlocks.iter().enumerate() {
        decode(&format!("unlock[{i}].salt"), &u.salt, MAX_SALT_BYTES)?;
        decode(
            &format!("unlock[{i}].wrapped_key"),
            &u.wrapped_key,
            MAX_WRAPPED_KEY_BYTES,
        )?;
        match (u.method, u.credential_id.as_deref()) {
            (Method::Prf, Some(id))
                if !id.is_empty()
                    && id.len() <= MAX_CREDENTIAL_ID_CHARS
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => {}
            (Method::Prf, _) => {
                return Err(bad(format!(
                    "unlock[{i}] needs the passkey's credential id (base64url)."
                )));
            }
            (Method::Phrase, None) => {}
            (Method::Phrase, Some(_)) => {
                return Err(bad(format!(
                    "unlock[{i}] is a recovery phrase and names no passkey."
                )));
            }
        }
    }
    Ok(())
}

/// Stores a backup of one of the caller's devices; refuses one whose version is not
/// higher than the stored one's.
pub async fn store(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    device_id: &str,
    new: NewBackup,
) -> AppResult<BackupView> {
    let device = own_device(state, who, device_id).await?;
    if new.version < 1 {
        return Err(bad("version is a number from 1 up."));
    }
    check_unlocks(&new.unlock)?;
    // Refuse an oversized body with 413 before decoding it.
    if new.body.len() > MAX_BACKUP_BYTES.div_ceil(3) * 4 + 4 {
        return Err(too_large());
    }
    let bytes = decode("body", &new.body, MAX_BACKUP_BYTES).map_err(|e| {
        if e.code == ErrorCode::InvalidInput && new.body.len() > MAX_BACKUP_BYTES {
            too_large()
        } else {
            e
        }
    })?;
    if let Some(current) = state.db.msg_backup(&device.id).await?
        && current.version >= new.version
    {
        return Err(stale(current.version));
    }
    let unlock = serde_json::to_string(&new.unlock)
        .map_err(|e| AppError::internal(format!("unlock list: {e}")))?;
    let methods: Vec<&str> = new
        .unlock
        .iter()
        .map(|u| match u.method {
            Method::Prf => "prf",
            Method::Phrase => "phrase",
        })
        .collect();
    let row = BackupRow {
        device_id: device.id.clone(),
        user_id: who.user.id.clone(),
        version: new.version,
        unlock,
        size: i64::try_from(bytes.len()).map_err(|_| AppError::internal("backup size"))?,
        body: new.body,
        updated_ms: state.clock.now_ms(),
    };
    let entry = audit::entry(
        meta,
        &Actor::User(who.user.id.clone()),
        "messaging.backup_stored",
        &format!("device:{}", device.id),
        Outcome::Success,
    )
    .detail("version", row.version)
    .detail("size", row.size)
    .detail("methods", methods.join(","));
    state
        .audited(entry, async {
            if state.db.put_msg_backup(&row).await? {
                Ok(())
            } else {
                // Another request stored a newer one between the check and now.
                let current = state
                    .db
                    .msg_backup(&row.device_id)
                    .await?
                    .map_or(row.version, |b| b.version);
                Err(stale(current))
            }
        })
        .await?;
    view_of(BackupInfo {
        device_id: row.device_id,
        version: row.version,
        unlock: row.unlock,
        size: row.size,
        updated_ms: row.updated_ms,
    })
}

fn too_large() -> AppError {
    AppError::client(
        ErrorCode::BodyTooLarge,
        format!("A backup may be at most {MAX_BACKUP_BYTES} bytes."),
    )
}

fn stale(current: i64) -> AppError {
    AppError::client(
        ErrorCode::Conflict,
        format!(
            "A newer backup of this device is stored already (version {current}); send a higher version."
        ),
    )
}

/// The backups of the caller's devices that are still in use (no bodies).
pub async fn list(state: &AppState, who: &CurrentUser) -> AppResult<Vec<BackupView>> {
    let live: Vec<String> = state
        .db
        .msg_devices_of_user(&who.user.id)
        .await?
        .into_iter()
        .map(|d| d.id)
        .collect();
    state
        .db
        .msg_backups_of_user(&who.user.id)
        .await?
        .into_iter()
        .filter(|b| live.contains(&b.device_id))
        .map(view_of)
        .collect()
}

/// A backup with its body, to restore the device in this browser. Needs a fresh
/// sign-in: the body is useless without the passkey or phrase, but handing a device's
/// state to a new browser is as sensitive as adding a device.
pub async fn fetch(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    device_id: &str,
) -> AppResult<FullBackup> {
    let device = own_device(state, who, device_id).await?;
    who.require_recent(state)?;
    let Some(row) = state.db.msg_backup(&device.id).await? else {
        return Err(AppError::client(
            ErrorCode::NotFound,
            "This device has no backup.",
        ));
    };
    if row.user_id != who.user.id {
        return Err(AppError::client(
            ErrorCode::Forbidden,
            "That is not one of your devices, or it was removed.",
        ));
    }
    let entry = audit::entry(
        meta,
        &Actor::User(who.user.id.clone()),
        "messaging.backup_restored",
        &format!("device:{}", device.id),
        Outcome::Success,
    )
    .detail("version", row.version)
    .detail("size", row.size);
    state.audit(entry).await?;
    Ok(FullBackup {
        view: view_of(BackupInfo {
            device_id: row.device_id,
            version: row.version,
            unlock: row.unlock,
            size: row.size,
            updated_ms: row.updated_ms,
        })?,
        body: row.body,
    })
}
