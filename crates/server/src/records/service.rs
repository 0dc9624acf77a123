//! The records' domain functions, shared by the FHIR API and (later) the web pages:
//! each one asks the Policy, writes the ledger entry, and seals or opens the resource
//! under its patient's data key.

use proto::ErrorCode;
use serde_json::{Map, Value, json};
use store::envelope::RecordAad;
use store::records::{RecordVersion, RecordWrite, UpdateOutcome};

use crate::admin::require;
use crate::audit::Actor;
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::Role;
use crate::identity::session::CurrentUser;
use crate::policy::{Action, Target};
use crate::records::access::{Basis, authorise, record_entry};
use crate::records::consults;
use crate::records::kinds::{APPOINTMENT, PATIENT, PATIENT_CONTACT_ELEMENTS};
use crate::records::resource::{Compartment, Kind, valid_id};
use crate::security::events;
use crate::state::AppState;

/// The owner of the practice's directory entries (Practitioner): sealed under a key of
/// their own, like a patient's.
pub const PRACTICE_OWNER: &str = "practice";

/// Most results one search returns.
pub(crate) const SEARCH_LIMIT: i64 = 100;

/// A resource as the API returns it, with its id and meta.
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: String,
    pub version: i64,
    pub resource: Value,
}

pub(crate) fn invalid(message: impl Into<String>) -> AppError {
    AppError::client(ErrorCode::InvalidInput, message)
}

pub(crate) fn gone() -> AppError {
    AppError::client(ErrorCode::NotFound, "There is no such record.")
}

pub(crate) fn actor(who: &CurrentUser) -> Actor {
    Actor::User(who.user.id.clone())
}

pub(crate) fn target(kind: &Kind, id: &str) -> String {
    format!("{}/{id}", kind.name)
}

/// The patient an entry names: none for the practice's directory.
pub(crate) fn patient(kind: &Kind, owner: &str) -> Option<String> {
    kind.is_clinical().then(|| owner.to_owned())
}

/// The owner of a new resource: the patient it names (who must exist), the patient
/// itself, or the practice.
async fn owner_of_new(
    state: &AppState,
    kind: &Kind,
    id: &str,
    resource: &Map<String, Value>,
) -> AppResult<String> {
    match kind.compartment {
        Compartment::Itself => Ok(id.to_owned()),
        Compartment::Practice => Ok(PRACTICE_OWNER.to_owned()),
        Compartment::Reference(_) | Compartment::Participant => {
            let owner = kind
                .patient_of(resource)
                .map_err(|e| invalid(e.0))?
                .ok_or_else(|| AppError::internal("a clinical type without a patient"))?;
            match state.db.record_head(PATIENT.name, &owner).await? {
                Some(head) if !head.deleted => Ok(owner),
                _ => Err(invalid(format!(
                    "There is no patient Patient/{owner}: register the patient first."
                ))),
            }
        }
    }
}

fn aad<'a>(kind: &'a Kind, id: &'a str, version: i64) -> RecordAad<'a> {
    RecordAad {
        resource_type: kind.name,
        id,
        version,
    }
}

fn index(state: &AppState, kind: &Kind, resource: &Map<String, Value>) -> Vec<(String, String)> {
    kind.search_values(resource)
        .into_iter()
        .map(|(param, value)| {
            let token = state
                .keyring
                .blind_index(&format!("{}.{param}", kind.name), &value);
            (param.to_owned(), token)
        })
        .collect()
}

/// The resource just written, with its id and meta (no need to open what we sealed).
fn stored(kind: &Kind, v: &RecordVersion, mut resource: Map<String, Value>) -> Stored {
    with_meta(kind, v, &mut resource);
    Stored {
        id: v.id.clone(),
        version: v.version,
        resource: Value::Object(resource),
    }
}

fn with_meta(kind: &Kind, v: &RecordVersion, resource: &mut Map<String, Value>) {
    resource.insert("resourceType".into(), kind.name.into());
    resource.insert("id".into(), v.id.clone().into());
    resource.insert(
        "meta".into(),
        json!({ "versionId": v.version.to_string(), "lastUpdated": clock::rfc3339_ms(v.created_ms) }),
    );
}

