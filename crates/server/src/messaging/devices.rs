//! Devices: each browser or client is one MLS member, bound here to an account.
//!
//! A device's Ed25519 signature key is published in the ledger when it is added, so a
//! client given a peer's key can check it against a signed tree head (key transparency)
//! and notice when it changes. Adding a device needs either a fresh sign-in (passkey,
//! or password with a second factor, within the step-up window) or an approval signed
//! by one of the account's existing devices. Removing one takes it out of every
//! conversation: the server stops delivering to it at once, and the remaining members
//! commit its removal before anyone may send again.

use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use ledger::{InclusionProof, NewEntry, Outcome};
use proto::ErrorCode;
use serde::{Deserialize, Serialize};
use store::messaging::DeviceRow;

use super::{MAX_KEY_PACKAGE_BYTES, bad, check_device_id, decode};
use crate::admin::require;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::session::CurrentUser;
use crate::policy::{Action, Target};
use crate::state::AppState;

/// Key packages uploaded at once, at most.
pub const MAX_KEY_PACKAGES: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// A person's browser or client.
    Member,
    /// The practice archive: receives every message so the practice keeps its record.
    Archive,
}

impl DeviceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Member => "member",
            DeviceKind::Archive => "archive",
        }
    }
}

/// An existing device's signature over [`approval_message`].
#[derive(Debug, Deserialize)]
pub struct Approval {
    pub device_id: String,
    /// Ed25519 signature, hex.
    pub signature: String,
}

#[derive(Debug, Deserialize)]
pub struct Registration {
    pub device_id: String,
    pub label: String,
    #[serde(default = "member")]
    pub kind: DeviceKind,
    /// Ed25519 public key, hex.
    pub signature_key: String,
    /// TLS-encoded MLS key packages, base64.
    pub key_packages: Vec<String>,
    #[serde(default)]
    pub approval: Option<Approval>,
}

fn member() -> DeviceKind {
    DeviceKind::Member
}

fn parse_key(hex_key: &str) -> AppResult<VerifyingKey> {
    let raw: [u8; 32] = hex::decode(hex_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("signature_key is not a 32-byte Ed25519 key in hex"))?;
    VerifyingKey::from_bytes(&raw).map_err(|_| bad("signature_key is not a valid Ed25519 key"))
}

/// Checks each key package: well formed, validly signed, ours, and for this very
/// account, device and signature key. Returns them as (id, base64 body) rows.
fn check_key_packages(
    user_id: &str,
    device_id: &str,
    signature_key: &[u8],
    packages: &[String],
) -> AppResult<Vec<(String, String)>> {
    if packages.is_empty() || packages.len() > MAX_KEY_PACKAGES {
        return Err(bad(format!(
            "Send between 1 and {MAX_KEY_PACKAGES} key packages."
        )));
    }
    let mut rows = Vec::with_capacity(packages.len());
    for (i, encoded) in packages.iter().enumerate() {
        let field = format!("key_packages[{i}]");
        let bytes = decode(&field, encoded, MAX_KEY_PACKAGE_BYTES)?;
        let info = mls_client::frame::inspect_key_package(&bytes)
            .map_err(|e| bad(format!("{field} is not an acceptable key package: {e}")))?;
        if info.identity.account != user_id || info.identity.device != device_id {
            return Err(bad(format!(
                "{field} names another account or device than the one uploading it"
            )));
        }
        if info.signature_key != signature_key {
            return Err(bad(format!(
                "{field} is signed with another key than the device's"
            )));
        }
        rows.push((crate::setup::new_id()?, encoded.clone()));
    }
    Ok(rows)
}

