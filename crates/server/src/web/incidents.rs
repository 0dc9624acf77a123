//! The incident pages: the list with each incident's nearest deadline, opening one (by
//! hand or from an alert), and one incident with its clocks, assessments, notices and
//! the drafts pre-filled from its record.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use breach::{ClockStatus, Duty, Escalation};
use serde::Deserialize;

use crate::assurance::incidents::{self, Change, FactsForm};
use crate::error::AppResult;
use crate::http::meta::RequestMeta;
use crate::identity::session::SignedIn;
use crate::state::AppState;
use crate::web::forms::Form;
use crate::web::pages::{layout, render};
use crate::web::templates::Layout;

struct ClockLine {
    duty: String,
    citation: &'static str,
    due: String,
    statutory: bool,
    state: &'static str,
    days_left: i64,
    delayed: bool,
}

fn clock_line(c: &breach::DutyClock, now: i64, tz: &breach::TimeZone) -> ClockLine {
    let state = match c.status(now) {
        ClockStatus::Done { late: false } => "done",
        ClockStatus::Done { late: true } => "done late",
        ClockStatus::Open {
            escalation: Escalation::None,
        } => "open",
        ClockStatus::Open {
            escalation: Escalation::Soon,
        } => "due soon",
        ClockStatus::Open {
            escalation: Escalation::Urgent,
        } => "urgent",
        ClockStatus::Open {
            escalation: Escalation::Overdue,
        } => "overdue",
    };
    ClockLine {
        duty: c.duty.label(),
        citation: c.duty.citation(),
        due: breach::local_datetime_text(c.due_ms, tz),
        statutory: c.statutory,
        state,
        days_left: c.remaining_ms(now).div_euclid(breach::DAY_MS),
        delayed: c.delayed_by_law_enforcement,
    }
}

struct IncidentLine {
    id: String,
    title: String,
    opened: String,
    closed: bool,
    next: Option<ClockLine>,
}

#[derive(Template)]
#[template(path = "incidents.html")]
struct ListPage {
    layout: Layout,
    incidents: Vec<IncidentLine>,
    alert_id: String,
    contact: breach::Practice,
}

#[derive(Debug, Default, Deserialize)]
pub struct FromAlert {
    #[serde(default)]
    alert: String,
}

/// `GET /security/incidents` (`?alert=ID` pre-fills the form from an alert).
pub async fn list(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
    axum::extract::Query(q): axum::extract::Query<FromAlert>,
) -> AppResult<Response> {
    let all = incidents::list(&state, &who).await?;
    let tz = incidents::zone(&state).await?;
    let now = state.clock.now_ms();
    let page = ListPage {
        layout: layout(&state, Some(&who)).await?,
        incidents: all
            .iter()
            .map(|o| {
                let mut open: Vec<_> = breach::duties(&o.incident, &tz)
                    .into_iter()
                    .filter(|c| c.done_ms.is_none())
                    .collect();
                open.sort_by_key(|c| c.due_ms);
                IncidentLine {
                    id: o.row.id.clone(),
                    title: o.incident.title.clone(),
                    opened: breach::local_datetime_text(o.row.opened_ms, &tz),
                    closed: o.row.closed_ms.is_some(),
                    next: open.first().map(|c| clock_line(c, now, &tz)),
                }
            })
            .collect(),
        alert_id: q
            .alert
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(64)
            .collect(),
        contact: incidents::contact(&state).await?,
    };
    Ok(render(&page)?.into_response())
}

/// `POST /security/incidents`.
pub async fn open(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Form(f): Form<FactsForm>,
) -> AppResult<Response> {
    let id = incidents::open_incident(&state, &meta, &who, &f).await?;
    Ok(Redirect::to(&format!("/security/incidents/{id}")).into_response())
}

/// `POST /security/incidents/contact`.
pub async fn set_contact(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Form(f): Form<breach::Practice>,
) -> AppResult<Response> {
    incidents::set_contact(&state, &meta, &who, &f).await?;
    Ok(Redirect::to("/security/incidents").into_response())
}

