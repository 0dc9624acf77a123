//! Password sign-in.
//!
//! Unknown and known accounts get the same answer and take the same time (a decoy hash
//! is verified when there is no account). Every attempt is written to the ledger before
//! the session exists; the typed e-mail address of an unknown account is not recorded
//! (people type passwords into the wrong field).

use ledger::Outcome;
use proto::ErrorCode;
use zeroize::Zeroizing;

use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::{normalise_email, session};
use crate::state::AppState;

/// What a successful sign-in yields: the session token for the cookie.
#[derive(Debug)]
pub struct SignedIn {
    pub token: Zeroizing<String>,
}

/// The one message for every failed attempt, so it reveals nothing about the account.
pub const FAILED: &str =
    "That e-mail address and password do not match an account. Check both and try again.";

pub async fn with_password(
    state: &AppState,
    meta: &RequestMeta,
    email: &str,
    password: Zeroizing<String>,
) -> AppResult<SignedIn> {
    if password.len() > super::password::MAX_BYTES {
        return Err(AppError::client(ErrorCode::SignInFailed, FAILED));
    }
    let user = match normalise_email(email) {
        Some(e) => state.db.user_by_email(&e).await?,
        None => None,
    };
    let usable = user.as_ref().filter(|u| u.disabled_ms.is_none());
    let matched = state
        .passwords
        .verify(password, usable.and_then(|u| u.password_hash.clone()))
        .await?;
    match (usable, matched) {
        (Some(user), true) => {
            let actor = Actor::User(user.id.clone());
            let entry = audit::entry(
                meta,
                &actor,
                "signin.password",
                &format!("user:{}", user.id),
                Outcome::Success,
            );
            let token = state
                .audited(entry, session::start(state, &user.id))
                .await?;
            Ok(SignedIn { token })
        }
        (known, _) => {
            let target = known.map_or_else(
                || "account:unknown".to_owned(),
                |u| format!("user:{}", u.id),
            );
            let entry = audit::entry(
                meta,
                &Actor::Anonymous,
                "signin.password",
                &target,
                Outcome::Failure,
            )
            .detail(
                "reason",
                if known.is_some() {
                    "wrong_password"
                } else {
                    "no_such_account"
                },
            );
            state.audit(entry).await?;
            Err(AppError::client(ErrorCode::SignInFailed, FAILED))
        }
    }
}

/// Ends the session (if any) and records it.
pub async fn sign_out(
    state: &AppState,
    meta: &RequestMeta,
    current: Option<session::CurrentUser>,
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
            state.db.revoke_session(&current.session_hash, now).await?;
            Ok(())
        })
        .await
}
