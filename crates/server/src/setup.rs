//! First-run setup: a one-time link printed on the console lets the operator name the
//! practice and create the first practice administrator.
//!
//! The link carries 256 random bits; only their SHA-256 is stored. Issuing a new link
//! kills the previous one, the link expires (`setup_link_minutes`), and completing setup
//! consumes it in the same transaction that creates the practice, so it works once.

use ledger::Outcome;
use proto::ErrorCode;
use store::accounts::{PracticeRow, UserRow};
use store::setup::{CompleteSetup, SetupTokenRow};
use zeroize::Zeroizing;

use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::{Role, enrolment, normalise_email, session};
use crate::state::AppState;
use crate::web::forms::FieldErrors;

/// Time zones offered at setup: value and label.
pub const TIME_ZONES: &[(&str, &str)] = &[
    ("Australia/Sydney", "Sydney, Canberra (NSW, ACT)"),
    ("Australia/Melbourne", "Melbourne (VIC)"),
    ("Australia/Brisbane", "Brisbane (QLD)"),
    ("Australia/Adelaide", "Adelaide (SA)"),
    ("Australia/Darwin", "Darwin (NT)"),
    ("Australia/Perth", "Perth (WA)"),
    ("Australia/Hobart", "Hobart (TAS)"),
    ("Pacific/Auckland", "Auckland (New Zealand)"),
    ("America/New_York", "New York (US Eastern)"),
    ("America/Chicago", "Chicago (US Central)"),
    ("America/Denver", "Denver (US Mountain)"),
    ("America/Los_Angeles", "Los Angeles (US Pacific)"),
    ("Europe/London", "London (UK)"),
    ("UTC", "UTC"),
];

/// A freshly issued setup link's secret part.
#[derive(Debug)]
pub struct SetupLink {
    pub token: Zeroizing<String>,
    pub expires_ms: i64,
}

/// Issues a new one-time link, unless setup is already complete (`None`).
pub async fn issue_link(state: &AppState, source: &str) -> AppResult<Option<SetupLink>> {
    if state.db.practice().await?.is_some() {
        return Ok(None);
    }
    let (token, token_hash) = session::new_token()?;
    let now = state.clock.now_ms();
    let expires_ms = now + i64::from(state.config.setup_link_minutes) * 60_000;
    let id = token_hash[..16].to_owned();
    let entry = ledger::NewEntry::new(
        Actor::System.as_ledger_name(),
        "setup.link_issued",
        "setup",
        Outcome::Success,
    )
    .source(source)
    .detail("expires_ms", expires_ms);
    state
        .audited(entry, async {
            state
                .db
                .issue_setup_token(&SetupTokenRow {
                    id,
                    token_hash,
                    created_ms: now,
                    expires_ms,
                    used_ms: None,
                })
                .await?;
            Ok(())
        })
        .await?;
    Ok(Some(SetupLink { token, expires_ms }))
}

/// The setup token row for `token`, if it is usable now. Refusals are audited.
pub async fn check_link(
    state: &AppState,
    meta: &RequestMeta,
    token: &str,
) -> AppResult<SetupTokenRow> {
    if state.db.practice().await?.is_some() {
        return Err(AppError::client(
            ErrorCode::SetupAlreadyDone,
            "Telewarden is already set up. Sign in instead.",
        ));
    }
    let reason = if token.len() != 43 {
        Some("malformed")
    } else {
        match state.db.setup_token(&session::token_hash(token)).await? {
            None => Some("unknown"),
            Some(row) if row.used_ms.is_some() => Some("used"),
            Some(row) if row.expires_ms <= state.clock.now_ms() => Some("expired"),
            Some(row) => return Ok(row),
        }
    };
    let entry = audit::entry(
        meta,
        &Actor::Anonymous,
        "setup.link",
        "setup",
        Outcome::Denied,
    )
    .detail("reason", reason.unwrap_or("unknown"));
    state.audit(entry).await?;
    Err(AppError::client(
        ErrorCode::SetupLinkInvalid,
        "This setup link is not valid: it may have been used already or have expired. Restart \
         Telewarden to print a new one in its console.",
    ))
}

/// What the setup form asks for.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    pub practice_name: String,
    #[serde(default)]
    pub time_zone: String,
    #[serde(default)]
    pub admin_name: String,
    #[serde(default)]
    pub email: String,
}

/// Why setup did not complete.
#[derive(Debug)]
pub enum SetupRefused {
    /// Some fields need fixing; nothing was stored.
    Invalid(FieldErrors),
    Error(AppError),
}

impl From<AppError> for SetupRefused {
    fn from(e: AppError) -> Self {
        SetupRefused::Error(e)
    }
}

