//! The practice's switch and the campaigns: created from a built-in lure or a custom
//! template (refused if it plays on pay, jobs, gifts or refunds), sent to staff only —
//! never to patients, and not to the person who wrote it, who knows it is a test — now
//! or when it is due.

use std::time::Duration;

use askama::Template;
use ledger::{NewEntry, Outcome as LedgerOutcome};
use proto::ErrorCode;
use store::accounts::UserRow;
use store::phishing::{CampaignRow, Column, RecipientRow};
use tokio::sync::watch;

use crate::admin::require;
use crate::audit::{Actor, entry};
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::Role;
use crate::identity::session::CurrentUser;
use crate::mail::Email;
use crate::policy::{Action, Target};
use crate::setup::new_id;
use crate::state::AppState;
use crate::training::simulation::link_secret;

/// Who a campaign may go to: all staff or one staff role. Patients are not a choice.
pub const TARGETS: [(&str, &str); 4] = [
    ("all_staff", "All staff"),
    ("clinician", "Clinicians"),
    ("practice_admin", "Practice administrators"),
    ("security_officer", "Security officers"),
];

/// What the new-campaign form asks for.
#[derive(Debug, Clone, Default)]
pub struct NewCampaign {
    pub name: String,
    /// A built-in lure's id, or `custom` with `subject`, `body` and `landing` filled in.
    pub lure: String,
    pub subject: String,
    pub body: String,
    pub landing: String,
    pub target: String,
    /// `None`: send now.
    pub scheduled_ms: Option<i64>,
}

fn actor(who: &CurrentUser) -> Actor {
    Actor::User(who.user.id.clone())
}

fn refused(message: impl Into<String>) -> AppError {
    AppError::client(ErrorCode::InvalidInput, message)
}

/// Simulations run only once the practice has chosen them: staff should know the
/// practice runs them, even if not when.
pub async fn require_enabled(state: &AppState) -> AppResult<()> {
    if state.db.simulations_enabled().await? {
        Ok(())
    } else {
        Err(AppError::client(
            ErrorCode::Forbidden,
            "Phishing simulations are off for this practice. An administrator or the security \
             officer can turn them on first (and should tell staff that the practice runs them).",
        ))
    }
}

/// Turns simulations on or off for the practice.
pub async fn set_enabled(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    on: bool,
) -> AppResult<()> {
    require(who, Action::ManageTraining, Target::Practice)?;
    let audit = entry(
        meta,
        &actor(who),
        if on {
            "training.simulations_enabled"
        } else {
            "training.simulations_disabled"
        },
        "practice",
        LedgerOutcome::Success,
    );
    state
        .audited(audit, async {
            Ok(state.db.set_simulations_enabled(on).await?)
        })
        .await
}

/// Creates a campaign and, unless it is scheduled for later, sends it now. Returns its id.
pub async fn create(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    new: &NewCampaign,
) -> AppResult<String> {
    require(who, Action::ManageTraining, Target::Practice)?;
    require_enabled(state).await?;
    let name = new.name.split_whitespace().collect::<Vec<_>>().join(" ");
    if !(3..=100).contains(&name.chars().count()) {
        return Err(refused("Give the campaign a name of 3 to 100 characters."));
    }
    let (lure_id, subject, body, landing) = if new.lure == "custom" {
        (
            "custom",
            new.subject.trim(),
            new.body.trim(),
            new.landing.trim(),
        )
    } else {
        let lure = training::lure(&new.lure).ok_or_else(|| {
            refused("Choose one of the built-in lures, or \"custom\" with your own text.")
        })?;
        (lure.id, lure.subject, lure.body, lure.landing)
    };
    training::validate_template(subject, body, landing)
        .map_err(|e| refused(format!("This lure cannot be used: {e}.")))?;
    if !TARGETS.iter().any(|(t, _)| *t == new.target) {
        return Err(refused(
            "Choose who receives it: all staff or one staff role (never patients).",
        ));
    }
    let now = state.clock.now_ms();
    if new.scheduled_ms.is_some_and(|t| t <= now) {
        return Err(refused(
            "The scheduled time has passed; choose a later time, or send it now.",
        ));
    }
    let row = CampaignRow {
        id: new_id()?,
        name,
        lure_id: lure_id.to_owned(),
        subject: subject.to_owned(),
        body: body.to_owned(),
        landing: landing.to_owned(),
        target: new.target.clone(),
        scheduled_ms: Some(new.scheduled_ms.unwrap_or(now)),
        created_by: who.user.id.clone(),
        created_ms: now,
        launched_ms: None,
        state: "scheduled".into(),
    };
    let audit = entry(
        meta,
        &actor(who),
        "training.campaign_created",
        &format!("campaign:{}", row.id),
        LedgerOutcome::Success,
    )
    .detail("lure", row.lure_id.clone())
    .detail("target", row.target.clone())
    .detail(
        "scheduled",
        new.scheduled_ms
            .map_or_else(|| "now".to_owned(), clock::rfc3339_ms),
    );
    state
        .audited(audit, async { Ok(state.db.insert_campaign(&row).await?) })
        .await?;
    if new.scheduled_ms.is_none() {
        // Sent by a task of its own, awaited here: if the request is cut short (a
        // timeout, a closed browser) the sending still finishes for every recipient
        // instead of leaving the campaign half sent.
        let (state, id) = (state.clone(), row.id.clone());
        tokio::spawn(async move { launch(&state, &id).await })
            .await
            .map_err(|e| AppError::internal(format!("sending a campaign: {e}")))??;
    }
    Ok(row.id)
}

