//! The records' domain functions, shared by the FHIR API and (later) the web pages:
//! each one asks the Policy, writes the ledger entry, and seals or opens the resource
//! under its patient's data key.

use ledger::Outcome;
use proto::ErrorCode;
use serde_json::{Map, Value, json};
use store::envelope::RecordAad;
use store::records::{RecordVersion, RecordWrite, UpdateOutcome};

use crate::admin::require;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::Role;
use crate::identity::session::CurrentUser;
use crate::policy::{Action, Target};
use crate::records::resource::{Kind, normalise, valid_id};
use crate::state::AppState;

/// Most results one search returns.
const SEARCH_LIMIT: i64 = 100;

/// A resource as the API returns it, with its id and meta.
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: String,
    pub version: i64,
    pub resource: Value,
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::client(ErrorCode::InvalidInput, message)
}

fn gone() -> AppError {
    AppError::client(ErrorCode::NotFound, "There is no such record.")
}

fn actor(who: &CurrentUser) -> Actor {
    Actor::User(who.user.id.clone())
}

/// The compartment a resource belongs to. A Patient is its own compartment (and a
/// patient's account id is their Patient's id).
fn owner_of(kind: &Kind, id: &str) -> String {
    debug_assert_eq!(kind.name, "Patient");
    id.to_owned()
}

/// May `who` do `action` to the record of `owner`?
async fn authorise(
    state: &AppState,
    who: &CurrentUser,
    action: Action,
    owner: &str,
) -> AppResult<()> {
    let care = who.role() == Role::Clinician && state.db.cares_for(&who.user.id, owner).await?;
    require(
        who,
        action,
        Target::PatientRecord {
            patient_user_id: owner,
            care,
        },
    )
}

