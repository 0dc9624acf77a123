//! The FHIR R4 REST API under `/fhir`: thin handlers over [`crate::records::service`].
//! JSON in and out (`application/fhir+json`), versions as weak ETags, `If-Match` for
//! updates; every error is an OperationOutcome (rendered by the error middleware).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use proto::ErrorCode;
use serde_json::{Value, json};

use crate::error::{AppError, AppResult};
use crate::fhir::audit_event::audit_event;
use crate::http::meta::RequestMeta;
use crate::identity::session::SignedIn;
use crate::records::bulk;
use crate::records::resource::{self, Kind};
use crate::records::service::{self, Stored};
use crate::records::{access, access_log};
use crate::state::AppState;

const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

fn kind(name: &str) -> AppResult<&'static Kind> {
    resource::kind(name).ok_or_else(|| {
        AppError::client(
            ErrorCode::NotFound,
            format!("This server has no resource type {name}."),
        )
    })
}

fn body(status: StatusCode, value: &Value) -> Response {
    let mut res = (status, value.to_string()).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    res
}

fn with_version(status: StatusCode, kind: &Kind, stored: &Stored, state: &AppState) -> Response {
    let mut res = body(status, &stored.resource);
    if let Ok(etag) = HeaderValue::from_str(&format!("W/\"{}\"", stored.version)) {
        res.headers_mut().insert(header::ETAG, etag);
    }
    let location = format!(
        "{}/fhir/{}/{}/_history/{}",
        state.origin, kind.name, stored.id, stored.version
    );
    if let Ok(location) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, location);
    }
    res
}

fn parse_body(
    kind: &Kind,
    bytes: &Bytes,
    url_id: Option<&str>,
) -> AppResult<serde_json::Map<String, Value>> {
    kind.parse(bytes, url_id)
        .map_err(|e| AppError::client(ErrorCode::InvalidInput, e.0))
}

/// `W/"3"` or `"3"` → 3.
fn if_match(headers: &HeaderMap) -> AppResult<Option<i64>> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|v| *v >= 1)
        .map(Some)
        .ok_or_else(|| {
            AppError::client(
                ErrorCode::InvalidInput,
                "If-Match must name a version, like W/\"2\".",
            )
        })
}

pub async fn metadata(State(state): State<AppState>) -> Response {
    let resources: Vec<Value> = resource::KINDS
        .iter()
        .map(|k| {
            let interactions: Vec<Value> = [
                "read",
                "vread",
                "update",
                "delete",
                "history-instance",
                "create",
                "search-type",
            ]
            .iter()
            .map(|c| json!({ "code": c }))
            .collect();
            let params: Vec<Value> = k
                .search_params
                .iter()
                .map(|p| {
                    let kind = match *p {
                        "birthdate" => "date",
                        "identifier" => "token",
                        _ => "string",
                    };
                    json!({ "name": p, "type": kind })
                })
                .collect();
            json!({
                "type": k.name,
                "versioning": "versioned-update",
                "readHistory": true,
                "updateCreate": true,
                "conditionalUpdate": false,
                "interaction": interactions,
                "searchParam": params,
            })
        })
        .collect();
    body(
        StatusCode::OK,
        &json!({
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": clock::rfc3339_ms(state.clock.now_ms()),
            "kind": "instance",
            "software": { "name": "Telewarden", "version": env!("CARGO_PKG_VERSION") },
            "implementation": { "description": "Telewarden FHIR R4 API", "url": format!("{}/fhir", state.origin) },
            "fhirVersion": "4.0.1",
            "format": ["application/fhir+json", "json"],
            "rest": [{ "mode": "server", "resource": resources }],
        }),
    )
}

pub async fn create(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(type_name): Path<String>,
    bytes: Bytes,
) -> AppResult<Response> {
    let kind = kind(&type_name)?;
    let resource = parse_body(kind, &bytes, None)?;
    let stored = service::create(&state, &meta, &who, kind, resource, None).await?;
    Ok(with_version(StatusCode::CREATED, kind, &stored, &state))
}

