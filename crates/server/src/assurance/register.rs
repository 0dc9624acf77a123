//! The risk register as the practice keeps it: one risk per scenario of the catalogue,
//! its likelihood moved by failing checks and questionnaire gaps, its treatment, and
//! verification only by a passing linked check or an approver's evidence.

use std::collections::BTreeMap;

use assurance::catalogue::{CHECKS, CheckId};
use assurance::evaluate::Outcome;
use assurance::questionnaire::{self, Answer};
use assurance::register::{
    SCENARIOS, Treatment, TreatmentPlan, adjusted_likelihood, parse_level, risk_level, scenario,
};
use ledger::Outcome as LedgerOutcome;
use proto::ErrorCode;
use store::assurance::RiskRow;

use crate::admin::require;
use crate::assurance::actor;
use crate::audit::entry;
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::session::CurrentUser;
use crate::policy::{Action, Target};
use crate::setup::new_id;
use crate::state::AppState;

/// The checks whose results bear on `scenario_id`.
pub fn linked_checks(scenario_id: &str) -> Vec<CheckId> {
    CHECKS
        .iter()
        .filter(|c| c.scenarios.contains(&scenario_id))
        .map(|c| c.id)
        .collect()
}

/// The answers given so far, by question.
pub async fn answer_map(state: &AppState) -> AppResult<BTreeMap<String, Answer>> {
    Ok(state
        .db
        .answers()
        .await?
        .into_iter()
        .filter_map(|a| Some((a.question_id, Answer::parse(a.answer.as_deref()?).ok()?)))
        .collect())
}

/// The latest outcome of each check.
pub async fn latest_outcomes(state: &AppState) -> AppResult<BTreeMap<String, Outcome>> {
    Ok(state
        .db
        .latest_check_results()
        .await?
        .into_iter()
        .filter_map(|r| Some((r.check_id, Outcome::parse(&r.outcome)?)))
        .collect())
}

/// The register, every scenario present (seeded at its catalogue likelihood and impact).
pub async fn risks(state: &AppState) -> AppResult<Vec<RiskRow>> {
    let mut rows = state.db.risks().await?;
    if rows.len() < SCENARIOS.len() {
        let now = state.clock.now_ms();
        for s in SCENARIOS {
            if !rows.iter().any(|r| r.scenario_id == s.id) {
                let l = i64::from(s.base_likelihood);
                let i = i64::from(s.impact);
                let row = RiskRow {
                    id: new_id()?,
                    scenario_id: s.id.to_owned(),
                    assessed_likelihood: l,
                    impact: i,
                    likelihood: l,
                    level: i64::from(risk_level(s.base_likelihood, s.impact)),
                    treatment: None,
                    plan: String::new(),
                    owner: None,
                    due_ms: None,
                    approver: None,
                    accept_until_ms: None,
                    transfer_to: None,
                    verified_ms: None,
                    verified_by: None,
                    status: "open".into(),
                    updated_ms: now,
                };
                state
                    .db
                    .seed_risk(&row, "added from the scenario catalogue")
                    .await?;
            }
        }
        rows = state.db.risks().await?;
    }
    Ok(rows)
}

