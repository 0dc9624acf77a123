//! Versioned, sealed record storage: every version of every resource, the current
//! version of each (moved only from the version the writer read), and the blind-index
//! tokens search uses. What a resource means is the server's business; here it is an
//! opaque sealed string owned by one patient.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Db, StoreError};

/// One stored version of a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordVersion {
    pub resource_type: String,
    pub id: String,
    pub version: i64,
    /// The patient whose data key sealed it.
    pub owner: String,
    pub sealed: String,
    /// A tombstone: the resource was deleted in this version.
    pub deleted: bool,
    /// Who wrote it (`user:<id>`).
    pub author: String,
    pub created_ms: i64,
}

/// A write of a new version, with the blind-index tokens of its searchable values.
#[derive(Debug, Clone)]
pub struct RecordWrite<'a> {
    pub version: &'a RecordVersion,
    /// `(search parameter, token)` pairs; replaced wholesale at each version.
    pub index: &'a [(String, String)],
    /// A clinician who joins the owner's care team in the same transaction (the one
    /// registering a new patient).
    pub joins_care_team: Option<&'a str>,
}

/// What an update found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateOutcome {
    Written,
    /// The resource has moved on since the writer read it (or `expected` is wrong).
    VersionConflict,
    Missing,
}

fn version_from(r: &AnyRow) -> Result<RecordVersion, StoreError> {
    Ok(RecordVersion {
        resource_type: r.try_get("resource_type")?,
        id: r.try_get("id")?,
        version: r.try_get("version")?,
        owner: r.try_get("owner")?,
        sealed: r.try_get("sealed")?,
        deleted: r.try_get::<i64, _>("deleted")? != 0,
        author: r.try_get("author")?,
        created_ms: r.try_get("created_ms")?,
    })
}

macro_rules! version_columns {
    () => {
        "resource_type, id, version, owner, sealed, deleted, author, created_ms"
    };
}

async fn insert_version(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    w: &RecordWrite<'_>,
) -> Result<(), StoreError> {
    let v = w.version;
    sqlx::query(
        "INSERT INTO record_versions (resource_type, id, version, owner, sealed, deleted, author, created_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&v.resource_type)
    .bind(&v.id)
    .bind(v.version)
    .bind(&v.owner)
    .bind(&v.sealed)
    .bind(i64::from(v.deleted))
    .bind(&v.author)
    .bind(v.created_ms)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM record_index WHERE resource_type = $1 AND id = $2")
        .bind(&v.resource_type)
        .bind(&v.id)
        .execute(&mut **tx)
        .await?;
    if !v.deleted {
        for (param, token) in w.index {
            sqlx::query(
                "INSERT INTO record_index (resource_type, param, token, id) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&v.resource_type)
            .bind(param)
            .bind(token)
            .bind(&v.id)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

impl Db {
    /// Writes version 1 of a new resource. A resource with that id already existing is
    /// a [`StoreError::Conflict`].
    pub async fn create_record(&self, w: &RecordWrite<'_>) -> Result<(), StoreError> {
        let v = w.version;
        let _gate = self.write_guard().await;
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO record_heads (resource_type, id, version, owner, deleted, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&v.resource_type)
        .bind(&v.id)
        .bind(v.version)
        .bind(&v.owner)
        .bind(i64::from(v.deleted))
        .bind(v.created_ms)
        .execute(&mut *tx)
        .await?;
        insert_version(&mut tx, w).await?;
        if let Some(clinician) = w.joins_care_team {
            sqlx::query(
                "INSERT INTO care_team (patient_id, clinician_id, since_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&v.owner)
            .bind(clinician)
            .bind(v.created_ms)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Writes `w` (version `expected + 1`) if the resource is still at `expected`.
    pub async fn update_record(
        &self,
        w: &RecordWrite<'_>,
        expected: i64,
    ) -> Result<UpdateOutcome, StoreError> {
        let v = w.version;
        if v.version != expected + 1 {
            return Ok(UpdateOutcome::VersionConflict);
        }
        let _gate = self.write_guard().await;
        let mut tx = self.pool().begin().await?;
        let moved = sqlx::query(
            "UPDATE record_heads SET version = $1, deleted = $2, updated_ms = $3 \
             WHERE resource_type = $4 AND id = $5 AND version = $6 AND owner = $7",
        )
        .bind(v.version)
        .bind(i64::from(v.deleted))
        .bind(v.created_ms)
        .bind(&v.resource_type)
        .bind(&v.id)
        .bind(expected)
        .bind(&v.owner)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved != 1 {
            tx.rollback().await?;
            let exists = self.record_head(&v.resource_type, &v.id).await?.is_some();
            return Ok(if exists {
                UpdateOutcome::VersionConflict
            } else {
                UpdateOutcome::Missing
            });
        }
        insert_version(&mut tx, w).await?;
        tx.commit().await?;
        Ok(UpdateOutcome::Written)
    }

    /// The current version of a resource (a tombstone if it was deleted).
    pub async fn record_head(
        &self,
        resource_type: &str,
        id: &str,
    ) -> Result<Option<RecordVersion>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            version_columns!(),
            " FROM record_versions WHERE resource_type = $1 AND id = $2 \
             AND version = (SELECT version FROM record_heads WHERE resource_type = $3 AND id = $4)"
        ))
        .bind(resource_type)
        .bind(id)
        .bind(resource_type)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(version_from).transpose()
    }

    /// One version of a resource.
    pub async fn record_version(
        &self,
        resource_type: &str,
        id: &str,
        version: i64,
    ) -> Result<Option<RecordVersion>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            version_columns!(),
            " FROM record_versions WHERE resource_type = $1 AND id = $2 AND version = $3"
        ))
        .bind(resource_type)
        .bind(id)
        .bind(version)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(version_from).transpose()
    }

    /// Every version of a resource, newest first.
    pub async fn record_history(
        &self,
        resource_type: &str,
        id: &str,
    ) -> Result<Vec<RecordVersion>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            version_columns!(),
            " FROM record_versions WHERE resource_type = $1 AND id = $2 ORDER BY version DESC"
        ))
        .bind(resource_type)
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(version_from).collect()
    }

    /// Ids of current (not deleted) resources whose `param` has the blind-index `token`.
    pub async fn search_records(
        &self,
        resource_type: &str,
        param: &str,
        token: &str,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM record_index WHERE resource_type = $1 AND param = $2 AND token = $3 \
             ORDER BY id LIMIT $4",
        )
        .bind(resource_type)
        .bind(param)
        .bind(token)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// Ids of `owner`'s current (not deleted) resources of a type (a patient's compartment).
    pub async fn records_of(
        &self,
        owner: &str,
        resource_type: &str,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM record_heads WHERE owner = $1 AND resource_type = $2 AND deleted = 0 \
             ORDER BY id LIMIT $3",
        )
        .bind(owner)
        .bind(resource_type)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }
}

