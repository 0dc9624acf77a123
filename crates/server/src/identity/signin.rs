//! Signing in: with a passkey (one step, phishing-resistant), with a password and a
//! code from an authenticator app, or with a recovery code when the passkey is lost.
//!
//! A password alone never makes a full session: with no second factor set up yet, the
//! session may only enrol one (forced at first sign-in). Unknown and known accounts get
//! the same answer and take the same time (a decoy hash is verified when there is no
//! account); progressive delays slow guessing per account and per source. Every attempt
//! is written to the ledger before any session exists; the typed e-mail address of an
//! unknown account is not recorded (people type passwords into the wrong field).

use http::HeaderMap;
use ledger::Outcome;
use proto::ErrorCode;
use store::accounts::UserRow;
use store::ceremonies::PendingSignInRow;
use webauthn_rs::prelude::PublicKeyCredential;
use zeroize::Zeroizing;

use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::notify::{self, Event};
use crate::identity::session::{self, CurrentUser, Method, Started};
use crate::identity::{Role, normalise_email, second_factor};
use crate::state::AppState;

/// The one message for every failed attempt, so it reveals nothing about the account.
pub const FAILED: &str =
    "That e-mail address and password do not match an account. Check both and try again.";
/// How long the second step may take after the password.
const PENDING_MS: i64 = 10 * 60 * 1000;
/// Wrong codes allowed in one pending sign-in before the password is asked again.
const PENDING_FAILURES: i64 = 5;

/// Where a correct password leads.
#[derive(Debug)]
pub enum PasswordStep {
    /// Ask for the authenticator code; the token goes in the `tw_pending` cookie.
    Code(Zeroizing<String>),
    /// No second factor yet: a limited session that may only set one up.
    EnrolSecondFactor(Started),
}

fn throttled(wait_ms: i64) -> AppError {
    let secs = (wait_ms + 999) / 1000;
    AppError::client(
        ErrorCode::TooManyAttempts,
        format!(
            "Too many attempts. Please wait {secs} seconds, then try again. Your account is not locked."
        ),
    )
}

fn account_key(email: &str) -> String {
    format!("account:{}", email.trim().to_lowercase())
}

fn source_key(meta: &RequestMeta) -> String {
    format!("source:{}", meta.client_ip)
}

/// Refuses while the account or the source must wait.
pub fn check_throttle(
    state: &AppState,
    meta: &RequestMeta,
    account: Option<&str>,
) -> AppResult<()> {
    let now = state.clock.now_ms();
    let by_account = account.map_or(0, |a| {
        state.throttles.accounts.wait_ms(&account_key(a), now)
    });
    let wait = by_account.max(state.throttles.sources.wait_ms(&source_key(meta), now));
    if wait > 0 {
        Err(throttled(wait))
    } else {
        Ok(())
    }
}

fn count_failure(state: &AppState, meta: &RequestMeta, account: Option<&str>) {
    let now = state.clock.now_ms();
    if let Some(a) = account {
        state.throttles.accounts.failed(&account_key(a), now);
    }
    state.throttles.sources.failed(&source_key(meta), now);
}

/// Whether `user` may sign in with a password at all: administrators and security
/// officers must use passkeys; patients only where the practice allows passwords.
pub async fn password_allowed(state: &AppState, user: &UserRow) -> AppResult<bool> {
    Ok(match Role::parse(&user.role) {
        Some(Role::Clinician) => true,
        Some(Role::Patient) => state
            .db
            .practice()
            .await?
            .is_some_and(|p| p.patient_auth == "passkey_or_password_totp"),
        _ => false,
    })
}

