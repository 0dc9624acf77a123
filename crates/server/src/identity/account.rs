//! A person's own sign-in methods and sessions: passkeys, authenticator code, recovery
//! codes, password, and the list of signed-in browsers.
//!
//! Changing any of these is sensitive (step-up within the last minutes), except while
//! setting up the very first second factor. No change may leave an account without a
//! way in that its role allows: administrators and security officers keep at least one
//! passkey; others keep a passkey, or a password with an authenticator code.

use ledger::Outcome;
use proto::ErrorCode;
use store::accounts::UserRow;
use webauthn_rs::prelude::RegisterPublicKeyCredential;
use zeroize::Zeroizing;

use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::notify::{self, Event};
use crate::identity::session::{self, CurrentUser, Method};
use crate::identity::{Role, password, password_policy, second_factor, signin};
use crate::policy::{Action, Target};
use crate::state::AppState;

/// What an account can currently sign in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Methods {
    pub passkeys: usize,
    pub password: bool,
    pub totp: bool,
    pub recovery_codes_left: i64,
}

impl Methods {
    /// Whether these methods still let someone in `role` sign in fully.
    pub fn sufficient_for(&self, role: Role, passwords_allowed: bool) -> bool {
        match role {
            Role::PracticeAdmin | Role::SecurityOfficer => self.passkeys > 0,
            Role::Clinician | Role::Patient => {
                self.passkeys > 0 || (passwords_allowed && self.password && self.totp)
            }
        }
    }
}

pub async fn methods(state: &AppState, user: &UserRow) -> AppResult<Methods> {
    Ok(Methods {
        passkeys: state.db.passkeys_of_user(&user.id).await?.len(),
        password: user.password_hash.is_some(),
        totp: second_factor::confirmed_totp(state, &user.id)
            .await?
            .is_some(),
        recovery_codes_left: state.db.recovery_codes_left(&user.id).await?,
    })
}

fn entry(
    meta: &RequestMeta,
    who: &CurrentUser,
    action: &str,
    outcome: Outcome,
) -> ledger::NewEntry {
    audit::entry(
        meta,
        &Actor::User(who.user.id.clone()),
        action,
        &format!("user:{}", who.user.id),
        outcome,
    )
}

/// Asks the Policy whether `who` may change the sign-in methods and sessions of this
/// account — their own (deny by default holds here too: the rule allows only that).
fn require_own(who: &CurrentUser) -> AppResult<()> {
    crate::admin::require(
        who,
        Action::ManageOwnSecurity,
        Target::Account {
            id: &who.user.id,
            role: who.role(),
        },
    )
}

/// A refusal of bad input, written to the ledger under the change's own action.
async fn refused(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    action: &str,
    reason: &'static str,
    err: AppError,
) -> AppError {
    let entry = entry(meta, who, action, Outcome::Denied).detail("reason", reason);
    match state.audit(entry).await {
        Ok(_) => err,
        Err(audit_err) => audit_err,
    }
}

/// Sensitive changes need a recent sign-in, except while a first second factor is
/// being set up (the session exists only for that).
fn require_recent_unless_enrolling(state: &AppState, who: &CurrentUser) -> AppResult<()> {
    if who.session.mfa_pending {
        Ok(())
    } else {
        who.require_recent(state)
    }
}

fn keeps_a_way_in(after: Methods, state_allows_passwords: bool, role: Role) -> AppResult<()> {
    if after.sufficient_for(role, state_allows_passwords) {
        Ok(())
    } else {
        Err(AppError::client(
            ErrorCode::InvalidInput,
            "That would leave you with no way to sign in. Add another passkey (or set up a password with an \
             authenticator code, where allowed) first.",
        ))
    }
}

pub async fn add_passkey(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    ceremony_id: &str,
    credential: &RegisterPublicKeyCredential,
    name: &str,
) -> AppResult<Option<Zeroizing<String>>> {
    require_own(who)?;
    require_recent_unless_enrolling(state, who)?;
    let name = match passkey_name(name) {
        Ok(name) => name,
        Err(e) => return Err(refused(state, meta, who, "passkey.added", "invalid_name", e).await),
    };
    let passkey = match state
        .passkeys
        .verify_registration(state, &who.user, ceremony_id, credential)
        .await
    {
        Ok(p) => p,
        Err(e) => {
            let refused = entry(meta, who, "passkey.added", Outcome::Failure)
                .detail("reason", e.code.as_str());
            state.audit(refused).await?;
            return Err(e);
        }
    };
    let added = entry(meta, who, "passkey.added", Outcome::Success).detail("name", name.clone());
    state
        .audited(
            added,
            state.passkeys.store(state, &who.user, &passkey, &name),
        )
        .await?;
    let rotated = finish_enrolment_session(state, who, Method::Passkey).await?;
    notify::notify(state, &who.user, Event::PasskeyAdded).await?;
    Ok(rotated)
}

