//! Appointment pages, the waiting room, the call page, and their sockets and APIs.

use axum::Json;
use axum::body::Bytes;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode, header};
use ledger::Outcome;
use proto::ErrorCode;
use serde::Deserialize;
use store::consults::{AppointmentEvent, AppointmentRow};

use crate::admin::require;
use crate::audit::{self, Actor};
use crate::consult::room::{self, Effect, In, Out, Side};
use crate::consult::schedule::{JOIN_EARLY_MS, JOIN_LATE_MS};
use crate::consult::{guest, notes, schedule, time, turn};
use crate::error::{AppError, AppResult};
use crate::http::csrf::is_same_origin;
use crate::http::meta::RequestMeta;
use crate::identity::Role;
use crate::identity::session::{CurrentUser, MaybeUser, SignedIn, token_hash};
use crate::policy::{Action, Target};
use crate::state::AppState;
use crate::web::forms::Form;
use crate::web::pages::{layout, render};
use crate::web::templates::{
    AppointmentPage, AppointmentView, AppointmentsPage, CallPage, GuestPage, QueuePage, SlotView,
};

/// Whether the call can be joined at `now`: from [`JOIN_EARLY_MS`] before the start to
/// [`JOIN_LATE_MS`] after the end.
fn can_join_at(a: &AppointmentRow, now: i64) -> bool {
    a.status == "booked" && now >= a.starts_ms - JOIN_EARLY_MS && now <= a.ends_ms + JOIN_LATE_MS
}

async fn person_name(state: &AppState, a: &AppointmentRow) -> AppResult<String> {
    match &a.patient_id {
        Some(id) => Ok(state
            .db
            .user_by_id(id)
            .await?
            .map_or_else(|| "A patient".into(), |u| u.display_name)),
        None => guest::name(state, &a.id).await,
    }
}

async fn view(
    state: &AppState,
    who: &CurrentUser,
    a: &AppointmentRow,
    tz: &jiff::tz::TimeZone,
) -> AppResult<AppointmentView> {
    let now = state.clock.now_ms();
    let with = if who.role() == Role::Patient {
        let clinician = state.db.user_by_id(&a.clinician_id).await?;
        clinician.map_or_else(|| "your clinician".into(), |c| c.display_name)
    } else {
        person_name(state, a).await?
    };
    Ok(AppointmentView {
        id: a.id.clone(),
        when: time::long(a.starts_ms, tz),
        iso: time::iso(a.starts_ms),
        with,
        status: match a.status.as_str() {
            "booked" => "Booked",
            "cancelled" => "Cancelled",
            "completed" => "Done",
            _ => "Unknown",
        },
        can_join: can_join_at(a, now) && who.role() != Role::PracticeAdmin,
    })
}

fn slot_views(
    slots: Vec<store::consults::SlotRow>,
    names: &std::collections::HashMap<String, String>,
    tz: &jiff::tz::TimeZone,
) -> Vec<SlotView> {
    slots
        .into_iter()
        .map(|s| SlotView {
            label: format!(
                "{}, {}",
                time::day(s.starts_ms, tz),
                time::clock(s.starts_ms, tz)
            ),
            iso: time::iso(s.starts_ms),
            clinician: names.get(&s.clinician_id).cloned().unwrap_or_default(),
            id: s.id,
        })
        .collect()
}

async fn clinician_names(state: &AppState) -> AppResult<std::collections::HashMap<String, String>> {
    Ok(state
        .db
        .list_users()
        .await?
        .into_iter()
        .filter(|u| u.role == Role::Clinician.as_str())
        .map(|u| (u.id, u.display_name))
        .collect())
}

#[derive(Deserialize, Default)]
pub struct Flash {
    #[serde(default)]
    done: Option<String>,
}

fn flash_for(done: &str) -> Option<String> {
    Some(
        match done {
            "published" => "Your times are published.",
            "withdrawn" => "That time is withdrawn.",
            "booked" => "The appointment is booked. A confirmation was e-mailed.",
            "cancelled" => "The appointment is cancelled.",
            "moved" => "The appointment has moved.",
            "notes" => "The notes are saved.",
            _ => return None,
        }
        .to_owned(),
    )
}