/// Moves every risk to what the latest checks and answers say: likelihood, level, a
/// mitigation verified (or no longer verified) by its linked checks, an acceptance
/// that expired. Each change lands in the risk's history with `reason`.
pub async fn rescore(state: &AppState, reason: &str) -> AppResult<()> {
    let outcomes = latest_outcomes(state).await?;
    let gaps = questionnaire::gaps_by_scenario(&answer_map(state).await?);
    let now = state.clock.now_ms();
    for mut r in risks(state).await? {
        let links = linked_checks(&r.scenario_id);
        let failing = links
            .iter()
            .filter(|c| outcomes.get(c.key()) == Some(&Outcome::Fail))
            .count();
        let assessed = u8::try_from(r.assessed_likelihood).unwrap_or(3);
        let impact = u8::try_from(r.impact).unwrap_or(3);
        let likelihood = adjusted_likelihood(
            assessed,
            failing,
            gaps.get(r.scenario_id.as_str()).copied().unwrap_or(0),
        );
        let before = r.clone();
        r.likelihood = i64::from(likelihood);
        r.level = i64::from(risk_level(likelihood, impact));
        let linked: Vec<Outcome> = links
            .iter()
            .map(|c| outcomes.get(c.key()).copied().unwrap_or(Outcome::CannotRun))
            .collect();
        let by_evidence = r
            .verified_by
            .as_deref()
            .is_some_and(|v| v.starts_with("evidence"));
        match r.status.as_str() {
            "treating" if assurance::register::remediation_verified(&linked, false) => {
                r.status = "verified".into();
                r.verified_ms = Some(now);
                r.verified_by = Some(format!(
                    "checks passing: {}",
                    links.iter().map(|c| c.key()).collect::<Vec<_>>().join(", ")
                ));
            }
            // Verified by checks: falls back when one stops passing. Verified on
            // evidence: falls back when a linked check is seen failing.
            "verified"
                if (!by_evidence && !assurance::register::remediation_verified(&linked, false))
                    || (by_evidence && linked.contains(&Outcome::Fail)) =>
            {
                r.status = "treating".into();
                r.verified_ms = None;
                r.verified_by = None;
            }
            // An acceptance that expired is a decision no longer made: the risk is open
            // and untreated again.
            "accepted" if r.accept_until_ms.is_some_and(|t| t <= now) => {
                r.status = "open".into();
                r.treatment = None;
            }
            _ => {}
        }
        if r != before {
            r.updated_ms = now.max(before.updated_ms.saturating_add(1));
            // A treatment saved meanwhile wins; the next re-scoring sees it.
            state.db.rescore_risk(&r, before.updated_ms, reason).await?;
        }
    }
    Ok(())
}

fn field(raw: Option<&str>) -> Option<String> {
    raw.map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
}

/// A treatment decision as the form sends it.
#[derive(Debug, Default, serde::Deserialize)]
pub struct TreatmentForm {
    pub likelihood: String,
    pub impact: String,
    pub treatment: String,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub due: Option<String>,
    #[serde(default)]
    pub approver: Option<String>,
    #[serde(default)]
    pub accept_until: Option<String>,
    #[serde(default)]
    pub transfer_to: Option<String>,
    #[serde(default)]
    pub plan: Option<String>,
}

/// A date `YYYY-MM-DD` in the practice's zone, as the end of that day.
fn end_of_day(
    state_zone: &jiff::tz::TimeZone,
    field: &str,
    raw: Option<&str>,
) -> AppResult<Option<i64>> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    crate::consult::time::local_to_ms(state_zone, raw, "23:59")
        .map(Some)
        .ok_or_else(|| {
            AppError::client(
                ErrorCode::InvalidInput,
                format!("The {field} is not a date (YYYY-MM-DD)."),
            )
        })
}