/// Adds a device: checks who may, publishes its key in the ledger, stores it and its
/// key packages.
pub async fn register(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    reg: Registration,
) -> AppResult<DeviceRow> {
    check_device_id(&reg.device_id)?;
    let label = reg.label.trim();
    if label.is_empty() || label.chars().count() > 60 {
        return Err(bad("Name the device in 1 to 60 characters."));
    }
    if reg.kind == DeviceKind::Archive {
        require(who, Action::ManageMessagingArchive, Target::Practice)?;
    }
    let key = parse_key(&reg.signature_key)?;
    let signature_key = hex::encode(key.as_bytes());
    let packages = check_key_packages(
        &who.user.id,
        &reg.device_id,
        key.as_bytes(),
        &reg.key_packages,
    )?;
    match &reg.approval {
        Some(approval) => {
            approved_by_existing(state, who, &reg.device_id, &signature_key, approval).await?
        }
        None => who.require_recent(state)?,
    }
    if state.db.msg_device(&reg.device_id).await?.is_some() {
        return Err(AppError::client(
            ErrorCode::Conflict,
            "A device with this id exists already; make a new id.",
        ));
    }
    let now = state.clock.now_ms();
    // The key-transparency entry is shown to anyone checking the key: it carries no
    // address and no request id, only who, which device and which key.
    let entry = NewEntry::new(
        Actor::User(who.user.id.clone()).as_ledger_name(),
        "messaging.device_added",
        format!("device:{}", reg.device_id),
        Outcome::Success,
    )
    .detail("account", who.user.id.clone())
    .detail("kind", reg.kind.as_str())
    .detail("signature_key", signature_key.clone())
    .detail(
        "approved_by",
        reg.approval.as_ref().map_or_else(
            || "fresh sign-in".to_owned(),
            |a| format!("device:{}", a.device_id),
        ),
    );
    let receipt = state.audit(entry).await?;
    let device = DeviceRow {
        id: reg.device_id.clone(),
        user_id: who.user.id.clone(),
        kind: reg.kind.as_str().to_owned(),
        label: label.to_owned(),
        signature_key,
        ledger_seq: i64::try_from(receipt.seq).map_err(|_| AppError::internal("ledger seq"))?,
        created_ms: now,
        removed_ms: None,
    };
    let stored = async {
        state.db.insert_msg_device(&device).await?;
        state
            .db
            .insert_key_packages(&device.id, &packages, now)
            .await?;
        AppResult::Ok(())
    }
    .await;
    if let Err(e) = stored {
        failed(state, meta, who, &device.id, receipt.seq, &e).await;
        return Err(e);
    }
    Ok(device)
}

/// Records that the effect of the entry `seq` did not happen.
async fn failed(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    device: &str,
    seq: u64,
    e: &AppError,
) {
    let entry = audit::entry(
        meta,
        &Actor::User(who.user.id.clone()),
        "messaging.device_added",
        &format!("device:{device}"),
        Outcome::Failure,
    )
    .detail("supersedes_seq", seq)
    .detail("error", e.code.as_str());
    if let Err(err) = state.audit(entry).await {
        tracing::error!(error = %err, seq, "could not record a failed device registration");
    }
}

