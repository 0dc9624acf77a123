//! Guests: a patient without an account joins a first consult with a single-use link
//! (e-mailed) and a 6-digit code (given separately, e.g. read out on the phone). Both are
//! bound to one appointment and expire with it. The code is hashed together with the
//! link's token, so a copy of the database cannot be used to guess it; five wrong tries
//! end the pass. A redeemed pass becomes a guest session for that appointment only.

use ledger::Outcome;
use proto::ErrorCode;
use sha2::{Digest, Sha256};
use store::consults::{AppointmentRow, GuestPassRow};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::admin::require;
use crate::audit::{self, Actor};
use crate::consult::{schedule, time};
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::session::{self, CurrentUser};
use crate::identity::{normalise_email, signin};
use crate::mail::Email;
use crate::policy::{Action, Target};
use crate::state::AppState;

const MAX_TRIES: i64 = 5;
const NAME_PURPOSE: &str = "guest-name";

/// What the person booking is shown: the code to give the guest, and the link (which
/// was e-mailed too).
#[derive(Debug)]
pub struct GuestBooking {
    pub link: String,
    pub code: Zeroizing<String>,
}

fn code_hash(token: &str, code: &str) -> String {
    hex::encode(Sha256::digest(
        format!("tw-guest-v1\0{token}\0{code}").as_bytes(),
    ))
}

fn six_digits() -> AppResult<Zeroizing<String>> {
    let mut raw = [0u8; 8];
    getrandom::fill(&mut raw).map_err(|e| AppError::internal(format!("random: {e}")))?;
    Ok(Zeroizing::new(format!(
        "{:06}",
        u64::from_le_bytes(raw) % 1_000_000
    )))
}

/// Books `slot_id` for a guest named `name` at `email`.
pub async fn book(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    slot_id: &str,
    name: &str,
    email: &str,
) -> AppResult<GuestBooking> {
    require(who, Action::BookForOthers, Target::Practice)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 || name.chars().any(char::is_control) {
        return Err(AppError::client(
            ErrorCode::InvalidInput,
            "Please enter the guest's name (up to 120 characters).",
        ));
    }
    let email = normalise_email(email).ok_or_else(|| {
        AppError::client(
            ErrorCode::InvalidInput,
            "Please enter an e-mail address like name@example.org.",
        )
    })?;
    let slot = schedule::free_slot(state, slot_id).await?;
    let now = state.clock.now_ms();
    let appointment = AppointmentRow {
        id: crate::setup::new_id()?,
        clinician_id: slot.clinician_id.clone(),
        patient_id: None,
        slot_id: Some(slot.id.clone()),
        starts_ms: slot.starts_ms,
        ends_ms: slot.ends_ms,
        status: "booked".into(),
        booked_by: who.user.id.clone(),
        created_ms: now,
        cancelled_ms: None,
        reminded_ms: None,
        started_ms: None,
        ended_ms: None,
        verified_ms: None,
    };
    let (token, token_hash) = session::new_token()?;
    let code = six_digits()?;
    let name_sealed = state
        .keyring
        .seal(NAME_PURPOSE, appointment.id.as_bytes(), name.as_bytes())
        .map_err(|e| AppError::internal(e.to_string()))?;
    let pass = GuestPassRow {
        appointment_id: appointment.id.clone(),
        token_hash,
        code_hash: code_hash(&token, &code),
        name_sealed,
        email: email.clone(),
        created_ms: now,
        expires_ms: slot.ends_ms,
        used_ms: None,
        attempts: 0,
    };
    let entry = audit::entry(
        meta,
        &Actor::User(who.user.id.clone()),
        "appointment.booked",
        &format!("appointment:{}", appointment.id),
        Outcome::Success,
    )
    .detail("patient", "guest")
    .detail("clinician", format!("user:{}", slot.clinician_id));
    state
        .audited(entry, async {
            schedule::taken_unless(state.db.book_for_guest(&appointment, &pass, now).await?)
        })
        .await?;
    let link = format!("{}/guest/{}", state.origin, token.as_str());
    let tz = schedule::practice_zone(state).await?;
    let practice = state
        .db
        .practice()
        .await?
        .map_or_else(|| "Telewarden".to_owned(), |p| p.name);
    state.mailer.send_in_background(Email {
        to_address: email,
        to_name: Some(name.to_owned()),
        subject: format!("{practice}: your video appointment"),
        body: format!(
            "Hello {name},\n\nYou have a video appointment on {when}. When it is time, open this link in your \
             browser (no app needed):\n\n{link}\n\nYou will be asked for a 6-digit code, which the practice gives \
             you separately. The link works once, for this appointment only.\n",
            when = time::long(slot.starts_ms, &tz),
        ),
    });
    Ok(GuestBooking { link, code })
}

