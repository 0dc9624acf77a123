//! The sentinel's alerts, kept and answered.
//!
//! The sentinel folds one ongoing attack into one alert and broadcasts it when it is new
//! or more severe. The keeper stores each broadcast (one row per attack while it is
//! unresolved), writes it to the ledger, and tells every security officer (a notice in
//! the app and an e-mail) and the practice's webhook. The security officer acknowledges
//! and resolves alerts; each step is a ledger entry too.
//!
//! Alerts carry addresses, opaque account ids and counts — never a name, an e-mail
//! address or anything from a record — so they can go to e-mail and webhooks.

use std::time::Duration;

use ledger::{NewEntry, Outcome};
use proto::ErrorCode;
use sentinel::{Alert, Scope, Severity};
use serde_json::{Map, Value, json};
use store::alerts::{AlertRow, AlertState, Raised};
use store::notices::NoticeRow;
use tokio::sync::{broadcast, watch};

use crate::admin::require;
use crate::audit::{Actor, entry};
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::Role;
use crate::identity::session::CurrentUser;
use crate::mail::Email;
use crate::policy::{Action, Target};
use crate::state::AppState;

/// How long a webhook may take before it is given up.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(5);

/// The kind of subject, as stored.
pub fn subject_kind(scope: &Scope) -> &'static str {
    match scope {
        Scope::Source(_) => "source",
        Scope::Account(_) => "account",
        Scope::Session(_) => "session",
        Scope::Global => "service",
    }
}

/// The subject, as stored and shown.
pub fn subject_label(scope: &Scope) -> String {
    match scope {
        Scope::Source(ip) => ip.to_string(),
        Scope::Account(id) => id.clone(),
        Scope::Session(key) => format!("{:016x}", key.as_u64()),
        Scope::Global => "the whole service".into(),
    }
}

pub fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

/// The stored form of a broadcast alert.
pub fn row(alert: &Alert, id: String) -> AlertRow {
    let evidence: Map<String, Value> = alert
        .evidence
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    AlertRow {
        id,
        dedupe_key: format!(
            "{}:{}:{}",
            alert.kind.name(),
            subject_kind(&alert.subject),
            subject_label(&alert.subject)
        ),
        kind: alert.kind.name().to_owned(),
        severity: severity_name(alert.severity).to_owned(),
        subject_kind: subject_kind(&alert.subject).to_owned(),
        subject: subject_label(&alert.subject),
        summary: alert.summary.clone(),
        evidence: Value::Object(evidence).to_string(),
        score: if alert.score.is_finite() {
            alert.score
        } else {
            0.0
        },
        state: AlertState::Open,
        first_ms: alert.first_at_ms,
        last_ms: alert.at_ms,
        count: i64::from(alert.occurrences),
        acknowledged: None,
        resolved: None,
        note: None,
    }
}