pub async fn with_password(
    state: &AppState,
    meta: &RequestMeta,
    headers: &HeaderMap,
    email: &str,
    password: Zeroizing<String>,
) -> AppResult<PasswordStep> {
    check_throttle(state, meta, Some(email))?;
    if password.len() > super::password::MAX_BYTES {
        return Err(AppError::client(ErrorCode::SignInFailed, FAILED));
    }
    let user = match normalise_email(email) {
        Some(e) => state.db.user_by_email(&e).await?,
        None => None,
    };
    let usable = match user.as_ref().filter(|u| u.disabled_ms.is_none()) {
        Some(u) if password_allowed(state, u).await? => Some(u),
        _ => None,
    };
    let matched = state
        .passwords
        .verify(password, usable.and_then(|u| u.password_hash.clone()))
        .await?;
    let Some(user) = usable.filter(|_| matched) else {
        count_failure(state, meta, Some(email));
        let target = user.as_ref().map_or_else(
            || "account:unknown".to_owned(),
            |u| format!("user:{}", u.id),
        );
        let reason = if user.is_some() {
            "wrong_password_or_not_allowed"
        } else {
            "no_such_account"
        };
        let entry = audit::entry(
            meta,
            &Actor::Anonymous,
            "signin.password",
            &target,
            Outcome::Failure,
        )
        .detail("reason", reason);
        state.audit(entry).await?;
        return Err(AppError::client(ErrorCode::SignInFailed, FAILED));
    };
    state.throttles.accounts.succeeded(&account_key(email));
    let actor = Actor::User(user.id.clone());
    let target = format!("user:{}", user.id);
    if second_factor::confirmed_totp(state, &user.id)
        .await?
        .is_some()
    {
        let (token, hash) = session::new_token()?;
        let now = state.clock.now_ms();
        let entry = audit::entry(meta, &actor, "signin.password", &target, Outcome::Success)
            .detail("next", "code");
        state
            .audited(entry, async {
                state
                    .db
                    .insert_pending_signin(&PendingSignInRow {
                        id_hash: hash,
                        user_id: user.id.clone(),
                        created_ms: now,
                        expires_ms: now + PENDING_MS,
                        failures: 0,
                    })
                    .await?;
                Ok(())
            })
            .await?;
        return Ok(PasswordStep::Code(token));
    }
    let entry = audit::entry(meta, &actor, "signin.password", &target, Outcome::Success)
        .detail("next", "enrol_second_factor");
    let started = state
        .audited(
            entry,
            session::start(state, meta, headers, user, Method::Password, true),
        )
        .await?;
    Ok(PasswordStep::EnrolSecondFactor(started))
}

/// The second step after a password: an authenticator code, or a recovery code.
pub async fn with_code(
    state: &AppState,
    meta: &RequestMeta,
    headers: &HeaderMap,
    pending_token: &str,
    code: &str,
    is_recovery_code: bool,
) -> AppResult<Started> {
    let expired = || {
        AppError::client(
            ErrorCode::SignInRequired,
            "Your sign-in took too long or was interrupted. Please start again with your password.",
        )
    };
    let hash = session::token_hash(pending_token);
    let pending = state
        .db
        .pending_signin(&hash, state.clock.now_ms())
        .await?
        .ok_or_else(expired)?;
    let user = state
        .db
        .user_by_id(&pending.user_id)
        .await?
        .filter(|u| u.disabled_ms.is_none())
        .ok_or_else(expired)?;
    check_throttle(state, meta, Some(&user.email))?;
    let accepted = if is_recovery_code {
        second_factor::use_recovery_code(state, &user.id, code).await?
    } else {
        second_factor::check_totp(state, &user.id, code).await?
    };
    let actor = Actor::User(user.id.clone());
    let target = format!("user:{}", user.id);
    let action = if is_recovery_code {
        "signin.recovery_code"
    } else {
        "signin.totp"
    };
    if !accepted {
        count_failure(state, meta, Some(&user.email));
        let failures = state.db.pending_signin_failed(&hash).await?;
        state
            .audit(audit::entry(
                meta,
                &actor,
                action,
                &target,
                Outcome::Failure,
            ))
            .await?;
        if failures >= PENDING_FAILURES {
            state.db.take_pending_signin(&hash).await?;
            return Err(expired());
        }
        return Err(second_factor::wrong_code());
    }
    if !state.db.take_pending_signin(&hash).await? {
        return Err(expired());
    }
    let method = if is_recovery_code {
        Method::RecoveryCode
    } else {
        Method::PasswordTotp
    };
    let started = finish(state, meta, headers, &user, method, action).await?;
    if is_recovery_code {
        notify::notify(state, &user, Event::RecoveryCodeUsed).await?;
    }
    Ok(started)
}

