//! Who may open a patient's record, and on what basis: their own record, a care
//! relationship, or break-glass. Every record entry in the ledger says which, so the
//! patient's "who looked" list can show why someone looked.

use ledger::Outcome;
use proto::ErrorCode;
use store::break_glass::BreakGlassGrant;
use store::notices::NoticeRow;

use crate::admin::require;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::Role;
use crate::identity::session::CurrentUser;
use crate::policy::{Action, Target};
use crate::records::resource::Kind;
use crate::state::AppState;

/// How long a break-glass grant lasts.
pub const BREAK_GLASS_MS: i64 = 60 * 60 * 1000;
/// Shortest and longest reason accepted, in characters.
const REASON_CHARS: std::ops::RangeInclusive<usize> = 10..=500;

/// Why the actor may open the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// It is the patient's own record.
    Own,
    /// A care relationship: on the care team, or an appointment.
    Care,
    /// A break-glass grant, with its reason.
    BreakGlass { grant_id: String, reason: String },
    /// The practice's directory: no patient's record at all.
    Directory,
}

impl Basis {
    fn as_str(&self) -> &'static str {
        match self {
            Basis::Own => "own",
            Basis::Care => "care",
            Basis::BreakGlass { .. } => "break-glass",
            Basis::Directory => "directory",
        }
    }
}

/// Whether `action` is a read (as opposed to a change).
fn reading(action: Action) -> bool {
    matches!(action, Action::ReadClinical | Action::ExportRecord)
}

/// May `who` do `action` (read, write or export) to `owner`'s record of `kind`? Returns the
/// basis on which they may.
pub async fn authorise(
    state: &AppState,
    who: &CurrentUser,
    action: Action,
    kind: &Kind,
    owner: &str,
) -> AppResult<Basis> {
    if !kind.is_clinical() {
        let directory = if reading(action) {
            Action::ReadDirectory
        } else {
            Action::WriteDirectory
        };
        require(who, directory, Target::Practice)?;
        return Ok(Basis::Directory);
    }
    // Staff open patient data only once trained (patients are never held back).
    crate::training::learning::require_cleared(state, who).await?;
    let mut basis = Basis::Own;
    let mut care = false;
    if who.role() == Role::Clinician {
        if state.db.cares_for(&who.user.id, owner).await? {
            care = true;
            basis = Basis::Care;
        } else if let Some(grant) = state
            .db
            .active_break_glass(&who.user.id, owner, state.clock.now_ms())
            .await?
        {
            care = true;
            basis = Basis::BreakGlass {
                grant_id: grant.id,
                reason: grant.reason,
            };
        }
    }
    require(
        who,
        action,
        Target::PatientRecord {
            patient_user_id: owner,
            care,
        },
    )?;
    Ok(basis)
}

/// The ledger entry of `action` on one resource, naming the patient it belongs to and
/// the basis of the access.
pub fn record_entry(
    meta: &RequestMeta,
    who: &CurrentUser,
    action: &str,
    target: &str,
    owner: Option<&str>,
    basis: &Basis,
) -> ledger::NewEntry {
    let mut entry = audit::entry(
        meta,
        &Actor::User(who.user.id.clone()),
        action,
        target,
        Outcome::Success,
    )
    .detail("access", basis.as_str());
    if let Some(owner) = owner {
        entry = entry.detail("patient", format!("Patient/{owner}"));
    }
    if let Basis::BreakGlass { grant_id, reason } = basis {
        entry = entry
            .detail("break_glass", grant_id.as_str())
            .detail("reason", reason.as_str());
    }
    entry
}

/// Whether `patient_id` is someone the practice holds a record for: a Patient resource
/// or a patient's account.
async fn patient_exists(state: &AppState, patient_id: &str) -> AppResult<bool> {
    if let Some(head) = state.db.record_head("Patient", patient_id).await? {
        return Ok(!head.deleted);
    }
    Ok(state
        .db
        .user_by_id(&state.keyring, patient_id)
        .await?
        .is_some_and(|u| u.role == Role::Patient.as_str()))
}

