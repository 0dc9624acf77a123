//! The second step for password users: an authenticator-app code (TOTP), and recovery
//! codes for when the phone or passkey is lost.
//!
//! TOTP secrets are sealed with the keyring (purpose `totp`, bound to the user id) and
//! each accepted code's time step is recorded atomically, so a code works once even
//! under concurrent requests. Recovery codes are stored only as hashes.

use proto::ErrorCode;
use store::accounts::UserRow;
use store::credentials::TotpRow;
use zeroize::Zeroizing;

use crate::error::{AppError, AppResult};
use crate::identity::{qr, recovery, totp};
use crate::state::AppState;

const TOTP_PURPOSE: &str = "totp";

/// What the set-up page shows: a QR code and the same secret as text.
#[derive(Debug)]
pub struct TotpEnrolment {
    pub qr_svg: String,
    pub secret_text: Zeroizing<String>,
}

fn seal(state: &AppState, user_id: &str, secret: &totp::TotpSecret) -> AppResult<String> {
    state
        .keyring
        .seal(TOTP_PURPOSE, user_id.as_bytes(), secret.as_bytes())
        .map_err(|e| AppError::internal(e.to_string()))
}

fn unseal(state: &AppState, row: &TotpRow) -> AppResult<totp::TotpSecret> {
    let bytes = state
        .keyring
        .open(TOTP_PURPOSE, row.user_id.as_bytes(), &row.secret_sealed)
        .map_err(|e| AppError::internal(e.to_string()))?;
    Ok(totp::TotpSecret::from_bytes(bytes.to_vec()))
}

/// The user's confirmed TOTP, if any.
pub async fn confirmed_totp(state: &AppState, user_id: &str) -> AppResult<Option<TotpRow>> {
    Ok(state
        .db
        .totp_of_user(user_id)
        .await?
        .filter(|t| t.confirmed_ms.is_some()))
}

/// The enrolment in progress for `user`, starting one (a new secret) if there is none
/// or the last one was confirmed already.
pub async fn enrolment(state: &AppState, user: &UserRow, issuer: &str) -> AppResult<TotpEnrolment> {
    let secret = match state.db.totp_of_user(&user.id).await? {
        Some(row) if row.confirmed_ms.is_none() => unseal(state, &row)?,
        _ => {
            let secret =
                totp::TotpSecret::generate().map_err(|e| AppError::internal(e.to_string()))?;
            state
                .db
                .put_totp(&TotpRow {
                    user_id: user.id.clone(),
                    secret_sealed: seal(state, &user.id, &secret)?,
                    created_ms: state.clock.now_ms(),
                    confirmed_ms: None,
                    last_step: None,
                })
                .await?;
            secret
        }
    };
    let uri = Zeroizing::new(totp::provisioning_uri(&secret, issuer, &user.email));
    let qr_svg = qr::svg(
        &uri,
        "QR code to add this account to your authenticator app",
    )
    .map_err(|e| AppError::internal(e.to_string()))?;
    let text = secret.to_base32();
    let grouped: String = text
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(TotpEnrolment {
        qr_svg,
        secret_text: Zeroizing::new(grouped),
    })
}

/// Checks a code against the user's TOTP secret (confirmed or being enrolled) and, if it
/// is right and not used before, records it. Returns whether it was accepted.
pub async fn check_totp(state: &AppState, user_id: &str, code: &str) -> AppResult<bool> {
    let Some(row) = state.db.totp_of_user(user_id).await? else {
        return Ok(false);
    };
    let secret = unseal(state, &row)?;
    let now = state.clock.now_ms();
    match totp::verify(&secret, code, now.div_euclid(1000), row.last_step) {
        Ok(step) => Ok(state.db.accept_totp_step(user_id, step, now).await?),
        Err(_) => Ok(false),
    }
}

/// Checks and uses up a recovery code. Returns whether it was accepted.
pub async fn use_recovery_code(state: &AppState, user_id: &str, typed: &str) -> AppResult<bool> {
    let Some(canonical) = recovery::normalise(typed) else {
        return Ok(false);
    };
    let hash = recovery::hash(user_id, &canonical);
    Ok(state
        .db
        .use_recovery_code(user_id, &hash, state.clock.now_ms())
        .await?)
}

/// Makes a new set of recovery codes (the old ones stop working) and returns them, to
/// be shown once.
pub async fn renew_recovery_codes(
    state: &AppState,
    user_id: &str,
) -> AppResult<Vec<Zeroizing<String>>> {
    let codes = recovery::generate().map_err(|e| AppError::internal(e.to_string()))?;
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| recovery::hash(user_id, &c.canonical()))
        .collect();
    state
        .db
        .replace_recovery_codes(user_id, &hashes, state.clock.now_ms())
        .await?;
    Ok(codes
        .iter()
        .map(|c| Zeroizing::new(c.as_str().to_owned()))
        .collect())
}

/// The error for a wrong code, the same words whichever code was tried.
pub fn wrong_code() -> AppError {
    AppError::client(
        ErrorCode::SecondFactorRequired,
        "That code was not accepted. Codes change every 30 seconds and work once: wait for a new one and try again.",
    )
}
