//! The tracked link and what it records, each event once per recipient.
//!
//! Mail scanners (Safe Links, Proofpoint, Mimecast…) fetch and even render every link,
//! so a GET of the link records only `fetched`. `clicked` needs the landing page's
//! beacon, which its script posts only after a trusted pointer or keyboard event, and
//! which [`training::is_human_click`] must accept. A submission records `submitted` and
//! nothing else: the page's form has no named fields and the handler reads no body.
//!
//! A link with an unknown campaign or recipient, or a token that does not verify
//! (forged, or copied onto another recipient), gets the same "not valid" answer and
//! records nothing.

use ledger::{NewEntry, Outcome as LedgerOutcome};
use proto::ErrorCode;
use store::phishing::{CampaignRow, Column, RecipientRow};

use crate::audit::Actor;
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::state::AppState;
use crate::training::simulation::{is_hex_id, link_secret};

/// Signs shown after a custom lure, which has none of its own.
const GENERAL_SIGNS: &[&str] = &[
    "The message wanted you to act quickly, before you had time to check.",
    "The link opened a page that asked for your password; Telewarden's own pages never ask \
     for it after an e-mail link.",
];

/// The tracked link's three parts, as they arrive in the path.
#[derive(Debug, Clone)]
pub struct Link {
    pub campaign: String,
    pub recipient: String,
    pub token: String,
}

/// What the landing page shows: the lure's text, then the lesson.
#[derive(Debug, Clone)]
pub struct Landing {
    pub text: String,
    pub signs: Vec<&'static str>,
    /// The link's path, for the beacon and the form.
    pub path: String,
}

fn not_valid() -> AppError {
    AppError::client(
        ErrorCode::NotFound,
        "This link is not valid. If it came in an e-mail, you can report the e-mail as \
         suspicious to the practice.",
    )
}

/// The campaign and recipient of a link whose token verifies (in constant time).
pub async fn resolve(state: &AppState, link: &Link) -> AppResult<(CampaignRow, RecipientRow)> {
    if !(is_hex_id(&link.campaign) && is_hex_id(&link.recipient) && is_hex_id(&link.token)) {
        return Err(not_valid());
    }
    let secret = link_secret(state)?;
    if !training::verify_token(&secret, &link.campaign, &link.recipient, &link.token) {
        return Err(not_valid());
    }
    let recipient = state
        .db
        .recipient(&link.campaign, &link.recipient)
        .await?
        .ok_or_else(not_valid)?;
    let campaign = state
        .db
        .campaign(&link.campaign)
        .await?
        .ok_or_else(not_valid)?;
    Ok((campaign, recipient))
}

/// Whether the recipient already has `event`.
fn has(r: &RecipientRow, event: Column) -> bool {
    match event {
        Column::Sent => r.sent_ms.is_some(),
        Column::Opened => r.opened_ms.is_some(),
        Column::Fetched => r.fetched_ms.is_some(),
        Column::Clicked => r.clicked_ms.is_some(),
        Column::Submitted => r.submitted_ms.is_some(),
        Column::Reported => r.reported_ms.is_some(),
    }
}

fn name(event: Column) -> &'static str {
    let e = match event {
        Column::Sent => training::Event::Sent,
        Column::Opened => training::Event::Opened,
        Column::Fetched => training::Event::Fetched,
        Column::Clicked => training::Event::Clicked,
        Column::Submitted => training::Event::Submitted,
        Column::Reported => training::Event::Reported,
    };
    e.as_str()
}

/// Records `event` once: the ledger gets the campaign and the event's name (a count,
/// not who, and never content). The entry carries no address or request id, which
/// could be matched with the person's own sign-ins; and it is written only after the
/// database took the event, so two requests at once (two tabs, a repeated beacon) make
/// one entry. (Unlike the house's write-ahead rule: the event is not an access to
/// anyone's data, and a duplicate entry would claim an event twice.) True if this was
/// the first time.
pub async fn record(
    state: &AppState,
    _meta: &RequestMeta,
    r: &RecipientRow,
    event: Column,
) -> AppResult<bool> {
    if has(r, event) {
        return Ok(false);
    }
    let now = state.clock.now_ms();
    if !state.db.record_event(&r.id, event, now).await? {
        return Ok(false);
    }
    state
        .audit(
            NewEntry::new(
                Actor::System.as_ledger_name(),
                "training.simulation_event",
                format!("campaign:{}", r.campaign_id),
                LedgerOutcome::Success,
            )
            .detail("event", name(event).to_owned()),
        )
        .await?;
    Ok(true)
}

/// GET of the link: records `fetched` and returns the landing page.
pub async fn fetched(state: &AppState, meta: &RequestMeta, link: &Link) -> AppResult<Landing> {
    let (c, r) = resolve(state, link).await?;
    record(state, meta, &r, Column::Fetched).await?;
    let name = state
        .db
        .user_by_id(&state.keyring, &r.user_id)
        .await?
        .map(|u| u.display_name)
        .unwrap_or_default();
    Ok(view(&c, &r, link, training::render(&c.landing, &name, "")))
}

/// The tracking image: records `opened` (indicative only: scanners load images too).
pub async fn opened(state: &AppState, meta: &RequestMeta, link: &Link) -> AppResult<()> {
    let (_, r) = resolve(state, link).await?;
    record(state, meta, &r, Column::Opened).await?;
    Ok(())
}

/// The landing page's interaction beacon: records `clicked` if the click rule accepts
/// it. True if a click was recorded now; a replayed beacon records nothing.
pub async fn beacon(
    state: &AppState,
    meta: &RequestMeta,
    link: &Link,
    user_agent: &str,
) -> AppResult<bool> {
    let (_, r) = resolve(state, link).await?;
    let Some(sent_ms) = r.sent_ms else {
        return Ok(false);
    };
    let evidence = training::ClickEvidence {
        interaction_beacon: true,
        seconds_after_send: state.clock.now_ms().saturating_sub(sent_ms) / 1000,
        user_agent,
    };
    if !training::is_human_click(&evidence) {
        return Ok(false);
    }
    record(state, meta, &r, Column::Clicked).await
}

/// The landing page's form was sent: records `submitted`, nothing more (there is
/// nothing more: the form has no named fields and no body is read).
pub async fn submitted(state: &AppState, meta: &RequestMeta, link: &Link) -> AppResult<Landing> {
    let (c, r) = resolve(state, link).await?;
    record(state, meta, &r, Column::Submitted).await?;
    Ok(view(&c, &r, link, String::new()))
}

fn view(c: &CampaignRow, r: &RecipientRow, link: &Link, text: String) -> Landing {
    let signs = training::lure(&c.lure_id).map_or(GENERAL_SIGNS, |l| l.signs);
    Landing {
        text,
        signs: signs.to_vec(),
        path: format!("/t/{}/{}/{}", c.id, r.id, link.token),
    }
}
