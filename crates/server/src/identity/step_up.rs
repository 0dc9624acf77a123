//! Step-up: proving it is you again before a sensitive action (exporting records,
//! break-glass, changing sign-in methods, administrator changes).
//!
//! A passkey, or a password with an authenticator code, counts. Success records a fresh
//! authentication time on the session and gives it a new id (a privilege change), so a
//! session id seen before the step-up is worth nothing after it.

use http::HeaderMap;
use ledger::Outcome;
use proto::ErrorCode;
use webauthn_rs::prelude::PublicKeyCredential;
use zeroize::Zeroizing;

use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::session::{self, CurrentUser, Method};
use crate::identity::{password, second_factor, signin};
use crate::state::AppState;

/// The new session token for the cookie.
pub type Rotated = Zeroizing<String>;

async fn complete(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    method: Method,
) -> AppResult<Rotated> {
    let (token, hash) = session::new_token()?;
    let now = state.clock.now_ms();
    let entry = audit::entry(
        meta,
        &Actor::User(who.user.id.clone()),
        "stepup",
        &format!("user:{}", who.user.id),
        Outcome::Success,
    )
    .detail("method", method.as_str());
    state
        .audited(entry, async {
            state
                .db
                .reauthenticate_session(&who.session.id_hash, now, method.as_str())
                .await?;
            if !state.db.rotate_session(&who.session.id_hash, &hash).await? {
                return Err(AppError::client(
                    ErrorCode::SignInRequired,
                    "Your session has ended. Please sign in again.",
                ));
            }
            Ok(())
        })
        .await?;
    Ok(token)
}

async fn refuse(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    err: AppError,
) -> AppResult<Rotated> {
    let reason = err.code.as_str();
    refuse_because(state, meta, who, err, reason).await
}

async fn refuse_because(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    err: AppError,
    reason: &str,
) -> AppResult<Rotated> {
    let entry = audit::entry(
        meta,
        &Actor::User(who.user.id.clone()),
        "stepup",
        &format!("user:{}", who.user.id),
        Outcome::Failure,
    )
    .detail("reason", reason);
    state.audit(entry).await?;
    Err(err)
}

pub async fn with_password(
    state: &AppState,
    meta: &RequestMeta,
    _headers: &HeaderMap,
    who: &CurrentUser,
    password: Zeroizing<String>,
    code: &str,
) -> AppResult<Rotated> {
    let attempt = signin::Attempt::begin(state, meta, Some(&who.user.email))?;
    if password.len() > password::MAX_BYTES || code.len() > 64 {
        let err = AppError::client(
            ErrorCode::StepUpRequired,
            "That password and code did not match. Please try again.",
        );
        return refuse_because(state, meta, who, err, "too_long").await;
    }
    let allowed = signin::password_allowed(state, &who.user).await?;
    let has_totp = second_factor::confirmed_totp(state, &who.user.id)
        .await?
        .is_some();
    let password_ok = state
        .passwords
        .verify(password, who.user.password_hash.clone())
        .await?;
    if !(allowed
        && password_ok
        && has_totp
        && second_factor::check_totp(state, &who.user.id, code).await?)
    {
        let err = AppError::client(
            ErrorCode::StepUpRequired,
            "That password and code did not match. Please try again.",
        );
        return refuse(state, meta, who, err).await;
    }
    let rotated = complete(state, meta, who, Method::PasswordTotp).await?;
    attempt.succeeded(state);
    Ok(rotated)
}

pub async fn with_passkey(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    ceremony_id: &str,
    credential: &PublicKeyCredential,
) -> AppResult<Rotated> {
    if let Err(e) = state
        .passkeys
        .finish_step_up(state, &who.user, ceremony_id, credential)
        .await
    {
        return refuse(state, meta, who, e).await;
    }
    complete(state, meta, who, Method::Passkey).await
}