/// Sends due campaigns every minute until `shutdown` turns true.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tick.tick() => {
                if let Err(e) = send_due(&state).await {
                    tracing::warn!(error = %e, "simulation campaigns could not be sent");
                }
            }
        }
    }
}

/// One pass: sends every scheduled campaign whose time has come (none while the
/// practice has simulations off). Returns how many campaigns were sent.
pub async fn send_due(state: &AppState) -> AppResult<usize> {
    if !state.db.simulations_enabled().await? {
        return Ok(0);
    }
    let mut sent = 0;
    for c in state.db.due_campaigns(state.clock.now_ms()).await? {
        match launch(state, &c.id).await {
            Ok(true) => sent += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "a simulation campaign could not be sent"),
        }
    }
    Ok(sent)
}

/// Staff the campaign goes to: active, not patients, in the target, not its author.
fn recipients_of(users: Vec<UserRow>, c: &CampaignRow) -> Vec<UserRow> {
    users
        .into_iter()
        .filter(|u| u.disabled_ms.is_none() && u.id != c.created_by)
        .filter(|u| matches!(Role::parse(&u.role), Some(r) if r != Role::Patient))
        .filter(|u| c.target == "all_staff" || u.role == c.target)
        .collect()
}

/// Claims and sends a campaign; false if it was already claimed (sent or sending).
async fn launch(state: &AppState, campaign_id: &str) -> AppResult<bool> {
    let now = state.clock.now_ms();
    if !state.db.claim_campaign(campaign_id, now).await? {
        return Ok(false);
    }
    let c = state
        .db
        .campaign(campaign_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let people = recipients_of(state.db.list_users(&state.keyring).await?, &c);
    let audit = NewEntry::new(
        Actor::System.as_ledger_name(),
        "training.campaign_launched",
        format!("campaign:{}", c.id),
        LedgerOutcome::Success,
    )
    .detail("recipients", people.len().to_string());
    state.audit(audit).await?;
    let secret = link_secret(state)?;
    for person in &people {
        let r = RecipientRow {
            id: new_id()?,
            campaign_id: c.id.clone(),
            user_id: person.id.clone(),
            sent_ms: None,
            opened_ms: None,
            fetched_ms: None,
            clicked_ms: None,
            submitted_ms: None,
            reported_ms: None,
        };
        if !state.db.insert_recipient(&r).await? {
            continue;
        }
        // One person's mail trouble does not hold up the others'.
        match send_one(state, &c, &r, person, &secret).await {
            Ok(()) => {
                state
                    .db
                    .record_event(&r.id, Column::Sent, state.clock.now_ms())
                    .await?;
            }
            Err(e) => tracing::warn!(error = %e, "a simulation e-mail could not be sent"),
        }
    }
    state.db.finish_campaign(&c.id).await?;
    Ok(true)
}

#[derive(Template)]
#[template(path = "phishing_mail.html")]
struct MailHtml {
    paragraphs: Vec<Vec<Piece>>,
    pixel: String,
    report: String,
}

/// A piece of a mail paragraph: text, or the tracked link.
enum Piece {
    Text(String),
    Link(String),
}

/// Stands in for the link while the body is split, so the link can become an anchor.
const LINK_MARK: &str = "\u{E000}link\u{E000}";

async fn send_one(
    state: &AppState,
    c: &CampaignRow,
    r: &RecipientRow,
    person: &UserRow,
    secret: &[u8; 32],
) -> AppResult<()> {
    let token = training::token(secret, &c.id, &r.id);
    let base = format!("{}/t/{}/{}/{}", state.origin, c.id, r.id, token);
    let report = format!(
        "{}/report-suspicious?ref=sim.{}.{}.{}",
        state.origin, c.id, r.id, token
    );
    let subject = training::render(&c.subject, &person.display_name, &base);
    let text = format!(
        "{}\n\n--\nNot sure about this message? Report it:\n{report}\n",
        training::render(&c.body, &person.display_name, &base)
    );
    let marked = training::render(&c.body, &person.display_name, LINK_MARK);
    let paragraphs = marked
        .split("\n\n")
        .map(|p| {
            let mut pieces = Vec::new();
            for (i, part) in p.split(LINK_MARK).enumerate() {
                if i > 0 {
                    pieces.push(Piece::Link(base.clone()));
                }
                if !part.is_empty() {
                    pieces.push(Piece::Text(part.to_owned()));
                }
            }
            pieces
        })
        .collect();
    let html = MailHtml {
        paragraphs,
        pixel: format!("{base}/open.gif"),
        report,
    }
    .render()
    .map_err(|e| AppError::internal(format!("template: {e}")))?;
    let email = Email {
        to_address: person.email.clone(),
        to_name: Some(person.display_name.clone()),
        subject,
        body: text,
    };
    state
        .mailer
        .send_with_html(&email, html)
        .await
        .map_err(|e| AppError::internal(format!("simulation mail: {e}")))
}