fn validate(form: &SetupForm) -> Result<(String, String, String, String), FieldErrors> {
    let mut errors = FieldErrors::default();
    let practice = form.practice_name.trim();
    if practice.is_empty() {
        errors.add("practice_name", "Please enter the practice's name.");
    } else if practice.chars().count() > 120 {
        errors.add(
            "practice_name",
            "Please keep the name to 120 characters or fewer.",
        );
    }
    if !TIME_ZONES.iter().any(|(tz, _)| *tz == form.time_zone) {
        errors.add(
            "time_zone",
            "Please choose the practice's time zone from the list.",
        );
    }
    let name = form.admin_name.trim();
    if name.is_empty() {
        errors.add("admin_name", "Please enter your name.");
    } else if name.chars().count() > 120 {
        errors.add(
            "admin_name",
            "Please keep your name to 120 characters or fewer.",
        );
    }
    let email = normalise_email(&form.email);
    if email.is_none() {
        errors.add(
            "email",
            "Please enter an e-mail address like name@example.org.",
        );
    }
    if ![practice, name, form.email.as_str()]
        .iter()
        .all(|s| !s.chars().any(char::is_control))
    {
        errors.add("practice_name", "Please remove control characters.");
    }
    match (errors.is_empty(), email) {
        (true, Some(email)) => Ok((
            practice.to_owned(),
            form.time_zone.clone(),
            name.to_owned(),
            email,
        )),
        _ => Err(errors),
    }
}

/// Completes setup: creates the practice, its first administrator's account and that
/// account's enrolment link, and consumes the setup link — one transaction. The
/// administrator then enrols (a passkey) through the same flow as everyone else.
/// Returns the enrolment link's token.
pub async fn complete(
    state: &AppState,
    meta: &RequestMeta,
    token: &str,
    form: SetupForm,
) -> Result<Zeroizing<String>, SetupRefused> {
    let link = check_link(state, meta, token).await?;
    let (practice_name, time_zone, admin_name, email) =
        validate(&form).map_err(SetupRefused::Invalid)?;
    let now = state.clock.now_ms();
    let admin = UserRow {
        id: new_id()?,
        email,
        display_name: admin_name,
        role: Role::PracticeAdmin.as_str().to_owned(),
        password_hash: None,
        created_ms: now,
        disabled_ms: None,
    };
    let practice = PracticeRow {
        id: new_id()?,
        name: practice_name,
        time_zone,
        created_ms: now,
        patient_auth: "passkey_or_password_totp".into(),
        self_registration: false,
    };
    let invitation = enrolment::prepare(state, &admin.id, "enrol", None)?;
    let actor = Actor::User(admin.id.clone());
    let entry = audit::entry(
        meta,
        &actor,
        "setup.completed",
        &format!("user:{}", admin.id),
        Outcome::Success,
    )
    .detail("role", Role::PracticeAdmin.as_str())
    .detail("practice_id", practice.id.clone());
    state
        .audited(entry, async {
            match state.db.complete_setup(&state.keyring, &link.id, now, &practice, &admin, &invitation.row).await {
                Ok(CompleteSetup::Done) => Ok(()),
                Ok(CompleteSetup::AlreadyUsed) => Err(AppError::client(
                    ErrorCode::SetupLinkInvalid,
                    "This setup link was used a moment ago, so nothing was changed. Sign in instead.",
                )),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
    Ok(invitation.token)
}

/// A random identifier for a new row (128 bits, hex).
pub fn new_id() -> AppResult<String> {
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).map_err(|e| AppError::internal(format!("random: {e}")))?;
    Ok(hex::encode(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> SetupForm {
        SetupForm {
            practice_name: " Harbour Street Clinic ".into(),
            time_zone: "Australia/Sydney".into(),
            admin_name: "Ada Admin".into(),
            email: "Ada@Example.org".into(),
        }
    }

    #[test]
    fn a_good_form_is_accepted_and_normalised() {
        let (p, tz, n, e) = validate(&form()).unwrap();
        assert_eq!(
            (p.as_str(), tz.as_str(), n.as_str(), e.as_str()),
            (
                "Harbour Street Clinic",
                "Australia/Sydney",
                "Ada Admin",
                "ada@example.org"
            )
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        type Change = Box<dyn Fn(&mut SetupForm)>;
        let cases: Vec<(&str, Change)> = vec![
            ("practice_name", Box::new(|f| f.practice_name = "  ".into())),
            (
                "practice_name",
                Box::new(|f| f.practice_name = "x".repeat(121)),
            ),
            (
                "time_zone",
                Box::new(|f| f.time_zone = "Mars/Olympus".into()),
            ),
            ("admin_name", Box::new(|f| f.admin_name = String::new())),
            ("email", Box::new(|f| f.email = "not-an-email".into())),
        ];
        for (field, change) in cases {
            let mut f = form();
            change(&mut f);
            let errors = validate(&f).unwrap_err();
            assert!(
                errors.get(field).is_some(),
                "{field} not flagged: {errors:?}"
            );
        }
    }
}
