//! Assurance storage: check runs and results, questionnaire answers, the risk register
//! and its history, reviews, and incidents (whose record arrives here already sealed).

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Db, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRow {
    pub id: String,
    pub started_ms: i64,
    pub trigger: String,
    pub actor: String,
    pub passed: i64,
    pub failed: i64,
    pub cannot_run: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultRow {
    pub run_id: String,
    pub check_id: String,
    pub outcome: String,
    pub summary: String,
    /// JSON array of `[label, value]` pairs.
    pub evidence: String,
    pub observed_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerRow {
    pub question_id: String,
    pub answer: Option<String>,
    pub note: String,
    pub delegated_to: Option<String>,
    pub answered_by: Option<String>,
    pub answered_ms: Option<i64>,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskRow {
    pub id: String,
    pub scenario_id: String,
    pub assessed_likelihood: i64,
    pub impact: i64,
    pub likelihood: i64,
    pub level: i64,
    pub treatment: Option<String>,
    pub plan: String,
    pub owner: Option<String>,
    pub due_ms: Option<i64>,
    pub approver: Option<String>,
    pub accept_until_ms: Option<i64>,
    pub transfer_to: Option<String>,
    pub verified_ms: Option<i64>,
    pub verified_by: Option<String>,
    pub status: String,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskPoint {
    pub at_ms: i64,
    pub likelihood: i64,
    pub impact: i64,
    pub level: i64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRow {
    pub id: String,
    pub kind: String,
    pub reason: String,
    pub opened_ms: i64,
    pub due_ms: i64,
    pub completed_ms: Option<i64>,
    pub completed_by: Option<String>,
    pub summary: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRow {
    pub id: String,
    pub opened_ms: i64,
    pub opened_by: String,
    pub alert_id: Option<String>,
    pub closed_ms: Option<i64>,
    /// The incident record, sealed by the server.
    pub record: String,
    pub updated_ms: i64,
}

fn result_from(r: &AnyRow) -> Result<ResultRow, StoreError> {
    Ok(ResultRow {
        run_id: r.try_get("run_id")?,
        check_id: r.try_get("check_id")?,
        outcome: r.try_get("outcome")?,
        summary: r.try_get("summary")?,
        evidence: r.try_get("evidence")?,
        observed_ms: r.try_get("observed_ms")?,
    })
}

fn run_from(r: &AnyRow) -> Result<RunRow, StoreError> {
    Ok(RunRow {
        id: r.try_get("id")?,
        started_ms: r.try_get("started_ms")?,
        trigger: r.try_get("trigger")?,
        actor: r.try_get("actor")?,
        passed: r.try_get("passed")?,
        failed: r.try_get("failed")?,
        cannot_run: r.try_get("cannot_run")?,
    })
}

fn risk_from(r: &AnyRow) -> Result<RiskRow, StoreError> {
    Ok(RiskRow {
        id: r.try_get("id")?,
        scenario_id: r.try_get("scenario_id")?,
        assessed_likelihood: r.try_get("assessed_likelihood")?,
        impact: r.try_get("impact")?,
        likelihood: r.try_get("likelihood")?,
        level: r.try_get("level")?,
        treatment: r.try_get("treatment")?,
        plan: r.try_get("plan")?,
        owner: r.try_get("owner")?,
        due_ms: r.try_get("due_ms")?,
        approver: r.try_get("approver")?,
        accept_until_ms: r.try_get("accept_until_ms")?,
        transfer_to: r.try_get("transfer_to")?,
        verified_ms: r.try_get("verified_ms")?,
        verified_by: r.try_get("verified_by")?,
        status: r.try_get("status")?,
        updated_ms: r.try_get("updated_ms")?,
    })
}

fn review_from(r: &AnyRow) -> Result<ReviewRow, StoreError> {
    Ok(ReviewRow {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        reason: r.try_get("reason")?,
        opened_ms: r.try_get("opened_ms")?,
        due_ms: r.try_get("due_ms")?,
        completed_ms: r.try_get("completed_ms")?,
        completed_by: r.try_get("completed_by")?,
        summary: r.try_get("summary")?,
    })
}

fn incident_from(r: &AnyRow) -> Result<IncidentRow, StoreError> {
    Ok(IncidentRow {
        id: r.try_get("id")?,
        opened_ms: r.try_get("opened_ms")?,
        opened_by: r.try_get("opened_by")?,
        alert_id: r.try_get("alert_id")?,
        closed_ms: r.try_get("closed_ms")?,
        record: r.try_get("record")?,
        updated_ms: r.try_get("updated_ms")?,
    })
}

/// Appends a point to a risk's history, in the transaction that changed the risk.
async fn history_point(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    r: &RiskRow,
    reason: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO risk_history (risk_id, at_ms, likelihood, impact, level, reason) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&r.id)
    .bind(r.updated_ms)
    .bind(r.likelihood)
    .bind(r.impact)
    .bind(r.level)
    .bind(reason)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

const RISK_COLUMNS: &str = "id, scenario_id, assessed_likelihood, impact, likelihood, level, treatment, plan, owner, due_ms, approver, accept_until_ms, transfer_to, verified_ms, verified_by, status, updated_ms";

impl Db {
    /// Stores one run and all its results together.
    pub async fn insert_check_run(
        &self,
        run: &RunRow,
        results: &[ResultRow],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        let seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM assurance_runs")
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO assurance_runs (id, seq, started_ms, trigger, actor, passed, failed, cannot_run) \
             VALUES ($1, $8, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&run.id)
        .bind(run.started_ms)
        .bind(&run.trigger)
        .bind(&run.actor)
        .bind(run.passed)
        .bind(run.failed)
        .bind(run.cannot_run)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
        for r in results {
            sqlx::query(
                "INSERT INTO check_results (run_id, run_seq, check_id, outcome, summary, evidence, observed_ms) \
                 VALUES ($1, $7, $2, $3, $4, $5, $6)",
            )
            .bind(&r.run_id)
            .bind(&r.check_id)
            .bind(&r.outcome)
            .bind(&r.summary)
            .bind(&r.evidence)
            .bind(r.observed_ms)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The newest runs first.
    pub async fn check_runs(&self, limit: i64) -> Result<Vec<RunRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, started_ms, trigger, actor, passed, failed, cannot_run FROM assurance_runs \
             ORDER BY seq DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(run_from).collect()
    }

    /// The results of one run.
    pub async fn check_results(&self, run_id: &str) -> Result<Vec<ResultRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT run_id, check_id, outcome, summary, evidence, observed_ms FROM check_results WHERE run_id = $1",
        )
        .bind(run_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(result_from).collect()
    }

    /// The latest result of each check, from whichever run last ran it.
    pub async fn latest_check_results(&self) -> Result<Vec<ResultRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.run_id, r.check_id, r.outcome, r.summary, r.evidence, r.observed_ms FROM check_results r \
             WHERE r.run_seq = (SELECT MAX(o.run_seq) FROM check_results o WHERE o.check_id = r.check_id)",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(result_from).collect()
    }

    /// One check's results over time, newest first.
    pub async fn check_history(
        &self,
        check_id: &str,
        limit: i64,
    ) -> Result<Vec<ResultRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT run_id, check_id, outcome, summary, evidence, observed_ms FROM check_results \
             WHERE check_id = $1 ORDER BY run_seq DESC LIMIT $2",
        )
        .bind(check_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(result_from).collect()
    }

    pub async fn answers(&self) -> Result<Vec<AnswerRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT question_id, answer, note, delegated_to, answered_by, answered_ms, updated_ms FROM assessment_answers",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AnswerRow {
                    question_id: r.try_get("question_id")?,
                    answer: r.try_get("answer")?,
                    note: r.try_get("note")?,
                    delegated_to: r.try_get("delegated_to")?,
                    answered_by: r.try_get("answered_by")?,
                    answered_ms: r.try_get("answered_ms")?,
                    updated_ms: r.try_get("updated_ms")?,
                })
            })
            .collect()
    }

    pub async fn put_answer(&self, a: &AnswerRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO assessment_answers (question_id, answer, note, delegated_to, answered_by, answered_ms, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (question_id) DO UPDATE SET \
             answer = excluded.answer, note = excluded.note, delegated_to = excluded.delegated_to, \
             answered_by = excluded.answered_by, answered_ms = excluded.answered_ms, updated_ms = excluded.updated_ms",
        )
        .bind(&a.question_id)
        .bind(&a.answer)
        .bind(&a.note)
        .bind(&a.delegated_to)
        .bind(&a.answered_by)
        .bind(a.answered_ms)
        .bind(a.updated_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn risks(&self) -> Result<Vec<RiskRow>, StoreError> {
        let sql = format!("SELECT {RISK_COLUMNS} FROM risks ORDER BY level DESC, scenario_id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(risk_from).collect()
    }

    pub async fn risk(&self, id: &str) -> Result<Option<RiskRow>, StoreError> {
        let sql = format!("SELECT {RISK_COLUMNS} FROM risks WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(risk_from).transpose()
    }

    /// Inserts or replaces a risk, and appends a point to its history when its
    /// likelihood, impact or level moved (or it is new).
    pub async fn put_risk(&self, r: &RiskRow, reason: &str) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        let before: Option<(i64, i64, i64)> =
            sqlx::query_as("SELECT likelihood, impact, level FROM risks WHERE id = $1")
                .bind(&r.id)
                .fetch_optional(&mut *tx)
                .await?;
        sqlx::query(
            "INSERT INTO risks (id, scenario_id, assessed_likelihood, impact, likelihood, level, treatment, plan, owner, due_ms, approver, accept_until_ms, transfer_to, verified_ms, verified_by, status, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
             ON CONFLICT (id) DO UPDATE SET assessed_likelihood = excluded.assessed_likelihood, impact = excluded.impact, \
             likelihood = excluded.likelihood, level = excluded.level, treatment = excluded.treatment, plan = excluded.plan, \
             owner = excluded.owner, due_ms = excluded.due_ms, approver = excluded.approver, accept_until_ms = excluded.accept_until_ms, \
             transfer_to = excluded.transfer_to, verified_ms = excluded.verified_ms, verified_by = excluded.verified_by, \
             status = excluded.status, updated_ms = excluded.updated_ms",
        )
        .bind(&r.id)
        .bind(&r.scenario_id)
        .bind(r.assessed_likelihood)
        .bind(r.impact)
        .bind(r.likelihood)
        .bind(r.level)
        .bind(&r.treatment)
        .bind(&r.plan)
        .bind(&r.owner)
        .bind(r.due_ms)
        .bind(&r.approver)
        .bind(r.accept_until_ms)
        .bind(&r.transfer_to)
        .bind(r.verified_ms)
        .bind(&r.verified_by)
        .bind(&r.status)
        .bind(r.updated_ms)
        .execute(&mut *tx)
        .await?;
        if before != Some((r.likelihood, r.impact, r.level)) {
            history_point(&mut tx, r, reason).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds a risk for a scenario not yet in the register (two first page loads at
    /// once add it once). True if added.
    pub async fn seed_risk(&self, r: &RiskRow, reason: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let n = sqlx::query(
            "INSERT INTO risks (id, scenario_id, assessed_likelihood, impact, likelihood, level, plan, status, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, '', $7, $8) ON CONFLICT (scenario_id) DO NOTHING",
        )
        .bind(&r.id)
        .bind(&r.scenario_id)
        .bind(r.assessed_likelihood)
        .bind(r.impact)
        .bind(r.likelihood)
        .bind(r.level)
        .bind(&r.status)
        .bind(r.updated_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 1 {
            history_point(&mut tx, r, reason).await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Stores what re-scoring computed — likelihood, level, status, verification and a
    /// lapsed treatment — only if the risk is still as it was read (`seen_updated_ms`),
    /// so a treatment saved meanwhile is never overwritten. True if stored.
    pub async fn rescore_risk(
        &self,
        r: &RiskRow,
        seen_updated_ms: i64,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let before: Option<(i64, i64, i64)> = sqlx::query_as(
            "SELECT likelihood, impact, level FROM risks WHERE id = $1 AND updated_ms = $2",
        )
        .bind(&r.id)
        .bind(seen_updated_ms)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(before) = before else {
            return Ok(false);
        };
        sqlx::query(
            "UPDATE risks SET likelihood = $1, level = $2, status = $3, verified_ms = $4, verified_by = $5, \
             treatment = $6, updated_ms = $7 WHERE id = $8",
        )
        .bind(r.likelihood)
        .bind(r.level)
        .bind(&r.status)
        .bind(r.verified_ms)
        .bind(&r.verified_by)
        .bind(&r.treatment)
        .bind(r.updated_ms)
        .bind(&r.id)
        .execute(&mut *tx)
        .await?;
        if before != (r.likelihood, r.impact, r.level) {
            history_point(&mut tx, r, reason).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// A risk's history, oldest first.
    pub async fn risk_history(&self, risk_id: &str) -> Result<Vec<RiskPoint>, StoreError> {
        let rows = sqlx::query(
            "SELECT at_ms, likelihood, impact, level, reason FROM risk_history WHERE risk_id = $1 ORDER BY at_ms",
        )
        .bind(risk_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RiskPoint {
                    at_ms: r.try_get("at_ms")?,
                    likelihood: r.try_get("likelihood")?,
                    impact: r.try_get("impact")?,
                    level: r.try_get("level")?,
                    reason: r.try_get("reason")?,
                })
            })
            .collect()
    }

    pub async fn reviews(&self) -> Result<Vec<ReviewRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, kind, reason, opened_ms, due_ms, completed_ms, completed_by, summary FROM assurance_reviews ORDER BY opened_ms DESC",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(review_from).collect()
    }

    pub async fn insert_review(&self, r: &ReviewRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO assurance_reviews (id, kind, reason, opened_ms, due_ms, completed_ms, completed_by, summary) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&r.id)
        .bind(&r.kind)
        .bind(&r.reason)
        .bind(r.opened_ms)
        .bind(r.due_ms)
        .bind(r.completed_ms)
        .bind(&r.completed_by)
        .bind(&r.summary)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Completes an open review; false if it is unknown or already complete.
    pub async fn complete_review(
        &self,
        id: &str,
        by: &str,
        summary: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE assurance_reviews SET completed_ms = $1, completed_by = $2, summary = $3 WHERE id = $4 AND completed_ms IS NULL",
        )
        .bind(now_ms)
        .bind(by)
        .bind(summary)
        .bind(id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    pub async fn incidents(&self) -> Result<Vec<IncidentRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, opened_ms, opened_by, alert_id, closed_ms, record, updated_ms FROM incidents ORDER BY opened_ms DESC",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(incident_from).collect()
    }

    pub async fn incident(&self, id: &str) -> Result<Option<IncidentRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, opened_ms, opened_by, alert_id, closed_ms, record, updated_ms FROM incidents WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(incident_from).transpose()
    }

    pub async fn insert_incident(&self, i: &IncidentRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO incidents (id, opened_ms, opened_by, alert_id, closed_ms, record, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&i.id)
        .bind(i.opened_ms)
        .bind(&i.opened_by)
        .bind(&i.alert_id)
        .bind(i.closed_ms)
        .bind(&i.record)
        .bind(i.updated_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Replaces an incident's record if it was last updated at `expected_updated_ms`
    /// (optimistic concurrency: two officers editing at once do not overwrite each
    /// other). False when it moved on or does not exist.
    pub async fn update_incident(
        &self,
        id: &str,
        record: &str,
        closed_ms: Option<i64>,
        expected_updated_ms: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE incidents SET record = $1, closed_ms = $2, updated_ms = $3 WHERE id = $4 AND updated_ms = $5",
        )
        .bind(record)
        .bind(closed_ms)
        .bind(now_ms)
        .bind(id)
        .bind(expected_updated_ms)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Facts for the identity checks: per account, its passkeys, whether its TOTP is
    /// confirmed, its last use of a credential or session, and its distinct devices
    /// with a live session at `now_ms`.
    pub async fn account_security_facts(
        &self,
        now_ms: i64,
    ) -> Result<Vec<AccountSecurityFacts>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, u.role, u.created_ms, u.disabled_ms, \
               (SELECT COUNT(*) FROM passkeys p WHERE p.user_id = u.id) AS passkeys, \
               (SELECT COUNT(*) FROM totp t WHERE t.user_id = u.id AND t.confirmed_ms IS NOT NULL) AS totp, \
               (SELECT MAX(p.last_used_ms) FROM passkeys p WHERE p.user_id = u.id) AS passkey_used, \
               (SELECT MAX(s.authenticated_ms) FROM sessions s WHERE s.user_id = u.id) AS session_auth, \
               (SELECT COUNT(DISTINCT s.device_hash) FROM sessions s WHERE s.user_id = u.id \
                  AND s.revoked_ms IS NULL AND s.expires_ms > $1 AND s.last_seen_ms + s.idle_timeout_ms > $1) AS devices \
             FROM users u",
        )
        .bind(now_ms)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let passkey_used: Option<i64> = r.try_get("passkey_used")?;
                let session_auth: Option<i64> = r.try_get("session_auth")?;
                Ok(AccountSecurityFacts {
                    id: r.try_get("id")?,
                    role: r.try_get("role")?,
                    created_ms: r.try_get("created_ms")?,
                    disabled: r.try_get::<Option<i64>, _>("disabled_ms")?.is_some(),
                    passkeys: r.try_get("passkeys")?,
                    totp_confirmed: r.try_get::<i64, _>("totp")? > 0,
                    last_active_ms: passkey_used.max(session_auth).filter(|t| *t > 0),
                    live_devices: r.try_get("devices")?,
                })
            })
            .collect()
    }

    /// Break-glass grants started since `since_ms`: id, start, when reviewed.
    pub async fn break_glass_review_facts(
        &self,
        since_ms: i64,
    ) -> Result<Vec<(String, i64, Option<i64>)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, started_ms, reviewed_ms FROM break_glass WHERE started_ms >= $1 ORDER BY started_ms",
        )
        .bind(since_ms)
        .fetch_all(self.pool())
        .await?)
    }

    /// Account profiles still stored in clear (none once the directory is sealed).
    pub async fn unsealed_profiles(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE profile IS NULL OR profile = ''")
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// The key-encryption key in use (the newest), when it was made, how many data keys
    /// exist and how many are still wrapped under older keys.
    pub async fn key_facts(&self) -> Result<KeyFacts, StoreError> {
        let current: Option<(i64, i64)> = sqlx::query_as(
            "SELECT version, created_ms FROM key_encryption_keys ORDER BY version DESC LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await?;
        let data_keys: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM data_keys")
            .fetch_one(self.pool())
            .await?;
        let old: i64 = match current {
            Some((v, _)) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM data_keys WHERE kek_version < $1")
                    .bind(v)
                    .fetch_one(self.pool())
                    .await?
            }
            None => 0,
        };
        Ok(KeyFacts {
            current_version: current.map(|c| c.0),
            current_created_ms: current.map(|c| c.1),
            data_keys,
            data_keys_under_old: old,
        })
    }
}

/// See [`Db::account_security_facts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSecurityFacts {
    pub id: String,
    pub role: String,
    pub created_ms: i64,
    pub disabled: bool,
    pub passkeys: i64,
    pub totp_confirmed: bool,
    pub last_active_ms: Option<i64>,
    pub live_devices: i64,
}

/// See [`Db::key_facts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFacts {
    pub current_version: Option<i64>,
    pub current_created_ms: Option<i64>,
    pub data_keys: i64,
    pub data_keys_under_old: i64,
}
