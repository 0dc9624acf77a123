//! Security alerts (raised by the sentinel) and where the security officer is with them.
//!
//! An alert is found again by its `dedupe_key` while it is not resolved, so one ongoing
//! attack stays one row whose count and last-seen time grow, instead of thousands.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Db, StoreError};

/// Where an alert is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertState {
    Open,
    Acknowledged,
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Open => "open",
            AlertState::Acknowledged => "acknowledged",
            AlertState::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(AlertState::Open),
            "acknowledged" => Some(AlertState::Acknowledged),
            "resolved" => Some(AlertState::Resolved),
            _ => None,
        }
    }
}

/// One alert as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRow {
    pub id: String,
    pub dedupe_key: String,
    pub kind: String,
    pub severity: String,
    /// `source`, `account` or `session`.
    pub subject_kind: String,
    pub subject: String,
    pub summary: String,
    /// The features and events behind it, as JSON.
    pub evidence: String,
    pub score: f64,
    pub state: AlertState,
    pub first_ms: i64,
    pub last_ms: i64,
    pub count: i64,
    pub acknowledged: Option<(String, i64)>,
    pub resolved: Option<(String, i64)>,
    pub note: Option<String>,
}

/// What became of a raised alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Raised {
    /// A new row: the alert is news.
    New,
    /// An unresolved alert with the same key got one more sighting.
    Repeated,
}

macro_rules! alert_columns {
    () => {
        "id, dedupe_key, kind, severity, subject_kind, subject, summary, evidence, score, state, \
         first_ms, last_ms, count, acknowledged_by, acknowledged_ms, resolved_by, resolved_ms, note"
    };
}

fn alert_from(r: &AnyRow) -> Result<AlertRow, StoreError> {
    let state: String = r.try_get("state")?;
    let pair = |by: &str, at: &str| -> Result<Option<(String, i64)>, StoreError> {
        let by: Option<String> = r.try_get(by)?;
        let at: Option<i64> = r.try_get(at)?;
        Ok(by.zip(at))
    };
    Ok(AlertRow {
        id: r.try_get("id")?,
        dedupe_key: r.try_get("dedupe_key")?,
        kind: r.try_get("kind")?,
        severity: r.try_get("severity")?,
        subject_kind: r.try_get("subject_kind")?,
        subject: r.try_get("subject")?,
        summary: r.try_get("summary")?,
        evidence: r.try_get("evidence")?,
        score: r.try_get("score")?,
        state: AlertState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("alert state {state:?}")))?,
        first_ms: r.try_get("first_ms")?,
        last_ms: r.try_get("last_ms")?,
        count: r.try_get("count")?,
        acknowledged: pair("acknowledged_by", "acknowledged_ms")?,
        resolved: pair("resolved_by", "resolved_ms")?,
        note: r.try_get("note")?,
    })
}

impl Db {
    /// Records a sighting: a new row, or one more on the unresolved alert with the same
    /// key (its summary, evidence and score become the latest; its severity the worst).
    pub async fn raise_alert(&self, a: &AlertRow) -> Result<Raised, StoreError> {
        let _gate = self.write_guard().await;
        let mut tx = self.pool().begin().await?;
        let existing: Option<(String, String)> = sqlx::query_as(
            "SELECT id, severity FROM security_alerts WHERE dedupe_key = $1 AND state <> 'resolved' \
             ORDER BY last_ms DESC LIMIT 1",
        )
        .bind(&a.dedupe_key)
        .fetch_optional(&mut *tx)
        .await?;
        let raised = match existing {
            Some((id, severity)) => {
                let worst = if severity_rank(&severity) >= severity_rank(&a.severity) {
                    severity
                } else {
                    a.severity.clone()
                };
                sqlx::query(
                    "UPDATE security_alerts SET summary = $1, evidence = $2, score = $3, severity = $4, \
                     last_ms = $5, count = count + 1 WHERE id = $6",
                )
                .bind(&a.summary)
                .bind(&a.evidence)
                .bind(a.score)
                .bind(worst)
                .bind(a.last_ms)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                Raised::Repeated
            }
            None => {
                sqlx::query(
                    "INSERT INTO security_alerts (id, dedupe_key, kind, severity, subject_kind, subject, \
                     summary, evidence, score, state, first_ms, last_ms, count) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10, $11, 1)",
                )
                .bind(&a.id)
                .bind(&a.dedupe_key)
                .bind(&a.kind)
                .bind(&a.severity)
                .bind(&a.subject_kind)
                .bind(&a.subject)
                .bind(&a.summary)
                .bind(&a.evidence)
                .bind(a.score)
                .bind(a.first_ms)
                .bind(a.last_ms)
                .execute(&mut *tx)
                .await?;
                Raised::New
            }
        };
        tx.commit().await?;
        Ok(raised)
    }

    pub async fn alert(&self, id: &str) -> Result<Option<AlertRow>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            alert_columns!(),
            " FROM security_alerts WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(alert_from).transpose()
    }

    /// Alerts not yet resolved, open before acknowledged, newest first; then, when
    /// `with_resolved`, the most recently resolved.
    pub async fn alerts(
        &self,
        with_resolved: bool,
        limit: i64,
    ) -> Result<Vec<AlertRow>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            alert_columns!(),
            " FROM security_alerts WHERE state <> 'resolved' OR $1 = 1 \
             ORDER BY CASE state WHEN 'open' THEN 0 WHEN 'acknowledged' THEN 1 ELSE 2 END, last_ms DESC \
             LIMIT $2"
        ))
        .bind(i64::from(with_resolved))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(alert_from).collect()
    }

    /// How many alerts are in each unresolved state: (open, acknowledged).
    pub async fn unresolved_alert_counts(&self) -> Result<(i64, i64), StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT state, COUNT(*) FROM security_alerts WHERE state <> 'resolved' GROUP BY state",
        )
        .fetch_all(self.pool())
        .await?;
        let count = |s: &str| rows.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
        Ok((count("open"), count("acknowledged")))
    }

    /// Moves an alert on: open → acknowledged → resolved (or open → resolved). False if
    /// there is no such alert or the move goes backwards.
    pub async fn set_alert_state(
        &self,
        id: &str,
        to: AlertState,
        by: &str,
        note: Option<&str>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = match to {
            AlertState::Open => 0,
            AlertState::Acknowledged => sqlx::query(
                "UPDATE security_alerts SET state = 'acknowledged', acknowledged_by = $1, \
                 acknowledged_ms = $2, note = COALESCE($3, note) WHERE id = $4 AND state = 'open'",
            )
            .bind(by)
            .bind(now_ms)
            .bind(note)
            .bind(id)
            .execute(self.pool())
            .await?
            .rows_affected(),
            AlertState::Resolved => sqlx::query(
                "UPDATE security_alerts SET state = 'resolved', resolved_by = $1, resolved_ms = $2, \
                 note = COALESCE($3, note) WHERE id = $4 AND state <> 'resolved'",
            )
            .bind(by)
            .bind(now_ms)
            .bind(note)
            .bind(id)
            .execute(self.pool())
            .await?
            .rows_affected(),
        };
        Ok(n == 1)
    }
}

/// Severities from least to most urgent; unknown ones count as the least.
fn severity_rank(s: &str) -> u8 {
    match s {
        "critical" => 3,
        "high" => 2,
        "medium" => 1,
        _ => 0,
    }
}