async fn appointments_page(
    state: &AppState,
    who: &CurrentUser,
    flash: Option<String>,
    error: Option<String>,
    guest_booking: Option<(String, String)>,
) -> AppResult<AppointmentsPage> {
    let tz_name = schedule::practice_zone_name(state).await?;
    let tz = time::zone(&tz_name);
    let now = state.clock.now_ms();
    let role = who.role();
    let (clinician, patient) = match role {
        Role::Clinician => (who.user.id.as_str(), ""),
        Role::Patient => ("", who.user.id.as_str()),
        _ => ("", ""),
    };
    let mut upcoming = Vec::new();
    for a in state
        .db
        .appointments(clinician, patient, now - JOIN_LATE_MS, 100)
        .await?
    {
        if a.status != "cancelled" {
            upcoming.push(view(state, who, &a, &tz).await?);
        }
    }
    let names = clinician_names(state).await?;
    let own_slots = if role == Role::Clinician {
        slot_views(
            state
                .db
                .free_slots(Some(&who.user.id), now, now + 60 * 24 * 3_600_000)
                .await?,
            &names,
            &tz,
        )
    } else {
        Vec::new()
    };
    let bookable = if matches!(role, Role::Patient | Role::Clinician | Role::PracticeAdmin) {
        slot_views(
            state
                .db
                .free_slots(None, now, now + 60 * 24 * 3_600_000)
                .await?,
            &names,
            &tz,
        )
    } else {
        Vec::new()
    };
    let (guest_link, guest_code) = guest_booking.map_or((None, None), |(l, c)| (Some(l), Some(c)));
    Ok(AppointmentsPage {
        layout: layout(state, Some(who)).await?,
        flash,
        error,
        time_zone: tz_name,
        is_patient: role == Role::Patient,
        is_clinician: role == Role::Clinician,
        books_for_others: matches!(role, Role::Clinician | Role::PracticeAdmin),
        upcoming,
        own_slots,
        bookable,
        slot_minutes: schedule::SLOT_MINUTES,
        guest_link,
        guest_code,
    })
}

pub async fn appointments(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
    Query(q): Query<Flash>,
) -> AppResult<Response> {
    if who.role() == Role::SecurityOfficer {
        return Err(AppError::client(
            ErrorCode::Forbidden,
            "Security officers do not see appointments.",
        ));
    }
    let page = appointments_page(
        &state,
        &who,
        q.done.as_deref().and_then(flash_for),
        None,
        None,
    )
    .await?;
    Ok(render(&page)?.into_response())
}

