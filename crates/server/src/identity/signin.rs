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
use crate::security::events;
use crate::state::AppState;
use sentinel::AuthOutcome;

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

/// The throttle key of a typed e-mail address: a hash of its normalised form, so keys
/// have a fixed size whatever is typed, and unknown addresses count like known ones.
fn account_key(email: &str) -> String {
    let normal: String = email.trim().to_lowercase().chars().take(254).collect();
    format!("account:{}", &session::token_hash(&normal)[..32])
}

/// The throttle key of a source: the IPv4 address, or the /64 of an IPv6 address (one
/// household or device gets a whole /64, so single addresses would be free to rotate).
fn source_key(meta: &RequestMeta) -> String {
    match meta.client_ip {
        std::net::IpAddr::V4(v4) => format!("source:{v4}"),
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("source:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// A sign-in attempt in progress. Beginning it reserves a slot with the source's (and,
/// when an account is named, the account's) throttle — counted as a failure until
/// [`Attempt::succeeded`] — so concurrent guesses cannot race past the delays.
#[derive(Debug)]
pub struct Attempt {
    account: Option<String>,
    source: String,
}

impl Attempt {
    pub fn begin(state: &AppState, meta: &RequestMeta, account: Option<&str>) -> AppResult<Self> {
        let now = state.clock.now_ms();
        let source = source_key(meta);
        state
            .throttles
            .sources
            .begin(&source, now)
            .map_err(throttled)?;
        let account = account.map(account_key);
        if let Some(key) = &account
            && let Err(wait) = state.throttles.accounts.begin(key, now)
        {
            state.throttles.sources.release(&source);
            return Err(throttled(wait));
        }
        Ok(Self { account, source })
    }

    /// This step succeeded but the sign-in is not complete: both keys get this attempt
    /// back, earlier failures stay.
    pub fn release(&self, state: &AppState) {
        if let Some(key) = &self.account {
            state.throttles.accounts.release(key);
        }
        state.throttles.sources.release(&self.source);
    }

    /// The whole sign-in succeeded: the account starts afresh; the source (perhaps a
    /// clinic's shared address) only gets this attempt back.
    pub fn succeeded(self, state: &AppState) {
        if let Some(key) = &self.account {
            state.throttles.accounts.succeeded(key);
        }
        state.throttles.sources.release(&self.source);
    }
}

/// Refuses while the source must wait (for endpoints that only start something).
pub fn check_source(state: &AppState, meta: &RequestMeta) -> AppResult<()> {
    match state
        .throttles
        .sources
        .wait_ms(&source_key(meta), state.clock.now_ms())
    {
        0 => Ok(()),
        wait => Err(throttled(wait)),
    }
}

/// Counts one more attempt against the source (e.g. a self-registration).
pub fn count_source(state: &AppState, meta: &RequestMeta) -> AppResult<()> {
    state
        .throttles
        .sources
        .begin(&source_key(meta), state.clock.now_ms())
        .map_err(throttled)
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
    let attempt = Attempt::begin(state, meta, Some(email))?;
    if password.len() > super::password::MAX_BYTES {
        // Refused unread, but recorded like any failed attempt (never what was typed).
        let entry = audit::entry(
            meta,
            &Actor::Anonymous,
            "signin.password",
            "account:unknown",
            Outcome::Failure,
        )
        .detail("reason", "too_long");
        state.audit(entry).await?;
        return Err(AppError::client(ErrorCode::SignInFailed, FAILED));
    }
    let user = match normalise_email(email) {
        Some(e) => state.db.user_by_email(&state.keyring, &e).await?,
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
    // With the password right, what second step does the account have?
    let next = match usable.filter(|_| matched) {
        Some(u) if second_factor::confirmed_totp(state, &u.id).await?.is_some() => {
            Some((u, Next::Code))
        }
        // An account with a passkey but no authenticator app must use the passkey: a
        // password must never open a way to enrol a new second factor over it.
        Some(u) if !state.db.passkeys_of_user(&u.id).await?.is_empty() => None,
        Some(u) => Some((u, Next::Enrol)),
        None => None,
    };
    let Some((user, next)) = next else {
        let target = user.as_ref().map_or_else(
            || "account:unknown".to_owned(),
            |u| format!("user:{}", u.id),
        );
        let reason = if user.is_some() {
            "wrong_password_or_not_allowed"
        } else {
            "no_such_account"
        };
        match &user {
            Some(u) => events::auth(state, meta, &u.id, AuthOutcome::BadPassword),
            None => events::auth(
                state,
                meta,
                &account_key(email),
                AuthOutcome::UnknownAccount,
            ),
        }
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
    refuse_if_held(state, meta, &user.id).await?;
    // The account's throttle is cleared only when the whole sign-in succeeds; a right
    // password just takes back its own attempt (the code step counts its own).
    attempt.release(state);
    let actor = Actor::User(user.id.clone());
    let target = format!("user:{}", user.id);
    if next == Next::Code {
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
    attempt.succeeded(state);
    Ok(PasswordStep::EnrolSecondFactor(started))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    Code,
    Enrol,
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
    let now = state.clock.now_ms();
    let pending = state
        .db
        .pending_signin(&hash, now)
        .await?
        .ok_or_else(expired)?;
    let user = state
        .db
        .user_by_id(&state.keyring, &pending.user_id)
        .await?
        .filter(|u| u.disabled_ms.is_none())
        .ok_or_else(expired)?;
    let attempt = Attempt::begin(state, meta, Some(&user.email))?;
    // Each pending sign-in allows a few tries, counted atomically before checking.
    if !state
        .db
        .pending_signin_attempt(&hash, PENDING_FAILURES, now)
        .await?
    {
        state.db.take_pending_signin(&hash).await?;
        return Err(expired());
    }
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
        events::auth(state, meta, &user.id, AuthOutcome::SecondFactorFailed);
        state
            .audit(audit::entry(
                meta,
                &actor,
                action,
                &target,
                Outcome::Failure,
            ))
            .await?;
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
    let started = finish(state, meta, headers, &user, method, action, false).await?;
    attempt.succeeded(state);
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
    let attempt = Attempt::begin(state, meta, None)?;
    let (user, _) = match state
        .passkeys
        .finish_sign_in(state, ceremony_id, credential)
        .await
    {
        Ok(found) => found,
        Err(e) => {
            events::auth(state, meta, "passkey:unknown", AuthOutcome::UnknownAccount);
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
    let started = finish(
        state,
        meta,
        headers,
        &user,
        Method::Passkey,
        "signin.passkey",
        false,
    )
    .await?;
    attempt.succeeded(state);
    Ok(started)
}

/// Signing in with e-mail and a recovery code, for someone without a password whose
/// only passkey is lost. One factor only: the session may do nothing but enrol a new
/// passkey (or authenticator app, where allowed), and the person is told. Accounts with
/// a password use their password and the recovery code as its second step instead.
pub async fn with_recovery_code(
    state: &AppState,
    meta: &RequestMeta,
    headers: &HeaderMap,
    email: &str,
    code: &str,
) -> AppResult<Started> {
    let attempt = Attempt::begin(state, meta, Some(email))?;
    let user = match normalise_email(email) {
        Some(e) => state
            .db
            .user_by_email(&state.keyring, &e)
            .await?
            .filter(|u| u.disabled_ms.is_none()),
        None => None,
    };
    let eligible = user.as_ref().filter(|u| u.password_hash.is_none());
    // Unknown accounts do the same database work, so timing does not tell them apart.
    let accepted =
        second_factor::use_recovery_code(state, eligible.map_or("", |u| u.id.as_str()), code)
            .await?;
    let Some(user) = eligible.filter(|_| accepted) else {
        match &user {
            Some(u) => events::auth(state, meta, &u.id, AuthOutcome::SecondFactorFailed),
            None => events::auth(
                state,
                meta,
                &account_key(email),
                AuthOutcome::UnknownAccount,
            ),
        }
        let target = user.as_ref().map_or_else(
            || "account:unknown".to_owned(),
            |u| format!("user:{}", u.id),
        );
        let entry = audit::entry(
            meta,
            &Actor::Anonymous,
            "signin.recovery_code",
            &target,
            Outcome::Failure,
        );
        state.audit(entry).await?;
        return Err(AppError::client(
            ErrorCode::SignInFailed,
            "That e-mail address and recovery code do not match. Check both and try again. If you have a \
             password, sign in with it and use the recovery code at the second step.",
        ));
    };
    let started = finish(
        state,
        meta,
        headers,
        user,
        Method::RecoveryCode,
        "signin.recovery_code",
        true,
    )
    .await?;
    attempt.succeeded(state);
    notify::notify(state, user, Event::RecoveryCodeUsed).await?;
    Ok(started)
}

async fn finish(
    state: &AppState,
    meta: &RequestMeta,
    headers: &HeaderMap,
    user: &UserRow,
    method: Method,
    action: &str,
    enrol_only: bool,
) -> AppResult<Started> {
    refuse_if_held(state, meta, &user.id).await?;
    events::auth(state, meta, &user.id, AuthOutcome::Success);
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
            session::start(state, meta, headers, user, method, enrol_only),
        )
        .await?;
    if started.new_device {
        notify::notify(state, user, Event::NewDevice).await?;
    }
    Ok(started)
}

/// Refuses a sign-in to an account the sentinel holds for review (after an
/// exfiltration alert, say), until the security officer releases it. Failed guesses at
/// an account never hold it: that would let anyone lock a person out. The refusal is
/// recorded; the person is told whom to ask.
async fn refuse_if_held(state: &AppState, meta: &RequestMeta, user_id: &str) -> AppResult<()> {
    if !state.sentinel.is_held(user_id) {
        return Ok(());
    }
    let entry = audit::entry(
        meta,
        &Actor::Anonymous,
        "signin",
        &format!("user:{user_id}"),
        Outcome::Denied,
    )
    .detail("reason", "account_held");
    state.audit(entry).await?;
    Err(AppError::client(
        ErrorCode::Forbidden,
        "Signing in to this account is paused while the practice checks some unusual activity. \
         Please contact the practice.",
    ))
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
        .await?;
    // Its messaging sockets close now, not at their next check.
    state
        .messaging
        .revoke(crate::messaging::hub::Revocation::Session(
            current.session.id_hash.clone(),
        ));
    Ok(())
}
