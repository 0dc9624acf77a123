//! Who looked at a patient's record: the ledger entries about it, for the patient (their
//! own) and the security officer (anyone's), each with a proof that it is in a signed
//! tree head, checkable offline with `telewarden audit check-proof`.

use ledger::{InclusionProof, LedgerStore, Outcome, StoredEntry};
use proto::ErrorCode;

use crate::admin::require;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::Role;
use crate::identity::session::CurrentUser;
use crate::policy::{Action, Target};
use crate::records::resource::valid_id;
use crate::state::AppState;

/// Most entries one listing returns.
const LIST_LIMIT: i64 = 500;

/// One access to a record, as the patient's list shows it.
#[derive(Debug, Clone)]
pub struct Access {
    pub entry: StoredEntry,
    /// The actor's name and role, when the actor is a known account.
    pub who: Option<(String, String)>,
}

impl Access {
    fn detail(&self, key: &str) -> Option<String> {
        let details = self.entry.details_map().ok()?;
        details.get(key).map(|v| match v.as_str() {
            Some(s) => s.to_owned(),
            None => v.to_string(),
        })
    }

    /// Why they looked: their basis, and a break-glass reason.
    pub fn why(&self) -> String {
        match (self.detail("access").as_deref(), self.detail("reason")) {
            (Some("break-glass"), Some(reason)) => format!("Emergency access: {reason}"),
            (Some("care"), _) => "Part of your care".into(),
            (Some("own"), _) => "You".into(),
            _ => match self.entry.action.as_str() {
                a if a.starts_with("audit.") => "Security review".into(),
                _ => String::new(),
            },
        }
    }

    pub fn is_break_glass(&self) -> bool {
        self.detail("access").as_deref() == Some("break-glass")
    }
}

/// May `who` see the accesses to `patient_id`'s record? The patient, and the security
/// officer; nobody else.
fn may_see(who: &CurrentUser, patient_id: &str) -> AppResult<()> {
    match who.role() {
        Role::Patient if who.user.id == patient_id => Ok(()),
        Role::SecurityOfficer => require(who, Action::ViewAudit, Target::Practice),
        _ => Err(AppError::client(
            ErrorCode::Forbidden,
            "Only the patient and the security officer see who looked at a record.",
        )),
    }
}

/// Records that `who` read the access list. A patient reading their own is not itself
/// listed (the list would grow at every look); a security officer's reading is.
async fn note_reading(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    patient_id: &str,
    shown: usize,
) -> AppResult<()> {
    let mut entry = audit::entry(
        meta,
        &Actor::User(who.user.id.clone()),
        "audit.access_list_read",
        &format!("Patient/{patient_id}"),
        Outcome::Success,
    )
    .detail("shown", shown);
    if who.role() != Role::Patient {
        entry = entry.detail("patient", format!("Patient/{patient_id}"));
    }
    state.audit(entry).await?;
    Ok(())
}

/// Every recorded access to `patient_id`'s record, newest first.
pub async fn accesses(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    patient_id: &str,
) -> AppResult<Vec<Access>> {
    may_see(who, patient_id)?;
    let entries = state
        .db
        .entries_about_patient(patient_id, LIST_LIMIT)
        .await?;
    note_reading(state, meta, who, patient_id, entries.len()).await?;
    let mut names: Vec<(String, Option<(String, String)>)> = Vec::new();
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let user_id = entry.actor.strip_prefix("user:").unwrap_or(&entry.actor);
        let who = match names.iter().find(|(id, _)| id == user_id) {
            Some((_, known)) => known.clone(),
            None => {
                let known = state
                    .db
                    .user_by_id(&state.keyring, user_id)
                    .await?
                    .map(|u| (u.display_name, role_name(&u.role).to_owned()));
                names.push((user_id.to_owned(), known.clone()));
                known
            }
        };
        out.push(Access { entry, who });
    }
    Ok(out)
}

/// One entry (an AuditEvent), if `who` may see it.
pub async fn entry(state: &AppState, who: &CurrentUser, seq: u64) -> AppResult<StoredEntry> {
    let not_found = || AppError::client(ErrorCode::NotFound, "There is no such audit event.");
    let entry = state
        .db
        .entries(seq, 1)
        .await
        .map_err(|e| AppError::internal(e.to_string()))?
        .into_iter()
        .find(|e| e.seq == seq)
        .ok_or_else(not_found)?;
    if who.role() == Role::SecurityOfficer {
        require(who, Action::ViewAudit, Target::Practice)?;
    } else {
        // A patient sees the entries about their own record; to anyone else an entry
        // they may not see does not exist.
        let about = entry
            .details_map()
            .ok()
            .and_then(|d| d.get("patient").and_then(|p| p.as_str().map(str::to_owned)));
        if who.role() != Role::Patient || about != Some(format!("Patient/{}", who.user.id)) {
            return Err(not_found());
        }
    }
    Ok(entry)
}

/// The AuditEvents about `patient_id` (patients: their own), or the newest entries of
/// the whole ledger (security officers, no patient named).
pub async fn search(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    patient_id: Option<&str>,
) -> AppResult<Vec<StoredEntry>> {
    let patient_id = match (patient_id, who.role()) {
        (Some(p), _) => Some(p.strip_prefix("Patient/").unwrap_or(p).to_owned()),
        (None, Role::Patient) => Some(who.user.id.clone()),
        (None, _) => None,
    };
    match patient_id {
        Some(p) if !valid_id(&p) => Err(AppError::client(
            ErrorCode::InvalidInput,
            "patient names a patient: Patient/<id> or <id>.",
        )),
        Some(p) => Ok(accesses(state, meta, who, &p)
            .await?
            .into_iter()
            .map(|a| a.entry)
            .collect()),
        None => {
            require(who, Action::ViewAudit, Target::Practice)?;
            let newest = state
                .db
                .last_entry()
                .await
                .map_err(|e| AppError::internal(e.to_string()))?
                .map_or(0, |e| e.seq);
            let from = newest.saturating_sub(99).max(1);
            let mut entries = state
                .db
                .entries(from, 100)
                .await
                .map_err(|e| AppError::internal(e.to_string()))?;
            entries.reverse();
            let entry = audit::entry(
                meta,
                &Actor::User(who.user.id.clone()),
                "audit.read",
                "ledger",
                Outcome::Success,
            )
            .detail("shown", entries.len());
            state.audit(entry).await?;
            Ok(entries)
        }
    }
}

/// The proof that entry `seq` is in the ledger's latest signed tree head (signing one
/// now if the entry is newer than the last).
pub async fn proof(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    seq: u64,
) -> AppResult<InclusionProof> {
    entry(state, who, seq).await?;
    let note = audit::entry(
        meta,
        &Actor::User(who.user.id.clone()),
        "audit.proof_made",
        &format!("ledger:{seq}"),
        Outcome::Success,
    );
    state.audit(note).await?;
    let head = match state.ledger.latest_head().await {
        Some(head) if head.head.size >= seq => head,
        _ => state.ledger.checkpoint_now().await?,
    };
    Ok(ledger::prove_inclusion(&state.db, seq, &head).await?)
}

fn role_name(role: &str) -> &'static str {
    match Role::parse(role) {
        Some(Role::Patient) => "Patient",
        Some(Role::Clinician) => "Clinician",
        Some(Role::PracticeAdmin) => "Practice administrator",
        Some(Role::SecurityOfficer) => "Security officer",
        None => "Unknown role",
    }
}
