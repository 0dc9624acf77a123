//! The record pages: a patient's own record, a clinician's chart (or the break-glass
//! form when it is closed to them), downloads, who looked, and the security officer's
//! break-glass review queue. Thin handlers over the same domain functions as the FHIR
//! API ([`crate::records`]).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderValue, StatusCode, header};
use proto::ErrorCode;
use serde::Deserialize;

use crate::error::{AppError, AppResult, Fault};
use crate::http::meta::RequestMeta;
use crate::identity::Role;
use crate::identity::session::SignedIn;
use crate::records::access::{self, Basis};
use crate::records::access_log;
use crate::records::bulk;
use crate::records::kinds::PATIENT;
use crate::records::summary::{Summary, summarise};
use crate::state::AppState;
use crate::web::forms::Form;
use crate::web::pages::{layout, render};
use crate::web::templates::Layout;

#[derive(Template)]
#[template(path = "record.html")]
struct RecordPage {
    layout: Layout,
    own: bool,
    patient_id: String,
    break_glass: Option<String>,
    rows: Vec<Summary>,
}

#[derive(Template)]
#[template(path = "record_closed.html")]
struct RecordClosedPage {
    layout: Layout,
    patient_id: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "records_find.html")]
struct FindPage {
    layout: Layout,
    name: String,
    identifier: String,
    searched: bool,
    error: Option<String>,
    found: Vec<(String, String)>,
}

/// One line of the access list.
struct AccessRow {
    seq: u64,
    when: String,
    who: String,
    what: String,
    why: String,
    break_glass: bool,
}

#[derive(Template)]
#[template(path = "records_access.html")]
struct AccessPage {
    layout: Layout,
    own: bool,
    key_id: String,
    rows: Vec<AccessRow>,
}

struct GrantRow {
    id: String,
    clinician: String,
    patient_id: String,
    reason: String,
    started: String,
    expires: String,
    review: Option<String>,
}

#[derive(Template)]
#[template(path = "break_glass_queue.html")]
struct QueuePage {
    layout: Layout,
    flash: Option<String>,
    error: Option<String>,
    grants: Vec<GrantRow>,
}

#[derive(Debug, Deserialize)]
pub struct FindQuery {
    #[serde(default)]
    name: String,
    #[serde(default)]
    identifier: String,
}

/// `/records`: a patient's own record; a clinician's patient finder.
pub async fn records(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Query(q): Query<FindQuery>,
) -> AppResult<Response> {
    match who.role() {
        Role::Patient => {
            Ok(Redirect::to(&format!("/records/patients/{}", who.user.id)).into_response())
        }
        Role::Clinician => {
            let mut params = Vec::new();
            if !q.name.trim().is_empty() {
                params.push(("name".to_owned(), q.name.clone()));
            }
            if !q.identifier.trim().is_empty() {
                params.push(("identifier".to_owned(), q.identifier.clone()));
            }
            let searched = !params.is_empty();
            let (found, error) = if searched {
                match bulk::search(&state, &meta, &who, &PATIENT, &params).await {
                    Ok(found) => (
                        found
                            .iter()
                            .map(|s| (s.id.clone(), summarise(&s.resource).text))
                            .collect(),
                        None,
                    ),
                    Err(e) if e.fault == Fault::Client => (Vec::new(), Some(e.message)),
                    Err(e) => return Err(e),
                }
            } else {
                (Vec::new(), None)
            };
            let page = FindPage {
                layout: layout(&state, Some(&who)).await?,
                name: q.name,
                identifier: q.identifier,
                searched,
                error,
                found,
            };
            Ok(render(&page)?.into_response())
        }
        _ => Err(AppError::client(
            ErrorCode::Forbidden,
            "You cannot do that: your role does not allow reading clinical records.",
        )),
    }
}