fn refused() -> AppError {
    AppError::client(
        ErrorCode::InvitationInvalid,
        "This link or code is not valid: it may have been used already or the appointment is over. \
         Please contact the practice.",
    )
}

/// The live pass behind a link token (for the code page).
pub async fn pass(state: &AppState, token: &str) -> AppResult<GuestPassRow> {
    if token.len() != 43 {
        return Err(refused());
    }
    state
        .db
        .guest_pass_by_token_hash(&session::token_hash(token))
        .await?
        .filter(|p| {
            p.used_ms.is_none() && p.expires_ms > state.clock.now_ms() && p.attempts < MAX_TRIES
        })
        .ok_or_else(refused)
}

/// Redeems link and code: a guest session token for the appointment.
pub async fn redeem(
    state: &AppState,
    meta: &RequestMeta,
    token: &str,
    code: &str,
) -> AppResult<(String, Zeroizing<String>)> {
    let attempt = signin::Attempt::begin(state, meta, None)?;
    let pass = pass(state, token).await?;
    let now = state.clock.now_ms();
    let target = format!("appointment:{}", pass.appointment_id);
    if !state
        .db
        .guest_pass_attempt(&pass.appointment_id, MAX_TRIES, now)
        .await?
    {
        return Err(refused());
    }
    let typed: String = code.chars().filter(char::is_ascii_digit).collect();
    let ok: bool = code_hash(token, &typed)
        .as_bytes()
        .ct_eq(pass.code_hash.as_bytes())
        .into();
    if !ok || !state.db.use_guest_pass(&pass.appointment_id, now).await? {
        state
            .audit(audit::entry(
                meta,
                &Actor::Anonymous,
                "consult.guest_pass",
                &target,
                Outcome::Failure,
            ))
            .await?;
        return Err(AppError::client(
            ErrorCode::SecondFactorRequired,
            "That code is not right. Check the 6 digits the practice gave you and try again.",
        ));
    }
    let (session_token, hash) = session::new_token()?;
    let entry = audit::entry(
        meta,
        &Actor::Anonymous,
        "consult.guest_pass",
        &target,
        Outcome::Success,
    );
    state
        .audited(entry, async {
            Ok(state
                .db
                .insert_guest_session(
                    &hash,
                    &pass.appointment_id,
                    now,
                    pass.expires_ms + schedule::JOIN_LATE_MS,
                )
                .await?)
        })
        .await?;
    attempt.succeeded(state);
    Ok((pass.appointment_id, session_token))
}

/// The guest's name, for the clinician's queue.
pub async fn name(state: &AppState, appointment_id: &str) -> AppResult<String> {
    let Some(sealed) = state.db.guest_name_sealed(appointment_id).await? else {
        return Ok("Guest".into());
    };
    let bytes = state
        .keyring
        .open(NAME_PURPOSE, appointment_id.as_bytes(), &sealed)
        .map_err(|e| AppError::internal(e.to_string()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_bound_to_their_link() {
        let c = six_digits().unwrap();
        assert_eq!(c.len(), 6);
        assert!(c.chars().all(|d| d.is_ascii_digit()));
        assert_ne!(
            code_hash("token-a", "123456"),
            code_hash("token-b", "123456")
        );
        assert_eq!(
            code_hash("token-a", "123456"),
            code_hash("token-a", "123456")
        );
    }
}
