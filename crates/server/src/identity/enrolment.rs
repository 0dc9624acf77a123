//! Enrolment: turning an invitation link into an account someone can sign in to.
//!
//! An invitation is created together with a credential-less account (by an
//! administrator, a clinician for patients, first-run setup, or self-registration). It
//! is a single-use, expiring link; only its hash is stored, and a newer link for the
//! same account replaces older ones. The link is used up by the first credential set:
//! a passkey (everyone), or a password (clinicians, and patients where the practice
//! allows it), which then needs a second factor before the account is fully usable.

use ledger::Outcome;
use proto::ErrorCode;
use store::accounts::UserRow;
use store::credentials::PasskeyRow;
use store::invitations::InvitationRow;
use zeroize::Zeroizing;

use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::session;
use crate::state::AppState;

/// A new invitation: the row to store and the secret part of the link.
#[derive(Debug)]
pub struct NewInvitation {
    pub row: InvitationRow,
    pub token: Zeroizing<String>,
}

/// Prepares an invitation for `user_id` (not stored yet).
pub fn prepare(
    state: &AppState,
    user_id: &str,
    kind: &str,
    invited_by: Option<&str>,
) -> AppResult<NewInvitation> {
    let (token, token_hash) = session::new_token()?;
    let now = state.clock.now_ms();
    let days = i64::from(state.config.sessions.invitation_days);
    Ok(NewInvitation {
        row: InvitationRow {
            id: crate::setup::new_id()?,
            token_hash,
            kind: kind.to_owned(),
            user_id: user_id.to_owned(),
            invited_by: invited_by.map(str::to_owned),
            created_ms: now,
            expires_ms: now + days * 24 * 3_600_000,
            used_ms: None,
            revoked_ms: None,
        },
        token,
    })
}

/// The full link for a token.
pub fn link(state: &AppState, token: &str) -> String {
    format!("{}/enrol/{token}", state.origin)
}

/// The live invitation behind `token` and its account. Refusals are audited.
pub async fn check(
    state: &AppState,
    meta: &RequestMeta,
    token: &str,
) -> AppResult<(InvitationRow, UserRow)> {
    let found = if token.len() == 43 {
        state
            .db
            .invitation_by_token_hash(&session::token_hash(token))
            .await?
    } else {
        None
    };
    let now = state.clock.now_ms();
    let reason = match &found {
        None => "unknown",
        Some(i) if i.used_ms.is_some() => "used",
        Some(i) if i.revoked_ms.is_some() => "replaced",
        Some(i) if i.expires_ms <= now => "expired",
        Some(_) => "",
    };
    if let (Some(inv), "") = (&found, reason)
        && let Some(user) = state
            .db
            .user_by_id(&state.keyring, &inv.user_id)
            .await?
            .filter(|u| u.disabled_ms.is_none())
    {
        return Ok((inv.clone(), user));
    }
    let target = found.as_ref().map_or_else(
        || "invitation:unknown".to_owned(),
        |i| format!("user:{}", i.user_id),
    );
    let entry = audit::entry(
        meta,
        &Actor::Anonymous,
        "enrolment.link",
        &target,
        Outcome::Denied,
    )
    .detail(
        "reason",
        if reason.is_empty() {
            "disabled"
        } else {
            reason
        },
    );
    state.audit(entry).await?;
    Err(AppError::client(
        ErrorCode::InvitationInvalid,
        "This invitation link is not valid: it may have been used already, replaced by a newer one, or \
         expired. Ask the practice to send you a new one.",
    ))
}

/// The first credential an account gets, set together with using up its invitation.
#[derive(Debug)]
pub enum FirstCredential {
    Passkey(PasskeyRow),
    /// An Argon2id hash.
    Password(String),
}

/// Uses up the invitation and sets the account's first credential in one transaction,
/// recorded in the ledger first. If the link was used a moment ago, nothing is written.
pub async fn complete(
    state: &AppState,
    meta: &RequestMeta,
    invitation: &InvitationRow,
    user: &UserRow,
    credential: FirstCredential,
) -> AppResult<()> {
    let method = match credential {
        FirstCredential::Passkey(_) => "passkey",
        FirstCredential::Password(_) => "password",
    };
    let actor = Actor::User(user.id.clone());
    let entry = audit::entry(
        meta,
        &actor,
        "enrolment.completed",
        &format!("user:{}", user.id),
        Outcome::Success,
    )
    .detail("kind", invitation.kind.clone())
    .detail("method", method);
    let now = state.clock.now_ms();
    state
        .audited(entry, async {
            let done = match &credential {
                FirstCredential::Passkey(row) => state
                    .db
                    .enrol_with_passkey(&invitation.id, now, row)
                    .await
                    .map_err(crate::identity::passkeys::already_registered)?,
                FirstCredential::Password(hash) => {
                    state
                        .db
                        .enrol_with_password(&invitation.id, now, &user.id, hash)
                        .await?
                }
            };
            if done {
                Ok(())
            } else {
                Err(AppError::client(
                    ErrorCode::InvitationInvalid,
                    "This invitation link was used a moment ago. Sign in instead.",
                ))
            }
        })
        .await
}