/// Errors a person can fix are shown on the appointments page itself.
async fn on_page(
    state: &AppState,
    who: &CurrentUser,
    result: AppResult<&'static str>,
) -> AppResult<Response> {
    match result {
        Ok(done) => Ok(Redirect::to(&format!("/appointments?done={done}")).into_response()),
        Err(e)
            if matches!(
                e.code,
                ErrorCode::InvalidInput | ErrorCode::Conflict | ErrorCode::Forbidden
            ) =>
        {
            let page = appointments_page(state, who, None, Some(e.message.clone()), None).await?;
            Ok((e.status, render(&page)?).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct PublishForm {
    #[serde(default)]
    date: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    minutes: u32,
}

pub async fn publish(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Form(f): Form<PublishForm>,
) -> AppResult<Response> {
    let r = schedule::publish(&state, &meta, &who, &f.date, &f.from, &f.until, f.minutes)
        .await
        .map(|_| "published");
    on_page(&state, &who, r).await
}

pub async fn withdraw(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(slot): Path<String>,
) -> AppResult<Response> {
    let r = schedule::withdraw(&state, &meta, &who, &slot)
        .await
        .map(|()| "withdrawn");
    on_page(&state, &who, r).await
}

#[derive(Deserialize)]
pub struct BookForm {
    #[serde(default)]
    slot: String,
    /// Staff booking for a patient with an account.
    #[serde(default)]
    patient_email: String,
    /// Staff booking for a guest.
    #[serde(default)]
    guest_name: String,
    #[serde(default)]
    guest_email: String,
}

pub async fn book(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Form(f): Form<BookForm>,
) -> AppResult<Response> {
    if who.role() == Role::Patient {
        let r = schedule::book(&state, &meta, &who, &f.slot, &who.user)
            .await
            .map(|_| "booked");
        return on_page(&state, &who, r).await;
    }
    if !f.guest_name.trim().is_empty() {
        return match guest::book(&state, &meta, &who, &f.slot, &f.guest_name, &f.guest_email).await
        {
            Ok(b) => {
                let flash = Some(
                    "The guest's appointment is booked; the link was e-mailed to them.".to_owned(),
                );
                let page = appointments_page(
                    &state,
                    &who,
                    flash,
                    None,
                    Some((b.link, b.code.as_str().to_owned())),
                )
                .await?;
                Ok(render(&page)?.into_response())
            }
            Err(e) => on_page(&state, &who, Err(e)).await,
        };
    }
    let patient = match crate::identity::normalise_email(&f.patient_email) {
        Some(email) => state.db.user_by_email(&email).await?,
        None => None,
    };
    let r = match patient {
        Some(p) => schedule::book(&state, &meta, &who, &f.slot, &p)
            .await
            .map(|_| "booked"),
        None => Err(AppError::client(
            ErrorCode::InvalidInput,
            "No patient has that e-mail address. Invite them first, or book them as a guest.",
        )),
    };
    on_page(&state, &who, r).await
}

async fn appointment_page(
    state: &AppState,
    who: &CurrentUser,
    id: &str,
    flash: Option<String>,
) -> AppResult<AppointmentPage> {
    let a = schedule::load(state, who, id, Action::ManageAppointment).await?;
    let tz = schedule::practice_zone(state).await?;
    let names = clinician_names(state).await?;
    let now = state.clock.now_ms();
    let moves = if a.status == "booked" {
        let slots = state
            .db
            .free_slots(Some(&a.clinician_id), now, now + 60 * 24 * 3_600_000)
            .await?;
        slot_views(slots, &names, &tz)
    } else {
        Vec::new()
    };
    let writes_notes = require(
        who,
        Action::WriteConsultNotes,
        Target::Appointment {
            clinician_id: &a.clinician_id,
            patient_id: a.patient_id.as_deref(),
        },
    )
    .is_ok();
    let (note, files) = if writes_notes {
        (
            notes::read(state, who, id)
                .await?
                .map(|(t, _)| t)
                .unwrap_or_default(),
            notes::files(state, who, id).await?,
        )
    } else {
        (String::new(), Vec::new())
    };
    Ok(AppointmentPage {
        layout: layout(state, Some(who)).await?,
        flash,
        appointment: view(state, who, &a, &tz).await?,
        time_zone: schedule::practice_zone_name(state).await?,
        booked: a.status == "booked",
        verified: a.verified_ms.is_some(),
        moves,
        writes_notes,
        note,
        files: files
            .into_iter()
            .map(|(n, size)| format!("{n} ({} KB)", (size + 1023) / 1024))
            .collect(),
    })
}

pub async fn appointment(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<Flash>,
) -> AppResult<Response> {
    let page = appointment_page(&state, &who, &id, q.done.as_deref().and_then(flash_for)).await?;
    Ok(render(&page)?.into_response())
}

pub async fn cancel(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let r = schedule::cancel(&state, &meta, &who, &id)
        .await
        .map(|()| "cancelled");
    on_page(&state, &who, r).await
}

#[derive(Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    slot: String,
}

pub async fn reschedule(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<MoveForm>,
) -> AppResult<Response> {
    let r = schedule::reschedule(&state, &meta, &who, &id, &f.slot)
        .await
        .map(|()| "moved");
    on_page(&state, &who, r).await
}

#[derive(Deserialize)]
pub struct NotesForm {
    #[serde(default)]
    notes: String,
}

pub async fn save_notes(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<NotesForm>,
) -> AppResult<Response> {
    notes::save(&state, &meta, &who, &id, &f.notes).await?;
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    if wants_json {
        return Ok(Json(serde_json::json!({"saved": true})).into_response());
    }
    Ok(Redirect::to(&format!("/appointments/{id}?done=notes")).into_response())
}

#[derive(Deserialize)]
pub struct FileQuery {
    #[serde(default)]
    name: String,
}

/// Keeps a file shared in the call (the raw bytes are the body).
pub async fn keep_file(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<FileQuery>,
    body: Bytes,
) -> AppResult<Response> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream");
    notes::keep_file(&state, &meta, &who, &id, &q.name, media, &body).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({"kept": true}))).into_response())
}

