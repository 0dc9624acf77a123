//! The review cycle: a formal review of the whole risk assessment every
//! `assurance.review_months` (12 by default), plus reviews triggered by events that
//! change the risk picture (a new integration, an incident).

use ledger::Outcome as LedgerOutcome;
use proto::ErrorCode;
use store::assurance::ReviewRow;

use crate::admin::require;
use crate::assurance::actor;
use crate::audit::entry;
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::session::CurrentUser;
use crate::policy::{Action, Target};
use crate::setup::new_id;
use crate::state::AppState;

const MONTH_MS: i64 = 30 * 86_400_000 + 36_000_000; // a mean month, 30.4 days

/// A triggered review is due within a month of the event.
const TRIGGERED_DUE_MS: i64 = 30 * 86_400_000;

/// The reviews, opening the next scheduled one when none is open: due one cycle after
/// the last completed scheduled review (or after the practice was set up).
pub async fn reviews(state: &AppState) -> AppResult<Vec<ReviewRow>> {
    let mut all = state.db.reviews().await?;
    let open_scheduled = all
        .iter()
        .any(|r| r.kind == "scheduled" && r.completed_ms.is_none());
    if !open_scheduled {
        let since = all
            .iter()
            .filter(|r| r.kind == "scheduled")
            .filter_map(|r| r.completed_ms)
            .max();
        let since = match since {
            Some(t) => t,
            None => state
                .db
                .practice()
                .await?
                .map_or_else(|| state.clock.now_ms(), |p| p.created_ms),
        };
        let cycle = i64::from(state.config.assurance.review_months) * MONTH_MS;
        state
            .db
            .insert_review(&ReviewRow {
                id: new_id()?,
                kind: "scheduled".into(),
                reason: format!(
                    "formal review every {} months",
                    state.config.assurance.review_months
                ),
                opened_ms: state.clock.now_ms(),
                due_ms: since + cycle,
                completed_ms: None,
                completed_by: None,
                summary: None,
            })
            .await?;
        all = state.db.reviews().await?;
    }
    Ok(all)
}

/// Opens a review triggered by `reason` (written to the ledger by the caller's entry).
pub async fn trigger(state: &AppState, reason: &str) -> AppResult<String> {
    let now = state.clock.now_ms();
    let id = new_id()?;
    state
        .db
        .insert_review(&ReviewRow {
            id: id.clone(),
            kind: "triggered".into(),
            reason: reason.to_owned(),
            opened_ms: now,
            due_ms: now + TRIGGERED_DUE_MS,
            completed_ms: None,
            completed_by: None,
            summary: None,
        })
        .await?;
    Ok(id)
}

fn clean(text: &str, what: &str, max: usize) -> AppResult<String> {
    let t = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.chars().count() < 3 || t.chars().count() > max {
        return Err(AppError::client(
            ErrorCode::InvalidInput,
            format!("Give the {what} in 3 to {max} characters."),
        ));
    }
    Ok(t)
}

/// The security officer asks for a review (e.g. "new integration: pathology lab").
pub async fn request(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    reason: &str,
) -> AppResult<String> {
    require(who, Action::ManageAssurance, Target::Practice)?;
    let reason = clean(reason, "reason", 300)?;
    let audit = entry(
        meta,
        &actor(who),
        "assurance.review_triggered",
        "practice",
        LedgerOutcome::Success,
    )
    .detail("reason_chars", reason.chars().count() as u64);
    state.audited(audit, trigger(state, &reason)).await
}

/// Completes a review with its conclusions.
pub async fn complete(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    id: &str,
    summary: &str,
) -> AppResult<()> {
    require(who, Action::ManageAssurance, Target::Practice)?;
    let summary = clean(summary, "conclusions", 4000)?;
    let audit = entry(
        meta,
        &actor(who),
        "assurance.review_completed",
        &format!("review:{id}"),
        LedgerOutcome::Success,
    );
    let now = state.clock.now_ms();
    state
        .audited(audit, async {
            if state
                .db
                .complete_review(id, &who.user.id, &summary, now)
                .await?
            {
                Ok(())
            } else {
                Err(AppError::client(
                    ErrorCode::NotFound,
                    "There is no open review with that id.",
                ))
            }
        })
        .await
}