/// `/records/patients/{id}`: the whole record, or the break-glass form when it is closed.
pub async fn record(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(patient_id): Path<String>,
) -> AppResult<Response> {
    match bulk::overview(&state, &meta, &who, &patient_id).await {
        Ok((basis, resources)) => {
            let page = RecordPage {
                layout: layout(&state, Some(&who)).await?,
                own: basis == Basis::Own,
                break_glass: match basis {
                    Basis::BreakGlass { reason, .. } => Some(reason),
                    _ => None,
                },
                patient_id,
                rows: resources
                    .iter()
                    .map(|(_, s)| summarise(&s.resource))
                    .collect(),
            };
            Ok(render(&page)?.into_response())
        }
        Err(e) if e.code == ErrorCode::Forbidden && who.role() == Role::Clinician => {
            closed(&state, &who, patient_id, None, StatusCode::FORBIDDEN).await
        }
        Err(e) => Err(e),
    }
}

async fn closed(
    state: &AppState,
    who: &crate::identity::session::CurrentUser,
    patient_id: String,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let page = RecordClosedPage {
        layout: layout(state, Some(who)).await?,
        patient_id,
        error,
    };
    Ok((status, render(&page)?).into_response())
}

#[derive(Debug, Deserialize)]
pub struct BreakGlassForm {
    #[serde(default)]
    reason: String,
}