/// Who is joining a consult: a signed-in participant, or a guest with a pass.
enum Joiner {
    User(Box<CurrentUser>),
    Guest,
}

/// Checks that the request may join `id`'s consult, and as which side.
async fn joiner(
    state: &AppState,
    headers: &HeaderMap,
    user: Option<CurrentUser>,
    id: &str,
) -> AppResult<(AppointmentRow, Side, Joiner)> {
    let refused = || AppError::not_found();
    let now = state.clock.now_ms();
    let a = match user.filter(|u| !u.session.mfa_pending) {
        Some(who) => {
            let a = schedule::load(state, &who, id, Action::JoinConsult).await?;
            let side = if who.role() == Role::Clinician {
                Side::Clinician
            } else {
                Side::Patient
            };
            return if can_join_at(&a, now) {
                Ok((a, side, Joiner::User(Box::new(who))))
            } else {
                Err(too_early_or_late())
            };
        }
        None => {
            let token = state
                .cookies
                .read(headers, "tw_guest")
                .ok_or_else(refused)?;
            let allowed = state
                .db
                .guest_session(&token_hash(&token), now)
                .await?
                .ok_or_else(refused)?;
            if allowed != id {
                return Err(refused());
            }
            state.db.appointment(id).await?.ok_or_else(refused)?
        }
    };
    if !can_join_at(&a, now) {
        return Err(too_early_or_late());
    }
    Ok((a, Side::Patient, Joiner::Guest))
}

fn too_early_or_late() -> AppError {
    AppError::client(
        ErrorCode::Forbidden,
        "This consult is not open now: you can join from an hour before it starts until half an hour after it ends.",
    )
}

pub async fn join_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    if user.is_none() && state.cookies.read(&headers, "tw_guest").is_none() {
        return Ok(Redirect::to("/sign-in").into_response());
    }
    let (a, side, joiner) = joiner(&state, &headers, user, &id).await?;
    let tz = schedule::practice_zone(&state).await?;
    let other = match side {
        Side::Clinician => person_name(&state, &a).await?,
        Side::Patient => state
            .db
            .user_by_id(&a.clinician_id)
            .await?
            .map_or_else(|| "your clinician".into(), |u| u.display_name),
    };
    let current = match &joiner {
        Joiner::User(u) => Some(&**u),
        Joiner::Guest => None,
    };
    let (note, writes_notes) = match (side, current) {
        (Side::Clinician, Some(who)) => (
            notes::read(&state, who, &id)
                .await?
                .map(|(t, _)| t)
                .unwrap_or_default(),
            true,
        ),
        _ => (String::new(), false),
    };
    let page = CallPage {
        layout: layout(&state, current).await?,
        appointment: id,
        clinician: side == Side::Clinician,
        other,
        when: time::long(a.starts_ms, &tz),
        writes_notes,
        note,
    };
    Ok(render(&page)?.into_response())
}

pub async fn ice(
    State(state): State<AppState>,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
) -> AppResult<Json<turn::IceConfig>> {
    let (_, side, _) = joiner(&state, &headers, user, &id).await?;
    // An opaque id: the appointment and side, hashed — nothing personal reaches coturn's logs.
    let who = &token_hash(&format!("{id}/{side:?}"))[..16];
    Ok(Json(turn::config(
        &state.config.turn,
        who,
        state.clock.now_ms(),
    )))
}

