//! Running the automated checks: on a schedule (daily by default) and on demand. A run
//! is written to the ledger before its results are stored, and moves the register.

use std::time::Duration;

use assurance::catalogue::CheckId;
use assurance::evaluate::{Outcome, Thresholds, evaluate};
use ledger::{NewEntry, Outcome as LedgerOutcome};
use proto::ErrorCode;
use store::assurance::{ResultRow, RunRow};

use crate::admin::require;
use crate::assurance::{actor, observe, register};
use crate::audit::{Actor, entry};
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::session::CurrentUser;
use crate::policy::{Action, Target};
use crate::setup::new_id;
use crate::state::AppState;

/// Runs every check (or the one named `only`) for the security officer.
pub async fn run_now(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    only: Option<&str>,
) -> AppResult<()> {
    require(who, Action::ManageAssurance, Target::Practice)?;
    let only = match only.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(key) => Some(CheckId::parse(key).map_err(|e| {
            AppError::client(
                ErrorCode::NotFound,
                format!("There is no check named that: {e}."),
            )
        })?),
    };
    let base = entry(
        meta,
        &actor(who),
        "assurance.checks_run",
        "practice",
        LedgerOutcome::Success,
    );
    let trigger = if only.is_some() {
        ONE_CHECK
    } else {
        "on demand"
    };
    run(state, base, trigger, &actor(who), only).await
}

/// Runs the checks and records them: the ledger entry (with the outcome counts) first,
/// then the results, then the register's likelihoods.
pub async fn run(
    state: &AppState,
    base: NewEntry,
    trigger: &str,
    who: &Actor,
    only: Option<CheckId>,
) -> AppResult<()> {
    let _one_at_a_time = state.assurance_run.lock().await;
    let facts = observe::facts(state).await;
    let results = evaluate(&facts, &Thresholds::default(), only);
    let count = |o: Outcome| results.iter().filter(|r| r.outcome == o).count() as i64;
    let failing: Vec<&str> = results
        .iter()
        .filter(|r| r.outcome != Outcome::Pass)
        .map(|r| r.check.key())
        .collect();
    let run = RunRow {
        id: new_id()?,
        started_ms: facts.now_ms,
        trigger: trigger.to_owned(),
        actor: who.as_ledger_name(),
        passed: count(Outcome::Pass),
        failed: count(Outcome::Fail),
        cannot_run: count(Outcome::CannotRun),
    };
    let rows = results
        .iter()
        .map(|r| {
            Ok(ResultRow {
                run_id: run.id.clone(),
                check_id: r.check.key().to_owned(),
                outcome: r.outcome.as_str().to_owned(),
                summary: r.summary.clone(),
                evidence: serde_json::to_string(&r.evidence)
                    .map_err(|e| AppError::internal(format!("evidence: {e}")))?,
                observed_ms: r.observed_ms,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let audit = base
        .detail("run", run.id.clone())
        .detail("trigger", trigger)
        .detail("passed", run.passed)
        .detail("failed", run.failed)
        .detail("cannot_run", run.cannot_run)
        .detail("not_passing", failing.join(","));
    let id = run.id.clone();
    state
        .audited(audit, async {
            state.db.insert_check_run(&run, &rows).await?;
            Ok(())
        })
        .await?;
    register::rescore(state, &format!("checks run {}", &id[..8.min(id.len())])).await?;
    Ok(())
}

/// The trigger of a run of one check: it does not count as the daily run of all.
const ONE_CHECK: &str = "on demand: one check";

/// Quiet time after a start before the first scheduled run, so the run does not
/// compete with start-up work (and with an operator's first steps).
const FIRST_RUN_AFTER_START_MS: i64 = 5 * 60_000;

/// Runs the checks every `assurance.check_every_hours`, the first time as soon as the
/// last run is older than that (so a restart does not postpone them), but not in the
/// first minutes after a start; until shutdown.
pub async fn schedule(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let every_ms = i64::from(state.config.assurance.check_every_hours) * 3_600_000;
    let mut wait_ms = FIRST_RUN_AFTER_START_MS;
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0))) => {}
        }
        let last = state.db.check_runs(100).await.ok().and_then(|runs| {
            runs.iter()
                .find(|r| r.trigger != ONE_CHECK)
                .map(|r| r.started_ms)
        });
        let now = state.clock.now_ms();
        if last.is_some_and(|l| now - l < every_ms) {
            wait_ms = last
                .map_or(every_ms, |l| l + every_ms - now)
                .clamp(1_000, every_ms);
            continue;
        }
        let base = NewEntry::new(
            "system",
            "assurance.checks_run",
            "practice",
            LedgerOutcome::Success,
        );
        wait_ms = match run(&state, base, "schedule", &Actor::System, None).await {
            Ok(_) => every_ms,
            Err(e) => {
                tracing::warn!(error = %e.code.as_str(), "scheduled assurance checks failed");
                300_000
            }
        };
    }
}
