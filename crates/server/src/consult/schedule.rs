//! Publishing availability and booking, cancelling and moving appointments.
//!
//! Clinicians publish slots (in the practice's time zone); patients book a free slot for
//! themselves, or staff book one for a patient or a guest. Booking claims the slot
//! atomically, so two people can never book the same time. People are told by e-mail;
//! the messages carry the time and the practice's address only — no patient data.

use ledger::Outcome;
use proto::ErrorCode;
use store::accounts::UserRow;
use store::consults::{AppointmentRow, SlotRow};

use crate::admin::require;
use crate::audit::{self, Actor};
use crate::consult::time;
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::Role;
use crate::identity::session::CurrentUser;
use crate::mail::Email;
use crate::policy::{Action, Target};
use crate::state::AppState;

/// How long after an appointment's end its call can still be joined (a consult that
/// runs over, a participant who drops out late).
pub const JOIN_LATE_MS: i64 = 30 * 60_000;
/// How long before its start an appointment's call can be joined.
pub const JOIN_EARLY_MS: i64 = 60 * 60_000;

/// Slot lengths offered, in minutes.
pub const SLOT_MINUTES: &[u32] = &[10, 15, 20, 30, 45, 60];
/// How far ahead slots may be published, and booked.
const HORIZON_MS: i64 = 366 * 24 * 3_600_000;

fn invalid(message: &'static str) -> AppError {
    AppError::client(ErrorCode::InvalidInput, message)
}

fn entry(meta: &RequestMeta, who: &CurrentUser, action: &str, target: &str) -> ledger::NewEntry {
    audit::entry(
        meta,
        &Actor::User(who.user.id.clone()),
        action,
        target,
        Outcome::Success,
    )
}

/// The name of the practice's time zone (UTC before setup).
pub async fn practice_zone_name(state: &AppState) -> AppResult<String> {
    Ok(state
        .db
        .practice()
        .await?
        .map(|p| p.time_zone)
        .unwrap_or_else(|| "UTC".into()))
}

/// The practice's time zone.
pub async fn practice_zone(state: &AppState) -> AppResult<jiff::tz::TimeZone> {
    Ok(time::zone(&practice_zone_name(state).await?))
}

/// Publishes `from`–`until` on `date` (practice time) as slots of `minutes`.
pub async fn publish(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    date: &str,
    from: &str,
    until: &str,
    minutes: u32,
) -> AppResult<u64> {
    require(who, Action::ManageOwnSchedule, Target::Practice)?;
    if !SLOT_MINUTES.contains(&minutes) {
        return Err(invalid("Please choose how long each appointment is."));
    }
    let tz = practice_zone(state).await?;
    let (Some(start), Some(end)) = (
        time::local_to_ms(&tz, date, from),
        time::local_to_ms(&tz, date, until),
    ) else {
        return Err(invalid(
            "Please enter a date and times like 2026-12-01, 09:00 and 12:30.",
        ));
    };
    let now = state.clock.now_ms();
    if end <= start {
        return Err(invalid("The end time must be after the start time."));
    }
    if start < now {
        return Err(invalid(
            "That time has passed. Please choose a time in the future.",
        ));
    }
    if start > now + HORIZON_MS {
        return Err(invalid("Please publish at most a year ahead."));
    }
    let step = i64::from(minutes) * 60_000;
    let mut slots = Vec::new();
    let mut at = start;
    while at + step <= end && slots.len() < 96 {
        slots.push(SlotRow {
            id: crate::setup::new_id()?,
            clinician_id: who.user.id.clone(),
            starts_ms: at,
            ends_ms: at + step,
            appointment_id: None,
            created_ms: now,
        });
        at += step;
    }
    if slots.is_empty() {
        return Err(invalid("That time is shorter than one appointment."));
    }
    let entry = entry(
        meta,
        who,
        "schedule.published",
        &format!("user:{}", who.user.id),
    )
    .detail("slots", slots.len())
    .detail("from_ms", start);
    state
        .audited(entry, async { Ok(state.db.insert_slots(&slots).await?) })
        .await
}

pub async fn withdraw(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    slot_id: &str,
) -> AppResult<()> {
    require(who, Action::ManageOwnSchedule, Target::Practice)?;
    let entry = entry(meta, who, "schedule.withdrawn", &format!("slot:{slot_id}"));
    state
        .audited(entry, async {
            if state.db.delete_free_slot(&who.user.id, slot_id).await? {
                Ok(())
            } else {
                Err(invalid("That time is booked already, or is not yours."))
            }
        })
        .await
}

