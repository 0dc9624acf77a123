//! Lessons as people take them: quizzes scored and passes recorded by lesson version
//! (with the digest of the text read), policy acknowledgements by version, each
//! staff member's status against their yearly set, the gate before a first access to
//! patient data, and reminders that escalate from the person to the administrator to
//! the security officer. Every record written is in the ledger (never the answers).

use ledger::Outcome as LedgerOutcome;
use proto::ErrorCode;
use store::accounts::UserRow;
use store::training::{AcknowledgementRow, CompletionRow};
use training::{Audience, Completion, Escalation, Lesson, QuizResult, Status, TrainingError};

use crate::admin::require;
use crate::audit::{Actor, entry};
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::Role;
use crate::identity::session::CurrentUser;
use crate::policy::{Action, Target};
use crate::setup::new_id;
use crate::state::AppState;

const YEAR_MS: i64 = training::RENEWAL_DAYS * training::DAY_MS;

/// When training began for this practice: staff who existed before are due from then,
/// not from the day their account was made.
const SINCE_KEY: &str = "training.since";

fn user_error(e: TrainingError) -> AppError {
    let code = match e {
        TrainingError::UnknownLesson { .. } => ErrorCode::NotFound,
        TrainingError::VersionChanged { .. } => ErrorCode::Conflict,
        _ => ErrorCode::InvalidInput,
    };
    AppError::client(code, format!("{e}."))
}

/// The lessons meant for `role`.
pub fn lessons_for(role: Role) -> Vec<&'static Lesson> {
    if role == Role::Patient {
        training::patient_set()
    } else {
        training::staff_set()
    }
}

async fn since(state: &AppState) -> AppResult<i64> {
    if let Some(v) = state
        .db
        .server_state(SINCE_KEY)
        .await?
        .and_then(|v| v.parse().ok())
    {
        return Ok(v);
    }
    let now = state.clock.now_ms();
    state
        .db
        .set_server_state(SINCE_KEY, &now.to_string())
        .await?;
    Ok(now)
}

/// A staff member's training status now, from their passes.
pub async fn status_of(
    state: &AppState,
    user_id: &str,
    created_ms: i64,
    passes: &[CompletionRow],
) -> AppResult<Status> {
    Ok(status_since(
        state,
        user_id,
        created_ms,
        passes,
        since(state).await?,
    ))
}

/// [`status_of`] with the practice's training start already read (once for a list).
fn status_since(
    state: &AppState,
    user_id: &str,
    created_ms: i64,
    passes: &[CompletionRow],
    since_ms: i64,
) -> Status {
    let completions: Vec<Completion<'_>> = passes
        .iter()
        .filter(|c| c.user_id == user_id)
        .map(|c| Completion {
            lesson_id: &c.lesson_id,
            version: u32::try_from(c.version).unwrap_or(0),
            passed_ms: c.passed_ms,
        })
        .collect();
    training::staff_status(&completions, state.clock.now_ms(), created_ms.max(since_ms))
}

/// The gate: a staff member opens patient data only once they have passed their set.
pub async fn require_cleared(state: &AppState, who: &CurrentUser) -> AppResult<()> {
    if !state.config.training.required_before_records || who.role() == Role::Patient {
        return Ok(());
    }
    let cleared = |s: &AppState| {
        s.training_cleared
            .lock()
            .map(|c| c.contains(&who.user.id))
            .unwrap_or(false)
    };
    if cleared(state) {
        return Ok(());
    }
    let passes = state.db.completions(Some(&who.user.id)).await?;
    let status = status_of(state, &who.user.id, who.user.created_ms, &passes).await?;
    if status.cleared {
        if let Ok(mut c) = state.training_cleared.lock() {
            c.insert(who.user.id.clone());
        }
        return Ok(());
    }
    Err(AppError::client(
        ErrorCode::Forbidden,
        format!(
            "Before you open patient records, complete your security training ({} short lessons left) at /training.",
            status.missing.len()
        ),
    ))
}

/// Scores a quiz and, when passed, records the pass (once per lesson version a year).
pub async fn submit_quiz(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    lesson_id: &str,
    version: u32,
    answers: &[usize],
) -> AppResult<(QuizResult, bool)> {
    require(who, Action::TakeTraining, Target::Practice)?;
    let lesson = training::lesson(lesson_id).map_err(user_error)?;
    let for_patients = lesson.audience == Audience::Patient;
    if for_patients != (who.role() == Role::Patient) {
        return Err(AppError::client(
            ErrorCode::NotFound,
            "That lesson is not one of yours.",
        ));
    }
    let result = training::score(lesson, version, answers).map_err(user_error)?;
    let now = state.clock.now_ms();
    let actor = Actor::User(who.user.id.clone());
    let audit = entry(
        meta,
        &actor,
        if result.passed {
            "training.lesson_passed"
        } else {
            "training.quiz_failed"
        },
        &format!("lesson:{}", lesson.id),
        LedgerOutcome::Success,
    )
    .detail("version", version)
    .detail("percent", result.percent);
    if !result.passed {
        state.audit(audit).await?;
        return Ok((result, false));
    }
    let row = CompletionRow {
        id: new_id()?,
        user_id: who.user.id.clone(),
        lesson_id: lesson.id.to_owned(),
        version: i64::from(version),
        digest: lesson.content_digest(),
        percent: i64::from(result.percent),
        passed_ms: now,
    };
    let stored = state
        .audited(audit, async {
            Ok(state.db.insert_completion(&row, now - YEAR_MS).await?)
        })
        .await?;
    Ok((result, stored))
}

