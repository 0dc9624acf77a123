//! The evidence pack for an auditor: every report as HTML and PDF plus the data behind
//! them (the checks' results over time, the register with its history, the answers, the
//! incidents, the ledger's latest signed tree head), in one archive whose files are
//! listed with their SHA-256 and whose own hash is written to the ledger before it is
//! handed out.

use ledger::Outcome as LedgerOutcome;
use reports::EvidencePack;

use crate::admin::require;
use crate::assurance::actor;
use crate::assurance::reports::{KINDS, build, pdf, snapshot};
use crate::audit::entry;
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::session::CurrentUser;
use crate::policy::{Action, Target};
use crate::state::AppState;

/// The evidence pack, its SHA-256 written to the ledger before it is returned.
pub async fn evidence_pack(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
) -> AppResult<(Vec<u8>, String)> {
    require(who, Action::ManageAssurance, Target::Practice)?;
    let s = snapshot(state, true).await?;
    let internal = |e: reports::ReportError| AppError::internal(format!("evidence pack: {e}"));
    let json = |v: serde_json::Value| {
        serde_json::to_vec_pretty(&v).map_err(|e| AppError::internal(format!("evidence pack: {e}")))
    };
    let mut pack = EvidencePack::new();
    for kind in KINDS {
        let doc = build(&s, kind);
        pack.add(
            &format!("reports/{}.html", kind.key()),
            reports::html_standalone(&doc).into_bytes(),
        )
        .map_err(internal)?;
        pack.add(&format!("reports/{}.pdf", kind.key()), pdf(&doc)?)
            .map_err(internal)?;
    }
    let mut runs = Vec::new();
    for run in state.db.check_runs(400).await? {
        let results = state.db.check_results(&run.id).await?;
        runs.push(serde_json::json!({
            "run": run.id, "started_ms": run.started_ms, "trigger": run.trigger, "actor": run.actor,
            "results": results.iter().map(|r| serde_json::json!({
                "check": r.check_id, "outcome": r.outcome, "summary": r.summary,
                "evidence": serde_json::from_str::<serde_json::Value>(&r.evidence).unwrap_or_default(),
                "observed_ms": r.observed_ms,
            })).collect::<Vec<_>>(),
        }));
    }
    pack.add(
        "data/check-runs.json",
        json(serde_json::Value::Array(runs))?,
    )
    .map_err(internal)?;
    let mut risks = Vec::new();
    for r in &s.risks {
        let history = state.db.risk_history(&r.id).await?;
        risks.push(serde_json::json!({
            "scenario": r.scenario_id, "likelihood": r.likelihood, "impact": r.impact, "level": r.level,
            "treatment": r.treatment, "plan": r.plan, "owner": r.owner, "due_ms": r.due_ms,
            "approver": r.approver, "accept_until_ms": r.accept_until_ms, "transfer_to": r.transfer_to,
            "status": r.status, "verified_ms": r.verified_ms, "verified_by": r.verified_by,
            "history": history.iter().map(|p| serde_json::json!({
                "at_ms": p.at_ms, "likelihood": p.likelihood, "impact": p.impact, "level": p.level, "reason": p.reason,
            })).collect::<Vec<_>>(),
        }));
    }
    pack.add(
        "data/risk-register.json",
        json(serde_json::Value::Array(risks))?,
    )
    .map_err(internal)?;
    let answers: Vec<_> = s
        .answers
        .values()
        .map(|a| serde_json::json!({
            "question": a.question_id, "answer": a.answer, "note": a.note, "delegated_to": a.delegated_to,
            "answered_by": a.answered_by, "answered_ms": a.answered_ms,
        }))
        .collect();
    pack.add(
        "data/questionnaire.json",
        json(serde_json::Value::Array(answers))?,
    )
    .map_err(internal)?;
    let incidents: Vec<_> = s
        .incidents
        .iter()
        .map(|o| serde_json::json!({ "id": o.row.id, "opened_ms": o.row.opened_ms, "opened_by": o.row.opened_by, "record": o.incident }))
        .collect();
    pack.add(
        "data/incidents.json",
        json(serde_json::Value::Array(incidents))?,
    )
    .map_err(internal)?;
    let head = state.ledger.latest_head().await;
    pack.add(
        "ledger/signed-tree-head.json",
        json(serde_json::to_value(&head).unwrap_or_default())?,
    )
    .map_err(internal)?;
    pack.add(
        "ledger/public-key.hex",
        hex::encode(state.ledger.verifying_key().as_bytes()).into_bytes(),
    )
    .map_err(internal)?;
    let secs = u64::try_from(s.now_ms / 1000).unwrap_or(0);
    let out = pack.finish(secs).map_err(internal)?;
    let audit = entry(
        meta,
        &actor(who),
        "assurance.evidence_pack_exported",
        "practice",
        LedgerOutcome::Success,
    )
    .detail("sha256", out.archive_sha256.clone())
    .detail("bytes", out.archive.len() as u64)
    .detail("files", out.manifest.lines().count() as u64);
    state.audit(audit).await?;
    Ok((out.archive, out.archive_sha256))
}