/// The resource of a stored version, with id and meta.
pub(crate) async fn open(state: &AppState, kind: &Kind, v: &RecordVersion) -> AppResult<Stored> {
    let bytes = state
        .db
        .open_record(
            &state.keyring,
            &v.owner,
            aad(kind, &v.id, v.version),
            &v.sealed,
        )
        .await?;
    let mut resource: Map<String, Value> = serde_json::from_slice(&bytes)
        .map_err(|e| AppError::internal(format!("a stored {} does not parse: {e}", kind.name)))?;
    with_meta(kind, v, &mut resource);
    Ok(Stored {
        id: v.id.clone(),
        version: v.version,
        resource: Value::Object(resource),
    })
}

#[allow(clippy::too_many_arguments)]
async fn write_version(
    state: &AppState,
    who: &CurrentUser,
    kind: &Kind,
    id: &str,
    owner: &str,
    version: i64,
    resource: Option<&Map<String, Value>>,
) -> AppResult<RecordVersion> {
    let now = state.clock.now_ms();
    let plaintext = match resource {
        Some(r) => serde_json::to_vec(r).map_err(|e| AppError::internal(e.to_string()))?,
        None => Vec::new(),
    };
    let sealed = state
        .db
        .seal_record(
            &state.keyring,
            owner,
            aad(kind, id, version),
            &plaintext,
            now,
        )
        .await?;
    Ok(RecordVersion {
        resource_type: kind.name.into(),
        id: id.into(),
        version,
        owner: owner.to_owned(),
        sealed,
        deleted: resource.is_none(),
        author: format!("user:{}", who.user.id),
        created_ms: now,
    })
}

/// The current version of a resource, or 404.
pub(crate) async fn head(state: &AppState, kind: &Kind, id: &str) -> AppResult<RecordVersion> {
    if !valid_id(id) {
        return Err(gone());
    }
    state.db.record_head(kind.name, id).await?.ok_or_else(gone)
}

pub(crate) fn deleted() -> AppError {
    AppError::new(
        ErrorCode::NotFound,
        http::StatusCode::GONE,
        "This record was deleted.",
        crate::error::Fault::Client,
    )
}

/// Creates a resource with a new id (POST), or with the given one (PUT to a new id).
pub async fn create(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    kind: &Kind,
    resource: Map<String, Value>,
    id: Option<String>,
) -> AppResult<Stored> {
    let id = match id {
        Some(id) => id,
        None => crate::setup::new_id()?,
    };
    let owner = owner_of_new(state, kind, &id, &resource).await?;
    // A brand-new patient has no care team yet: the clinician registering them joins it.
    // A Patient for someone who already has an account needs care like any other write.
    let new_patient = kind.compartment == Compartment::Itself
        && who.role() == Role::Clinician
        && state.db.user_by_id(&state.keyring, &id).await?.is_none();
    let basis = if new_patient {
        require(
            who,
            Action::WriteClinical,
            Target::PatientRecord {
                patient_user_id: &owner,
                care: true,
            },
        )?;
        Basis::Care
    } else {
        authorise(state, who, Action::WriteClinical, kind, &owner).await?
    };
    let v = write_version(state, who, kind, &id, &owner, 1, Some(&resource)).await?;
    let tokens = index(state, kind, &resource);
    let entry = record_entry(
        meta,
        who,
        "record.created",
        &target(kind, &id),
        patient(kind, &owner).as_deref(),
        &basis,
    )
    .detail("version", 1);
    state
        .audited(entry, async {
            state
                .db
                .create_record(&RecordWrite {
                    version: &v,
                    index: &tokens,
                    joins_care_team: new_patient.then_some(who.user.id.as_str()),
                })
                .await?;
            Ok(())
        })
        .await?;
    Ok(stored(kind, &v, resource))
}