/// Keeps every alert the sentinel broadcasts until shutdown.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let mut alerts = state.sentinel.subscribe();
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            next = alerts.recv() => match next {
                Ok(alert) => {
                    if let Err(e) = keep(&state, &alert).await {
                        tracing::error!(error = %e, kind = alert.kind.name(), "could not keep a security alert");
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "security alerts came faster than they could be kept");
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}

/// Stores one alert, writes it to the ledger and, when it is news, tells people.
pub async fn keep(state: &AppState, alert: &Alert) -> AppResult<Raised> {
    let stored = row(alert, crate::setup::new_id()?);
    let ledger_entry = NewEntry::new(
        Actor::System.as_ledger_name(),
        "security.alert",
        format!("{}:{}", stored.subject_kind, stored.subject),
        Outcome::Success,
    )
    .detail("kind", stored.kind.clone())
    .detail("severity", stored.severity.clone())
    .detail("summary", stored.summary.clone())
    .detail("score", format!("{:.2}", stored.score));
    state.audit(ledger_entry).await?;
    let raised = state.db.raise_alert(&stored).await?;
    if raised == Raised::New || alert.severity >= Severity::High {
        tell_people(state, &stored).await?;
    }
    Ok(raised)
}

/// A notice and an e-mail to every security officer, and the webhook.
pub(crate) async fn tell_people(state: &AppState, a: &AlertRow) -> AppResult<()> {
    let now = state.clock.now_ms();
    let message = format!(
        "Security alert ({}): {} Open the security dashboard to look into it.",
        a.severity, a.summary
    );
    for officer in state.db.list_users(&state.keyring).await? {
        if officer.role != Role::SecurityOfficer.as_str() || officer.disabled_ms.is_some() {
            continue;
        }
        state
            .db
            .insert_notice(&NoticeRow {
                id: crate::setup::new_id()?,
                user_id: officer.id.clone(),
                created_ms: now,
                kind: "security_alert".into(),
                message: message.clone(),
                read_ms: None,
            })
            .await?;
        state.mailer.send_in_background(Email {
            to_address: officer.email.clone(),
            to_name: Some(officer.display_name.clone()),
            subject: format!("Telewarden security alert ({}): {}", a.severity, a.kind),
            body: format!(
                "Hello {name},\n\n{summary}\n\nAbout: {subject_kind} {subject}\nSeverity: {severity}\nFirst seen: {first} (UTC)\n\n\
                 Look into it, acknowledge it and resolve it at {origin}/security\n",
                name = officer.display_name,
                summary = a.summary,
                subject_kind = a.subject_kind,
                subject = a.subject,
                severity = a.severity,
                first = clock::rfc3339_ms(a.first_ms),
                origin = state.origin,
            ),
        });
    }
    if let Some(url) = &state.config.sentinel.webhook_url {
        let url = url.expose().to_owned();
        let body = webhook_body(a);
        tokio::spawn(async move {
            let client = match reqwest::Client::builder().timeout(WEBHOOK_TIMEOUT).build() {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "security alert webhook: no HTTP client");
                    return;
                }
            };
            match client.post(&url).json(&body).send().await {
                Ok(res) if res.status().is_success() => {}
                Ok(res) => tracing::warn!(
                    status = res.status().as_u16(),
                    "security alert webhook refused the alert"
                ),
                // The URL may hold a token: never log it.
                Err(_) => tracing::warn!("security alert webhook could not be reached"),
            }
        });
    }
    Ok(())
}

/// What the webhook receives.
pub fn webhook_body(a: &AlertRow) -> Value {
    json!({
        "source": "telewarden",
        "id": a.id,
        "kind": a.kind,
        "severity": a.severity,
        "subject": { "kind": a.subject_kind, "value": a.subject },
        "summary": a.summary,
        "evidence": serde_json::from_str::<Value>(&a.evidence).unwrap_or(Value::Null),
        "score": a.score,
        "first_seen": clock::rfc3339_ms(a.first_ms),
        "last_seen": clock::rfc3339_ms(a.last_ms),
        "count": a.count,
    })
}

/// The security officer moves an alert on (acknowledged, or resolved with a note).
pub async fn respond(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    id: &str,
    to: AlertState,
    note: &str,
) -> AppResult<()> {
    require(who, Action::RespondToAlerts, Target::Practice)?;
    let note = note.split_whitespace().collect::<Vec<_>>().join(" ");
    if note.chars().count() > 1000 {
        return Err(AppError::client(
            ErrorCode::InvalidInput,
            "Keep the note under 1,000 characters.",
        ));
    }
    if to == AlertState::Resolved && note.is_empty() {
        return Err(AppError::client(
            ErrorCode::InvalidInput,
            "Say what you found or did before resolving the alert.",
        ));
    }
    let Some(alert) = state.db.alert(id).await? else {
        return Err(AppError::client(
            ErrorCode::NotFound,
            "There is no such alert.",
        ));
    };
    let action = match to {
        AlertState::Acknowledged => "security.alert.acknowledge",
        AlertState::Resolved => "security.alert.resolve",
        AlertState::Open => {
            return Err(AppError::client(
                ErrorCode::InvalidInput,
                "An alert cannot be reopened; a new sighting opens a new one.",
            ));
        }
    };
    let e = entry(
        meta,
        &Actor::User(who.user.id.clone()),
        action,
        &format!("alert:{}", alert.id),
        Outcome::Success,
    )
    .detail("kind", alert.kind.clone())
    .detail(
        "subject",
        format!("{}:{}", alert.subject_kind, alert.subject),
    );
    let e = if note.is_empty() {
        e
    } else {
        e.detail("note", note.clone())
    };
    let now = state.clock.now_ms();
    let moved = state
        .audited(e, async {
            Ok(state
                .db
                .set_alert_state(
                    id,
                    to,
                    &who.user.id,
                    (!note.is_empty()).then_some(note.as_str()),
                    now,
                )
                .await?)
        })
        .await?;
    if moved {
        Ok(())
    } else {
        Err(AppError::client(
            ErrorCode::Conflict,
            "That alert has already moved on: reload the page to see where it is.",
        ))
    }
}
