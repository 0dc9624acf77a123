//! Managing people and practice settings: invitations, roles, disabling, ending
//! sessions, administrator-assisted re-enrolment. Every function asks the policy
//! first, and every change is written to the ledger before it happens.

use ledger::Outcome;
use proto::ErrorCode;
use store::accounts::UserRow;

use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::notify::{self, Event};
use crate::identity::session::CurrentUser;
use crate::identity::{Role, enrolment, normalise_email};
use crate::mail::Email;
use crate::policy::{self, Action, Subject, Target};
use crate::state::AppState;

/// Refuses with a clear 403 unless the policy allows it.
pub fn require(who: &CurrentUser, action: Action, target: Target<'_>) -> AppResult<()> {
    let subject = Subject {
        user_id: &who.user.id,
        role: who.role(),
    };
    match policy::decide(subject, action, target) {
        policy::Decision::Allow => Ok(()),
        policy::Decision::Deny(why) => Err(AppError::client(
            ErrorCode::Forbidden,
            format!(
                "You cannot do that: {why}. If you think you should, ask the practice administrator."
            ),
        )),
    }
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

fn account_target(user: &UserRow) -> Target<'_> {
    Target::Account {
        id: &user.id,
        role: Role::parse(&user.role).unwrap_or(Role::Patient),
    }
}

/// A validated request to invite someone.
#[derive(Debug, Clone)]
pub struct Invite {
    pub name: String,
    pub email: String,
    pub role: Role,
}

pub fn validate_invite(name: &str, email: &str, role: &str) -> Result<Invite, &'static str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 || name.chars().any(char::is_control) {
        return Err("Please enter their name (up to 120 characters).");
    }
    let email =
        normalise_email(email).ok_or("Please enter an e-mail address like name@example.org.")?;
    let role = Role::parse(role).ok_or("Please choose a role.")?;
    Ok(Invite {
        name: name.to_owned(),
        email,
        role,
    })
}

/// Creates the account and its enrolment link, e-mails the link, and returns it (to
/// show for copying, for people without e-mail).
pub async fn invite(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    invite: Invite,
) -> AppResult<(UserRow, String)> {
    let action = if invite.role == Role::Patient {
        Action::InvitePatient
    } else {
        Action::InviteStaff
    };
    require(who, action, Target::Practice)?;
    // Creating a staff account (which could be an administrator) is an administrator
    // change: it needs a recent sign-in.
    if action == Action::InviteStaff {
        who.require_recent(state)?;
    }
    let user = UserRow {
        id: crate::setup::new_id()?,
        email: invite.email,
        display_name: invite.name,
        role: invite.role.as_str().to_owned(),
        password_hash: None,
        created_ms: state.clock.now_ms(),
        disabled_ms: None,
    };
    let inv = enrolment::prepare(state, &user.id, "enrol", Some(&who.user.id))?;
    let entry = entry(meta, who, "account.invited", &format!("user:{}", user.id))
        .detail("role", invite.role.as_str());
    state
        .audited(entry, async {
            state
                .db
                .invite_user(&state.keyring, &user, &inv.row)
                .await
                .map_err(|e| match e {
                    store::StoreError::Conflict(_) => AppError::client(
                        ErrorCode::InvalidInput,
                        "Someone with that e-mail address already has an account.",
                    ),
                    other => other.into(),
                })
        })
        .await?;
    let link = enrolment::link(state, &inv.token);
    send_link(state, &user, &link, false).await?;
    Ok((user, link))
}

async fn send_link(state: &AppState, user: &UserRow, link: &str, reset: bool) -> AppResult<()> {
    let practice = state
        .db
        .practice()
        .await?
        .map(|p| p.name)
        .unwrap_or_else(|| "Telewarden".into());
    let intro = if reset {
        "The practice has reset how you sign in. To set up again, open this link"
    } else {
        "You have been invited to the practice's secure telehealth service. To set up your account, open this link"
    };
    let days = state.config.sessions.invitation_days;
    state.mailer.send_in_background(Email {
        to_address: user.email.clone(),
        to_name: Some(user.display_name.clone()),
        subject: format!("{practice}: set up your account"),
        body: format!(
            "Hello {name},\n\n{intro} within {days} days:\n\n{link}\n\nIt works once. If you did not expect this \
             message, you can ignore it.\n\nThe practice will never ask you for your password or your codes.\n",
            name = user.display_name,
        ),
    });
    Ok(())
}

