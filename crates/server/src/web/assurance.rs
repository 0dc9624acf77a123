//! The security officer's assessment pages: the dashboard of automated checks (what
//! fails now, what changed since the previous run), a check's history, the guided
//! questionnaire (and a delegate's own questions), and reviews. The register's pages are
//! in `risks`, the reports' in `reports`. Handlers are thin: parse, call
//! `crate::assurance`, render or redirect.

use std::collections::BTreeMap;

use askama::Template;
use assurance::catalogue::{CHECKS, CheckId};
use assurance::evaluate::Outcome;
use assurance::questionnaire;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use proto::ErrorCode;
use serde::Deserialize;
use serde_json::{Value, json};
use store::assurance::ResultRow;

use crate::admin::require;
use crate::assurance::{answers, checks, register, reports, reviews};
use crate::consult::schedule::practice_zone as zone;
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::session::{CurrentUser, SignedIn};
use crate::policy::{Action, Target};
use crate::state::AppState;
use crate::web::forms::Form;
use crate::web::pages::{layout, render};
use crate::web::templates::Layout;

pub(crate) fn may_view(who: &CurrentUser) -> AppResult<()> {
    require(who, Action::ViewSecurity, Target::Practice)
}

pub(crate) fn when(ms: i64, tz: &jiff::tz::TimeZone) -> String {
    crate::consult::time::long(ms, tz)
}

/// One check's line on the dashboard.
pub struct CheckLine {
    pub key: &'static str,
    pub title: &'static str,
    pub outcome: &'static str,
    pub summary: String,
    pub observed: String,
    pub safeguards: String,
    pub evidence: Vec<(String, String)>,
    pub changed: Option<&'static str>,
}

fn safeguards(c: &assurance::catalogue::CheckSpec) -> String {
    let mut s = vec![format!("HIPAA {}", c.hipaa.join(", "))];
    if let Some(e) = c.essential_eight {
        s.push(format!("Essential Eight: {e}"));
    }
    if let Some(r) = c.racgp {
        s.push(format!("RACGP {r}"));
    }
    s.join(" · ")
}

fn evidence_of(r: &ResultRow) -> Vec<(String, String)> {
    serde_json::from_str(&r.evidence).unwrap_or_default()
}

/// The latest result per check, and the outcome each had in the run before it.
async fn lines(state: &AppState, tz: &jiff::tz::TimeZone) -> AppResult<Vec<CheckLine>> {
    let latest = state.db.latest_check_results().await?;
    let mut out = Vec::new();
    for c in CHECKS {
        let r = latest.iter().find(|r| r.check_id == c.key);
        let previous = match r {
            Some(_) => state
                .db
                .check_history(c.key, 2)
                .await?
                .get(1)
                .map(|p| p.outcome.clone()),
            None => None,
        };
        let outcome = r
            .and_then(|r| Outcome::parse(&r.outcome))
            .map_or("not run", Outcome::as_str);
        let changed = match (previous.as_deref(), outcome) {
            (Some(p), now) if p != now => Some(match now {
                "pass" => "now passing",
                "fail" => "newly failing",
                _ => "could not run this time",
            }),
            _ => None,
        };
        out.push(CheckLine {
            key: c.key,
            title: c.title,
            outcome,
            summary: r.map_or_else(|| "Not run yet.".to_owned(), |r| r.summary.clone()),
            observed: r.map_or_else(String::new, |r| when(r.observed_ms, tz)),
            safeguards: safeguards(c),
            evidence: r.map(evidence_of).unwrap_or_default(),
            changed,
        });
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "assurance.html")]
struct DashboardPage {
    layout: Layout,
    completeness: u8,
    failing: usize,
    lines: Vec<CheckLine>,
    reviews: Vec<ReviewLine>,
    last_run: Option<String>,
}

struct ReviewLine {
    id: String,
    kind: String,
    reason: String,
    due: String,
    overdue: bool,
    completed: Option<String>,
    summary: String,
}

async fn completeness(state: &AppState, who: &CurrentUser) -> AppResult<u8> {
    reports::completeness_now(state, who).await
}

async fn review_lines(state: &AppState, tz: &jiff::tz::TimeZone) -> AppResult<Vec<ReviewLine>> {
    let now = state.clock.now_ms();
    Ok(reviews::reviews(state)
        .await?
        .into_iter()
        .map(|r| ReviewLine {
            overdue: r.completed_ms.is_none() && r.due_ms < now,
            due: crate::consult::time::day(r.due_ms, tz),
            completed: r.completed_ms.map(|c| crate::consult::time::day(c, tz)),
            summary: r.summary.unwrap_or_default(),
            id: r.id,
            kind: r.kind,
            reason: r.reason,
        })
        .collect())
}