async fn approved_by_existing(
    state: &AppState,
    who: &CurrentUser,
    device_id: &str,
    signature_key_hex: &str,
    approval: &Approval,
) -> AppResult<()> {
    let refused = || {
        AppError::client(
            ErrorCode::Forbidden,
            "The approval is not valid: approve the new device from one of your existing devices, or sign in again with your passkey.",
        )
    };
    let approver = own_device(state, who, &approval.device_id)
        .await
        .map_err(|_| refused())?;
    let key = parse_key(&approver.signature_key).map_err(|_| refused())?;
    let signature: [u8; 64] = hex::decode(&approval.signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(refused)?;
    key.verify(
        &mls_client::approval_message(device_id, signature_key_hex),
        &Signature::from_bytes(&signature),
    )
    .map_err(|_| refused())
}

/// One of the signed-in person's devices that has not been removed.
pub async fn own_device(
    state: &AppState,
    who: &CurrentUser,
    device_id: &str,
) -> AppResult<DeviceRow> {
    check_device_id(device_id)?;
    match state.db.msg_device(device_id).await? {
        Some(d) if d.user_id == who.user.id && d.removed_ms.is_none() => Ok(d),
        _ => Err(AppError::client(
            ErrorCode::Forbidden,
            "That is not one of your devices, or it was removed.",
        )),
    }
}

/// Uploads more key packages for one's own device; returns how many are unclaimed.
pub async fn add_key_packages(
    state: &AppState,
    who: &CurrentUser,
    device_id: &str,
    packages: &[String],
) -> AppResult<i64> {
    let device = own_device(state, who, device_id).await?;
    let key = parse_key(&device.signature_key)?;
    let rows = check_key_packages(&who.user.id, device_id, key.as_bytes(), packages)?;
    state
        .db
        .insert_key_packages(device_id, &rows, state.clock.now_ms())
        .await?;
    Ok(state.db.free_key_packages(device_id).await?)
}

/// Removes a device (one's own; an archive device by the practice administrator).
pub async fn remove(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    device_id: &str,
) -> AppResult<()> {
    check_device_id(device_id)?;
    let Some(device) = state.db.msg_device(device_id).await? else {
        return Err(AppError::not_found());
    };
    let allowed = if device.kind == DeviceKind::Archive.as_str() {
        require(who, Action::ManageMessagingArchive, Target::Practice).is_ok()
    } else {
        device.user_id == who.user.id
    };
    if !allowed {
        return Err(AppError::client(
            ErrorCode::Forbidden,
            "You can remove only your own devices.",
        ));
    }
    if device.removed_ms.is_some() {
        return Ok(());
    }
    let entry = audit::entry(
        meta,
        &Actor::User(who.user.id.clone()),
        "messaging.device_removed",
        &format!("device:{device_id}"),
        Outcome::Success,
    )
    .detail("account", device.user_id.clone());
    state
        .audited(entry, async {
            state
                .db
                .remove_msg_device(device_id, state.clock.now_ms())
                .await?;
            // A removed device cannot come back, so its backup is of no use to anyone.
            state.db.delete_msg_backup(device_id).await?;
            Ok(())
        })
        .await?;
    // Its delivery sockets close now, not at their next check.
    state
        .messaging
        .revoke(super::hub::Revocation::Device(device_id.to_owned()));
    Ok(())
}

/// The proof that a device's key was published: its ledger entry, the path to a
/// signed tree head, and the head. Any signed-in person may ask: keys are public.
pub async fn key_proof(state: &AppState, device_id: &str) -> AppResult<InclusionProof> {
    check_device_id(device_id)?;
    let Some(device) = state.db.msg_device(device_id).await? else {
        return Err(AppError::not_found());
    };
    let seq = u64::try_from(device.ledger_seq).map_err(|_| AppError::internal("ledger seq"))?;
    let head = match state.ledger.latest_head().await {
        Some(head) if head.head.size >= seq => head,
        _ => state.ledger.checkpoint_now().await?,
    };
    Ok(ledger::prove_inclusion(&state.db, seq, &head).await?)
}

/// Proof that the ledger's current signed tree head extends the one of size `from`.
///
/// A client remembers the largest tree head it has seen in a key proof; before it
/// accepts a larger one it asks for this proof, so a server showing different people
/// different logs (a split view) is caught instead of silently accepted. `from` is the
/// raw query value so a missing or malformed size gets a clear 400, not a generic one.
pub async fn key_log_consistency(
    state: &AppState,
    from: Option<&str>,
) -> AppResult<ledger::ConsistencyProof> {
    let from = from
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|n| *n >= 1)
        .ok_or_else(|| bad("from is an earlier tree size: a whole number, 1 or more."))?;
    let latest = match state.ledger.latest_head().await {
        Some(head) => head,
        None => state.ledger.checkpoint_now().await?,
    };
    let size = latest.head.size;
    if from > size {
        return Err(bad(format!(
            "from ({from}) is larger than the current tree size ({size})."
        )));
    }
    // Every signed tree head the ledger hands out is saved as a checkpoint, so the
    // head a client remembers is among them.
    let old = ledger::LedgerStore::checkpoints(&state.db)
        .await
        .map_err(|e| AppError::internal(format!("reading checkpoints: {}", e.0)))?
        .into_iter()
        .find(|c| c.sth.head.size == from)
        .ok_or_else(|| bad(format!("no signed tree head of size {from}.")))?
        .sth;
    Ok(ledger::prove_consistency(&state.db, &old, &latest).await?)
}

/// One of the caller's devices as their device list shows it.
#[derive(Debug, Serialize)]
pub struct DeviceView {
    pub id: String,
    pub label: String,
    pub kind: String,
    pub created_ms: i64,
    pub removed_ms: Option<i64>,
    /// Whether an encrypted backup of the device is stored (never for removed ones).
    pub has_backup: bool,
    /// The stored backup's version and time, when there is one.
    pub backup_version: Option<i64>,
    pub backup_updated_ms: Option<i64>,
}

/// The caller's devices, removed ones included (so a person sees what was removed and
/// when), oldest first.
pub async fn list(state: &AppState, who: &CurrentUser) -> AppResult<Vec<DeviceView>> {
    let backups = state.db.msg_backups_of_user(&who.user.id).await?;
    Ok(state
        .db
        .msg_devices_of_user_all(&who.user.id)
        .await?
        .into_iter()
        .map(|d| {
            let backup = backups
                .iter()
                .find(|b| b.device_id == d.id && d.removed_ms.is_none());
            DeviceView {
                has_backup: backup.is_some(),
                backup_version: backup.map(|b| b.version),
                backup_updated_ms: backup.map(|b| b.updated_ms),
                id: d.id,
                label: d.label,
                kind: d.kind,
                created_ms: d.created_ms,
                removed_ms: d.removed_ms,
            }
        })
        .collect())
}