/// A session limited to enrolling a second factor becomes a full one once it has: it
/// is re-authenticated and gets a new id (a privilege change). Returns the new token.
async fn finish_enrolment_session(
    state: &AppState,
    who: &CurrentUser,
    method: Method,
) -> AppResult<Option<Zeroizing<String>>> {
    if !who.session.mfa_pending {
        return Ok(None);
    }
    let (token, hash) = session::new_token()?;
    state
        .db
        .reauthenticate_session(&who.session.id_hash, state.clock.now_ms(), method.as_str())
        .await?;
    if !state.db.rotate_session(&who.session.id_hash, &hash).await? {
        return Err(AppError::client(
            ErrorCode::SignInRequired,
            "Your session has ended. Please sign in again.",
        ));
    }
    Ok(Some(token))
}

/// A passkey's name: trimmed, 1–60 characters, no control characters.
pub fn passkey_name(raw: &str) -> AppResult<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
        return Err(AppError::client(
            ErrorCode::InvalidInput,
            "Please give the passkey a name of up to 60 characters, like \"My phone\".",
        ));
    }
    Ok(name.to_owned())
}

/// Row ids are 128-bit hex; anything else is not one of ours (and is not written to the
/// ledger).
fn check_id(id: &str) -> AppResult<()> {
    if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(AppError::not_found())
    }
}

pub async fn rename_passkey(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    id: &str,
    name: &str,
) -> AppResult<()> {
    require_own(who)?;
    check_id(id)?;
    let name = match passkey_name(name) {
        Ok(name) => name,
        Err(e) => {
            return Err(refused(state, meta, who, "passkey.renamed", "invalid_name", e).await);
        }
    };
    let entry =
        entry(meta, who, "passkey.renamed", Outcome::Success).detail("passkey", id.to_owned());
    state
        .audited(entry, async {
            if state.db.rename_passkey(&who.user.id, id, &name).await? {
                Ok(())
            } else {
                Err(AppError::not_found())
            }
        })
        .await
}

pub async fn remove_passkey(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    id: &str,
) -> AppResult<()> {
    require_own(who)?;
    check_id(id)?;
    who.require_recent(state)?;
    let mut after = methods(state, &who.user).await?;
    after.passkeys = after.passkeys.saturating_sub(1);
    keeps_a_way_in(
        after,
        signin::password_allowed(state, &who.user).await?,
        who.role(),
    )?;
    let entry =
        entry(meta, who, "passkey.removed", Outcome::Success).detail("passkey", id.to_owned());
    state
        .audited(entry, async {
            if state.db.delete_passkey(&who.user.id, id).await? {
                Ok(())
            } else {
                Err(AppError::not_found())
            }
        })
        .await?;
    notify::notify(state, &who.user, Event::PasskeyRemoved).await
}

/// What confirming an authenticator app yields: recovery codes to show once (when it is
/// the account's first second factor), and a new session token (when the session was
/// limited to enrolment until now).
#[derive(Debug, Default)]
pub struct TotpConfirmed {
    pub codes: Option<Vec<Zeroizing<String>>>,
    pub rotated: Option<Zeroizing<String>>,
}

/// Confirms the authenticator app being set up with a code from it.
pub async fn confirm_totp(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    code: &str,
) -> AppResult<TotpConfirmed> {
    require_own(who)?;
    require_recent_unless_enrolling(state, who)?;
    if second_factor::confirmed_totp(state, &who.user.id)
        .await?
        .is_some()
    {
        return Err(AppError::client(
            ErrorCode::InvalidInput,
            "Your authenticator app is already set up.",
        ));
    }
    // Write-ahead: recorded before the code is checked (checking confirms the secret);
    // a wrong code adds a failure entry that supersedes it.
    let attempt = entry(meta, who, "totp.enabled", Outcome::Success);
    let accepted = state
        .audited(attempt, async {
            if second_factor::check_totp(state, &who.user.id, code).await? {
                Ok(())
            } else {
                Err(second_factor::wrong_code())
            }
        })
        .await;
    accepted?;
    let first = state.db.recovery_codes_left(&who.user.id).await? == 0;
    let rotated = finish_enrolment_session(state, who, Method::PasswordTotp).await?;
    notify::notify(state, &who.user, Event::SecondFactorChanged).await?;
    let codes = if first {
        Some(renew_codes_unchecked(state, meta, who).await?)
    } else {
        None
    };
    Ok(TotpConfirmed { codes, rotated })
}

pub async fn remove_totp(state: &AppState, meta: &RequestMeta, who: &CurrentUser) -> AppResult<()> {
    require_own(who)?;
    who.require_recent(state)?;
    let mut after = methods(state, &who.user).await?;
    after.totp = false;
    keeps_a_way_in(
        after,
        signin::password_allowed(state, &who.user).await?,
        who.role(),
    )?;
    state
        .audited(entry(meta, who, "totp.removed", Outcome::Success), async {
            state.db.delete_totp(&who.user.id).await?;
            Ok(())
        })
        .await?;
    notify::notify(state, &who.user, Event::SecondFactorChanged).await
}

