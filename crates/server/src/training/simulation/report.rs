//! "Report suspicious": from the footer of a simulation, from any Telewarden
//! notification e-mail, and from an in-app notice.
//!
//! A report of a simulation is the outcome the programme wants, recorded as `reported`
//! for that recipient (once). Any other report may be a real attack imitating us — a
//! message that claims to be from Telewarden — so it raises a security alert for the
//! security officer and goes to the ledger. References are ids only; a simulation
//! report keeps the campaign and recipient, never the link's token.

use ledger::Outcome as LedgerOutcome;
use proto::ErrorCode;
use serde_json::json;
use store::alerts::{AlertRow, AlertState, Raised};
use store::phishing::{Column, ReportRow};

use crate::audit::{Actor, entry};
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::session::CurrentUser;
use crate::setup::new_id;
use crate::state::AppState;
use crate::training::simulation::is_hex_id;
use crate::training::simulation::tracking::{self, Link};

/// What a report link refers to.
#[derive(Debug, Clone)]
pub enum Reference {
    /// `sim.{campaign}.{recipient}.{token}`: the footer of a simulation.
    Simulation(Link),
    /// `mail.{notice}`: a Telewarden notification e-mail (it carries its notice's id).
    Mail(String),
    /// `notice.{notice}`: a notice in the app.
    Notice(String),
}

impl Reference {
    pub fn parse(text: &str) -> AppResult<Self> {
        let parts: Vec<&str> = text.split('.').collect();
        let parsed = match parts.as_slice() {
            ["sim", c, r, t] if [c, r, t].iter().all(|p| is_hex_id(p)) => {
                Some(Reference::Simulation(Link {
                    campaign: (*c).to_owned(),
                    recipient: (*r).to_owned(),
                    token: (*t).to_owned(),
                }))
            }
            ["mail", id] if is_hex_id(id) => Some(Reference::Mail((*id).to_owned())),
            ["notice", id] if is_hex_id(id) => Some(Reference::Notice((*id).to_owned())),
            _ => None,
        };
        parsed.ok_or_else(|| {
            AppError::client(
                ErrorCode::InvalidInput,
                "This report link is not complete. Forward the message to the practice's \
                 security officer instead, or report it from the notice in Telewarden.",
            )
        })
    }
}

/// What the person is told after reporting.
#[derive(Debug, Clone)]
pub enum Reported {
    /// It was a practice message: the signs to learn from.
    Simulation { signs: Vec<&'static str> },
    /// The security officer was alerted.
    Real,
}

/// A real report needs to know who reports; a simulation's link says who it was sent to.
pub fn needs_sign_in(reference: &Reference, who: Option<&CurrentUser>) -> AppResult<()> {
    match (reference, who) {
        (Reference::Simulation(_), _) | (_, Some(_)) => Ok(()),
        _ => Err(AppError::client(
            ErrorCode::SignInRequired,
            "Please sign in to Telewarden first (type its address yourself rather than \
             following a link), then report the message from the notice.",
        )),
    }
}

/// Records a report.
pub async fn report(
    state: &AppState,
    meta: &RequestMeta,
    who: Option<&CurrentUser>,
    reference: &Reference,
) -> AppResult<Reported> {
    needs_sign_in(reference, who)?;
    let now = state.clock.now_ms();
    match (reference, who) {
        (Reference::Simulation(link), _) => {
            let (c, r) = tracking::resolve(state, link).await?;
            if tracking::record(state, meta, &r, Column::Reported).await? {
                state
                    .db
                    .insert_suspicious_report(&ReportRow {
                        id: new_id()?,
                        user_id: r.user_id.clone(),
                        what: "email".into(),
                        reference: format!("sim.{}.{}", c.id, r.id),
                        reported_ms: now,
                        campaign_id: Some(c.id.clone()),
                    })
                    .await?;
            }
            let signs = training::lure(&c.lure_id).map_or_else(Vec::new, |l| l.signs.to_vec());
            Ok(Reported::Simulation { signs })
        }
        (Reference::Mail(id) | Reference::Notice(id), Some(who)) => {
            let (what, label) = match reference {
                Reference::Mail(_) => ("email", "mail"),
                _ => ("notice", "notice"),
            };
            // Only a notice of one's own can be reported (the e-mail names its notice):
            // the same answer whether it does not exist or is someone else's.
            let own = state
                .db
                .notices_of_user(&who.user.id, NOTICES_LOOKED_AT)
                .await?
                .iter()
                .any(|n| n.id == *id);
            if !own {
                return Err(AppError::client(
                    ErrorCode::NotFound,
                    "There is no such message of yours to report.",
                ));
            }
            real(state, meta, who, what, &format!("{label}.{id}"), now).await?;
            Ok(Reported::Real)
        }
        (_, None) => Err(AppError::internal("report without a reporter")),
    }
}

/// How many of a person's notices are looked through for the one reported.
const NOTICES_LOOKED_AT: i64 = 500;

/// A report that was not a simulation: kept, written to the ledger, and raised as an
/// alert (folded with the same person's earlier reports of the same message).
async fn real(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    what: &str,
    reference: &str,
    now: i64,
) -> AppResult<()> {
    let row = ReportRow {
        id: new_id()?,
        user_id: who.user.id.clone(),
        what: what.to_owned(),
        reference: reference.to_owned(),
        reported_ms: now,
        campaign_id: None,
    };
    let alert = AlertRow {
        id: new_id()?,
        // One ongoing alert per reporter: repeats fold into it (and tell nobody again)
        // until the security officer resolves it.
        dedupe_key: format!("suspicious_report:account:{}", who.user.id),
        kind: "suspicious_report".into(),
        severity: "medium".into(),
        subject_kind: "account".into(),
        subject: who.user.id.clone(),
        summary: format!(
            "Someone reported a message as suspicious ({what} {reference}). Check whether \
             Telewarden really sent it, and warn staff if a message is imitating it."
        ),
        evidence: json!({ "what": what, "reference": reference }).to_string(),
        score: 0.5,
        state: AlertState::Open,
        first_ms: now,
        last_ms: now,
        count: 1,
        acknowledged: None,
        resolved: None,
        note: None,
    };
    let audit = entry(
        meta,
        &Actor::User(who.user.id.clone()),
        "training.suspicious_reported",
        &format!("report:{}", row.id),
        LedgerOutcome::Success,
    )
    .detail("what", what.to_owned())
    .detail("reference", reference.to_owned());
    let raised = state
        .audited(audit, async {
            state.db.insert_suspicious_report(&row).await?;
            Ok(state.db.raise_alert(&alert).await?)
        })
        .await?;
    if raised == Raised::New {
        crate::security::alerts::tell_people(state, &alert).await?;
    }
    Ok(())
}