impl Db {
    /// Puts `clinician_id` on `patient_id`'s care team (again is fine).
    pub async fn add_to_care_team(
        &self,
        patient_id: &str,
        clinician_id: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO care_team (patient_id, clinician_id, since_ms) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(patient_id)
        .bind(clinician_id)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The clinicians on `patient_id`'s care team, with when they joined.
    pub async fn care_team_of(&self, patient_id: &str) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT clinician_id, since_ms FROM care_team WHERE patient_id = $1 ORDER BY since_ms",
        )
        .bind(patient_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("clinician_id")?, r.try_get("since_ms")?)))
            .collect()
    }

    /// Whether `clinician_id` is on `patient_id`'s care team now. Narrower than
    /// [`Db::cares_for`], which also counts appointments: messaging is with the care team
    /// only, so taking a clinician off it ends their part in the conversation.
    pub async fn on_care_team(
        &self,
        clinician_id: &str,
        patient_id: &str,
    ) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM care_team WHERE patient_id = $1 AND clinician_id = $2",
        )
        .bind(patient_id)
        .bind(clinician_id)
        .fetch_one(self.pool())
        .await?;
        Ok(n > 0)
    }

    /// Takes `clinician_id` off `patient_id`'s care team; false if they were not on it.
    pub async fn remove_from_care_team(
        &self,
        patient_id: &str,
        clinician_id: &str,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query("DELETE FROM care_team WHERE patient_id = $1 AND clinician_id = $2")
            .bind(patient_id)
            .bind(clinician_id)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Whether `clinician_id` cares for `patient_id`: on their care team, or with an
    /// appointment (booked or held) with them.
    pub async fn cares_for(
        &self,
        clinician_id: &str,
        patient_id: &str,
    ) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM care_team WHERE patient_id = $1 AND clinician_id = $2) \
             + (SELECT COUNT(*) FROM appointments WHERE patient_id = $3 AND clinician_id = $4 AND status <> 'cancelled')",
        )
        .bind(patient_id)
        .bind(clinician_id)
        .bind(patient_id)
        .bind(clinician_id)
        .fetch_one(self.pool())
        .await?;
        Ok(n > 0)
    }
}