/// `GET /security/assurance`.
pub async fn dashboard(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
) -> AppResult<Response> {
    may_view(&who)?;
    let tz = zone(&state).await?;
    let lines = lines(&state, &tz).await?;
    let page = DashboardPage {
        layout: layout(&state, Some(&who)).await?,
        completeness: completeness(&state, &who).await?,
        failing: lines.iter().filter(|l| l.outcome != "pass").count(),
        lines,
        reviews: review_lines(&state, &tz).await?,
        last_run: state
            .db
            .check_runs(1)
            .await?
            .first()
            .map(|r| format!("{} ({})", when(r.started_ms, &tz), r.trigger)),
    };
    Ok(render(&page)?.into_response())
}

/// `GET /security/assurance.json`: the same, for scripts and tests.
pub async fn dashboard_json(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
) -> AppResult<Json<Value>> {
    may_view(&who)?;
    let latest = state.db.latest_check_results().await?;
    let risks = register::risks(&state).await?;
    Ok(Json(json!({
        "completeness": completeness(&state, &who).await?,
        "results": latest.iter().map(|r| json!({
            "check": r.check_id, "outcome": r.outcome, "summary": r.summary,
            "evidence": evidence_of(r), "observed_ms": r.observed_ms, "run": r.run_id,
        })).collect::<Vec<_>>(),
        "risks": risks.iter().map(|r| json!({
            "id": r.id, "scenario": r.scenario_id, "likelihood": r.likelihood, "impact": r.impact,
            "level": r.level, "status": r.status, "treatment": r.treatment, "verified_by": r.verified_by,
        })).collect::<Vec<_>>(),
    })))
}

#[derive(Debug, Deserialize)]
pub struct RunForm {
    #[serde(default)]
    check: Option<String>,
}

/// `POST /security/assurance/run`: run every check now (or one).
pub async fn run(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Form(f): Form<RunForm>,
) -> AppResult<Response> {
    checks::run_now(&state, &meta, &who, f.check.as_deref()).await?;
    Ok(Redirect::to("/security/assurance").into_response())
}

#[derive(Template)]
#[template(path = "assurance_check.html")]
struct CheckPage {
    layout: Layout,
    key: &'static str,
    title: &'static str,
    pass_when: &'static str,
    safeguards: String,
    history: Vec<HistoryLine>,
}

/// One past result: when, outcome, summary, evidence.
type HistoryLine = (String, String, String, Vec<(String, String)>);

/// `GET /security/assurance/checks/{key}`: one check, its evidence over time.
pub async fn check(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
    Path(key): Path<String>,
) -> AppResult<Response> {
    may_view(&who)?;
    let id =
        CheckId::parse(&key).map_err(|e| AppError::client(ErrorCode::NotFound, e.to_string()))?;
    let spec = id.spec();
    let tz = zone(&state).await?;
    let history = state
        .db
        .check_history(spec.key, 50)
        .await?
        .iter()
        .map(|r| {
            (
                when(r.observed_ms, &tz),
                r.outcome.clone(),
                r.summary.clone(),
                evidence_of(r),
            )
        })
        .collect();
    let page = CheckPage {
        layout: layout(&state, Some(&who)).await?,
        key: spec.key,
        title: spec.title,
        pass_when: spec.pass_when,
        safeguards: safeguards(spec),
        history,
    };
    Ok(render(&page)?.into_response())
}

struct QuestionLine {
    id: &'static str,
    text: &'static str,
    help: &'static str,
    references: String,
    options: Vec<(&'static str, &'static str, bool)>,
    note: String,
    delegate: Option<String>,
    answered: Option<String>,
}

struct Group {
    name: &'static str,
    questions: Vec<QuestionLine>,
}

#[derive(Template)]
#[template(path = "questionnaire.html")]
struct QuestionnairePage {
    layout: Layout,
    officer: bool,
    progress: u8,
    answered: usize,
    total: usize,
    groups: Vec<Group>,
    staff: Vec<(String, String)>,
}