/// Reads the current version (`version` None) or one version of a resource.
pub async fn read(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    kind: &Kind,
    id: &str,
    version: Option<i64>,
) -> AppResult<Stored> {
    let head = match head(state, kind, id).await {
        Err(missing) => {
            let Some((owner, consult)) = consult_view(state, kind, id).await? else {
                return Err(missing);
            };
            if version.is_some_and(|v| v != 1) {
                return Err(gone());
            }
            consult_read(state, meta, who, kind, id, &owner, "record.read").await?;
            return Ok(consult);
        }
        found => found?,
    };
    let basis = authorise(state, who, Action::ReadClinical, kind, &head.owner).await?;
    let v = match version {
        None => head,
        Some(n) => state
            .db
            .record_version(kind.name, id, n)
            .await?
            .ok_or_else(gone)?,
    };
    if v.deleted {
        return Err(deleted());
    }
    let entry = record_entry(
        meta,
        who,
        "record.read",
        &target(kind, id),
        patient(kind, &v.owner).as_deref(),
        &basis,
    )
    .detail("version", v.version);
    state.audit(entry).await?;
    let stored = open(state, kind, &v).await?;
    if let Some(p) = patient(kind, &v.owner) {
        events::record_read(state, meta, who, &p, 1);
    }
    Ok(stored)
}

