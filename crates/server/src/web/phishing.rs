//! Phishing simulation pages: the programme (switch, campaigns with their figures and
//! trend, a new campaign), one campaign, the landing page behind a tracked link with its
//! lesson, and "report suspicious". Handlers are thin: parse, call
//! `crate::training::simulation`, render or redirect.
//!
//! The landing page's handlers never read a request body: the form has no named
//! fields, and nothing typed on it reaches the server.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use training::{Block, CampaignMetrics, Rate};

use crate::error::AppResult;
use crate::http::meta::RequestMeta;
use crate::identity::session::{MaybeUser, SignedIn};
use crate::state::AppState;
use crate::training::simulation::campaigns::{self, NewCampaign, TARGETS};
use crate::training::simulation::figures::{self, describe, duration};
use crate::training::simulation::report::{self, Reference, Reported};
use crate::training::simulation::tracking::{self, Link};
use crate::web::forms::Form;
use crate::web::pages::{layout, render};
use crate::web::security::polyline;
use crate::web::templates::Layout;

/// One figure as shown: label, the rate in words, and whether it is the headline.
type Line = (&'static str, String);

fn lines(m: &CampaignMetrics) -> Vec<Line> {
    vec![
        ("Reported (headline)", describe(&m.report_rate)),
        (
            "Median time to report",
            duration(m.median_time_to_report_ms),
        ),
        (
            "Reported before clicking",
            describe(&m.report_before_click_rate),
        ),
        ("Clicked (people, not scanners)", describe(&m.click_rate)),
        ("Submitted the form", describe(&m.submission_rate)),
    ]
}

fn rate_json(r: &Rate) -> Value {
    json!({ "n": r.n, "count": r.count, "value": r.value, "ci_low": r.ci_low, "ci_high": r.ci_high })
}

fn metrics_json(m: &CampaignMetrics) -> Value {
    json!({
        "report_rate": rate_json(&m.report_rate),
        "median_time_to_report_ms": m.median_time_to_report_ms,
        "report_before_click_rate": rate_json(&m.report_before_click_rate),
        "click_rate": rate_json(&m.click_rate),
        "submission_rate": rate_json(&m.submission_rate),
    })
}

struct CampaignLine {
    id: String,
    name: String,
    state: String,
    when: String,
    sent: u64,
    report: String,
    click: String,
}

#[derive(Template)]
#[template(path = "simulations.html")]
struct ListPage {
    layout: Layout,
    enabled: bool,
    campaigns: Vec<CampaignLine>,
    overall: Vec<Line>,
    repeat: String,
    trend: String,
    lures: Vec<(&'static str, &'static str)>,
    targets: &'static [(&'static str, &'static str)],
}

/// `GET /training/simulations`.
pub async fn list(State(state): State<AppState>, SignedIn(who): SignedIn) -> AppResult<Response> {
    let o = figures::overview(&state, &who).await?;
    let tz = crate::consult::schedule::practice_zone(&state).await?;
    let page = ListPage {
        layout: layout(&state, Some(&who)).await?,
        enabled: o.enabled,
        campaigns: o
            .campaigns
            .iter()
            .map(|c| CampaignLine {
                id: c.campaign.id.clone(),
                name: c.campaign.name.clone(),
                state: c.campaign.state.clone(),
                when: c
                    .campaign
                    .launched_ms
                    .or(c.campaign.scheduled_ms)
                    .map(|t| crate::consult::time::long(t, &tz))
                    .unwrap_or_default(),
                sent: c.sent,
                report: describe(&c.metrics.report_rate),
                click: describe(&c.metrics.click_rate),
            })
            .collect(),
        overall: lines(&o.overall),
        repeat: describe(&o.repeat_clickers),
        trend: if o.trend.len() > 1 {
            polyline(&o.trend)
        } else {
            String::new()
        },
        lures: training::lures().iter().map(|l| (l.id, l.name)).collect(),
        targets: &TARGETS,
    };
    Ok(render(&page)?.into_response())
}

/// `GET /training/simulations.json`: the same figures, for scripts and tests.
pub async fn list_json(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
) -> AppResult<Json<Value>> {
    let o = figures::overview(&state, &who).await?;
    Ok(Json(json!({
        "enabled": o.enabled,
        "overall": metrics_json(&o.overall),
        "repeat_clickers": rate_json(&o.repeat_clickers),
        "trend": o.trend,
        "campaigns": o.campaigns.iter().map(|c| json!({
            "id": c.campaign.id, "name": c.campaign.name, "state": c.campaign.state,
            "sent": c.sent, "metrics": metrics_json(&c.metrics),
        })).collect::<Vec<_>>(),
    })))
}

#[derive(Debug, Deserialize)]
pub struct OptInForm {
    enabled: String,
}

/// `POST /training/simulations/opt-in`.
pub async fn opt_in(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Form(f): Form<OptInForm>,
) -> AppResult<Response> {
    campaigns::set_enabled(&state, &meta, &who, f.enabled == "on").await?;
    Ok(Redirect::to("/training/simulations").into_response())
}

#[derive(Debug, Deserialize)]
pub struct CampaignForm {
    name: String,
    lure: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    landing: String,
    target: String,
    /// `YYYY-MM-DD` and `HH:MM` in the practice's time zone; both empty: send now.
    #[serde(default)]
    date: String,
    #[serde(default)]
    time: String,
}

/// `POST /training/simulations/campaigns`.
pub async fn create(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Form(f): Form<CampaignForm>,
) -> AppResult<Response> {
    let scheduled_ms = if f.date.trim().is_empty() && f.time.trim().is_empty() {
        None
    } else {
        let tz = crate::consult::schedule::practice_zone(&state).await?;
        Some(
            crate::consult::time::local_to_ms(&tz, f.date.trim(), f.time.trim()).ok_or_else(
                || {
                    crate::error::AppError::client(
                        proto::ErrorCode::InvalidInput,
                        "Give the date as YYYY-MM-DD and the time as HH:MM, or leave both \
                         empty to send now.",
                    )
                },
            )?,
        )
    };
    let new = NewCampaign {
        name: f.name,
        lure: f.lure,
        subject: f.subject,
        body: f.body,
        landing: f.landing,
        target: f.target,
        scheduled_ms,
    };
    let id = campaigns::create(&state, &meta, &who, &new).await?;
    Ok(Redirect::to(&format!("/training/simulations/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "simulation.html")]
struct CampaignPage {
    layout: Layout,
    name: String,
    lure: String,
    target: String,
    state: String,
    sent: u64,
    figures: Vec<Line>,
}

/// `GET /training/simulations/{id}`: one campaign, in aggregate.
pub async fn campaign(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let f = figures::campaign(&state, &who, &id).await?;
    let page = CampaignPage {
        layout: layout(&state, Some(&who)).await?,
        figures: lines(&f.metrics),
        name: f.campaign.name,
        lure: training::lure(&f.campaign.lure_id)
            .map_or_else(|| "Custom lure".to_owned(), |l| l.name.to_owned()),
        target: TARGETS
            .iter()
            .find(|(t, _)| *t == f.campaign.target)
            .map_or_else(String::new, |(_, label)| (*label).to_owned()),
        state: f.campaign.state,
        sent: f.sent,
    };
    Ok(render(&page)?.into_response())
}

/// `GET /training/simulations/{id}/metrics.json`.
pub async fn campaign_json(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let f = figures::campaign(&state, &who, &id).await?;
    Ok(Json(json!({
        "id": f.campaign.id, "state": f.campaign.state, "sent": f.sent,
        "metrics": metrics_json(&f.metrics),
    })))
}

fn paragraphs(blocks: &[Block]) -> Vec<&'static str> {
    blocks
        .iter()
        .flat_map(|b| match b {
            Block::Paragraph(p) => vec![*p],
            Block::Bullets(items) => items.to_vec(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "phishing_landing.html")]
struct LandingPage {
    /// Empty after a submission: only the lesson is shown then.
    text: String,
    path: String,
    disclosure: Vec<&'static str>,
    signs: Vec<&'static str>,
}

fn landing(l: tracking::Landing) -> LandingPage {
    LandingPage {
        text: l.text,
        path: l.path,
        disclosure: paragraphs(training::disclosure()),
        signs: l.signs,
    }
}

fn link((campaign, recipient, token): (String, String, String)) -> Link {
    Link {
        campaign,
        recipient,
        token,
    }
}

/// No cache may keep these pages: each use is a separate event.
fn no_store(mut res: Response) -> Response {
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    res
}

/// `GET /t/{campaign}/{recipient}/{token}`: the tracked link (records `fetched` only).
pub async fn tracked(
    State(state): State<AppState>,
    meta: RequestMeta,
    Path(parts): Path<(String, String, String)>,
) -> AppResult<Response> {
    let l = tracking::fetched(&state, &meta, &link(parts)).await?;
    Ok(no_store(render(&landing(l))?.into_response()))
}

/// A transparent 1×1 GIF.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// `GET /t/{campaign}/{recipient}/{token}/open.gif`: records `opened`.
pub async fn open_pixel(
    State(state): State<AppState>,
    meta: RequestMeta,
    Path(parts): Path<(String, String, String)>,
) -> AppResult<Response> {
    tracking::opened(&state, &meta, &link(parts)).await?;
    Ok(no_store(
        ([(header::CONTENT_TYPE, "image/gif")], PIXEL).into_response(),
    ))
}

/// `POST /t/{campaign}/{recipient}/{token}/beacon`: the page's interaction beacon.
pub async fn beacon(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    Path(parts): Path<(String, String, String)>,
) -> AppResult<Response> {
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracking::beacon(&state, &meta, &link(parts), agent).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /t/{campaign}/{recipient}/{token}/submit`: records `submitted` and shows the
/// lesson. Takes no body extractor: whatever was sent is never read.
pub async fn submit(
    State(state): State<AppState>,
    meta: RequestMeta,
    Path(parts): Path<(String, String, String)>,
) -> AppResult<Response> {
    let l = tracking::submitted(&state, &meta, &link(parts)).await?;
    Ok(no_store(render(&landing(l))?.into_response()))
}

#[derive(Debug, Deserialize)]
pub struct RefQuery {
    #[serde(default, rename = "ref")]
    reference: String,
}

#[derive(Template)]
#[template(path = "report_suspicious.html")]
struct ReportPage {
    layout: Layout,
    reference: String,
    /// After reporting: `Some(simulation?)`.
    done: Option<bool>,
    disclosure: Vec<&'static str>,
    signs: Vec<&'static str>,
}

/// `GET /report-suspicious?ref=…`: asks to confirm (a GET records nothing, so a mail
/// scanner following the link reports nothing).
pub async fn report_page(
    State(state): State<AppState>,
    MaybeUser(who): MaybeUser,
    Query(q): Query<RefQuery>,
) -> AppResult<Response> {
    let reference = Reference::parse(&q.reference)?;
    report::needs_sign_in(&reference, who.as_ref())?;
    let page = ReportPage {
        layout: layout(&state, who.as_ref()).await?,
        reference: q.reference,
        done: None,
        disclosure: Vec::new(),
        signs: Vec::new(),
    };
    Ok(no_store(render(&page)?.into_response()))
}

#[derive(Debug, Deserialize)]
pub struct RefForm {
    #[serde(rename = "ref")]
    reference: String,
}

/// `POST /report-suspicious`: records the report.
pub async fn report_submit(
    State(state): State<AppState>,
    meta: RequestMeta,
    MaybeUser(who): MaybeUser,
    Form(f): Form<RefForm>,
) -> AppResult<Response> {
    let reference = Reference::parse(&f.reference)?;
    let outcome = report::report(&state, &meta, who.as_ref(), &reference).await?;
    let (simulation, signs) = match outcome {
        Reported::Simulation { signs } => (true, signs),
        Reported::Real => (false, Vec::new()),
    };
    let page = ReportPage {
        layout: layout(&state, who.as_ref()).await?,
        reference: String::new(),
        done: Some(simulation),
        disclosure: if simulation {
            paragraphs(training::disclosure())
        } else {
            Vec::new()
        },
        signs,
    };
    Ok(no_store(render(&page)?.into_response()))
}
