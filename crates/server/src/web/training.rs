//! The training pages: a learner's lessons, one lesson with its quiz and the result,
//! the staff policy to acknowledge; for administrators and security officers, who is
//! overdue (with "send reminders now") and the completion figures.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use training::{Audience, Block, Lesson, Moment, QuizResult, Rate};

use crate::admin::require;
use crate::consult::schedule::practice_zone as zone;
use crate::error::AppResult;
use crate::http::meta::RequestMeta;
use crate::identity::Role;
use crate::identity::session::{CurrentUser, SignedIn};
use crate::policy::{Action, Target};
use crate::state::AppState;
use crate::training::learning;
use crate::web::forms::Form;
use crate::web::pages::{layout, render};
use crate::web::templates::Layout;

/// A lesson's text as the templates show it: paragraphs, and bullet lists.
pub struct Part {
    pub text: &'static str,
    pub bullets: &'static [&'static str],
}

fn parts(blocks: &'static [Block]) -> Vec<Part> {
    blocks
        .iter()
        .map(|b| match b {
            Block::Paragraph(t) => Part {
                text: t,
                bullets: &[],
            },
            Block::Bullets(items) => Part {
                text: "",
                bullets: items,
            },
        })
        .collect()
}

struct LessonLine {
    id: &'static str,
    title: &'static str,
    minutes: u8,
    passed: Option<String>,
}

#[derive(Template)]
#[template(path = "training.html")]
struct TrainingPage {
    layout: Layout,
    staff: bool,
    lessons: Vec<LessonLine>,
    cleared: bool,
    complete: bool,
    due: String,
    policy_acknowledged: bool,
}

/// `GET /training`.
pub async fn home(State(state): State<AppState>, SignedIn(who): SignedIn) -> AppResult<Response> {
    require(&who, Action::TakeTraining, Target::Practice)?;
    let tz = zone(&state).await?;
    let passes = state.db.completions(Some(&who.user.id)).await?;
    let staff = who.role() != Role::Patient;
    let lessons = learning::lessons_for(who.role())
        .into_iter()
        .map(|l| LessonLine {
            id: l.id,
            title: l.title,
            minutes: l.minutes,
            passed: passes
                .iter()
                .filter(|p| p.lesson_id == l.id)
                .map(|p| p.passed_ms)
                .max()
                .map(|t| crate::consult::time::day(t, &tz)),
        })
        .collect();
    let status = learning::status_of(&state, &who.user.id, who.user.created_ms, &passes).await?;
    let p = training::policy();
    let acks = state.db.acknowledgements(Some(&who.user.id)).await?;
    let page = TrainingPage {
        layout: layout(&state, Some(&who)).await?,
        staff,
        lessons,
        cleared: status.cleared,
        complete: status.complete,
        due: crate::consult::time::day(status.due_ms, &tz),
        policy_acknowledged: acks
            .iter()
            .any(|a| a.policy_id == p.id && a.version == i64::from(p.version)),
    };
    Ok(render(&page)?.into_response())
}

fn mine(who: &CurrentUser, id: &str) -> AppResult<&'static Lesson> {
    learning::lessons_for(who.role())
        .into_iter()
        .find(|l| l.id == id)
        .ok_or_else(|| {
            crate::error::AppError::client(
                proto::ErrorCode::NotFound,
                "There is no such lesson for you.",
            )
        })
}

#[derive(Template)]
#[template(path = "lesson.html")]
struct LessonPage {
    layout: Layout,
    lesson: &'static Lesson,
    parts: Vec<Part>,
    result: Option<QuizResult>,
    recorded: bool,
}

/// `GET /training/lessons/{id}`.
pub async fn lesson(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
) -> AppResult<Response> {
    require(&who, Action::TakeTraining, Target::Practice)?;
    let lesson = mine(&who, &id)?;
    let page = LessonPage {
        layout: layout(&state, Some(&who)).await?,
        lesson,
        parts: parts(lesson.body),
        result: None,
        recorded: false,
    };
    Ok(render(&page)?.into_response())
}

/// `POST /training/lessons/{id}`: the quiz answers (`version`, `q0`, `q1`, …).
pub async fn quiz(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    let lesson = mine(&who, &id)?;
    let bad =
        |m: &str| crate::error::AppError::client(proto::ErrorCode::InvalidInput, m.to_owned());
    let version: u32 = f
        .get("version")
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| bad("The lesson's version is missing: open the lesson again."))?;
    let mut answers = Vec::new();
    for i in 0..lesson.quiz.len() {
        let a = f
            .get(&format!("q{i}"))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| {
                bad(&format!(
                    "Answer question {} before checking your answers.",
                    i + 1
                ))
            })?;
        answers.push(a);
    }
    let (result, recorded) =
        learning::submit_quiz(&state, &meta, &who, lesson.id, version, &answers).await?;
    let page = LessonPage {
        layout: layout(&state, Some(&who)).await?,
        lesson,
        parts: parts(lesson.body),
        result: Some(result),
        recorded,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Template)]
#[template(path = "training_policy.html")]
struct PolicyPage {
    layout: Layout,
    title: &'static str,
    version: u32,
    parts: Vec<Part>,
    acknowledged: Option<String>,
}

/// `GET /training/policy`.
pub async fn policy(State(state): State<AppState>, SignedIn(who): SignedIn) -> AppResult<Response> {
    require(&who, Action::TakeTraining, Target::Practice)?;
    if who.role() == Role::Patient {
        return Err(crate::error::AppError::client(
            proto::ErrorCode::NotFound,
            "The practice policy is for staff.",
        ));
    }
    let p = training::policy();
    let tz = zone(&state).await?;
    let acks = state.db.acknowledgements(Some(&who.user.id)).await?;
    let page = PolicyPage {
        layout: layout(&state, Some(&who)).await?,
        title: p.title,
        version: p.version,
        parts: parts(p.text),
        acknowledged: acks
            .iter()
            .find(|a| a.policy_id == p.id && a.version == i64::from(p.version))
            .map(|a| crate::consult::time::day(a.acknowledged_ms, &tz)),
    };
    Ok(render(&page)?.into_response())
}

