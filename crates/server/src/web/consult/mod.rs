//! Appointment pages: booking, the schedule, one appointment, notes and kept files, and
//! the guest's way in. Joining the call and its sockets are in [`call`].

mod call;

pub use call::{ice, join_page, queue_page, queue_socket, room_socket};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode, header};
use proto::ErrorCode;
use serde::Deserialize;
use store::consults::AppointmentRow;

use crate::admin::require;
use crate::consult::schedule::{JOIN_EARLY_MS, JOIN_LATE_MS};
use crate::consult::{guest, notes, schedule, time};
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::Role;
use crate::identity::session::{CurrentUser, SignedIn};
use crate::policy::{Action, Target};
use crate::state::AppState;
use crate::web::forms::Form;
use crate::web::pages::{layout, render};
use crate::web::templates::{
    AppointmentPage, AppointmentView, AppointmentsPage, GuestPage, SlotView,
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
            .user_by_id(&state.keyring, id)
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
        let clinician = state.db.user_by_id(&state.keyring, &a.clinician_id).await?;
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
        .list_users(&state.keyring)
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
        Some(email) => state.db.user_by_email(&state.keyring, &email).await?,
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
        lesson: if a.status == "booked" {
            crate::web::training::before_consult(state, who).await?
        } else {
            None
        },
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
