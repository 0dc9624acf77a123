//! The risk register's pages: the register with its heat map, and one risk with its
//! linked checks, treatment, verification on evidence and history.

use askama::Template;
use assurance::register::{SCENARIOS, level_name, risk_level};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use proto::ErrorCode;
use serde::Deserialize;

use crate::assurance::register;
use crate::consult::schedule::practice_zone as zone;
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::session::SignedIn;
use crate::state::AppState;
use crate::web::assurance::{may_view, when};
use crate::web::forms::Form;
use crate::web::pages::{layout, render};
use crate::web::security::polyline;
use crate::web::templates::Layout;

struct RiskLine {
    id: String,
    title: &'static str,
    likelihood: &'static str,
    impact: &'static str,
    level: &'static str,
    level_n: i64,
    status: String,
    treatment: String,
    owner: String,
}

#[derive(Template)]
#[template(path = "risks.html")]
struct RisksPage {
    layout: Layout,
    risks: Vec<RiskLine>,
    /// Rows of the 5×5 heat map, likelihood 5 first: (likelihood, [(level, count)]).
    heat: Vec<(u8, Vec<(u8, usize)>)>,
}

fn level_of(n: i64) -> &'static str {
    level_name(u8::try_from(n).unwrap_or(3))
}

fn scenario_title(id: &str) -> &'static str {
    SCENARIOS
        .iter()
        .find(|s| s.id == id)
        .map_or("Unknown scenario", |s| s.title)
}

/// `GET /security/assurance/risks`.
pub async fn risks(State(state): State<AppState>, SignedIn(who): SignedIn) -> AppResult<Response> {
    may_view(&who)?;
    let rows = register::risks(&state).await?;
    let heat = (1..=5u8)
        .rev()
        .map(|l| {
            let cells = (1..=5u8)
                .map(|i| {
                    let n = rows
                        .iter()
                        .filter(|r| r.likelihood == i64::from(l) && r.impact == i64::from(i))
                        .count();
                    (risk_level(l, i), n)
                })
                .collect();
            (l, cells)
        })
        .collect();
    let page = RisksPage {
        layout: layout(&state, Some(&who)).await?,
        risks: rows
            .into_iter()
            .map(|r| RiskLine {
                title: scenario_title(&r.scenario_id),
                likelihood: level_of(r.likelihood),
                impact: level_of(r.impact),
                level: level_of(r.level),
                level_n: r.level,
                status: r.status,
                treatment: r.treatment.unwrap_or_else(|| "not decided".into()),
                owner: r.owner.unwrap_or_default(),
                id: r.id,
            })
            .collect(),
        heat,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Template)]
#[template(path = "risk.html")]
struct RiskPage {
    layout: Layout,
    id: String,
    scenario: &'static assurance::register::Scenario,
    row: store::assurance::RiskRow,
    level: &'static str,
    likelihood: &'static str,
    checks: Vec<(&'static str, &'static str, String)>,
    history: Vec<(String, &'static str, &'static str, &'static str, String)>,
    trend: String,
    due: String,
    accept_until: String,
    verified: Option<String>,
}

/// `GET /security/assurance/risks/{id}`.
pub async fn risk(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
) -> AppResult<Response> {
    may_view(&who)?;
    let row = state
        .db
        .risk(&id)
        .await?
        .ok_or_else(|| AppError::client(ErrorCode::NotFound, "There is no such risk."))?;
    let scenario = assurance::register::scenario(&row.scenario_id)
        .map_err(|e| AppError::internal(e.to_string()))?;
    let tz = zone(&state).await?;
    let outcomes = register::latest_outcomes(&state).await?;
    let history = state.db.risk_history(&row.id).await?;
    let trend = polyline(
        &history
            .iter()
            .map(|p| u64::try_from(p.level).unwrap_or(0))
            .collect::<Vec<_>>(),
    );
    let page = RiskPage {
        layout: layout(&state, Some(&who)).await?,
        id: row.id.clone(),
        scenario,
        level: level_of(row.level),
        likelihood: level_of(row.likelihood),
        checks: register::linked_checks(&row.scenario_id)
            .into_iter()
            .map(|c| {
                (
                    c.key(),
                    c.spec().title,
                    outcomes
                        .get(c.key())
                        .map_or("not run", |o| o.as_str())
                        .to_owned(),
                )
            })
            .collect(),
        history: history
            .iter()
            .map(|p| {
                (
                    when(p.at_ms, &tz),
                    level_of(p.likelihood),
                    level_of(p.impact),
                    level_of(p.level),
                    p.reason.clone(),
                )
            })
            .collect(),
        trend,
        due: row
            .due_ms
            .map(|d| crate::consult::time::day(d, &tz))
            .unwrap_or_default(),
        accept_until: row
            .accept_until_ms
            .map(|d| crate::consult::time::day(d, &tz))
            .unwrap_or_default(),
        verified: row.verified_ms.map(|v| {
            format!(
                "{} — {}",
                when(v, &tz),
                row.verified_by.clone().unwrap_or_default()
            )
        }),
        row,
    };
    Ok(render(&page)?.into_response())
}

/// `POST /security/assurance/risks/{id}/treatment`.
pub async fn treat(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<register::TreatmentForm>,
) -> AppResult<Response> {
    register::treat(&state, &meta, &who, &id, &f).await?;
    Ok(Redirect::to(&format!("/security/assurance/risks/{id}")).into_response())
}

#[derive(Debug, Deserialize)]
pub struct EvidenceForm {
    #[serde(default)]
    evidence: String,
}

/// `POST /security/assurance/risks/{id}/verify`.
pub async fn verify(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<EvidenceForm>,
) -> AppResult<Response> {
    register::verify_with_evidence(&state, &meta, &who, &id, &f.evidence).await?;
    Ok(Redirect::to(&format!("/security/assurance/risks/{id}")).into_response())
}
