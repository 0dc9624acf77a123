//! Break-glass grants (a clinician's time-limited access to a record outside their care
//! relationships, with the reason they gave, until the security officer has reviewed it)
//! and data transfers (bulk exports of records), the two kinds of unusual access.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Db, StoreError};

/// One break-glass grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakGlassGrant {
    pub id: String,
    pub clinician_id: String,
    pub patient_id: String,
    pub reason: String,
    pub started_ms: i64,
    pub expires_ms: i64,
    /// Who reviewed it, when, and what they concluded.
    pub review: Option<(String, i64, String)>,
}

fn grant_from(r: &AnyRow) -> Result<BreakGlassGrant, StoreError> {
    let reviewed_by: Option<String> = r.try_get("reviewed_by")?;
    let reviewed_ms: Option<i64> = r.try_get("reviewed_ms")?;
    let note: Option<String> = r.try_get("review_note")?;
    Ok(BreakGlassGrant {
        id: r.try_get("id")?,
        clinician_id: r.try_get("clinician_id")?,
        patient_id: r.try_get("patient_id")?,
        reason: r.try_get("reason")?,
        started_ms: r.try_get("started_ms")?,
        expires_ms: r.try_get("expires_ms")?,
        review: match (reviewed_by, reviewed_ms) {
            (Some(by), Some(at)) => Some((by, at, note.unwrap_or_default())),
            _ => None,
        },
    })
}

macro_rules! grant_columns {
    () => {
        "id, clinician_id, patient_id, reason, started_ms, expires_ms, reviewed_by, reviewed_ms, review_note"
    };
}

impl Db {
    pub async fn insert_break_glass(&self, g: &BreakGlassGrant) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO break_glass (id, clinician_id, patient_id, reason, started_ms, expires_ms) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&g.id)
        .bind(&g.clinician_id)
        .bind(&g.patient_id)
        .bind(&g.reason)
        .bind(g.started_ms)
        .bind(g.expires_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The grant letting `clinician_id` into `patient_id`'s record at `now_ms`, if any
    /// (the one that lasts longest).
    pub async fn active_break_glass(
        &self,
        clinician_id: &str,
        patient_id: &str,
        now_ms: i64,
    ) -> Result<Option<BreakGlassGrant>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            grant_columns!(),
            " FROM break_glass WHERE clinician_id = $1 AND patient_id = $2 AND expires_ms > $3 \
             ORDER BY expires_ms DESC LIMIT 1"
        ))
        .bind(clinician_id)
        .bind(patient_id)
        .bind(now_ms)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(grant_from).transpose()
    }

    pub async fn break_glass(&self, id: &str) -> Result<Option<BreakGlassGrant>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            grant_columns!(),
            " FROM break_glass WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(grant_from).transpose()
    }

    /// Grants, unreviewed first, then newest first.
    pub async fn break_glass_queue(&self, limit: i64) -> Result<Vec<BreakGlassGrant>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            grant_columns!(),
            " FROM break_glass ORDER BY CASE WHEN reviewed_ms IS NULL THEN 0 ELSE 1 END, started_ms DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(grant_from).collect()
    }

    /// Marks a grant reviewed; false if there is no such grant or it was reviewed already.
    pub async fn review_break_glass(
        &self,
        id: &str,
        reviewer_id: &str,
        note: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE break_glass SET reviewed_by = $1, reviewed_ms = $2, review_note = $3 \
             WHERE id = $4 AND reviewed_ms IS NULL",
        )
        .bind(reviewer_id)
        .bind(now_ms)
        .bind(note)
        .bind(id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }
}

/// Data that left the server in bulk: one record export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataTransfer {
    pub id: String,
    pub actor_id: String,
    pub role: String,
    pub patient_id: String,
    pub resources: i64,
    pub bytes: i64,
    pub at_ms: i64,
}

impl Db {
    pub async fn insert_data_transfer(&self, t: &DataTransfer) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO data_transfers (id, actor_id, role, patient_id, resources, bytes, at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&t.id)
        .bind(&t.actor_id)
        .bind(&t.role)
        .bind(&t.patient_id)
        .bind(t.resources)
        .bind(t.bytes)
        .bind(t.at_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// How many transfers `actor_id` made since `since_ms`.
    pub async fn data_transfers_since(
        &self,
        actor_id: &str,
        since_ms: i64,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM data_transfers WHERE actor_id = $1 AND at_ms >= $2",
        )
        .bind(actor_id)
        .bind(since_ms)
        .fetch_one(self.pool())
        .await?)
    }

    /// Every transfer since `since_ms`, oldest first (what the sentinel watches).
    pub async fn data_transfers(&self, since_ms: i64) -> Result<Vec<DataTransfer>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, actor_id, role, patient_id, resources, bytes, at_ms FROM data_transfers \
             WHERE at_ms >= $1 ORDER BY at_ms LIMIT 10000",
        )
        .bind(since_ms)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DataTransfer {
                    id: r.try_get("id")?,
                    actor_id: r.try_get("actor_id")?,
                    role: r.try_get("role")?,
                    patient_id: r.try_get("patient_id")?,
                    resources: r.try_get("resources")?,
                    bytes: r.try_get("bytes")?,
                    at_ms: r.try_get("at_ms")?,
                })
            })
            .collect()
    }
}