/// A passkey sign-in (the ceremony was started by `Passkeys::start_sign_in`).
pub async fn with_passkey(
    state: &AppState,
    meta: &RequestMeta,
    headers: &HeaderMap,
    ceremony_id: &str,
    credential: &PublicKeyCredential,
) -> AppResult<Started> {
    check_throttle(state, meta, None)?;
    let (user, _) = match state
        .passkeys
        .finish_sign_in(state, ceremony_id, credential)
        .await
    {
        Ok(found) => found,
        Err(e) => {
            count_failure(state, meta, None);
            let entry = audit::entry(
                meta,
                &Actor::Anonymous,
                "signin.passkey",
                "account:unknown",
                Outcome::Failure,
            )
            .detail("reason", e.code.as_str());
            state.audit(entry).await?;
            return Err(e);
        }
    };
    if user.disabled_ms.is_some() {
        let entry = audit::entry(
            meta,
            &Actor::Anonymous,
            "signin.passkey",
            &format!("user:{}", user.id),
            Outcome::Denied,
        )
        .detail("reason", "disabled");
        state.audit(entry).await?;
        return Err(AppError::client(
            ErrorCode::SignInFailed,
            "This account is disabled. Please contact the practice.",
        ));
    }
    finish(
        state,
        meta,
        headers,
        &user,
        Method::Passkey,
        "signin.passkey",
    )
    .await
}

/// Signing in with e-mail and a recovery code, for someone whose only passkey is lost.
pub async fn with_recovery_code(
    state: &AppState,
    meta: &RequestMeta,
    headers: &HeaderMap,
    email: &str,
    code: &str,
) -> AppResult<Started> {
    check_throttle(state, meta, Some(email))?;
    let user = match normalise_email(email) {
        Some(e) => state
            .db
            .user_by_email(&e)
            .await?
            .filter(|u| u.disabled_ms.is_none()),
        None => None,
    };
    let accepted = match &user {
        Some(u) => second_factor::use_recovery_code(state, &u.id, code).await?,
        None => false,
    };
    let Some(user) = user.filter(|_| accepted) else {
        count_failure(state, meta, Some(email));
        let entry = audit::entry(
            meta,
            &Actor::Anonymous,
            "signin.recovery_code",
            "account:unknown",
            Outcome::Failure,
        );
        state.audit(entry).await?;
        return Err(AppError::client(
            ErrorCode::SignInFailed,
            "That e-mail address and recovery code do not match. Check both and try again.",
        ));
    };
    state.throttles.accounts.succeeded(&account_key(email));
    let started = finish(
        state,
        meta,
        headers,
        &user,
        Method::RecoveryCode,
        "signin.recovery_code",
    )
    .await?;
    notify::notify(state, &user, Event::RecoveryCodeUsed).await?;
    Ok(started)
}

async fn finish(
    state: &AppState,
    meta: &RequestMeta,
    headers: &HeaderMap,
    user: &UserRow,
    method: Method,
    action: &str,
) -> AppResult<Started> {
    let actor = Actor::User(user.id.clone());
    let entry = audit::entry(
        meta,
        &actor,
        action,
        &format!("user:{}", user.id),
        Outcome::Success,
    )
    .detail("method", method.as_str());
    let started = state
        .audited(
            entry,
            session::start(state, meta, headers, user, method, false),
        )
        .await?;
    state.throttles.sources.succeeded(&source_key(meta));
    if started.new_device {
        notify::notify(state, user, Event::NewDevice).await?;
    }
    Ok(started)
}

/// Ends the session (if any) and records it.
pub async fn sign_out(
    state: &AppState,
    meta: &RequestMeta,
    current: Option<CurrentUser>,
) -> AppResult<()> {
    let Some(current) = current else {
        return Ok(());
    };
    let actor = Actor::User(current.user.id.clone());
    let entry = audit::entry(
        meta,
        &actor,
        "signout",
        &format!("user:{}", current.user.id),
        Outcome::Success,
    );
    let now = state.clock.now_ms();
    state
        .audited(entry, async {
            state
                .db
                .revoke_session(&current.session.id_hash, now)
                .await?;
            Ok(())
        })
        .await
}
