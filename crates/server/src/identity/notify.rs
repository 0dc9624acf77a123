//! Security notifications: an in-app notice and an e-mail, for events a person should
//! know about even if they did not cause them (a new device signed in, a second factor
//! or password changed, a recovery code used, credentials reset by an administrator).

use store::accounts::UserRow;
use store::notices::NoticeRow;

use crate::error::AppResult;
use crate::mail::Email;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    NewDevice,
    PasskeyAdded,
    PasskeyRemoved,
    SecondFactorChanged,
    RecoveryCodesRenewed,
    PasswordChanged,
    RecoveryCodeUsed,
    CredentialsReset,
    RoleChanged,
}

impl Event {
    fn kind(self) -> &'static str {
        match self {
            Event::NewDevice => "new_device",
            Event::PasskeyAdded => "passkey_added",
            Event::PasskeyRemoved => "passkey_removed",
            Event::SecondFactorChanged => "second_factor_changed",
            Event::RecoveryCodesRenewed => "recovery_codes_renewed",
            Event::PasswordChanged => "password_changed",
            Event::RecoveryCodeUsed => "recovery_code_used",
            Event::CredentialsReset => "credentials_reset",
            Event::RoleChanged => "role_changed",
        }
    }

    /// What the person is told, in plain words.
    fn message(self) -> &'static str {
        match self {
            Event::NewDevice => {
                "Someone signed in to your account from a browser or device not used before."
            }
            Event::PasskeyAdded => "A passkey was added to your account.",
            Event::PasskeyRemoved => "A passkey was removed from your account.",
            Event::SecondFactorChanged => {
                "The authenticator app code for your account was set up or removed."
            }
            Event::RecoveryCodesRenewed => {
                "New recovery codes were made for your account; the old ones no longer work."
            }
            Event::PasswordChanged => "The password of your account was set, changed or removed.",
            Event::RecoveryCodeUsed => "A recovery code was used to sign in to your account.",
            Event::CredentialsReset => {
                "The practice reset how you sign in. Use the new invitation link you were sent to set up again."
            }
            Event::RoleChanged => "Your role at the practice was changed.",
        }
    }
}

/// Records the notice and e-mails it (in the background: a mail failure never undoes
/// the change it reports).
pub async fn notify(state: &AppState, user: &UserRow, event: Event) -> AppResult<()> {
    let now = state.clock.now_ms();
    let notice_id = crate::setup::new_id()?;
    state
        .db
        .insert_notice(&NoticeRow {
            id: notice_id.clone(),
            user_id: user.id.clone(),
            created_ms: now,
            kind: event.kind().to_owned(),
            message: event.message().to_owned(),
            read_ms: None,
        })
        .await?;
    let body = format!(
        "Hello {name},\n\n{message}\n\nWhen: {when} (UTC)\n\nIf this was you, there is nothing to do. If it was not, \
         sign in at {origin}/account/security to check your passkeys and sessions, and tell the practice.\n\n\
         The practice will never ask you for your password, your codes or your recovery codes.\n\n\
         Not expecting this message? Report it as suspicious:\n{origin}/report-suspicious?ref=mail.{notice_id}\n",
        name = user.display_name,
        message = event.message(),
        when = clock::rfc3339_ms(now),
        origin = state.origin,
    );
    state.mailer.send_in_background(Email {
        to_address: user.email.clone(),
        to_name: Some(user.display_name.clone()),
        subject: "Security notice about your Telewarden account".into(),
        body,
    });
    Ok(())
}
