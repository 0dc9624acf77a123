//! The guided questionnaire: the security officer answers or delegates each question to
//! a named staff member, who then sees it under "My assessment questions". "Don't know"
//! is an answer; it counts towards completeness and as a gap for the register.

use assurance::questionnaire;
use ledger::Outcome as LedgerOutcome;
use proto::ErrorCode;
use store::assurance::AnswerRow;

use crate::admin::require;
use crate::assurance::{actor, register};
use crate::audit::entry;
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::session::CurrentUser;
use crate::policy::{Action, Target};
use crate::state::AppState;

const MAX_NOTE: usize = 2000;

/// Answers `question_id`: allowed to the security officer, and to the staff member the
/// question is delegated to.
pub async fn answer(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    question_id: &str,
    raw_answer: &str,
    note: &str,
) -> AppResult<()> {
    require(who, Action::AnswerAssessment, Target::Practice)?;
    let bad =
        |e: assurance::AssuranceError| AppError::client(ErrorCode::InvalidInput, e.to_string());
    let q = questionnaire::question(question_id)
        .map_err(|e| AppError::client(ErrorCode::NotFound, e.to_string()))?;
    let (_, answer) = questionnaire::parse_answer(q.id, raw_answer.trim()).map_err(bad)?;
    let note = note.trim();
    if note.chars().count() > MAX_NOTE {
        return Err(AppError::client(
            ErrorCode::InvalidInput,
            "The note is longer than 2000 characters.",
        ));
    }
    let existing = state
        .db
        .answers()
        .await?
        .into_iter()
        .find(|a| a.question_id == q.id);
    let delegated_to = existing.as_ref().and_then(|a| a.delegated_to.clone());
    let officer = crate::admin::require(who, Action::ManageAssurance, Target::Practice).is_ok();
    if !officer && delegated_to.as_deref() != Some(who.user.id.as_str()) {
        return Err(AppError::client(
            ErrorCode::Forbidden,
            "This question is not delegated to you; the security officer can delegate it.",
        ));
    }
    let now = state.clock.now_ms();
    let row = AnswerRow {
        question_id: q.id.to_owned(),
        answer: Some(answer.as_str().to_owned()),
        note: note.to_owned(),
        delegated_to,
        answered_by: Some(who.user.id.clone()),
        answered_ms: Some(now),
        updated_ms: now,
    };
    let audit = entry(
        meta,
        &actor(who),
        "assurance.question_answered",
        &format!("question:{}", q.id),
        LedgerOutcome::Success,
    )
    .detail("answer", answer.as_str());
    state
        .audited(audit, async {
            state.db.put_answer(&row).await?;
            Ok(())
        })
        .await?;
    register::rescore(state, &format!("question {} answered", q.id)).await
}

/// Delegates `question_id` to the staff member `delegate_id` (empty: take it back).
pub async fn delegate(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    question_id: &str,
    delegate_id: &str,
) -> AppResult<()> {
    require(who, Action::ManageAssurance, Target::Practice)?;
    let q = questionnaire::question(question_id)
        .map_err(|e| AppError::client(ErrorCode::NotFound, e.to_string()))?;
    let delegate_id = delegate_id.trim();
    let delegate = if delegate_id.is_empty() {
        None
    } else {
        let user = state
            .db
            .user_by_id(&state.keyring, delegate_id)
            .await?
            .filter(|u| u.role != "patient" && u.disabled_ms.is_none())
            .ok_or_else(|| {
                AppError::client(
                    ErrorCode::InvalidInput,
                    "Questions can be delegated only to an enabled staff member.",
                )
            })?;
        Some(user.id)
    };
    let now = state.clock.now_ms();
    let existing = state
        .db
        .answers()
        .await?
        .into_iter()
        .find(|a| a.question_id == q.id);
    let row = match existing {
        Some(mut a) => {
            a.delegated_to = delegate.clone();
            a.updated_ms = now;
            a
        }
        None => AnswerRow {
            question_id: q.id.to_owned(),
            answer: None,
            note: String::new(),
            delegated_to: delegate.clone(),
            answered_by: None,
            answered_ms: None,
            updated_ms: now,
        },
    };
    let audit = entry(
        meta,
        &actor(who),
        "assurance.question_delegated",
        &format!("question:{}", q.id),
        LedgerOutcome::Success,
    )
    .detail(
        "to",
        delegate.map_or_else(|| "nobody".to_owned(), |d| format!("user:{d}")),
    );
    state
        .audited(audit, async {
            state.db.put_answer(&row).await?;
            Ok(())
        })
        .await
}
