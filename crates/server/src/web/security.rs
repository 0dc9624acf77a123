//! The security officer's pages: the security dashboard (live charts, alerts, blocked
//! addresses, the riskiest identities, data transfer per user) and the health page.
//! Charts are SVG drawn here; `security.js` refreshes them from the JSON view.

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use proto::ErrorCode;
use serde::Deserialize;
use serde_json::{Value, json};
use store::alerts::{AlertRow, AlertState};

use crate::admin::require;
use crate::error::{AppResult, Fault};
use crate::http::meta::RequestMeta;
use crate::identity::session::{CurrentUser, SignedIn};
use crate::policy::{Action, Target};
use crate::security::{actions, alerts, health};
use crate::state::AppState;
use crate::web::forms::Form;
use crate::web::pages::{layout, render};
use crate::web::templates::Layout;

/// Alerts listed on the dashboard.
const LISTED_ALERTS: i64 = 100;

/// One chart: a title, the SVG polyline points, the latest and peak values.
struct Chart {
    id: &'static str,
    title: &'static str,
    points: String,
    latest: u64,
    peak: u64,
}

/// Chart drawing area, in SVG units.
const CHART_W: f64 = 600.0;
const CHART_H: f64 = 120.0;

/// The polyline of `values` scaled into the chart (the peak at the top).
pub fn polyline(values: &[u64]) -> String {
    let peak = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = if values.len() > 1 {
        CHART_W / (values.len() - 1) as f64
    } else {
        0.0
    };
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1}",
                i as f64 * step,
                CHART_H - (*v as f64 / peak) * (CHART_H - 4.0) - 2.0
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn chart(id: &'static str, title: &'static str, values: &[u64]) -> Chart {
    Chart {
        id,
        title,
        points: polyline(values),
        latest: values.last().copied().unwrap_or(0),
        peak: values.iter().copied().max().unwrap_or(0),
    }
}

struct AlertView {
    id: String,
    severity: String,
    kind: String,
    subject: String,
    summary: String,
    evidence: Vec<(String, String)>,
    first: String,
    last: String,
    count: i64,
    state: &'static str,
    /// An account the sentinel holds now: offer to release it.
    held_account: Option<String>,
    /// A source blocked now: offer to unblock it.
    blocked_source: Option<String>,
    note: Option<String>,
}

fn alert_view(state: &AppState, a: AlertRow) -> AlertView {
    let evidence = serde_json::from_str::<serde_json::Map<String, Value>>(&a.evidence)
        .map(|m| {
            m.into_iter()
                .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
                .collect()
        })
        .unwrap_or_default();
    let held_account = (a.subject_kind == "account" && state.sentinel.is_held(&a.subject))
        .then(|| a.subject.clone());
    let blocked_source = (a.subject_kind == "source"
        && a.subject
            .parse()
            .is_ok_and(|ip| state.sentinel.is_blocked(ip)))
    .then(|| a.subject.clone());
    AlertView {
        id: a.id,
        severity: a.severity,
        kind: a.kind.replace('_', " "),
        subject: format!("{} {}", a.subject_kind, a.subject),
        summary: a.summary,
        evidence,
        first: clock::rfc3339_ms(a.first_ms),
        last: clock::rfc3339_ms(a.last_ms),
        count: a.count,
        state: a.state.as_str(),
        held_account,
        blocked_source,
        note: a.note,
    }
}

#[derive(Template)]
#[template(path = "security.html")]
struct DashboardPage {
    layout: Layout,
    flash: Option<String>,
    error: Option<String>,
    report: health::HealthReport,
    charts: Vec<Chart>,
    alerts: Vec<AlertView>,
    risky: Vec<(String, String, String, String)>,
    transfers: Vec<(String, u64, u64)>,
}

#[derive(Template)]
#[template(path = "security_health.html")]
struct HealthPage {
    layout: Layout,
    report: health::HealthReport,
    text: String,
}

fn may_view(who: &CurrentUser) -> AppResult<()> {
    require(who, Action::ViewSecurity, Target::Practice)
}

/// `GET /security`: the dashboard.
pub async fn dashboard(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
) -> AppResult<Response> {
    dashboard_page(&state, &who, None, None).await
}