async fn questionnaire_page(
    state: &AppState,
    who: &CurrentUser,
    only_mine: bool,
) -> AppResult<Response> {
    require(who, Action::AnswerAssessment, Target::Practice)?;
    let officer = require(who, Action::ManageAssurance, Target::Practice).is_ok();
    if !only_mine && !officer {
        return Err(AppError::client(
            ErrorCode::Forbidden,
            "The questionnaire is the security officer's; your delegated questions are under Assessment questions.",
        ));
    }
    let tz = zone(state).await?;
    let rows: BTreeMap<String, store::assurance::AnswerRow> = state
        .db
        .answers()
        .await?
        .into_iter()
        .map(|a| (a.question_id.clone(), a))
        .collect();
    let users = state.db.list_users(&state.keyring).await?;
    let name_of = |id: &str| {
        users
            .iter()
            .find(|u| u.id == id)
            .map_or_else(|| "someone".to_owned(), |u| u.display_name.clone())
    };
    let answers = register::answer_map(state).await?;
    let progress = questionnaire::progress(&answers);
    let groups = questionnaire::groups()
        .into_iter()
        .map(|g| Group {
            name: g,
            questions: questionnaire::questions()
                .iter()
                .filter(|q| q.group == g)
                .filter(|q| {
                    !only_mine
                        || rows.get(q.id).and_then(|r| r.delegated_to.as_deref())
                            == Some(who.user.id.as_str())
                })
                .map(|q| {
                    let row = rows.get(q.id);
                    let current = answers.get(q.id).copied();
                    QuestionLine {
                        id: q.id,
                        text: q.text,
                        help: q.help,
                        references: q.references.join("; "),
                        options: q
                            .options
                            .iter()
                            .map(|a| (a.as_str(), a.label(), Some(*a) == current))
                            .collect(),
                        note: row.map(|r| r.note.clone()).unwrap_or_default(),
                        delegate: row.and_then(|r| r.delegated_to.clone()),
                        answered: row.and_then(|r| {
                            Some(format!(
                                "{} by {}",
                                when(r.answered_ms?, &tz),
                                name_of(r.answered_by.as_deref()?)
                            ))
                        }),
                    }
                })
                .collect(),
        })
        .filter(|g| !g.questions.is_empty())
        .collect();
    let page = QuestionnairePage {
        layout: layout(state, Some(who)).await?,
        officer: officer && !only_mine,
        progress: progress.percent,
        answered: progress.answered,
        total: progress.total,
        groups,
        staff: users
            .iter()
            .filter(|u| u.role != "patient" && u.disabled_ms.is_none())
            .map(|u| (u.id.clone(), u.display_name.clone()))
            .collect(),
    };
    Ok(render(&page)?.into_response())
}

/// `GET /security/assurance/questionnaire`.
pub async fn questionnaire(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
) -> AppResult<Response> {
    questionnaire_page(&state, &who, false).await
}

/// `GET /assessment`: the questions delegated to the signed-in staff member.
pub async fn my_questions(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
) -> AppResult<Response> {
    questionnaire_page(&state, &who, true).await
}

#[derive(Debug, Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    answer: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    back: Option<String>,
}

/// `POST /assessment/questions/{id}/answer`.
pub async fn answer(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<AnswerForm>,
) -> AppResult<Response> {
    answers::answer(&state, &meta, &who, &id, &f.answer, &f.note).await?;
    let back = if f.back.as_deref() == Some("mine") {
        "/assessment"
    } else {
        "/security/assurance/questionnaire"
    };
    Ok(Redirect::to(&format!(
        "{back}#q-{}",
        questionnaire::question(&id).map_or("", |q| q.id)
    ))
    .into_response())
}

#[derive(Debug, Deserialize)]
pub struct DelegateForm {
    #[serde(default)]
    user: String,
}

/// `POST /security/assurance/questions/{id}/delegate`.
pub async fn delegate(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<DelegateForm>,
) -> AppResult<Response> {
    answers::delegate(&state, &meta, &who, &id, &f.user).await?;
    Ok(Redirect::to("/security/assurance/questionnaire").into_response())
}

#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    summary: String,
}

/// `POST /security/assurance/reviews`: ask for a review (a new integration, a change).
pub async fn request_review(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Form(f): Form<ReviewForm>,
) -> AppResult<Response> {
    reviews::request(&state, &meta, &who, &f.reason).await?;
    Ok(Redirect::to("/security/assurance").into_response())
}

/// `POST /security/assurance/reviews/{id}/complete`.
pub async fn complete_review(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<ReviewForm>,
) -> AppResult<Response> {
    reviews::complete(&state, &meta, &who, &id, &f.summary).await?;
    Ok(Redirect::to("/security/assurance").into_response())
}