/// The ledger entry of `action` on one resource, naming the patient it belongs to.
fn record_entry(
    meta: &RequestMeta,
    who: &CurrentUser,
    action: &str,
    kind: &Kind,
    id: &str,
    owner: &str,
) -> ledger::NewEntry {
    audit::entry(
        meta,
        &actor(who),
        action,
        &format!("{}/{id}", kind.name),
        Outcome::Success,
    )
    .detail("patient", format!("Patient/{owner}"))
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

/// The resource of a stored version, with id and meta.
async fn open(state: &AppState, kind: &Kind, v: &RecordVersion) -> AppResult<Stored> {
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
    resource.insert("resourceType".into(), kind.name.into());
    resource.insert("id".into(), v.id.clone().into());
    resource.insert(
        "meta".into(),
        json!({ "versionId": v.version.to_string(), "lastUpdated": clock::rfc3339_ms(v.created_ms) }),
    );
    Ok(Stored {
        id: v.id.clone(),
        version: v.version,
        resource: Value::Object(resource),
    })
}

async fn write_version(
    state: &AppState,
    who: &CurrentUser,
    kind: &Kind,
    id: &str,
    version: i64,
    resource: Option<&Map<String, Value>>,
) -> AppResult<RecordVersion> {
    let owner = owner_of(kind, id);
    let now = state.clock.now_ms();
    let plaintext = match resource {
        Some(r) => serde_json::to_vec(r).map_err(|e| AppError::internal(e.to_string()))?,
        None => Vec::new(),
    };
    let sealed = state
        .db
        .seal_record(
            &state.keyring,
            &owner,
            aad(kind, id, version),
            &plaintext,
            now,
        )
        .await?;
    Ok(RecordVersion {
        resource_type: kind.name.into(),
        id: id.into(),
        version,
        owner,
        sealed,
        deleted: resource.is_none(),
        author: format!("user:{}", who.user.id),
        created_ms: now,
    })
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
    let owner = owner_of(kind, &id);
    // A new patient has no care team yet: the clinician registering them joins it.
    let care = who.role() == Role::Clinician;
    require(
        who,
        Action::WriteClinical,
        Target::PatientRecord {
            patient_user_id: &owner,
            care,
        },
    )?;
    let v = write_version(state, who, kind, &id, 1, Some(&resource)).await?;
    let tokens = index(state, kind, &resource);
    let entry = record_entry(meta, who, "record.created", kind, &id, &owner).detail("version", 1);
    state
        .audited(entry, async {
            state
                .db
                .create_record(&RecordWrite {
                    version: &v,
                    index: &tokens,
                })
                .await?;
            if who.role() == Role::Clinician {
                state
                    .db
                    .add_to_care_team(&owner, &who.user.id, v.created_ms)
                    .await?;
            }
            Ok(())
        })
        .await?;
    open(state, kind, &v).await
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
    if !valid_id(id) {
        return Err(gone());
    }
    authorise(state, who, Action::ReadClinical, &owner_of(kind, id)).await?;
    let found = match version {
        None => state.db.record_head(kind.name, id).await?,
        Some(v) => state.db.record_version(kind.name, id, v).await?,
    };
    let v = found.ok_or_else(gone)?;
    if v.deleted {
        return Err(AppError::new(
            ErrorCode::NotFound,
            http::StatusCode::GONE,
            "This record was deleted.",
            crate::error::Fault::Client,
        ));
    }
    let entry =
        record_entry(meta, who, "record.read", kind, id, &v.owner).detail("version", v.version);
    state.audit(entry).await?;
    open(state, kind, &v).await
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
        if if_match.is_some() {
            return Err(gone());
        }
        return Ok((
            create(state, meta, who, kind, resource, Some(id.to_owned())).await?,
            true,
        ));
    };
    authorise(state, who, Action::WriteClinical, &head.owner).await?;
    let expected = if_match.unwrap_or(head.version);
    let v = write_version(state, who, kind, id, expected + 1, Some(&resource)).await?;
    let tokens = index(state, kind, &resource);
    let entry = record_entry(meta, who, "record.updated", kind, id, &head.owner)
        .detail("version", v.version);
    state
        .audited(entry, async {
            match state.db.update_record(&RecordWrite { version: &v, index: &tokens }, expected).await? {
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
    Ok((open(state, kind, &v).await?, false))
}

/// Deletes a resource: a new version that is a tombstone; the history keeps the rest.
pub async fn delete(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    kind: &Kind,
    id: &str,
) -> AppResult<()> {
    if !valid_id(id) {
        return Err(gone());
    }
    let head = state
        .db
        .record_head(kind.name, id)
        .await?
        .ok_or_else(gone)?;
    authorise(state, who, Action::WriteClinical, &head.owner).await?;
    if head.deleted {
        return Ok(());
    }
    let v = write_version(state, who, kind, id, head.version + 1, None).await?;
    let entry = record_entry(meta, who, "record.deleted", kind, id, &head.owner)
        .detail("version", v.version);
    state
        .audited(entry, async {
            match state
                .db
                .update_record(
                    &RecordWrite {
                        version: &v,
                        index: &[],
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
    if !valid_id(id) {
        return Err(gone());
    }
    authorise(state, who, Action::ReadClinical, &owner_of(kind, id)).await?;
    let versions = state.db.record_history(kind.name, id).await?;
    if versions.is_empty() {
        return Err(gone());
    }
    let entry = record_entry(
        meta,
        who,
        "record.history_read",
        kind,
        id,
        &owner_of(kind, id),
    )
    .detail("versions", versions.len());
    state.audit(entry).await?;
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

/// Searches by the type's parameters (all given must match); only records the person
/// may read are returned.
pub async fn search(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    kind: &Kind,
    params: &[(String, String)],
) -> AppResult<Vec<Stored>> {
    if !matches!(who.role(), Role::Clinician | Role::Patient) {
        return Err(AppError::client(
            ErrorCode::Forbidden,
            "You cannot do that: your role does not allow reading clinical records.",
        ));
    }
    let mut candidates: Option<Vec<String>> = None;
    for (param, value) in params {
        if param.starts_with('_') {
            continue;
        }
        if !kind.search_params.contains(&param.as_str()) {
            return Err(invalid(format!(
                "{} cannot be searched by {param}; it can be searched by {}.",
                kind.name,
                kind.search_params.join(", ")
            )));
        }
        let value = match param.as_str() {
            "name" => normalise(value),
            "identifier" => value.chars().filter(|c| !matches!(c, ' ' | '-')).collect(),
            _ => value.clone(),
        };
        if value.is_empty() || value.len() > 256 {
            return Err(invalid(format!(
                "The value of {param} must be 1 to 256 characters."
            )));
        }
        let token = state
            .keyring
            .blind_index(&format!("{}.{param}", kind.name), &value);
        let ids = state
            .db
            .search_records(kind.name, param, &token, SEARCH_LIMIT)
            .await?;
        candidates = Some(match candidates {
            None => ids,
            Some(previous) => previous.into_iter().filter(|id| ids.contains(id)).collect(),
        });
    }
    let ids = match candidates {
        Some(ids) => ids,
        // No parameters: a patient's own compartment; a clinician must say what they look for.
        None if who.role() == Role::Patient => {
            state
                .db
                .records_of(&who.user.id, kind.name, SEARCH_LIMIT)
                .await?
        }
        None => {
            return Err(invalid(format!(
                "Say what to search for: {}.",
                kind.search_params.join(", ")
            )));
        }
    };
    let mut found = Vec::new();
    for id in ids {
        let owner = owner_of(kind, &id);
        if authorise(state, who, Action::ReadClinical, &owner)
            .await
            .is_err()
        {
            continue;
        }
        if let Some(v) = state.db.record_head(kind.name, &id).await?
            && !v.deleted
        {
            found.push(open(state, kind, &v).await?);
        }
    }
    let listed: Vec<String> = found
        .iter()
        .map(|s| format!("{}/{}", kind.name, s.id))
        .collect();
    let entry = audit::entry(
        meta,
        &actor(who),
        "record.searched",
        kind.name,
        Outcome::Success,
    )
    .detail("results", listed.join(","));
    state.audit(entry).await?;
    Ok(found)
}