async fn dashboard_page(
    state: &AppState,
    who: &CurrentUser,
    flash: Option<String>,
    error: Option<String>,
) -> AppResult<Response> {
    may_view(who)?;
    let d = state.sentinel.dashboard();
    let report = health::report(state).await?;
    let listed = state.db.alerts(true, LISTED_ALERTS).await?;
    let page = DashboardPage {
        layout: layout(state, Some(who)).await?,
        flash,
        error,
        report,
        charts: vec![
            chart("requests", "Requests per minute", &d.requests),
            chart(
                "auth-failures",
                "Failed sign-ins per minute",
                &d.auth_failures,
            ),
            chart(
                "refused",
                "Requests refused (blocked or throttled) per minute",
                &d.refused,
            ),
            chart(
                "shed",
                "Requests turned away under load per minute",
                &d.shed,
            ),
        ],
        alerts: listed.into_iter().map(|a| alert_view(state, a)).collect(),
        risky: d
            .top_risky
            .iter()
            .map(|r| {
                (
                    format!(
                        "{} {}",
                        alerts::subject_kind(&r.subject),
                        alerts::subject_label(&r.subject)
                    ),
                    format!("{:.0}", r.score),
                    r.level.replace('_', " "),
                    r.reasons.join("; "),
                )
            })
            .collect(),
        transfers: d
            .transfer_24h
            .iter()
            .map(|t| (t.account.clone(), t.reads, t.bytes))
            .collect(),
    };
    Ok(render(&page)?.into_response())
}

/// `GET /security/dashboard.json`: the live figures the page's charts redraw from.
pub async fn dashboard_json(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
) -> AppResult<Json<Value>> {
    may_view(&who)?;
    let d = state.sentinel.dashboard();
    let (open, acknowledged) = state.db.unresolved_alert_counts().await?;
    let charts: Vec<Value> = [
        ("requests", &d.requests),
        ("auth-failures", &d.auth_failures),
        ("refused", &d.refused),
        ("shed", &d.shed),
    ]
    .iter()
    .map(|(id, values)| {
        json!({
            "id": id,
            "points": polyline(values),
            "latest": values.last().copied().unwrap_or(0),
            "peak": values.iter().copied().max().unwrap_or(0),
        })
    })
    .collect();
    Ok(Json(json!({
        "charts": charts,
        "alerts_open": open,
        "alerts_acknowledged": acknowledged,
        "blocked_sources": state.sentinel.blocked_sources().len(),
    })))
}

/// `GET /security/health`.
pub async fn health_page(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
) -> AppResult<Response> {
    may_view(&who)?;
    let report = health::report(&state).await?;
    let page = HealthPage {
        layout: layout(&state, Some(&who)).await?,
        text: health::render_text(&report),
        report,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Debug, Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    note: String,
}

#[derive(Debug, Deserialize)]
pub struct BlockForm {
    source: String,
    #[serde(default = "default_minutes")]
    minutes: u64,
    #[serde(default)]
    reason: String,
}

fn default_minutes() -> u64 {
    60
}

/// Renders the dashboard again with the outcome of an action: a client error (other
/// than "not allowed") is shown on the page; anything else is the error page.
async fn after(
    state: &AppState,
    who: &CurrentUser,
    result: AppResult<String>,
) -> AppResult<Response> {
    match result {
        Ok(flash) => dashboard_page(state, who, Some(flash), None).await,
        Err(e) if e.fault == Fault::Client && e.code != ErrorCode::Forbidden => {
            dashboard_page(state, who, None, Some(e.message)).await
        }
        Err(e) => Err(e),
    }
}

/// `POST /security/alerts/{id}/acknowledge`.
pub async fn acknowledge(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<NoteForm>,
) -> AppResult<Response> {
    let r = alerts::respond(&state, &meta, &who, &id, AlertState::Acknowledged, &f.note)
        .await
        .map(|()| "Alert acknowledged.".to_owned());
    after(&state, &who, r).await
}

/// `POST /security/alerts/{id}/resolve`.
pub async fn resolve(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<NoteForm>,
) -> AppResult<Response> {
    let r = alerts::respond(&state, &meta, &who, &id, AlertState::Resolved, &f.note)
        .await
        .map(|()| "Alert resolved.".to_owned());
    after(&state, &who, r).await
}

/// `POST /security/block`.
pub async fn block(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Form(f): Form<BlockForm>,
) -> AppResult<Response> {
    let r = actions::block(&state, &meta, &who, &f.source, f.minutes, &f.reason)
        .await
        .map(|ip| format!("{ip} is blocked for {} minutes.", f.minutes));
    after(&state, &who, r).await
}

/// `POST /security/unblock`.
pub async fn unblock(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Form(f): Form<BlockForm>,
) -> AppResult<Response> {
    let r = actions::unblock(&state, &meta, &who, &f.source)
        .await
        .map(|ip| format!("{ip} is no longer blocked."));
    after(&state, &who, r).await
}

/// `POST /security/accounts/{id}/release`.
pub async fn release(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let r = actions::release(&state, &meta, &who, &id)
        .await
        .map(|()| "The account is released: its owner can sign in again.".to_owned());
    after(&state, &who, r).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polyline_scales_to_the_peak() {
        assert_eq!(polyline(&[0, 5, 10]), "0.0,118.0 300.0,60.0 600.0,2.0");
        // A flat zero line stays at the bottom; nothing divides by zero.
        assert_eq!(polyline(&[0, 0]), "0.0,118.0 600.0,118.0");
        assert_eq!(polyline(&[]), "");
    }
}