async fn target_user(state: &AppState, id: &str) -> AppResult<UserRow> {
    state
        .db
        .user_by_id(&state.keyring, id)
        .await?
        .ok_or_else(AppError::not_found)
}

/// Refuses to leave the practice without an enabled administrator.
async fn keep_an_admin(state: &AppState, user: &UserRow) -> AppResult<()> {
    if user.role == Role::PracticeAdmin.as_str()
        && user.disabled_ms.is_none()
        && state
            .db
            .count_enabled_with_role(Role::PracticeAdmin.as_str())
            .await?
            <= 1
    {
        return Err(AppError::client(
            ErrorCode::InvalidInput,
            "This is the practice's only administrator. Make someone else an administrator first.",
        ));
    }
    Ok(())
}

pub async fn change_role(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    id: &str,
    role: &str,
) -> AppResult<()> {
    let user = target_user(state, id).await?;
    require(who, Action::ChangeRole, account_target(&user))?;
    who.require_recent(state)?;
    let role = Role::parse(role)
        .ok_or_else(|| AppError::client(ErrorCode::InvalidInput, "Please choose a role."))?;
    if role.as_str() == user.role {
        return Ok(());
    }
    keep_an_admin(state, &user).await?;
    let entry = entry(
        meta,
        who,
        "account.role_changed",
        &format!("user:{}", user.id),
    )
    .detail("from", user.role.clone())
    .detail("to", role.as_str());
    let now = state.clock.now_ms();
    state
        .audited(entry, async {
            state.db.set_user_role(&user.id, role.as_str()).await?;
            // New privileges, new sessions: they sign in again under the new role.
            state
                .db
                .revoke_sessions_of_user(&user.id, None, now)
                .await?;
            Ok(())
        })
        .await?;
    notify::notify(state, &user, Event::RoleChanged).await
}

pub async fn set_disabled(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    id: &str,
    disabled: bool,
) -> AppResult<()> {
    let user = target_user(state, id).await?;
    require(who, Action::DisableAccount, account_target(&user))?;
    who.require_recent(state)?;
    if disabled {
        keep_an_admin(state, &user).await?;
    }
    let action = if disabled {
        "account.disabled"
    } else {
        "account.enabled"
    };
    let now = state.clock.now_ms();
    state
        .audited(
            entry(meta, who, action, &format!("user:{}", user.id)),
            async {
                state
                    .db
                    .set_user_disabled(&user.id, disabled.then_some(now))
                    .await?;
                Ok(())
            },
        )
        .await
}

pub async fn revoke_sessions(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    id: &str,
) -> AppResult<u64> {
    let user = target_user(state, id).await?;
    require(who, Action::RevokeSessions, account_target(&user))?;
    let keep = (user.id == who.user.id).then_some(who.session.id_hash.as_str());
    let now = state.clock.now_ms();
    state
        .audited(
            entry(
                meta,
                who,
                "account.sessions_revoked",
                &format!("user:{}", user.id),
            ),
            async {
                Ok(state
                    .db
                    .revoke_sessions_of_user(&user.id, keep, now)
                    .await?)
            },
        )
        .await
}

/// Administrator-assisted recovery: removes every credential of the account, ends its
/// sessions, and e-mails a new enrolment link to the person (never shown to the
/// administrator). The person is told.
pub async fn reset_credentials(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    id: &str,
) -> AppResult<()> {
    let user = target_user(state, id).await?;
    require(who, Action::ResetCredentials, account_target(&user))?;
    who.require_recent(state)?;
    let inv = enrolment::prepare(state, &user.id, "reenrol", Some(&who.user.id))?;
    let now = state.clock.now_ms();
    state
        .audited(
            entry(
                meta,
                who,
                "account.credentials_reset",
                &format!("user:{}", user.id),
            ),
            async { Ok(state.db.reset_credentials(&user.id, now, &inv.row).await?) },
        )
        .await?;
    notify::notify(state, &user, Event::CredentialsReset).await?;
    // The link goes only to the person's own address: shown to the administrator, it
    // would let them take over the account (and read a patient's record).
    send_link(state, &user, &enrolment::link(state, &inv.token), true).await
}