/// `POST /records/patients/{id}/break-glass`.
pub async fn break_glass(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(patient_id): Path<String>,
    Form(f): Form<BreakGlassForm>,
) -> AppResult<Response> {
    match access::break_glass(&state, &meta, &who, &patient_id, &f.reason).await {
        Ok(_) => Ok(Redirect::to(&format!("/records/patients/{patient_id}")).into_response()),
        Err(e) if e.code == ErrorCode::InvalidInput => {
            closed(
                &state,
                &who,
                patient_id,
                Some(e.message),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// `POST /records/patients/{id}/export`: the whole record as a FHIR Bundle download.
pub async fn export(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(patient_id): Path<String>,
) -> AppResult<Response> {
    let resources = bulk::export(&state, &meta, &who, &patient_id).await?;
    let bundle = crate::web::fhir::record_bundle(&state, &resources, "collection");
    let mut res = (StatusCode::OK, bundle.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/fhir+json; charset=utf-8"),
    );
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"health-record.json\""),
    );
    Ok(res)
}

/// `/records/access` (a patient's own) and `/records/patients/{id}/access` (the
/// security officer): who looked.
pub async fn own_access(
    state: State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
) -> AppResult<Response> {
    let id = who.user.id.clone();
    access_page(state, meta, SignedIn(who), Path(id)).await
}

pub async fn access_page(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(patient_id): Path<String>,
) -> AppResult<Response> {
    let accesses = access_log::accesses(&state, &meta, &who, &patient_id).await?;
    let rows = accesses
        .iter()
        .map(|a| AccessRow {
            seq: a.entry.seq,
            when: clock::rfc3339_ms(a.entry.time_ms),
            who: match &a.who {
                Some((name, role)) if a.entry.actor == format!("user:{}", who.user.id) => {
                    format!("You ({name}, {role})")
                }
                Some((name, role)) => format!("{name} ({role})"),
                None => a.entry.actor.clone(),
            },
            what: describe(&a.entry.action, &a.entry.target),
            why: a.why(),
            break_glass: a.is_break_glass(),
        })
        .collect();
    let page = AccessPage {
        layout: layout(&state, Some(&who)).await?,
        own: who.user.id == patient_id,
        key_id: state.ledger.key_id(),
        rows,
    };
    Ok(render(&page)?.into_response())
}

/// What an entry's action means, in words.
fn describe(action: &str, target: &str) -> String {
    let kind = target.split('/').next().unwrap_or(target);
    match action {
        "record.read" => format!("Read {kind}"),
        "record.created" => format!("Added {kind}"),
        "record.updated" => format!("Changed {kind}"),
        "record.deleted" => format!("Removed {kind}"),
        "record.history_read" => format!("Read the history of {kind}"),
        "record.searched" => format!("Searched {kind}"),
        "record.exported" => "Downloaded the whole record".into(),
        "record.break_glass" => "Opened the record with emergency access".into(),
        "audit.access_list_read" => "Read this list".into(),
        "care_team.assigned" => "Added a clinician to the care team".into(),
        "care_team.removed" => "Took a clinician off the care team".into(),
        other => other.to_owned(),
    }
}

/// `/records/access/{seq}/proof`: the entry's inclusion proof, as a file.
pub async fn proof(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(seq): Path<String>,
) -> AppResult<Response> {
    let seq = seq
        .parse::<u64>()
        .ok()
        .filter(|s| *s >= 1)
        .ok_or_else(|| AppError::client(ErrorCode::NotFound, "There is no such entry."))?;
    let proof = access_log::proof(&state, &meta, &who, seq).await?;
    // The file `telewarden audit check-proof` reads: the proof, tagged with its kind.
    let mut file = serde_json::to_value(&proof).map_err(|e| AppError::internal(e.to_string()))?;
    if let Some(fields) = file.as_object_mut() {
        fields.insert("kind".into(), "inclusion".into());
    }
    let text =
        serde_json::to_string_pretty(&file).map_err(|e| AppError::internal(e.to_string()))?;
    let mut res = (StatusCode::OK, text).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(disposition) = HeaderValue::from_str(&format!(
        "attachment; filename=\"ledger-entry-{seq}.proof.json\""
    )) {
        res.headers_mut()
            .insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(res)
}

/// `/ledger/public-key`: the key tree heads are signed with (64 hex characters), public.
pub async fn public_key(State(state): State<AppState>) -> Response {
    let key = format!("{}\n", hex::encode(state.ledger.verifying_key().as_bytes()));
    let mut res = (StatusCode::OK, key).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"ledger.key.pub\""),
    );
    res
}

/// `/security/break-glass`: the review queue.
pub async fn queue(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
) -> AppResult<Response> {
    queue_page(&state, &meta, &who, None, None).await
}

async fn queue_page(
    state: &AppState,
    meta: &RequestMeta,
    who: &crate::identity::session::CurrentUser,
    flash: Option<String>,
    error: Option<String>,
) -> AppResult<Response> {
    let grants = access::review_queue(state, meta, who).await?;
    let mut rows = Vec::with_capacity(grants.len());
    for g in grants {
        let clinician = state
            .db
            .user_by_id(&state.keyring, &g.clinician_id)
            .await?
            .map_or_else(|| g.clinician_id.clone(), |u| u.display_name);
        let review = match &g.review {
            Some((by, at, note)) => {
                let by = state
                    .db
                    .user_by_id(&state.keyring, by)
                    .await?
                    .map_or_else(|| by.clone(), |u| u.display_name);
                Some(format!("{note} ({by}, {})", clock::rfc3339_ms(*at)))
            }
            None => None,
        };
        rows.push(GrantRow {
            id: g.id,
            clinician,
            patient_id: g.patient_id,
            reason: g.reason,
            started: clock::rfc3339_ms(g.started_ms),
            expires: clock::rfc3339_ms(g.expires_ms),
            review,
        });
    }
    let page = QueuePage {
        layout: layout(state, Some(who)).await?,
        flash,
        error,
        grants: rows,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    note: String,
}

/// `POST /security/break-glass/{id}/review`.
pub async fn review(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<ReviewForm>,
) -> AppResult<Response> {
    match access::review(&state, &meta, &who, &id, &f.note).await {
        Ok(()) => queue_page(&state, &meta, &who, Some("Review closed.".into()), None).await,
        Err(e) if e.fault == Fault::Client && e.code != ErrorCode::Forbidden => {
            queue_page(&state, &meta, &who, None, Some(e.message)).await
        }
        Err(e) => Err(e),
    }
}
