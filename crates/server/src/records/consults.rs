//! Consult appointments as FHIR `Appointment` resources: the scheduling area owns them
//! (booking, moving, cancelling happen there, with their own ledger entries); the
//! records API shows them, read-only, beside Appointments stored as records, so a
//! patient's record and its export hold every appointment they had.

use serde_json::{Map, Value, json};
use store::consults::AppointmentRow;

use crate::error::AppResult;
use crate::records::service::Stored;
use crate::state::AppState;

/// Most consult appointments listed for one patient.
const LIMIT: i64 = 1000;

fn status(a: &AppointmentRow) -> &'static str {
    match a.status.as_str() {
        "cancelled" => "cancelled",
        _ if a.ended_ms.is_some() => "fulfilled",
        _ if a.started_ms.is_some() => "arrived",
        _ => "booked",
    }
}

/// The FHIR view of a consult appointment with a patient (None for a guest's).
pub async fn project(state: &AppState, a: &AppointmentRow) -> AppResult<Option<Stored>> {
    let Some(patient) = &a.patient_id else {
        return Ok(None);
    };
    let clinician = state
        .db
        .user_by_id(&state.keyring, &a.clinician_id)
        .await?
        .map(|u| u.display_name)
        .unwrap_or_else(|| "Clinician".into());
    let mut resource: Map<String, Value> = match json!({
        "resourceType": "Appointment",
        "id": a.id,
        "meta": { "versionId": "1", "lastUpdated": clock::rfc3339_ms(a.created_ms) },
        "status": status(a),
        "serviceType": [{ "text": "Video consultation" }],
        "start": clock::rfc3339_ms(a.starts_ms),
        "end": clock::rfc3339_ms(a.ends_ms),
        "created": clock::rfc3339_ms(a.created_ms),
        "participant": [
            { "actor": { "reference": format!("Patient/{patient}") }, "status": "accepted" },
            { "actor": { "display": clinician }, "status": "accepted" },
        ],
    }) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    resource.insert("id".into(), a.id.clone().into());
    Ok(Some(Stored {
        id: a.id.clone(),
        version: 1,
        resource: Value::Object(resource),
    }))
}

/// One consult appointment by id, with the patient it belongs to.
pub async fn one(state: &AppState, id: &str) -> AppResult<Option<(String, Stored)>> {
    let Some(a) = state.db.appointment(id).await? else {
        return Ok(None);
    };
    let Some(patient) = a.patient_id.clone() else {
        return Ok(None);
    };
    Ok(project(state, &a).await?.map(|s| (patient, s)))
}

/// Every consult appointment of a patient, oldest first.
pub async fn of_patient(state: &AppState, patient_id: &str) -> AppResult<Vec<Stored>> {
    let mut out = Vec::new();
    for a in state.db.appointments("", patient_id, 0, LIMIT).await? {
        if let Some(s) = project(state, &a).await? {
            out.push(s);
        }
    }
    Ok(out)
}