/// The appointment, if `who` may do `action` with it; otherwise "not found" (so ids of
/// other people's appointments reveal nothing).
pub async fn load(
    state: &AppState,
    who: &CurrentUser,
    id: &str,
    action: Action,
) -> AppResult<AppointmentRow> {
    let a = state
        .db
        .appointment(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let target = Target::Appointment {
        clinician_id: &a.clinician_id,
        patient_id: a.patient_id.as_deref(),
    };
    require(who, action, target).map_err(|_| AppError::not_found())?;
    Ok(a)
}

pub async fn free_slot(state: &AppState, slot_id: &str) -> AppResult<SlotRow> {
    let slot = state.db.slot(slot_id).await?;
    match slot {
        Some(s) if s.appointment_id.is_none() && s.starts_ms > state.clock.now_ms() => Ok(s),
        _ => Err(AppError::client(
            ErrorCode::Conflict,
            "That time has just been taken or has passed. Please choose another.",
        )),
    }
}

fn new_appointment(
    slot: &SlotRow,
    patient_id: Option<String>,
    booked_by: &str,
    now: i64,
) -> AppResult<AppointmentRow> {
    Ok(AppointmentRow {
        id: crate::setup::new_id()?,
        clinician_id: slot.clinician_id.clone(),
        patient_id,
        slot_id: Some(slot.id.clone()),
        starts_ms: slot.starts_ms,
        ends_ms: slot.ends_ms,
        status: "booked".into(),
        booked_by: booked_by.to_owned(),
        created_ms: now,
        cancelled_ms: None,
        reminded_ms: None,
        started_ms: None,
        ended_ms: None,
        verified_ms: None,
    })
}

/// `Ok` when the slot was claimed; the answer to give when someone else was quicker.
pub fn taken_unless(claimed: bool) -> AppResult<()> {
    if claimed {
        Ok(())
    } else {
        Err(AppError::client(
            ErrorCode::Conflict,
            "That time has just been taken. Please choose another.",
        ))
    }
}

/// Books `slot_id` for `patient` (the person booking, or someone staff book for).
pub async fn book(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    slot_id: &str,
    patient: &UserRow,
) -> AppResult<AppointmentRow> {
    if patient.id == who.user.id {
        require(who, Action::BookForSelf, Target::Practice)?;
    } else {
        require(who, Action::BookForOthers, Target::Practice)?;
    }
    if Role::parse(&patient.role) != Some(Role::Patient) || patient.disabled_ms.is_some() {
        return Err(invalid("Appointments are booked for patients."));
    }
    let slot = free_slot(state, slot_id).await?;
    let now = state.clock.now_ms();
    let appointment = new_appointment(&slot, Some(patient.id.clone()), &who.user.id, now)?;
    let entry = entry(
        meta,
        who,
        "appointment.booked",
        &format!("appointment:{}", appointment.id),
    )
    .detail("patient", format!("user:{}", patient.id))
    .detail("clinician", format!("user:{}", slot.clinician_id));
    state
        .audited(entry, async {
            taken_unless(state.db.book(&appointment, now).await?)
        })
        .await?;
    tell(state, patient, &appointment, "booked").await?;
    Ok(appointment)
}

/// Cancels a booked appointment; the slot becomes free again.
pub async fn cancel(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    id: &str,
) -> AppResult<()> {
    let a = load(state, who, id, Action::ManageAppointment).await?;
    let now = state.clock.now_ms();
    state
        .audited(
            entry(
                meta,
                who,
                "appointment.cancelled",
                &format!("appointment:{id}"),
            ),
            async {
                if state.db.cancel_appointment(id, now).await? {
                    Ok(())
                } else {
                    Err(invalid("This appointment cannot be cancelled any more."))
                }
            },
        )
        .await?;
    // Anyone still in its room is told, and the room closes.
    state.rooms.close_room(&a.id);
    if let Some(patient) = patient_of(state, &a).await? {
        tell(state, &patient, &a, "cancelled").await?;
    }
    Ok(())
}

/// Moves a booked appointment to another free slot of the same clinician.
pub async fn reschedule(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    id: &str,
    slot_id: &str,
) -> AppResult<()> {
    let a = load(state, who, id, Action::ManageAppointment).await?;
    let slot = free_slot(state, slot_id).await?;
    if slot.clinician_id != a.clinician_id {
        return Err(invalid(
            "Please choose a time with the same clinician, or book a new appointment.",
        ));
    }
    let now = state.clock.now_ms();
    let entry = entry(
        meta,
        who,
        "appointment.rescheduled",
        &format!("appointment:{id}"),
    )
    .detail("starts_ms", slot.starts_ms);
    state
        .audited(entry, async {
            taken_unless(
                state
                    .db
                    .reschedule(id, &slot, slot.ends_ms + JOIN_LATE_MS, now)
                    .await?,
            )
        })
        .await?;
    if let Some(patient) = patient_of(state, &a).await? {
        let moved = AppointmentRow {
            starts_ms: slot.starts_ms,
            ends_ms: slot.ends_ms,
            ..a
        };
        tell(state, &patient, &moved, "moved").await?;
    }
    Ok(())
}

async fn patient_of(state: &AppState, a: &AppointmentRow) -> AppResult<Option<UserRow>> {
    match &a.patient_id {
        Some(id) => Ok(state.db.user_by_id(&state.keyring, id).await?),
        None => Ok(None),
    }
}

/// E-mails the patient about their appointment: the time and where to go, nothing else.
pub async fn tell(
    state: &AppState,
    patient: &UserRow,
    a: &AppointmentRow,
    what: &str,
) -> AppResult<()> {
    let tz_name = practice_zone_name(state).await?;
    let practice = state
        .db
        .practice()
        .await?
        .map_or_else(|| "Telewarden".to_owned(), |p| p.name);
    let when = time::long(a.starts_ms, &time::zone(&tz_name));
    let (subject, line) = match what {
        "booked" => (
            "Your video appointment is booked",
            format!("Your video appointment is booked for {when} ({tz_name} time)."),
        ),
        "cancelled" => (
            "Your video appointment was cancelled",
            format!("Your video appointment on {when} ({tz_name} time) was cancelled."),
        ),
        "moved" => (
            "Your video appointment has moved",
            format!("Your video appointment is now on {when} ({tz_name} time)."),
        ),
        _ => (
            "Reminder: your video appointment",
            format!("Reminder: your video appointment is on {when} ({tz_name} time)."),
        ),
    };
    state.mailer.send_in_background(Email {
        to_address: patient.email.clone(),
        to_name: Some(patient.display_name.clone()),
        subject: format!("{practice}: {subject}"),
        body: format!(
            "Hello {name},\n\n{line}\n\nSign in at {origin}/appointments to see it and to join when it is time. \
             You need nothing else: no app to install.\n\nThe practice will never ask you for your password or \
             your codes.\n",
            name = patient.display_name,
            origin = state.origin,
        ),
    });
    Ok(())
}