/// Break-glass: `who` (a clinician, just stepped up) opens `patient_id`'s record for
/// `reason`, for [`BREAK_GLASS_MS`]. Every security officer is alerted; the grant joins
/// the review queue; the patient sees it in their access list.
pub async fn break_glass(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    patient_id: &str,
    reason: &str,
) -> AppResult<BreakGlassGrant> {
    require(
        who,
        Action::BreakGlass,
        Target::PatientRecord {
            patient_user_id: patient_id,
            care: false,
        },
    )?;
    let reason = reason.split_whitespace().collect::<Vec<_>>().join(" ");
    if !REASON_CHARS.contains(&reason.chars().count()) {
        return Err(AppError::client(
            ErrorCode::InvalidInput,
            "Say why you need this record now, in 10 to 500 characters: the patient and the security officer will read it.",
        ));
    }
    who.require_recent(state)?;
    if !crate::records::resource::valid_id(patient_id) || !patient_exists(state, patient_id).await?
    {
        return Err(AppError::client(
            ErrorCode::NotFound,
            "There is no such patient.",
        ));
    }
    let now = state.clock.now_ms();
    let grant = BreakGlassGrant {
        id: crate::setup::new_id()?,
        clinician_id: who.user.id.clone(),
        patient_id: patient_id.to_owned(),
        reason: reason.clone(),
        started_ms: now,
        expires_ms: now + BREAK_GLASS_MS,
        review: None,
    };
    let basis = Basis::BreakGlass {
        grant_id: grant.id.clone(),
        reason,
    };
    let entry = record_entry(
        meta,
        who,
        "record.break_glass",
        &format!("Patient/{patient_id}"),
        Some(patient_id),
        &basis,
    )
    .detail("expires", clock::rfc3339_ms(grant.expires_ms));
    state
        .audited(entry, async {
            state.db.insert_break_glass(&grant).await?;
            // The patient, if they have an account, hears of it at once too.
            if state
                .db
                .user_by_id(&state.keyring, patient_id)
                .await?
                .is_some_and(|u| u.role == Role::Patient.as_str())
            {
                state
                    .db
                    .insert_notice(&NoticeRow {
                        id: crate::setup::new_id()?,
                        user_id: patient_id.to_owned(),
                        created_ms: now,
                        kind: "break_glass".into(),
                        message: format!(
                            "{} opened your record with emergency access. Their reason, and everything they look at, is in \"Who looked at my record\".",
                            who.user.display_name
                        ),
                        read_ms: None,
                    })
                    .await?;
            }
            for officer in state.db.list_users(&state.keyring).await? {
                if officer.role != Role::SecurityOfficer.as_str() || officer.disabled_ms.is_some()
                {
                    continue;
                }
                state
                    .db
                    .insert_notice(&NoticeRow {
                        id: crate::setup::new_id()?,
                        user_id: officer.id,
                        created_ms: now,
                        kind: "break_glass".into(),
                        message: format!(
                            "{} broke the glass to open a patient's record. Review it in the break-glass queue.",
                            who.user.display_name
                        ),
                        read_ms: None,
                    })
                    .await?;
            }
            Ok(())
        })
        .await?;
    Ok(grant)
}

/// The break-glass review queue (security officers): unreviewed first.
pub async fn review_queue(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
) -> AppResult<Vec<BreakGlassGrant>> {
    require(who, Action::ReviewBreakGlass, Target::Practice)?;
    let queue = state.db.break_glass_queue(200).await?;
    let entry = audit::entry(
        meta,
        &Actor::User(who.user.id.clone()),
        "break_glass.queue_viewed",
        "break_glass",
        Outcome::Success,
    )
    .detail("shown", queue.len());
    state.audit(entry).await?;
    Ok(queue)
}

/// A security officer closes a grant's review with a note.
pub async fn review(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    grant_id: &str,
    note: &str,
) -> AppResult<()> {
    require(who, Action::ReviewBreakGlass, Target::Practice)?;
    let note = note.trim();
    if note.is_empty() || note.chars().count() > 1000 {
        return Err(AppError::client(
            ErrorCode::InvalidInput,
            "Write what you concluded, in up to 1000 characters.",
        ));
    }
    let entry = audit::entry(
        meta,
        &Actor::User(who.user.id.clone()),
        "break_glass.reviewed",
        &format!("break_glass:{grant_id}"),
        Outcome::Success,
    );
    let now = state.clock.now_ms();
    state
        .audited(entry, async {
            if state
                .db
                .review_break_glass(grant_id, &who.user.id, note, now)
                .await?
            {
                Ok(())
            } else {
                Err(AppError::client(
                    ErrorCode::NotFound,
                    "There is no such break-glass access waiting for review.",
                ))
            }
        })
        .await
}

/// Puts (`join`) or takes a clinician on or off a patient's care team (the practice
/// administrator). The patient sees it in their access list.
pub async fn assign_care(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    patient_id: &str,
    clinician_id: &str,
    join: bool,
) -> AppResult<()> {
    require(who, Action::AssignCare, Target::Practice)?;
    let bad = |m: &str| AppError::client(ErrorCode::InvalidInput, m.to_owned());
    let patient = state.db.user_by_id(&state.keyring, patient_id).await?;
    if patient.is_none_or(|u| u.role != Role::Patient.as_str()) {
        return Err(bad("Care teams are for patients."));
    }
    let clinician = state.db.user_by_id(&state.keyring, clinician_id).await?;
    if !clinician.is_some_and(|u| u.role == Role::Clinician.as_str() && u.disabled_ms.is_none()) {
        return Err(bad("Choose a clinician with an active account."));
    }
    let entry = audit::entry(
        meta,
        &Actor::User(who.user.id.clone()),
        if join {
            "care_team.assigned"
        } else {
            "care_team.removed"
        },
        &format!("Patient/{patient_id}"),
        Outcome::Success,
    )
    .detail("patient", format!("Patient/{patient_id}"))
    .detail("clinician", format!("user:{clinician_id}"));
    let now = state.clock.now_ms();
    state
        .audited(entry, async {
            if join {
                state
                    .db
                    .add_to_care_team(patient_id, clinician_id, now)
                    .await?;
            } else if !state
                .db
                .remove_from_care_team(patient_id, clinician_id)
                .await?
            {
                return Err(bad("That clinician is not on this patient's care team."));
            }
            Ok(())
        })
        .await
}