/// Sets a risk's assessment and treatment.
pub async fn treat(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    risk_id: &str,
    form: &TreatmentForm,
) -> AppResult<()> {
    require(who, Action::ManageAssurance, Target::Practice)?;
    let mut r = state
        .db
        .risk(risk_id)
        .await?
        .ok_or_else(|| AppError::client(ErrorCode::NotFound, "There is no such risk."))?;
    let bad =
        |e: assurance::AssuranceError| AppError::client(ErrorCode::InvalidInput, e.to_string());
    let likelihood = parse_level("likelihood", &form.likelihood).map_err(bad)?;
    let impact = parse_level("impact", &form.impact).map_err(bad)?;
    let treatment = Treatment::parse(form.treatment.trim()).map_err(bad)?;
    let zone = crate::consult::schedule::practice_zone(state).await?;
    let now = state.clock.now_ms();
    let plan = TreatmentPlan {
        treatment,
        owner: field(form.owner.as_deref()),
        due_ms: end_of_day(&zone, "due date", form.due.as_deref())?,
        approver: field(form.approver.as_deref()),
        accept_until_ms: end_of_day(&zone, "acceptance expiry", form.accept_until.as_deref())?,
        transfer_to: field(form.transfer_to.as_deref()),
        plan: form.plan.as_deref().unwrap_or("").trim().to_owned(),
    };
    plan.validate(now).map_err(bad)?;
    scenario(&r.scenario_id).map_err(bad)?;
    r.assessed_likelihood = i64::from(likelihood);
    r.impact = i64::from(impact);
    r.treatment = Some(treatment.as_str().to_owned());
    r.owner = plan.owner;
    r.due_ms = plan.due_ms;
    r.approver = plan.approver;
    r.accept_until_ms = plan.accept_until_ms;
    r.transfer_to = plan.transfer_to;
    r.plan = plan.plan;
    r.status = match treatment {
        Treatment::Mitigate => "treating",
        Treatment::Accept => "accepted",
        Treatment::Transfer => "transferred",
        Treatment::Avoid => "avoided",
    }
    .into();
    r.verified_ms = None;
    r.verified_by = None;
    r.updated_ms = now;
    let audit = entry(
        meta,
        &actor(who),
        "assurance.risk_treated",
        &format!("risk:{}", r.scenario_id),
        LedgerOutcome::Success,
    )
    .detail("treatment", treatment.as_str())
    .detail("likelihood", likelihood)
    .detail("impact", impact);
    state
        .audited(audit, async {
            state
                .db
                .put_risk(&r, "assessment and treatment set by the security officer")
                .await?;
            Ok(())
        })
        .await?;
    rescore(state, "treatment set").await
}

/// An approver marks a remediation verified on evidence (for a risk no check can see).
pub async fn verify_with_evidence(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    risk_id: &str,
    evidence: &str,
) -> AppResult<()> {
    require(who, Action::ManageAssurance, Target::Practice)?;
    let evidence = evidence.split_whitespace().collect::<Vec<_>>().join(" ");
    if evidence.chars().count() < 10 || evidence.chars().count() > 2000 {
        return Err(AppError::client(
            ErrorCode::InvalidInput,
            "Describe the evidence (what was checked, where the record is) in 10 to 2000 characters.",
        ));
    }
    let mut r = state
        .db
        .risk(risk_id)
        .await?
        .ok_or_else(|| AppError::client(ErrorCode::NotFound, "There is no such risk."))?;
    if r.status != "treating" {
        return Err(AppError::client(
            ErrorCode::Conflict,
            "Only a risk being mitigated can be verified: set its treatment to mitigate first.",
        ));
    }
    let outcomes = latest_outcomes(state).await?;
    let failing: Vec<&str> = linked_checks(&r.scenario_id)
        .into_iter()
        .filter(|c| outcomes.get(c.key()) == Some(&Outcome::Fail))
        .map(|c| c.key())
        .collect();
    if !failing.is_empty() {
        return Err(AppError::client(
            ErrorCode::Conflict,
            format!(
                "A linked check fails ({}): fix it first; evidence cannot outweigh what the server sees.",
                failing.join(", ")
            ),
        ));
    }
    let now = state.clock.now_ms();
    r.status = "verified".into();
    r.verified_ms = Some(now);
    r.verified_by = Some(format!("evidence from user:{}: {evidence}", who.user.id));
    r.updated_ms = now;
    let audit = entry(
        meta,
        &actor(who),
        "assurance.risk_verified",
        &format!("risk:{}", r.scenario_id),
        LedgerOutcome::Success,
    )
    .detail("by", "evidence");
    state
        .audited(audit, async {
            state
                .db
                .put_risk(&r, "remediation verified on evidence")
                .await?;
            Ok(())
        })
        .await
}