/// Acknowledges the staff policy at `version` (the one the person read).
pub async fn acknowledge(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    version: u32,
) -> AppResult<bool> {
    require(who, Action::TakeTraining, Target::Practice)?;
    if who.role() == Role::Patient {
        return Err(AppError::client(
            ErrorCode::Forbidden,
            "The policy is for staff.",
        ));
    }
    let p = training::policy();
    if version != p.version {
        return Err(AppError::client(
            ErrorCode::Conflict,
            format!(
                "The policy changed since you opened it (you read version {version}, it is now version {}): read it again.",
                p.version
            ),
        ));
    }
    let row = AcknowledgementRow {
        user_id: who.user.id.clone(),
        policy_id: p.id.to_owned(),
        version: i64::from(p.version),
        digest: p.content_digest(),
        acknowledged_ms: state.clock.now_ms(),
    };
    let audit = entry(
        meta,
        &Actor::User(who.user.id.clone()),
        "training.policy_acknowledged",
        &format!("policy:{}", p.id),
        LedgerOutcome::Success,
    )
    .detail("version", p.version);
    state
        .audited(audit, async {
            Ok(state.db.acknowledge_policy(&row).await?)
        })
        .await
}

/// One staff member's line on the administrator's page.
#[derive(Debug, Clone)]
pub struct StaffLine {
    pub user: UserRow,
    pub status: Status,
    pub escalation: Escalation,
    pub acknowledged: bool,
}

/// Every enabled staff member with their status (for administrators).
pub async fn staff(state: &AppState) -> AppResult<Vec<StaffLine>> {
    let users = state.db.list_users(&state.keyring).await?;
    let passes = state.db.completions(None).await?;
    let acks = state.db.acknowledgements(None).await?;
    let p = training::policy();
    let mut out = Vec::new();
    let since_ms = since(state).await?;
    for u in users
        .into_iter()
        .filter(|u| u.role != "patient" && u.disabled_ms.is_none())
    {
        let status = status_since(state, &u.id, u.created_ms, &passes, since_ms);
        let escalation = training::escalation(status.overdue_days);
        let acknowledged = acks
            .iter()
            .any(|a| a.user_id == u.id && a.policy_id == p.id && a.version == i64::from(p.version));
        out.push(StaffLine {
            user: u,
            status,
            escalation,
            acknowledged,
        });
    }
    Ok(out)
}

/// Sends the reminders now due, each level once per due date: to the person, then also
/// to the administrators, then also to the security officers. Returns how many went.
pub async fn send_reminders(state: &AppState, by: &Actor) -> AppResult<usize> {
    let lines = staff(state).await?;
    let now = state.clock.now_ms();
    let admins: Vec<&StaffLine> = lines
        .iter()
        .filter(|l| l.user.role == "practice_admin")
        .collect();
    let officers: Vec<&StaffLine> = lines
        .iter()
        .filter(|l| l.user.role == "security_officer")
        .collect();
    let mut sent = 0;
    for l in lines.iter().filter(|l| !l.status.complete) {
        let levels: &[(Escalation, &str)] = &[
            (Escalation::User, "user"),
            (Escalation::Admin, "admin"),
            (Escalation::SecurityOfficer, "security_officer"),
        ];
        for (level, name) in levels {
            if l.escalation < *level
                || !state
                    .db
                    .reminder_sent(&l.user.id, l.status.due_ms, name, now)
                    .await?
            {
                continue;
            }
            let to: Vec<&UserRow> = match level {
                Escalation::User => vec![&l.user],
                Escalation::Admin => admins.iter().map(|a| &a.user).collect(),
                _ => officers.iter().map(|o| &o.user).collect(),
            };
            let body = if *level == Escalation::User {
                format!(
                    "Hello {},\n\nYou have {} short security lessons to complete (about 3 minutes each). \
                     Staff complete them before opening patient records, and again each year.\n\n\
                     Take them at {}/training\n",
                    l.user.display_name,
                    l.status.missing.len(),
                    state.origin
                )
            } else {
                format!(
                    "{} is {} days overdue with security training ({} lessons left).\n\nSee who is overdue at {}/training/staff\n",
                    l.user.display_name,
                    l.status.overdue_days.max(0),
                    l.status.missing.len(),
                    state.origin
                )
            };
            for u in to {
                state.mailer.send_in_background(crate::mail::Email {
                    to_address: u.email.clone(),
                    to_name: Some(u.display_name.clone()),
                    subject: "Security training reminder".into(),
                    body: body.clone(),
                });
                sent += 1;
            }
            state
                .audit(
                    ledger::NewEntry::new(
                        by.as_ledger_name(),
                        "training.reminder_sent",
                        format!("user:{}", l.user.id),
                        LedgerOutcome::Success,
                    )
                    .detail("level", *name),
                )
                .await?;
        }
    }
    Ok(sent)
}

/// Sends due reminders for an administrator, now.
pub async fn remind_now(state: &AppState, who: &CurrentUser) -> AppResult<usize> {
    require(who, Action::ManageTraining, Target::Practice)?;
    send_reminders(state, &Actor::User(who.user.id.clone())).await
}

/// Sends due reminders every hour until shutdown.
pub async fn run(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    tick.tick().await;
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tick.tick() => {
                if let Err(e) = send_reminders(&state, &Actor::System).await {
                    tracing::warn!(error = %e.code.as_str(), "training reminders could not be sent");
                }
            }
        }
    }
}

/// Staff trained within their year, of all enabled staff: for the assurance check.
pub async fn completion_counts(state: &AppState) -> AppResult<(usize, usize)> {
    let lines = staff(state).await?;
    Ok((
        lines.len(),
        lines.iter().filter(|l| l.status.complete).count(),
    ))
}