/// May a patient make this change to their own Patient resource? Only if it touches
/// nothing but their contact details.
async fn own_contact_change(
    state: &AppState,
    who: &CurrentUser,
    kind: &Kind,
    head: &RecordVersion,
    resource: &Map<String, Value>,
) -> AppResult<bool> {
    if who.role() != Role::Patient || kind.name != PATIENT.name || head.owner != who.user.id {
        return Ok(false);
    }
    if head.deleted {
        return Err(deleted());
    }
    let current = open(state, kind, head).await?;
    let clinical = |r: &Map<String, Value>| -> Map<String, Value> {
        r.iter()
            .filter(|(k, _)| {
                !PATIENT_CONTACT_ELEMENTS.contains(&k.as_str())
                    && !matches!(k.as_str(), "id" | "meta" | "resourceType")
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let before = current
        .resource
        .as_object()
        .map(clinical)
        .unwrap_or_default();
    if before != clinical(resource) {
        return Err(AppError::client(
            ErrorCode::Forbidden,
            "You can change your contact details (phone, e-mail, address, contacts, language) here; ask the practice to change anything else.",
        ));
    }
    require(
        who,
        Action::UpdateOwnContact,
        Target::PatientRecord {
            patient_user_id: &head.owner,
            care: false,
        },
    )?;
    Ok(true)
}

/// Replaces a resource (PUT). `if_match` is the version the writer read; without it the
/// current version is replaced. A PUT to an id that does not exist creates it.
/// Returns the stored resource and whether it was created.
pub async fn update(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    kind: &Kind,
    id: &str,
    resource: Map<String, Value>,
    if_match: Option<i64>,
) -> AppResult<(Stored, bool)> {
    if !valid_id(id) {
        return Err(invalid(
            "A record id is 1 to 64 letters, digits, '-' or '.'.",
        ));
    }
    let Some(head) = state.db.record_head(kind.name, id).await? else {
        if consult_view(state, kind, id).await?.is_some() {
            return Err(scheduled());
        }
        if if_match.is_some() {
            return Err(gone());
        }
        return Ok((
            create(state, meta, who, kind, resource, Some(id.to_owned())).await?,
            true,
        ));
    };
    let basis = if own_contact_change(state, who, kind, &head, &resource).await? {
        Basis::Own
    } else {
        authorise(state, who, Action::WriteClinical, kind, &head.owner).await?
    };
    if let Some(owner) = kind.patient_of(&resource).map_err(|e| invalid(e.0))?
        && owner != head.owner
    {
        return Err(invalid(
            "A record cannot be moved to another patient: enter it in error and create it again for the right patient.",
        ));
    }
    let expected = if_match.unwrap_or(head.version);
    let v = write_version(
        state,
        who,
        kind,
        id,
        &head.owner,
        expected + 1,
        Some(&resource),
    )
    .await?;
    let tokens = index(state, kind, &resource);
    let entry = record_entry(
        meta,
        who,
        "record.updated",
        &target(kind, id),
        patient(kind, &head.owner).as_deref(),
        &basis,
    )
    .detail("version", v.version);
    state
        .audited(entry, async {
            match state.db.update_record(&RecordWrite { version: &v, index: &tokens, joins_care_team: None }, expected).await? {
                UpdateOutcome::Written => Ok(()),
                UpdateOutcome::Missing => Err(gone()),
                UpdateOutcome::VersionConflict => Err(AppError::new(
                    ErrorCode::Conflict,
                    http::StatusCode::PRECONDITION_FAILED,
                    "This record was changed by someone else since you read it: read it again, then make your change.",
                    crate::error::Fault::Client,
                )),
            }
        })
        .await?;
    Ok((stored(kind, &v, resource), false))
}

/// Deletes a resource: a new version that is a tombstone; the history keeps the rest.
pub async fn delete(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    kind: &Kind,
    id: &str,
) -> AppResult<()> {
    if consult_view(state, kind, id).await?.is_some() {
        return Err(scheduled());
    }
    let head = head(state, kind, id).await?;
    let basis = authorise(state, who, Action::WriteClinical, kind, &head.owner).await?;
    if head.deleted {
        return Ok(());
    }
    let v = write_version(state, who, kind, id, &head.owner, head.version + 1, None).await?;
    let entry = record_entry(
        meta,
        who,
        "record.deleted",
        &target(kind, id),
        patient(kind, &head.owner).as_deref(),
        &basis,
    )
    .detail("version", v.version);
    state
        .audited(entry, async {
            match state
                .db
                .update_record(
                    &RecordWrite {
                        version: &v,
                        index: &[],
                        joins_care_team: None,
                    },
                    head.version,
                )
                .await?
            {
                UpdateOutcome::Written => Ok(()),
                _ => Err(AppError::client(
                    ErrorCode::Conflict,
                    "This record changed at the same moment: try again.",
                )),
            }
        })
        .await
}

/// Every version of a resource, newest first; deleted versions as `None`.
pub async fn history(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    kind: &Kind,
    id: &str,
) -> AppResult<Vec<(i64, i64, Option<Stored>)>> {
    if let Some((owner, consult)) = consult_view(state, kind, id).await? {
        consult_read(state, meta, who, kind, id, &owner, "record.history_read").await?;
        let at = state.db.appointment(id).await?.map_or(0, |a| a.created_ms);
        return Ok(vec![(1, at, Some(consult))]);
    }
    let head = head(state, kind, id).await?;
    let basis = authorise(state, who, Action::ReadClinical, kind, &head.owner).await?;
    let versions = state.db.record_history(kind.name, id).await?;
    let entry = record_entry(
        meta,
        who,
        "record.history_read",
        &target(kind, id),
        patient(kind, &head.owner).as_deref(),
        &basis,
    )
    .detail("versions", versions.len());
    state.audit(entry).await?;
    if let Some(p) = patient(kind, &head.owner) {
        events::record_read(state, meta, who, &p, 1);
    }
    let mut out = Vec::new();
    for v in &versions {
        let stored = if v.deleted {
            None
        } else {
            Some(open(state, kind, v).await?)
        };
        out.push((v.version, v.created_ms, stored));
    }
    Ok(out)
}

/// A consult appointment shown as the Appointment `id`, with its patient.
pub(crate) async fn consult_view(
    state: &AppState,
    kind: &Kind,
    id: &str,
) -> AppResult<Option<(String, Stored)>> {
    if kind.name != APPOINTMENT.name || !valid_id(id) {
        return Ok(None);
    }
    consults::one(state, id).await
}

/// Authorises reading consult appointment `id` (it has one version) and records it.
async fn consult_read(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    kind: &Kind,
    id: &str,
    owner: &str,
    action: &str,
) -> AppResult<()> {
    let basis = authorise(state, who, Action::ReadClinical, kind, owner).await?;
    let entry = record_entry(meta, who, action, &target(kind, id), Some(owner), &basis)
        .detail("version", 1);
    state.audit(entry).await?;
    events::record_read(state, meta, who, owner, 1);
    Ok(())
}

fn scheduled() -> AppError {
    AppError::client(
        ErrorCode::Conflict,
        "This appointment is a consult booked through the practice's schedule: move or cancel it on the appointments page.",
    )
}