pub async fn renew_recovery_codes(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
) -> AppResult<Vec<Zeroizing<String>>> {
    require_own(who)?;
    who.require_recent(state)?;
    renew_codes_unchecked(state, meta, who).await
}

async fn renew_codes_unchecked(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
) -> AppResult<Vec<Zeroizing<String>>> {
    let codes = state
        .audited(
            entry(meta, who, "recovery_codes.renewed", Outcome::Success),
            second_factor::renew_recovery_codes(state, &who.user.id),
        )
        .await?;
    notify::notify(state, &who.user, Event::RecoveryCodesRenewed).await?;
    Ok(codes)
}

/// Sets or changes the password (where the role allows one), after the policy check.
pub async fn set_password(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    new: Zeroizing<String>,
    confirm: Zeroizing<String>,
) -> AppResult<()> {
    require_own(who)?;
    require_recent_unless_enrolling(state, who)?;
    if !signin::password_allowed(state, &who.user).await? {
        let e = AppError::client(
            ErrorCode::Forbidden,
            "Your account signs in with passkeys only, so it cannot have a password.",
        );
        return Err(refused(state, meta, who, "password.set", "passkeys_only", e).await);
    }
    if let Err(e) = check_new_password(&who.user, &new, &confirm) {
        let reason = password_refusal_reason(&new);
        return Err(refused(state, meta, who, "password.set", reason, e).await);
    }
    let hash = state.passwords.hash(new).await?;
    state
        .audited(entry(meta, who, "password.set", Outcome::Success), async {
            state
                .db
                .set_password_hash(&who.user.id, Some(&hash))
                .await?;
            Ok(())
        })
        .await?;
    notify::notify(state, &who.user, Event::PasswordChanged).await
}

/// The ledger's reason for a new password [`check_new_password`] refused (never the
/// password itself).
pub fn password_refusal_reason(new: &str) -> &'static str {
    if new.len() > password::MAX_BYTES {
        "too_long"
    } else {
        "password_policy"
    }
}

/// The password policy, with the person's own details as things not to use.
pub fn check_new_password(user: &UserRow, new: &str, confirm: &str) -> AppResult<()> {
    if new != confirm {
        return Err(AppError::client(
            ErrorCode::InvalidInput,
            "The two passwords do not match. Please type the same password twice.",
        ));
    }
    password_policy::check(new, &[&user.display_name, &user.email])
        .map_err(|problem| AppError::client(ErrorCode::InvalidInput, problem.to_string()))?;
    if new.len() > password::MAX_BYTES {
        return Err(AppError::client(
            ErrorCode::InvalidInput,
            "That password is too long.",
        ));
    }
    Ok(())
}

pub async fn remove_password(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
) -> AppResult<()> {
    require_own(who)?;
    who.require_recent(state)?;
    let mut after = methods(state, &who.user).await?;
    after.password = false;
    keeps_a_way_in(
        after,
        signin::password_allowed(state, &who.user).await?,
        who.role(),
    )?;
    state
        .audited(
            entry(meta, who, "password.removed", Outcome::Success),
            async {
                state.db.set_password_hash(&who.user.id, None).await?;
                Ok(())
            },
        )
        .await?;
    notify::notify(state, &who.user, Event::PasswordChanged).await
}

pub async fn revoke_session(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    id_hash: &str,
) -> AppResult<()> {
    require_own(who)?;
    let entry =
        entry(meta, who, "session.revoked", Outcome::Success).detail("session", short(id_hash));
    let now = state.clock.now_ms();
    state
        .audited(entry, async {
            if state
                .db
                .revoke_session_of_user(&who.user.id, id_hash, now)
                .await?
            {
                Ok(())
            } else {
                Err(AppError::not_found())
            }
        })
        .await?;
    state
        .messaging
        .revoke(crate::messaging::hub::Revocation::Session(
            id_hash.to_owned(),
        ));
    Ok(())
}

/// Signs out every other browser of this account.
pub async fn revoke_other_sessions(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
) -> AppResult<u64> {
    require_own(who)?;
    let now = state.clock.now_ms();
    state
        .audited(
            entry(meta, who, "session.revoked_others", Outcome::Success),
            async {
                Ok(state
                    .db
                    .revoke_sessions_of_user(&who.user.id, Some(&who.session.id_hash), now)
                    .await?)
            },
        )
        .await
}

/// A session's public handle: the first 16 hex characters of its id hash (enough to
/// name it in a form, useless to hijack it).
pub fn short(id_hash: &str) -> String {
    id_hash.chars().take(16).collect()
}