/// A new enrolment link for someone who has not enrolled yet (lost or expired e-mail).
pub async fn resend_invitation(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    id: &str,
) -> AppResult<String> {
    let user = target_user(state, id).await?;
    let action = if user.role == Role::Patient.as_str() {
        Action::InvitePatient
    } else {
        Action::InviteStaff
    };
    require(who, action, Target::Practice)?;
    require(who, Action::ViewAccounts, Target::Practice)?;
    if action == Action::InviteStaff {
        who.require_recent(state)?;
    }
    let enrolled = state
        .db
        .latest_invitation_of_user(&user.id)
        .await?
        .is_some_and(|i| i.used_ms.is_some());
    if enrolled {
        return Err(AppError::client(
            ErrorCode::InvalidInput,
            "This person has already set up their account. To help them back in, reset their sign-in instead.",
        ));
    }
    let inv = enrolment::prepare(state, &user.id, "enrol", Some(&who.user.id))?;
    state
        .audited(
            entry(
                meta,
                who,
                "account.invitation_resent",
                &format!("user:{}", user.id),
            ),
            async { Ok(state.db.reissue_invitation(&inv.row).await?) },
        )
        .await?;
    let link = enrolment::link(state, &inv.token);
    send_link(state, &user, &link, false).await?;
    Ok(link)
}

/// The practice's sign-in settings.
pub async fn update_settings(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    patient_auth: &str,
    self_registration: bool,
) -> AppResult<()> {
    require(who, Action::ManageSettings, Target::Practice)?;
    who.require_recent(state)?;
    if !matches!(patient_auth, "passkey_only" | "passkey_or_password_totp") {
        return Err(AppError::client(
            ErrorCode::InvalidInput,
            "Please choose how patients sign in.",
        ));
    }
    let entry = entry(meta, who, "settings.changed", "practice")
        .detail("patient_auth", patient_auth)
        .detail("self_registration", self_registration);
    state
        .audited(entry, async {
            Ok(state
                .db
                .set_practice_policy(patient_auth, self_registration)
                .await?)
        })
        .await
}

/// Patient self-registration (when the practice allows it). The link goes only to the
/// e-mail address, proving it belongs to the person; an address already in use gets
/// the same answer, so the form reveals nothing about who is a patient.
pub async fn self_register(
    state: &AppState,
    meta: &RequestMeta,
    name: &str,
    email: &str,
) -> AppResult<()> {
    let allowed = state
        .db
        .practice()
        .await?
        .is_some_and(|p| p.self_registration);
    if !allowed {
        return Err(AppError::client(
            ErrorCode::Forbidden,
            "This practice creates patient accounts itself. Please contact the practice.",
        ));
    }
    let invite = validate_invite(name, email, Role::Patient.as_str())
        .map_err(|m| AppError::client(ErrorCode::InvalidInput, m))?;
    if let Some(existing) = state
        .db
        .user_by_email(&state.keyring, &invite.email)
        .await?
    {
        let entry = audit::entry(
            meta,
            &Actor::Anonymous,
            "account.self_registered",
            "account:existing",
            Outcome::Denied,
        );
        state.audit(entry).await?;
        // The owner hears about it (and the page says the same as for a new address).
        state.mailer.send_in_background(Email {
            to_address: existing.email.clone(),
            to_name: Some(existing.display_name.clone()),
            subject: "Someone tried to register with your address".into(),
            body: format!(
                "Hello {},\n\nSomeone asked to create a patient account with this e-mail address, which \
                 already has an account. Nothing was changed. To sign in, go to {}/sign-in.\n",
                existing.display_name, state.origin
            ),
        });
        return Ok(());
    }
    let user = UserRow {
        id: crate::setup::new_id()?,
        email: invite.email,
        display_name: invite.name,
        role: Role::Patient.as_str().to_owned(),
        password_hash: None,
        created_ms: state.clock.now_ms(),
        disabled_ms: None,
    };
    let inv = enrolment::prepare(state, &user.id, "enrol", None)?;
    let entry = audit::entry(
        meta,
        &Actor::Anonymous,
        "account.self_registered",
        &format!("user:{}", user.id),
        Outcome::Success,
    );
    let created = state
        .audited(entry, async {
            match state.db.invite_user(&state.keyring, &user, &inv.row).await {
                Ok(()) => Ok(true),
                // Registered a moment ago by a concurrent request: same answer.
                Err(store::StoreError::Conflict(_)) => Ok(false),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
    if created {
        send_link(state, &user, &enrolment::link(state, &inv.token), false).await?;
    }
    Ok(())
}