#[derive(Template)]
#[template(path = "incident.html")]
struct IncidentPage {
    layout: Layout,
    id: String,
    version: i64,
    closed: bool,
    i: breach::Incident,
    kinds: String,
    steps: String,
    by_state: String,
    times: [String; 6],
    clocks: Vec<ClockLine>,
    not_required: Vec<(String, String, &'static str)>,
    drafts: Vec<(String, String)>,
    statement_missing: Vec<&'static str>,
    duties: Vec<(String, String)>,
    actions: Vec<(String, &'static str, String)>,
    notices: Vec<(String, String, String, String)>,
}

/// `GET /security/incidents/{id}`.
pub async fn show(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let o = incidents::view(&state, &meta, &who, &id).await?;
    let tz = incidents::zone(&state).await?;
    let now = state.clock.now_ms();
    let practice = incidents::contact(&state).await?;
    let i = o.incident;
    let clocks = breach::duties(&i, &tz);
    let input = |ms: Option<i64>| {
        ms.map(|m| breach::local_datetime_input(m, &tz))
            .unwrap_or_default()
    };
    let mut all_duties = vec![
        Duty::OaicStatement,
        Duty::NdbIndividuals,
        Duty::AdhaMyHealthRecord,
        Duty::HipaaIndividuals,
        Duty::HhsImmediate,
        Duty::HhsAnnualLog,
        Duty::SubstituteNotice,
    ];
    for c in &clocks {
        if !all_duties.contains(&c.duty) && c.duty != Duty::NdbAssessment {
            all_duties.push(c.duty.clone());
        }
    }
    let mut actions: Vec<(String, &'static str, String)> = i
        .containment
        .iter()
        .map(|a| {
            (
                breach::local_datetime_text(a.at_ms, &tz),
                "containment",
                a.text.clone(),
            )
        })
        .chain(i.remedial.iter().map(|a| {
            (
                breach::local_datetime_text(a.at_ms, &tz),
                "remedial",
                a.text.clone(),
            )
        }))
        .collect();
    actions.sort();
    let page = IncidentPage {
        layout: layout(&state, Some(&who)).await?,
        id: o.row.id.clone(),
        version: o.row.updated_ms,
        closed: o.row.closed_ms.is_some(),
        kinds: i.kinds_of_information.join("\n"),
        steps: i.recommended_steps.join("\n"),
        by_state: i
            .affected_by_state
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", "),
        times: [
            input(i.occurred_ms),
            input(i.aware_suspected_ms),
            input(i.reasonable_grounds_ms),
            input(i.discovered_ms),
            input(i.law_enforcement_delay_until_ms),
            i.law_enforcement_delay_days
                .map(|d| d.to_string())
                .unwrap_or_default(),
        ],
        not_required: breach::not_required(&i)
            .into_iter()
            .map(|n| {
                (
                    n.duties
                        .iter()
                        .map(Duty::label)
                        .collect::<Vec<_>>()
                        .join(", "),
                    n.reason,
                    n.citation,
                )
            })
            .collect(),
        drafts: clocks
            .iter()
            .filter(|c| c.duty != Duty::NdbAssessment)
            .map(|c| {
                (
                    c.duty.label(),
                    breach::draft_notice(&c.duty, &i, &practice, &tz),
                )
            })
            .collect(),
        statement_missing: breach::oaic_statement(&i, &practice).missing(),
        clocks: clocks.iter().map(|c| clock_line(c, now, &tz)).collect(),
        duties: all_duties.iter().map(|d| (d.key(), d.label())).collect(),
        actions,
        notices: i
            .notifications
            .iter()
            .map(|n| {
                (
                    n.duty.label(),
                    breach::local_datetime_text(n.sent_ms, &tz),
                    n.method.clone(),
                    n.reference.clone(),
                )
            })
            .collect(),
        i,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChangeForm {
    /// The record's version the officer saw (a string: flattened forms carry strings).
    version: String,
    #[serde(flatten)]
    facts: FactsForm,
    text: String,
    likely_serious_harm: Option<String>,
    remedial_prevented: Option<String>,
    rationale: String,
    nature_and_extent: String,
    unauthorized_person: String,
    acquired_or_viewed: String,
    mitigation: String,
    low_probability: Option<String>,
    duty: String,
    sent: String,
    method: String,
    reference: String,
    reason: String,
}

/// `POST /security/incidents/{id}/{what}`: one change to the record.
pub async fn change(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path((id, what)): Path<(String, String)>,
    Form(f): Form<ChangeForm>,
) -> AppResult<Response> {
    let yes = |v: &Option<String>| v.as_deref() == Some("yes");
    let c = match what.as_str() {
        "facts" => Change::Facts(Box::new(f.facts)),
        "containment" => Change::Step {
            remedial: false,
            text: f.text,
        },
        "remedial" => Change::Step {
            remedial: true,
            text: f.text,
        },
        "ndb" => Change::Ndb {
            likely_serious_harm: yes(&f.likely_serious_harm),
            remedial_prevented: yes(&f.remedial_prevented),
            rationale: f.rationale,
        },
        "hipaa" => Change::Hipaa {
            factors: [
                f.nature_and_extent,
                f.unauthorized_person,
                f.acquired_or_viewed,
                f.mitigation,
            ],
            low_probability: yes(&f.low_probability),
        },
        "notices" => Change::Notice {
            duty: f.duty,
            sent: f.sent,
            method: f.method,
            reference: f.reference,
        },
        "close" => Change::Close { reason: f.reason },
        _ => {
            return Err(crate::error::AppError::client(
                proto::ErrorCode::NotFound,
                "There is no such change to an incident.",
            ));
        }
    };
    let version = f.version.trim().parse().unwrap_or(-1);
    incidents::change(&state, &meta, &who, &id, version, c).await?;
    Ok(Redirect::to(&format!("/security/incidents/{id}")).into_response())
}