fn refuse_cross_site(state: &AppState, headers: &HeaderMap) -> AppResult<()> {
    // Browsers send cookies with cross-site WebSocket handshakes; only our pages may open one.
    if is_same_origin(headers, &state.origin) {
        Ok(())
    } else {
        Err(AppError::client(
            ErrorCode::CrossOriginRequest,
            "Only Telewarden's own pages may open this connection.",
        ))
    }
}

/// The consult socket: waiting room, then signalling.
pub async fn room_socket(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    ws: WebSocketUpgrade,
) -> AppResult<Response> {
    refuse_cross_site(&state, &headers)?;
    let (a, side, joiner) = joiner(&state, &headers, user, &id).await?;
    let actor = match &joiner {
        Joiner::User(u) => Actor::User(u.user.id.clone()),
        Joiner::Guest => Actor::Anonymous,
    };
    // The waiting room lists the patient (or guest), whoever opens the room first.
    let label = person_name(&state, &a).await?;
    let side_name = if side == Side::Clinician {
        "clinician"
    } else {
        "patient"
    };
    let target = format!("appointment:{id}");
    let joined = audit::entry(&meta, &actor, "consult.joined", &target, Outcome::Success)
        .detail("side", side_name);
    state.audit(joined).await?;
    Ok(room::configure(ws).on_upgrade(move |socket| async move {
        let conn = state.rooms.connection_id();
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        state.rooms.join(
            &id,
            &a.clinician_id,
            &label,
            a.starts_ms,
            side,
            conn,
            tx,
            state.clock.now_ms(),
        );
        let (effects_tx, mut effects_rx) = tokio::sync::mpsc::unbounded_channel::<Effect>();
        let rooms_state = state.clone();
        let room_id = id.clone();
        let effects = tokio::spawn({
            let state = state.clone();
            let meta = meta.clone();
            let actor = actor.clone();
            let id = id.clone();
            async move {
                while let Some(effect) = effects_rx.recv().await {
                    record(&state, &meta, &actor, &id, effect).await;
                }
            }
        });
        room::pump(
            socket,
            rx,
            state.rooms.closing(),
            move |message| match message {
                Ok(
                    In::Admit {
                        appointment: Some(other),
                    }
                    | In::Message {
                        appointment: Some(other),
                        ..
                    }
                    | In::Remove {
                        appointment: Some(other),
                    },
                ) if other != room_id => Some(Out::Error {
                    code: "other-room",
                    message: "This connection is for one consult only.",
                }),
                Ok(m) => match rooms_state.rooms.handle(&room_id, side, conn, m) {
                    Ok(Effect::None) => None,
                    Ok(effect) => {
                        let _ = effects_tx.send(effect);
                        None
                    }
                    Err((code, message)) => Some(Out::Error { code, message }),
                },
                Err(code) => Some(Out::Error {
                    code,
                    message: "That message was refused.",
                }),
            },
        )
        .await;
        state.rooms.leave(&id, side, conn);
        let _ = effects.await;
        let left = audit::entry(&meta, &actor, "consult.left", &target, Outcome::Success)
            .detail("side", side_name);
        if let Err(e) = state.audit(left).await {
            tracing::warn!(error = %e, "could not record leaving a consult");
        }
    }))
}

