//! Reading many records at once: search, a patient's whole record (the record pages),
//! and exports. Each result is checked against the Policy one patient at a time, and
//! each patient whose records are returned gets a ledger entry.

use ledger::Outcome;
use proto::ErrorCode;
use store::break_glass::DataTransfer;

use crate::audit;
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::Role;
use crate::identity::session::CurrentUser;
use crate::policy::Action;
use crate::records::access::{Basis, authorise, record_entry};
use crate::records::consults;
use crate::records::kinds::{APPOINTMENT, KINDS, PATIENT};
use crate::records::resource::{Kind, valid_id};
use crate::records::service::{
    PRACTICE_OWNER, SEARCH_LIMIT, Stored, actor, deleted, gone, head, invalid, open, patient,
    target,
};
use crate::security::events;
use crate::state::AppState;

/// The current resources of one patient's compartment, of the given types, that `who`
/// may read (no ledger entry: the caller writes one for what it does with them).
pub(crate) async fn compartment(
    state: &AppState,
    who: &CurrentUser,
    patient_id: &str,
    kinds: &[&'static Kind],
) -> AppResult<Vec<(&'static Kind, Stored)>> {
    let mut out = Vec::new();
    for kind in kinds.iter().copied().filter(|k| k.is_clinical()) {
        authorise(state, who, Action::ReadClinical, kind, patient_id).await?;
        for id in state.db.records_of(patient_id, kind.name, 10_000).await? {
            if let Some(v) = state.db.record_head(kind.name, &id).await?
                && !v.deleted
            {
                out.push((kind, open(state, kind, &v).await?));
            }
        }
        if kind.name == APPOINTMENT.name {
            for consult in consults::of_patient(state, patient_id).await? {
                out.push((kind, consult));
            }
        }
    }
    Ok(out)
}

/// Searches by the type's parameters (all given must match); only records the person
/// may read are returned. Each patient whose records are returned gets a ledger entry.
pub async fn search(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    kind: &Kind,
    params: &[(String, String)],
) -> AppResult<Vec<Stored>> {
    if kind.is_clinical() && !matches!(who.role(), Role::Clinician | Role::Patient) {
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
        let value = kind.search_value(param, value).map_err(|e| invalid(e.0))?;
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
        // No parameters: the directory, or a patient's own compartment; a clinician
        // must say what they look for.
        None if !kind.is_clinical() => {
            state
                .db
                .records_of(PRACTICE_OWNER, kind.name, SEARCH_LIMIT)
                .await?
        }
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
    // Results grouped by patient, each group under the basis the reader has (None:
    // they may not read that patient's records).
    let mut found = Vec::new();
    let mut groups: Vec<(String, Option<Basis>, Vec<String>)> = Vec::new();
    for id in ids {
        let Some(v) = state.db.record_head(kind.name, &id).await? else {
            continue;
        };
        if v.deleted {
            continue;
        }
        let g = match groups.iter().position(|g| g.0 == v.owner) {
            Some(g) => g,
            None => {
                let basis = authorise(state, who, Action::ReadClinical, kind, &v.owner)
                    .await
                    .ok();
                groups.push((v.owner.clone(), basis, Vec::new()));
                groups.len() - 1
            }
        };
        if groups[g].1.is_none() {
            continue;
        }
        groups[g].2.push(target(kind, &id));
        found.push(open(state, kind, &v).await?);
    }
    // Consult appointments of the patient searched for (or of the patient searching).
    if kind.name == APPOINTMENT.name {
        let mut wanted = Vec::new();
        let mut patient_id = (who.role() == Role::Patient).then(|| who.user.id.clone());
        for (param, value) in params.iter().filter(|(p, _)| !p.starts_with('_')) {
            let value = kind.search_value(param, value).map_err(|e| invalid(e.0))?;
            if matches!(param.as_str(), "patient" | "subject") {
                patient_id = Some(value.clone());
            }
            wanted.push((param.clone(), value));
        }
        if let Some(patient_id) = patient_id {
            let basis = authorise(state, who, Action::ReadClinical, kind, &patient_id)
                .await
                .ok();
            if let Some(basis) = basis {
                let mut listed = Vec::new();
                for consult in consults::of_patient(state, &patient_id).await? {
                    let values = consult
                        .resource
                        .as_object()
                        .map(|r| kind.search_values(r))
                        .unwrap_or_default();
                    if wanted
                        .iter()
                        .all(|(p, v)| values.iter().any(|(vp, vv)| vp == p && vv == v))
                    {
                        listed.push(target(kind, &consult.id));
                        found.push(consult);
                    }
                }
                match groups.iter_mut().find(|g| g.0 == patient_id) {
                    Some(g) => g.2.extend(listed),
                    None if !listed.is_empty() => groups.push((patient_id, Some(basis), listed)),
                    None => {}
                }
            }
        }
    }
    groups.retain(|g| g.1.is_some());
    if groups.is_empty() {
        let entry = audit::entry(
            meta,
            &actor(who),
            "record.searched",
            kind.name,
            Outcome::Success,
        )
        .detail("results", 0);
        state.audit(entry).await?;
    }
    for (owner, basis, listed) in &groups {
        let Some(basis) = basis else { continue };
        let entry = record_entry(
            meta,
            who,
            "record.searched",
            kind.name,
            patient(kind, owner).as_deref(),
            basis,
        )
        .detail("results", listed.join(","));
        state.audit(entry).await?;
        if let Some(p) = patient(kind, owner) {
            for _ in listed {
                events::record_read(state, meta, who, &p, 1);
            }
        }
    }
    Ok(found)
}

/// A patient's whole record as a FHIR `collection` Bundle's resources. A patient must
/// have just proved who they are; staff exports are limited per hour. Every export is a
/// data transfer the sentinel sees.
pub async fn export(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    patient_id: &str,
) -> AppResult<Vec<(&'static Kind, Stored)>> {
    let basis = authorise(state, who, Action::ExportRecord, &PATIENT, patient_id).await?;
    if who.role() == Role::Patient {
        who.require_recent(state)?;
    }
    let now = state.clock.now_ms();
    if who.role() != Role::Patient
        && state
            .db
            .data_transfers_since(&who.user.id, now - HOUR_MS)
            .await?
            >= STAFF_EXPORTS_PER_HOUR
    {
        return Err(AppError::client(
            ErrorCode::TooManyAttempts,
            format!(
                "You have exported {STAFF_EXPORTS_PER_HOUR} records in the last hour, the most staff may: try again later, or ask the security officer."
            ),
        ));
    }
    // Staff export the records the practice holds; a patient with an account always
    // gets theirs, if only to see that it is empty.
    if who.role() != Role::Patient && head(state, &PATIENT, patient_id).await?.deleted {
        return Err(deleted());
    }
    let resources = compartment(state, who, patient_id, KINDS).await?;
    let bytes: usize = resources
        .iter()
        .map(|(_, s)| s.resource.to_string().len())
        .sum();
    let transfer = DataTransfer {
        id: crate::setup::new_id()?,
        actor_id: who.user.id.clone(),
        role: who.role().as_str().to_owned(),
        patient_id: patient_id.to_owned(),
        resources: i64::try_from(resources.len()).unwrap_or(i64::MAX),
        bytes: i64::try_from(bytes).unwrap_or(i64::MAX),
        at_ms: now,
    };
    let entry = record_entry(
        meta,
        who,
        "record.exported",
        &format!("Patient/{patient_id}"),
        Some(patient_id),
        &basis,
    )
    .detail("resources", resources.len())
    .detail("bytes", bytes);
    state
        .audited(entry, async {
            state.db.insert_data_transfer(&transfer).await?;
            Ok(())
        })
        .await?;
    events::export(
        state,
        meta,
        who,
        1,
        u64::try_from(bytes).unwrap_or(u64::MAX),
    );
    Ok(resources)
}

const HOUR_MS: i64 = 60 * 60 * 1000;
/// Most exports a staff member may make in an hour.
pub const STAFF_EXPORTS_PER_HOUR: i64 = 5;

/// A patient's whole current record for reading on a page (the patient's own, or a
/// clinician's chart): one ledger entry for the view.
pub async fn overview(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    patient_id: &str,
) -> AppResult<(Basis, Vec<(&'static Kind, Stored)>)> {
    if !valid_id(patient_id) {
        return Err(gone());
    }
    let basis = authorise(state, who, Action::ReadClinical, &PATIENT, patient_id).await?;
    let resources = compartment(state, who, patient_id, KINDS).await?;
    let entry = record_entry(
        meta,
        who,
        "record.read",
        &format!("Patient/{patient_id}"),
        Some(patient_id),
        &basis,
    )
    .detail("view", "whole record")
    .detail("resources", resources.len());
    state.audit(entry).await?;
    for _ in &resources {
        events::record_read(state, meta, who, patient_id, 1);
    }
    Ok((basis, resources))
}
