//! The messaging API (JSON over HTTPS, one WebSocket for delivery): thin handlers over
//! `crate::messaging`. Every call names the caller's device; the session says whose it
//! must be.

use axum::Json;
use axum::body::Bytes;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};

use crate::error::AppResult;
use crate::http::csrf::is_same_origin;
use crate::http::meta::RequestMeta;
use crate::identity::session::SignedIn;
use crate::messaging::blobs;
use crate::messaging::delivery::{
    self, Accepted, Claimed, CommitRequest, ConversationView, MessageView, NewConversation,
    SendRequest, WelcomeView,
};
use crate::messaging::devices::{self, Registration};
use crate::messaging::socket::Opened;
use crate::state::AppState;
use crate::web::forms::JsonBody;

/// Which of the caller's devices is asking, and from where to read.
#[derive(Debug, Deserialize)]
pub struct DeviceQuery {
    #[serde(default)]
    device: String,
    #[serde(default)]
    from: Option<String>,
}

impl DeviceQuery {
    fn start(&self) -> AppResult<i64> {
        match self.from.as_deref() {
            None | Some("") => Ok(0),
            Some(s) => s.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                crate::error::AppError::client(
                    proto::ErrorCode::InvalidInput,
                    "from is a sequence number (0 or more).",
                )
            }),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Registered {
    device_id: String,
    ledger_seq: i64,
}

pub async fn register_device(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    JsonBody(reg): JsonBody<Registration>,
) -> AppResult<Response> {
    let device = devices::register(&state, &meta, &who, reg).await?;
    Ok((
        StatusCode::CREATED,
        Json(Registered {
            device_id: device.id,
            ledger_seq: device.ledger_seq,
        }),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub struct KeyPackages {
    key_packages: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Free {
    free: i64,
}

pub async fn add_key_packages(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
    Path(device_id): Path<String>,
    JsonBody(body): JsonBody<KeyPackages>,
) -> AppResult<Json<Free>> {
    let free = devices::add_key_packages(&state, &who, &device_id, &body.key_packages).await?;
    Ok(Json(Free { free }))
}

pub async fn remove_device(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(device_id): Path<String>,
) -> AppResult<StatusCode> {
    devices::remove(&state, &meta, &who, &device_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn key_proof(
    State(state): State<AppState>,
    SignedIn(_who): SignedIn,
    Path(device_id): Path<String>,
) -> AppResult<Json<ledger::InclusionProof>> {
    Ok(Json(devices::key_proof(&state, &device_id).await?))
}

pub async fn conversations(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
    Query(q): Query<DeviceQuery>,
) -> AppResult<Json<Vec<ConversationView>>> {
    Ok(Json(delivery::list(&state, &who, &q.device).await?))
}

pub async fn start_conversation(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    JsonBody(req): JsonBody<NewConversation>,
) -> AppResult<Response> {
    let view = delivery::create(&state, &meta, &who, req).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

pub async fn conversation(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DeviceQuery>,
) -> AppResult<Json<ConversationView>> {
    Ok(Json(delivery::view(&state, &who, &id, &q.device).await?))
}

#[derive(Debug, Deserialize)]
pub struct ClaimRequest {
    device_id: String,
    user_ids: Vec<String>,
}

pub async fn claim(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<ClaimRequest>,
) -> AppResult<Json<Vec<Claimed>>> {
    Ok(Json(
        delivery::claim(&state, &meta, &who, &id, &req.device_id, &req.user_ids).await?,
    ))
}

pub async fn commit(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<CommitRequest>,
) -> AppResult<Json<Accepted>> {
    Ok(Json(delivery::commit(&state, &meta, &who, &id, req).await?))
}

pub async fn send(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<SendRequest>,
) -> AppResult<Json<Accepted>> {
    Ok(Json(delivery::send(&state, &meta, &who, &id, req).await?))
}

pub async fn read(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DeviceQuery>,
) -> AppResult<Json<Vec<MessageView>>> {
    let from = q.start()?;
    Ok(Json(
        delivery::read(&state, &who, &id, &q.device, from).await?,
    ))
}

pub async fn welcomes(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
    Query(q): Query<DeviceQuery>,
) -> AppResult<Json<Vec<WelcomeView>>> {
    Ok(Json(delivery::welcomes(&state, &who, &q.device).await?))
}

#[derive(Debug, Serialize)]
pub struct Stored {
    blob_id: String,
}

pub async fn put_blob(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DeviceQuery>,
    body: Bytes,
) -> AppResult<Response> {
    let blob_id = blobs::put_blob(&state, &meta, &who, &id, &q.device, &body).await?;
    Ok((StatusCode::CREATED, Json(Stored { blob_id })).into_response())
}

pub async fn get_blob(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DeviceQuery>,
) -> AppResult<Response> {
    let bytes = blobs::get_blob(&state, &who, &id, &q.device).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response())
}

/// The delivery socket of one device (see [`crate::messaging::socket`]).
pub async fn socket(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedIn(who): SignedIn,
    Query(q): Query<DeviceQuery>,
    ws: WebSocketUpgrade,
) -> AppResult<Response> {
    // Browsers send cookies with cross-site WebSocket handshakes; only our pages may
    // open one (non-browser clients send no Origin and no fetch metadata).
    let from_browser =
        headers.contains_key(header::ORIGIN) || headers.contains_key("sec-fetch-site");
    if from_browser && !is_same_origin(&headers, &state.origin, meta.https) {
        return Err(crate::error::AppError::client(
            proto::ErrorCode::CrossOriginRequest,
            "Only Telewarden's own pages may open this connection.",
        ));
    }
    let device = devices::own_device(&state, &who, &q.device).await?;
    let Some(slot) = state.messaging.open_socket(&who.user.id) else {
        return Err(crate::error::AppError::client(
            proto::ErrorCode::TooManyAttempts,
            "Too many messaging connections are open for this account: close some tabs or devices.",
        ));
    };
    let opened = Opened {
        device_id: device.id,
        user_id: who.user.id.clone(),
        session_hash: who.session.id_hash.clone(),
        slot,
    };
    Ok(crate::consult::socket::configure(ws)
        .on_upgrade(move |socket| crate::messaging::socket::serve(state, opened, socket)))
}

/// `GET /messages`: the end-to-end encrypted messaging page (the browser does the
/// cryptography; the page gives it the caller's account id and the names it may show).
pub async fn page(State(state): State<AppState>, SignedIn(who): SignedIn) -> AppResult<Response> {
    use crate::identity::Role;
    use crate::web::pages::{layout, render};
    use crate::web::templates::{MessagesPage, MessagingPerson};

    let role = who.role();
    if !matches!(role, Role::Patient | Role::Clinician) {
        return Err(crate::error::AppError::client(
            proto::ErrorCode::Forbidden,
            "Messaging is for patients and their clinicians.",
        ));
    }
    let mut people = Vec::new();
    let users = state.db.list_users(&state.keyring).await?;
    if role == Role::Patient {
        let team = state.db.care_team_of(&who.user.id).await?;
        for u in users {
            if u.disabled_ms.is_none() && team.iter().any(|(id, _)| *id == u.id) {
                people.push(MessagingPerson {
                    id: u.id,
                    name: u.display_name,
                    role: "clinician",
                });
            }
        }
    } else {
        for u in users {
            if u.role == Role::Patient.as_str()
                && u.disabled_ms.is_none()
                && state.db.on_care_team(&who.user.id, &u.id).await?
            {
                people.push(MessagingPerson {
                    id: u.id,
                    name: u.display_name,
                    role: "patient",
                });
            }
        }
    }
    let page = MessagesPage {
        layout: layout(&state, Some(&who)).await?,
        user_id: who.user.id.clone(),
        patient: role == Role::Patient,
        people,
    };
    Ok(render(&page)?.into_response())
}

/// `GET /api/messaging/devices`: the caller's devices (removed ones too) and whether
/// each has a backup.
pub async fn list_devices(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
) -> AppResult<Json<Vec<devices::DeviceView>>> {
    Ok(Json(devices::list(&state, &who).await?))
}

/// `PUT /api/messaging/devices/{id}/backup`: stores an encrypted backup of one of the
/// caller's devices (a higher version than the stored one, or 409).
pub async fn put_backup(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(device_id): Path<String>,
    JsonBody(body): JsonBody<crate::messaging::backup::NewBackup>,
) -> AppResult<Json<crate::messaging::backup::BackupView>> {
    Ok(Json(
        crate::messaging::backup::store(&state, &meta, &who, &device_id, body).await?,
    ))
}

/// `GET /api/messaging/backups`: the backups of the caller's devices, without bodies.
pub async fn list_backups(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
) -> AppResult<Json<Vec<crate::messaging::backup::BackupView>>> {
    Ok(Json(crate::messaging::backup::list(&state, &who).await?))
}

/// `GET /api/messaging/devices/{id}/backup`: one backup with its body, to restore it
/// (needs a fresh sign-in).
pub async fn get_backup(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(device_id): Path<String>,
) -> AppResult<Response> {
    let backup = crate::messaging::backup::fetch(&state, &meta, &who, &device_id).await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(backup)).into_response())
}

/// `GET /messages/devices`: the caller's messaging devices, their backups, and restoring
/// one in this browser (the page's script does the cryptography).
pub async fn devices_page(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
) -> AppResult<Response> {
    use crate::identity::Role;
    use crate::web::pages::{layout, render};
    use crate::web::templates::MessagingDevicesPage;

    if !matches!(who.role(), Role::Patient | Role::Clinician) {
        return Err(crate::error::AppError::client(
            proto::ErrorCode::Forbidden,
            "Messaging is for patients and their clinicians.",
        ));
    }
    let page = MessagingDevicesPage {
        layout: layout(&state, Some(&who)).await?,
        user_id: who.user.id.clone(),
    };
    Ok(render(&page)?.into_response())
}

/// `?from=N`: the tree size the client remembers.
#[derive(Debug, Deserialize)]
pub struct ConsistencyQuery {
    #[serde(default)]
    from: Option<String>,
}

/// Consistency proof from the tree head a client remembers to the current one.
pub async fn key_log_consistency(
    State(state): State<AppState>,
    SignedIn(_who): SignedIn,
    Query(q): Query<ConsistencyQuery>,
) -> AppResult<Json<ledger::ConsistencyProof>> {
    Ok(Json(
        devices::key_log_consistency(&state, q.from.as_deref()).await?,
    ))
}