pub async fn read(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path((type_name, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let kind = kind(&type_name)?;
    let stored = service::read(&state, &meta, &who, kind, &id, None).await?;
    Ok(with_version(StatusCode::OK, kind, &stored, &state))
}

pub async fn vread(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path((type_name, id, version)): Path<(String, String, String)>,
) -> AppResult<Response> {
    let kind = kind(&type_name)?;
    let version = version
        .parse::<i64>()
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| AppError::client(ErrorCode::NotFound, "There is no such version."))?;
    let stored = service::read(&state, &meta, &who, kind, &id, Some(version)).await?;
    Ok(with_version(StatusCode::OK, kind, &stored, &state))
}

pub async fn update(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path((type_name, id)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> AppResult<Response> {
    let kind = kind(&type_name)?;
    let expected = if_match(&headers)?;
    let resource = parse_body(kind, &bytes, Some(&id))?;
    let (stored, created) =
        service::update(&state, &meta, &who, kind, &id, resource, expected).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(with_version(status, kind, &stored, &state))
}

pub async fn delete(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path((type_name, id)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    let kind = kind(&type_name)?;
    service::delete(&state, &meta, &who, kind, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn history(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path((type_name, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let kind = kind(&type_name)?;
    let versions = service::history(&state, &meta, &who, kind, &id).await?;
    let entries: Vec<Value> = versions
        .iter()
        .map(|(version, at, stored)| {
            let url = format!("{}/fhir/{}/{id}/_history/{version}", state.origin, kind.name);
            match stored {
                Some(s) => json!({
                    "fullUrl": url,
                    "resource": s.resource,
                    "request": { "method": if *version == 1 { "POST" } else { "PUT" }, "url": format!("{}/{id}", kind.name) },
                    "response": { "status": "200", "etag": format!("W/\"{version}\""), "lastModified": clock::rfc3339_ms(*at) },
                }),
                None => json!({
                    "fullUrl": url,
                    "request": { "method": "DELETE", "url": format!("{}/{id}", kind.name) },
                    "response": { "status": "410", "lastModified": clock::rfc3339_ms(*at) },
                }),
            }
        })
        .collect();
    Ok(body(
        StatusCode::OK,
        &json!({ "resourceType": "Bundle", "type": "history", "total": entries.len(), "entry": entries }),
    ))
}

pub async fn search(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(type_name): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> AppResult<Response> {
    let kind = kind(&type_name)?;
    let found = bulk::search(&state, &meta, &who, kind, &params).await?;
    let matches = found.iter().map(|s| {
        (
            format!("{}/fhir/{}/{}", state.origin, kind.name, s.id),
            s.resource.clone(),
        )
    });
    Ok(body(StatusCode::OK, &searchset(matches)))
}

/// `GET /fhir/Patient/{id}/$everything`: the patient's whole record as one Bundle (a
/// patient's own after step-up; staff within their hourly limit).
pub async fn everything(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let resources = bulk::export(&state, &meta, &who, &id).await?;
    let mut res = body(
        StatusCode::OK,
        &record_bundle(&state, &resources, "searchset"),
    );
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"health-record.json\""),
    );
    Ok(res)
}

/// `POST /fhir/Patient/{id}/$break-glass` with a Parameters body naming the `reason`.
pub async fn break_glass(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    bytes: Bytes,
) -> AppResult<Response> {
    let reason = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .filter(|p| p["resourceType"] == "Parameters")
        .and_then(|p| {
            p["parameter"].as_array().and_then(|ps| {
                ps.iter()
                    .find(|p| p["name"] == "reason")
                    .and_then(|p| p["valueString"].as_str().map(str::to_owned))
            })
        })
        .ok_or_else(|| {
            AppError::client(
                ErrorCode::InvalidInput,
                "Send a Parameters resource with a parameter named reason (valueString).",
            )
        })?;
    let grant = access::break_glass(&state, &meta, &who, &id, &reason).await?;
    Ok(body(
        StatusCode::OK,
        &json!({
            "resourceType": "Parameters",
            "parameter": [
                { "name": "patient", "valueReference": { "reference": format!("Patient/{id}") } },
                { "name": "expires", "valueDateTime": clock::rfc3339_ms(grant.expires_ms) },
            ],
        }),
    ))
}

/// `GET /fhir/AuditEvent?patient=…`: the ledger entries about a patient's record.
pub async fn audit_events(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Query(params): Query<Vec<(String, String)>>,
) -> AppResult<Response> {
    let mut patient = None;
    for (param, value) in &params {
        match param.as_str() {
            "patient" => patient = Some(value.as_str()),
            p if p.starts_with('_') => {}
            p => {
                return Err(AppError::client(
                    ErrorCode::InvalidInput,
                    format!("AuditEvent cannot be searched by {p}; it can be searched by patient."),
                ));
            }
        }
    }
    let entries = access_log::search(&state, &meta, &who, patient).await?;
    let matches = entries.iter().map(|e| {
        (
            format!("{}/fhir/AuditEvent/{}", state.origin, e.seq),
            audit_event(e),
        )
    });
    Ok(body(StatusCode::OK, &searchset(matches)))
}

/// `GET /fhir/AuditEvent/{id}`: one ledger entry.
pub async fn audit_event_read(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let seq =
        id.parse::<u64>().ok().filter(|s| *s >= 1).ok_or_else(|| {
            AppError::client(ErrorCode::NotFound, "There is no such audit event.")
        })?;
    let entry = access_log::entry(&state, &who, seq).await?;
    Ok(body(StatusCode::OK, &audit_event(&entry)))
}

/// A `searchset` Bundle of `(full URL, resource)` matches.
fn searchset(matches: impl Iterator<Item = (String, Value)>) -> Value {
    let entries: Vec<Value> = matches
        .map(|(url, resource)| json!({ "fullUrl": url, "resource": resource, "search": { "mode": "match" } }))
        .collect();
    json!({ "resourceType": "Bundle", "type": "searchset", "total": entries.len(), "entry": entries })
}

/// A patient's whole record as a Bundle of `bundle_type` (`searchset` for
/// `$everything`, `collection` for the download of the record page).
pub fn record_bundle(state: &AppState, resources: &[(&Kind, Stored)], bundle_type: &str) -> Value {
    let matches = resources.iter().map(|(kind, s)| {
        (
            format!("{}/fhir/{}/{}", state.origin, kind.name, s.id),
            s.resource.clone(),
        )
    });
    let mut bundle = if bundle_type == "searchset" {
        searchset(matches)
    } else {
        let entries: Vec<Value> = matches
            .map(|(url, resource)| json!({ "fullUrl": url, "resource": resource }))
            .collect();
        json!({ "resourceType": "Bundle", "type": bundle_type, "entry": entries })
    };
    bundle["timestamp"] = clock::rfc3339_ms(state.clock.now_ms()).into();
    bundle
}
