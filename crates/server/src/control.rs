//! The operator's control socket, `<data dir>/control.sock`: a Unix socket that only the
//! account running the server can open (0600, in the 0700 data directory). Commands
//! such as `telewarden keys rotate` reach the running server through it, so the work
//! happens online, inside the one process that writes the ledger.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use ledger::{NewEntry, Outcome};
use serde_json::{Value, json};
use store::backup::{BackupRecord, RestoreRecord};
use tokio::sync::watch;

use crate::audit::Actor;
use crate::error::AppResult;
use crate::state::AppState;

/// Where the control socket of a data directory is.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join("control.sock")
}

/// Binds the control socket (replacing one a crashed server left behind: the data
/// directory lock says no other server is running).
pub fn bind(data_dir: &Path) -> std::io::Result<tokio::net::UnixListener> {
    let path = socket_path(data_dir);
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = tokio::net::UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// Serves the control socket until shutdown.
pub async fn serve(
    listener: tokio::net::UnixListener,
    state: AppState,
    mut shutdown: watch::Receiver<bool>,
) {
    let router = Router::new()
        .route("/keys/rotate", post(rotate))
        .route("/health", post(health))
        .route("/backup/recorded", post(backup_recorded))
        .route("/restore/recorded", post(restore_recorded))
        .with_state(state);
    let stop = async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    if let Err(e) = axum::serve(listener, router)
        .with_graceful_shutdown(stop)
        .await
    {
        tracing::error!(error = %e, "the control socket stopped");
    }
}

/// Rotates the key-encryption key and re-wraps every data key under the new one, while
/// the server keeps serving; the ledger records it.
pub async fn rotate_kek(state: &AppState) -> AppResult<store::envelope::Rotation> {
    let started = state.clock.now_ms();
    let result = state.db.rotate_kek(&state.keyring, started).await;
    let entry = NewEntry::new(
        Actor::System.as_ledger_name(),
        "keys.kek_rotated",
        "keyring",
        if result.is_ok() {
            Outcome::Success
        } else {
            Outcome::Failure
        },
    )
    .source("control socket");
    let entry = match &result {
        Ok(r) => entry
            .detail("kek_version", r.kek_version)
            .detail("rewrapped", r.rewrapped),
        Err(_) => entry,
    };
    state.audit(entry).await?;
    Ok(result?)
}

async fn rotate(State(state): State<AppState>) -> AppResult<Json<Value>> {
    let r = rotate_kek(&state).await?;
    Ok(Json(
        json!({ "kek_version": r.kek_version, "rewrapped": r.rewrapped }),
    ))
}

async fn health(State(state): State<AppState>) -> AppResult<Json<Value>> {
    let report = crate::security::health::report(&state).await?;
    Ok(Json(json!({
        "report": report,
        "text": crate::security::health::render_text(&report),
    })))
}

/// Records a backup that was written (its time, size and digest) in the database, for
/// the backup-age check, and in the ledger.
pub async fn record_backup(state: &AppState, record: &BackupRecord) -> AppResult<()> {
    let entry = NewEntry::new(
        Actor::System.as_ledger_name(),
        "backup.created",
        "database",
        Outcome::Success,
    )
    .source("control socket")
    .detail("time_ms", record.time_ms)
    .detail("size", record.size)
    .detail("digest", record.digest.clone());
    state.audit(entry).await?;
    Ok(state.db.record_backup(record).await?)
}

/// Records a verified restore in the restored database and its ledger.
pub async fn record_restore(state: &AppState, record: &RestoreRecord) -> AppResult<()> {
    let entry = NewEntry::new(
        Actor::System.as_ledger_name(),
        "backup.restored",
        "database",
        Outcome::Success,
    )
    .source("process")
    .detail("time_ms", record.time_ms)
    .detail("backup_time_ms", record.backup_time_ms)
    .detail("digest", record.digest.clone());
    state.audit(entry).await?;
    Ok(state.db.record_restore(record).await?)
}

async fn backup_recorded(
    State(state): State<AppState>,
    Json(record): Json<BackupRecord>,
) -> AppResult<Json<Value>> {
    record_backup(&state, &record).await?;
    Ok(Json(json!({ "recorded": true })))
}

async fn restore_recorded(
    State(state): State<AppState>,
    Json(record): Json<RestoreRecord>,
) -> AppResult<Json<Value>> {
    record_restore(&state, &record).await?;
    Ok(Json(json!({ "recorded": true })))
}
