//! Consult notes and files kept from a call, sealed at rest (purposes `consult-notes`
//! and `consult-files`, bound to the appointment). Only the appointment's clinician
//! writes or reads them here; the records area will show them in the patient's record.

use ledger::Outcome;
use proto::ErrorCode;
use store::consults::ConsultFileRow;

use crate::audit::{self, Actor};
use crate::consult::schedule;
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::session::CurrentUser;
use crate::policy::Action;
use crate::state::AppState;

const NOTES: &str = "consult-notes";
const FILES: &str = "consult-files";
/// Longest note accepted, in bytes.
pub const MAX_NOTE_BYTES: usize = 64 * 1024;
/// Largest file a clinician may keep from a call (the call's own limit).
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

fn seal(state: &AppState, purpose: &str, appointment_id: &str, bytes: &[u8]) -> AppResult<String> {
    state
        .keyring
        .seal(purpose, appointment_id.as_bytes(), bytes)
        .map_err(|e| AppError::internal(e.to_string()))
}

/// The note of the appointment, if any, and when it was saved.
pub async fn read(
    state: &AppState,
    who: &CurrentUser,
    appointment_id: &str,
) -> AppResult<Option<(String, i64)>> {
    schedule::load(state, who, appointment_id, Action::WriteConsultNotes).await?;
    let Some((sealed, at)) = state.db.note(appointment_id).await? else {
        return Ok(None);
    };
    let bytes = state
        .keyring
        .open(NOTES, appointment_id.as_bytes(), &sealed)
        .map_err(|e| AppError::internal(e.to_string()))?;
    Ok(Some((String::from_utf8_lossy(&bytes).into_owned(), at)))
}

pub async fn save(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    appointment_id: &str,
    text: &str,
) -> AppResult<()> {
    schedule::load(state, who, appointment_id, Action::WriteConsultNotes).await?;
    if text.len() > MAX_NOTE_BYTES {
        return Err(AppError::client(
            ErrorCode::InvalidInput,
            "The note is too long (64 KB at most).",
        ));
    }
    let sealed = seal(state, NOTES, appointment_id, text.as_bytes())?;
    let now = state.clock.now_ms();
    let entry = audit::entry(
        meta,
        &Actor::User(who.user.id.clone()),
        "consult.notes_saved",
        &format!("appointment:{appointment_id}"),
        Outcome::Success,
    )
    .detail("bytes", text.len());
    state
        .audited(entry, async {
            Ok(state
                .db
                .put_note(appointment_id, &who.user.id, &sealed, now)
                .await?)
        })
        .await
}

/// Keeps a file shared in the call, sealed.
pub async fn keep_file(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    appointment_id: &str,
    name: &str,
    media_type: &str,
    bytes: &[u8],
) -> AppResult<()> {
    schedule::load(state, who, appointment_id, Action::WriteConsultNotes).await?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(AppError::client(
            ErrorCode::InvalidInput,
            "The file needs a name of up to 200 characters.",
        ));
    }
    if bytes.is_empty() {
        return Err(AppError::client(
            ErrorCode::InvalidInput,
            "The file is empty.",
        ));
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(AppError::client(
            ErrorCode::InvalidInput,
            "The file is larger than 10 MB.",
        ));
    }
    let media_type = if media_type.len() <= 100 && media_type.bytes().all(|b| b.is_ascii_graphic())
    {
        media_type
    } else {
        "application/octet-stream"
    };
    let id = crate::setup::new_id()?;
    let row = ConsultFileRow {
        name_sealed: seal(
            state,
            FILES,
            &format!("{appointment_id}/{id}/name"),
            name.as_bytes(),
        )?,
        sealed: seal(state, FILES, &format!("{appointment_id}/{id}"), bytes)?,
        id,
        appointment_id: appointment_id.to_owned(),
        saved_by: who.user.id.clone(),
        media_type: media_type.to_owned(),
        size_bytes: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
        created_ms: state.clock.now_ms(),
    };
    let entry = audit::entry(
        meta,
        &Actor::User(who.user.id.clone()),
        "consult.file_kept",
        &format!("appointment:{appointment_id}"),
        Outcome::Success,
    )
    .detail("file", row.id.clone())
    .detail("bytes", bytes.len());
    state
        .audited(entry, async {
            Ok(state.db.insert_consult_file(&row).await?)
        })
        .await
}

/// Names and sizes of the files kept from the appointment.
pub async fn files(
    state: &AppState,
    who: &CurrentUser,
    appointment_id: &str,
) -> AppResult<Vec<(String, i64)>> {
    schedule::load(state, who, appointment_id, Action::WriteConsultNotes).await?;
    let mut out = Vec::new();
    for f in state.db.consult_files(appointment_id).await? {
        let name = state
            .keyring
            .open(
                FILES,
                format!("{appointment_id}/{}/name", f.id).as_bytes(),
                &f.name_sealed,
            )
            .map_err(|e| AppError::internal(e.to_string()))?;
        out.push((String::from_utf8_lossy(&name).into_owned(), f.size_bytes));
    }
    Ok(out)
}