/// Writes what happened in a room to the database and the ledger (never content).
async fn record(state: &AppState, meta: &RequestMeta, actor: &Actor, id: &str, effect: Effect) {
    let now = state.clock.now_ms();
    let (action, event) = match effect {
        Effect::Admitted => ("consult.admitted", Some(AppointmentEvent::Started)),
        Effect::Removed => ("consult.removed", None),
        Effect::Verified => ("consult.verified", Some(AppointmentEvent::Verified)),
        Effect::Ended => ("consult.ended", Some(AppointmentEvent::Ended)),
        Effect::None => return,
    };
    let mut entry = audit::entry(
        meta,
        actor,
        action,
        &format!("appointment:{id}"),
        Outcome::Success,
    );
    if effect == Effect::Ended
        && let Ok(Some(a)) = state.db.appointment(id).await
        && let Some(started) = a.started_ms
    {
        entry = entry.detail("duration_secs", (now - started) / 1000);
    }
    let result = async {
        state.audit(entry).await?;
        if let Some(event) = event {
            state.db.mark_appointment(id, event, now).await?;
        }
        Ok::<(), AppError>(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not record a consult event");
    }
}

/// The clinician's live waiting-room queue.
pub async fn queue_page(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
) -> AppResult<Response> {
    require(&who, Action::ManageOwnSchedule, Target::Practice)?;
    let page = QueuePage {
        layout: layout(&state, Some(&who)).await?,
    };
    Ok(render(&page)?.into_response())
}

pub async fn queue_socket(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedIn(who): SignedIn,
    ws: WebSocketUpgrade,
) -> AppResult<Response> {
    refuse_cross_site(&state, &headers)?;
    require(&who, Action::ManageOwnSchedule, Target::Practice)?;
    Ok(room::configure(ws).on_upgrade(move |socket| async move {
        let conn = state.rooms.connection_id();
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        state.rooms.watch_queue(&who.user.id, conn, tx);
        let (effects_tx, mut effects_rx) =
            tokio::sync::mpsc::unbounded_channel::<(String, Effect)>();
        let effects = tokio::spawn({
            let state = state.clone();
            let actor = Actor::User(who.user.id.clone());
            async move {
                while let Some((id, effect)) = effects_rx.recv().await {
                    record(&state, &meta, &actor, &id, effect).await;
                }
            }
        });
        let rooms_state = state.clone();
        let me = who.user.id.clone();
        room::pump(socket, rx, state.rooms.closing(), move |message| {
            let target = match &message {
                Ok(
                    In::Admit { appointment }
                    | In::Message { appointment, .. }
                    | In::Remove { appointment },
                ) => appointment.clone(),
                Ok(In::Ping) => return None,
                _ => None,
            };
            let Some(id) = target else {
                return Some(Out::Error {
                    code: "malformed",
                    message: "That message was refused.",
                });
            };
            // Only the clinician's own rooms.
            if rooms_state.rooms.clinician_of(&id).as_deref() != Some(me.as_str()) {
                return Some(Out::Error {
                    code: "not-yours",
                    message: "That patient is not waiting for you.",
                });
            }
            let Ok(m) = message else { return None };
            match rooms_state.rooms.handle(&id, Side::Clinician, u64::MAX, m) {
                Ok(Effect::None) => None,
                Ok(effect) => {
                    let _ = effects_tx.send((id, effect));
                    None
                }
                Err((code, message)) => Some(Out::Error { code, message }),
            }
        })
        .await;
        state.rooms.unwatch_queue(&who.user.id, conn);
        drop(effects);
    }))
}

pub async fn guest_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> AppResult<Response> {
    guest::pass(&state, &token).await?;
    let page = GuestPage {
        layout: layout(&state, None).await?,
        error: None,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize)]
pub struct GuestForm {
    #[serde(default)]
    code: String,
}

pub async fn guest_redeem(
    State(state): State<AppState>,
    meta: RequestMeta,
    Path(token): Path<String>,
    Form(f): Form<GuestForm>,
) -> AppResult<Response> {
    match guest::redeem(&state, &meta, &token, &f.code).await {
        Ok((appointment, session)) => {
            let mut res =
                Redirect::to(&format!("/appointments/{appointment}/join")).into_response();
            res.headers_mut().append(
                header::SET_COOKIE,
                state.cookies.set("tw_guest", &session, None)?,
            );
            Ok(res)
        }
        Err(e)
            if matches!(
                e.code,
                ErrorCode::SecondFactorRequired | ErrorCode::TooManyAttempts
            ) =>
        {
            let page = GuestPage {
                layout: layout(&state, None).await?,
                error: Some(e.message.clone()),
            };
            Ok((e.status, render(&page)?).into_response())
        }
        Err(e) => Err(e),
    }
}