#[derive(Debug, serde::Deserialize)]
pub struct AckForm {
    #[serde(default)]
    version: String,
}

/// `POST /training/policy`.
pub async fn acknowledge(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Form(f): Form<AckForm>,
) -> AppResult<Response> {
    let version = f.version.trim().parse().unwrap_or(0);
    learning::acknowledge(&state, &meta, &who, version).await?;
    Ok(Redirect::to("/training/policy").into_response())
}

struct StaffView {
    name: String,
    role: String,
    done: usize,
    total: usize,
    due: String,
    overdue_days: i64,
    escalation: &'static str,
    acknowledged: bool,
}

#[derive(Template)]
#[template(path = "training_staff.html")]
struct StaffPage {
    layout: Layout,
    staff: Vec<StaffView>,
    completion: Rate,
    acknowledgement: Rate,
    per_lesson: Vec<(&'static str, usize)>,
    sent: Option<usize>,
}

async fn staff_page(
    state: &AppState,
    who: &CurrentUser,
    sent: Option<usize>,
) -> AppResult<Response> {
    require(who, Action::ManageTraining, Target::Practice)?;
    let tz = zone(state).await?;
    let lines = learning::staff(state).await?;
    let total = training::staff_set().len();
    let passes = state.db.completions(None).await?;
    let staff_ids: Vec<&str> = lines.iter().map(|l| l.user.id.as_str()).collect();
    let statuses: Vec<training::Status> = lines.iter().map(|l| l.status.clone()).collect();
    let page = StaffPage {
        layout: layout(state, Some(who)).await?,
        completion: training::completion_rate(&statuses),
        acknowledgement: training::proportion(
            lines.iter().filter(|l| l.acknowledged).count() as u64,
            lines.len() as u64,
        ),
        per_lesson: training::staff_set()
            .into_iter()
            .map(|l| {
                let n = staff_ids
                    .iter()
                    .filter(|id| {
                        passes
                            .iter()
                            .any(|p| p.user_id == **id && p.lesson_id == l.id)
                    })
                    .count();
                (l.title, n)
            })
            .collect(),
        staff: lines
            .into_iter()
            .map(|l| StaffView {
                done: total.saturating_sub(l.status.missing.len()),
                total,
                due: crate::consult::time::day(l.status.due_ms, &tz),
                overdue_days: l.status.overdue_days,
                escalation: match l.escalation {
                    training::Escalation::None => "",
                    training::Escalation::User => "reminded",
                    training::Escalation::Admin => "administrator told",
                    training::Escalation::SecurityOfficer => "security officer told",
                },
                acknowledged: l.acknowledged,
                name: l.user.display_name,
                role: l.user.role.replace('_', " "),
            })
            .collect(),
        sent,
    };
    Ok(render(&page)?.into_response())
}

/// `GET /training/staff`: who is trained, who is overdue.
pub async fn staff(State(state): State<AppState>, SignedIn(who): SignedIn) -> AppResult<Response> {
    staff_page(&state, &who, None).await
}

/// `POST /training/staff/remind`: send the reminders due now.
pub async fn remind(State(state): State<AppState>, SignedIn(who): SignedIn) -> AppResult<Response> {
    let sent = learning::remind_now(&state, &who).await?;
    staff_page(&state, &who, Some(sent)).await
}

/// The training card of the home page: staff not yet cleared are told; patients are
/// offered one short lesson (never required).
pub async fn home_card(state: &AppState, who: &CurrentUser) -> AppResult<Option<(String, String)>> {
    let passes = state.db.completions(Some(&who.user.id)).await?;
    if who.role() == Role::Patient {
        let done: Vec<&str> = passes.iter().map(|p| p.lesson_id.as_str()).collect();
        let offer = training::offer_for_patient(Moment::Enrolled, &done)
            .or_else(|| training::offer_for_patient(Moment::BeforeFirstConsult, &done));
        return Ok(offer.filter(|l| l.audience == Audience::Patient).map(|l| {
            (
                format!("/training/lessons/{}", l.id),
                format!("A {}-minute read, if you like: {}", l.minutes, l.title),
            )
        }));
    }
    let status = learning::status_of(state, &who.user.id, who.user.created_ms, &passes).await?;
    Ok((!status.complete).then(|| {
        (
            "/training".to_owned(),
            if status.cleared {
                "Your yearly security refresher is due: a few short lessons.".to_owned()
            } else {
                if state.config.training.required_before_records {
                    format!("Complete your security training ({} short lessons) before you open patient records.", status.missing.len())
                } else {
                    format!("Please complete your security training ({} short lessons).", status.missing.len())
                }
            },
        )
    }))
}

/// For a patient with a consult booked: the lesson on checking a consult link (or the
/// next one suited), offered on the appointment page.
pub async fn before_consult(
    state: &AppState,
    who: &CurrentUser,
) -> AppResult<Option<(String, String)>> {
    if who.role() != Role::Patient {
        return Ok(None);
    }
    let passes = state.db.completions(Some(&who.user.id)).await?;
    let done: Vec<&str> = passes.iter().map(|p| p.lesson_id.as_str()).collect();
    Ok(
        training::offer_for_patient(Moment::BeforeFirstConsult, &done).map(|l| {
            (
                format!("/training/lessons/{}", l.id),
                format!(
                    "Before your consult, if you like: {} ({} minutes)",
                    l.title, l.minutes
                ),
            )
        }),
    )
}
