//! Slots, appointments, guest passes, consult notes and files.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Db, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotRow {
    pub id: String,
    pub clinician_id: String,
    pub starts_ms: i64,
    pub ends_ms: i64,
    pub appointment_id: Option<String>,
    pub created_ms: i64,
}

/// `status`: `booked`, `cancelled` or `completed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointmentRow {
    pub id: String,
    pub clinician_id: String,
    /// `None` for a guest (see [`GuestPassRow`]).
    pub patient_id: Option<String>,
    pub slot_id: Option<String>,
    pub starts_ms: i64,
    pub ends_ms: i64,
    pub status: String,
    pub booked_by: String,
    pub created_ms: i64,
    pub cancelled_ms: Option<i64>,
    pub reminded_ms: Option<i64>,
    pub started_ms: Option<i64>,
    pub ended_ms: Option<i64>,
    pub verified_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestPassRow {
    pub appointment_id: String,
    pub token_hash: String,
    pub code_hash: String,
    pub name_sealed: String,
    pub email: String,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub used_ms: Option<i64>,
    pub attempts: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsultFileRow {
    pub id: String,
    pub appointment_id: String,
    pub saved_by: String,
    pub name_sealed: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub sealed: String,
    pub created_ms: i64,
}

fn slot_from(r: &AnyRow) -> Result<SlotRow, StoreError> {
    Ok(SlotRow {
        id: r.try_get("id")?,
        clinician_id: r.try_get("clinician_id")?,
        starts_ms: r.try_get("starts_ms")?,
        ends_ms: r.try_get("ends_ms")?,
        appointment_id: r.try_get("appointment_id")?,
        created_ms: r.try_get("created_ms")?,
    })
}

macro_rules! appointment_columns {
    () => {
        "id, clinician_id, patient_id, slot_id, starts_ms, ends_ms, status, booked_by, created_ms, cancelled_ms, \
         reminded_ms, started_ms, ended_ms, verified_ms"
    };
}

fn appointment_from(r: &AnyRow) -> Result<AppointmentRow, StoreError> {
    Ok(AppointmentRow {
        id: r.try_get("id")?,
        clinician_id: r.try_get("clinician_id")?,
        patient_id: r.try_get("patient_id")?,
        slot_id: r.try_get("slot_id")?,
        starts_ms: r.try_get("starts_ms")?,
        ends_ms: r.try_get("ends_ms")?,
        status: r.try_get("status")?,
        booked_by: r.try_get("booked_by")?,
        created_ms: r.try_get("created_ms")?,
        cancelled_ms: r.try_get("cancelled_ms")?,
        reminded_ms: r.try_get("reminded_ms")?,
        started_ms: r.try_get("started_ms")?,
        ended_ms: r.try_get("ended_ms")?,
        verified_ms: r.try_get("verified_ms")?,
    })
}

async fn insert_appointment(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    a: &AppointmentRow,
) -> Result<(), StoreError> {
    sqlx::query(concat!(
        "INSERT INTO appointments (",
        appointment_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    ))
    .bind(&a.id)
    .bind(&a.clinician_id)
    .bind(a.patient_id.as_deref())
    .bind(a.slot_id.as_deref())
    .bind(a.starts_ms)
    .bind(a.ends_ms)
    .bind(&a.status)
    .bind(&a.booked_by)
    .bind(a.created_ms)
    .bind(a.cancelled_ms)
    .bind(a.reminded_ms)
    .bind(a.started_ms)
    .bind(a.ended_ms)
    .bind(a.verified_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Claims the (free, future) slot of `appointment` for it; false if someone else took
/// it first or it has started.
async fn claim_slot(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    appointment: &AppointmentRow,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let claimed = sqlx::query(
        "UPDATE slots SET appointment_id = $1 WHERE id = $2 AND appointment_id IS NULL AND starts_ms > $3",
    )
    .bind(&appointment.id)
    .bind(appointment.slot_id.as_deref().unwrap_or(""))
    .bind(now_ms)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(claimed == 1)
}

impl Db {
    /// Publishes slots; a slot overlapping one the clinician already has is skipped (so
    /// two people can never book overlapping times). Returns how many were added.
    pub async fn insert_slots(&self, slots: &[SlotRow]) -> Result<u64, StoreError> {
        let mut tx = self.pool().begin().await?;
        let mut added = 0;
        for s in slots {
            added += sqlx::query(
                "INSERT INTO slots (id, clinician_id, starts_ms, ends_ms, appointment_id, created_ms) \
                 SELECT $1, $2, $3, $4, NULL, $5 WHERE NOT EXISTS \
                 (SELECT 1 FROM slots WHERE clinician_id = $6 AND starts_ms < $7 AND ends_ms > $8) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&s.id)
            .bind(&s.clinician_id)
            .bind(s.starts_ms)
            .bind(s.ends_ms)
            .bind(s.created_ms)
            .bind(&s.clinician_id)
            .bind(s.ends_ms)
            .bind(s.starts_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(added)
    }

    /// Free slots starting in `[from_ms, to_ms)`, of one clinician or all, by time.
    pub async fn free_slots(
        &self,
        clinician_id: Option<&str>,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<SlotRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, clinician_id, starts_ms, ends_ms, appointment_id, created_ms FROM slots \
             WHERE appointment_id IS NULL AND starts_ms >= $1 AND starts_ms < $2 AND ($3 = '' OR clinician_id = $3) \
             ORDER BY starts_ms, clinician_id LIMIT 500",
        )
        .bind(from_ms)
        .bind(to_ms)
        .bind(clinician_id.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(slot_from).collect()
    }

    pub async fn slot(&self, id: &str) -> Result<Option<SlotRow>, StoreError> {
        let row = sqlx::query("SELECT id, clinician_id, starts_ms, ends_ms, appointment_id, created_ms FROM slots WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(slot_from).transpose()
    }

    /// Withdraws a free slot of the clinician; false if it is booked or not theirs.
    pub async fn delete_free_slot(&self, clinician_id: &str, id: &str) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "DELETE FROM slots WHERE id = $1 AND clinician_id = $2 AND appointment_id IS NULL",
        )
        .bind(id)
        .bind(clinician_id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Books `appointment` into its (free, future) slot, atomically: false and nothing
    /// written if someone else took the slot first or it has started.
    pub async fn book(
        &self,
        appointment: &AppointmentRow,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        if !claim_slot(&mut tx, appointment, now_ms).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_appointment(&mut tx, appointment).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Books and creates the guest pass together.
    pub async fn book_for_guest(
        &self,
        appointment: &AppointmentRow,
        pass: &GuestPassRow,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        if !claim_slot(&mut tx, appointment, now_ms).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_appointment(&mut tx, appointment).await?;
        sqlx::query(
            "INSERT INTO guest_passes (appointment_id, token_hash, code_hash, name_sealed, email, created_ms, expires_ms, used_ms, attempts) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, 0)",
        )
        .bind(&pass.appointment_id)
        .bind(&pass.token_hash)
        .bind(&pass.code_hash)
        .bind(&pass.name_sealed)
        .bind(&pass.email)
        .bind(pass.created_ms)
        .bind(pass.expires_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Cancels a booked appointment and frees its slot; false if it was not booked.
    pub async fn cancel_appointment(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let n = sqlx::query("UPDATE appointments SET status = 'cancelled', cancelled_ms = $1 WHERE id = $2 AND status = 'booked'")
            .bind(now_ms)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query("UPDATE slots SET appointment_id = NULL WHERE appointment_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Moves a booked appointment to another free slot (of the same clinician), freeing
    /// the old one; false and nothing changed if either step is not possible.
    pub async fn reschedule(
        &self,
        id: &str,
        new_slot: &SlotRow,
        guest_session_expires_ms: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let claimed = sqlx::query(
            "UPDATE slots SET appointment_id = $1 WHERE id = $2 AND appointment_id IS NULL AND starts_ms > $3",
        )
        .bind(id)
        .bind(&new_slot.id)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let moved = sqlx::query(
            "UPDATE appointments SET slot_id = $1, starts_ms = $2, ends_ms = $3, reminded_ms = NULL \
             WHERE id = $4 AND status = 'booked' AND clinician_id = $5",
        )
        .bind(&new_slot.id)
        .bind(new_slot.starts_ms)
        .bind(new_slot.ends_ms)
        .bind(id)
        .bind(&new_slot.clinician_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed != 1 || moved != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "UPDATE slots SET appointment_id = NULL WHERE appointment_id = $1 AND id <> $2",
        )
        .bind(id)
        .bind(&new_slot.id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE guest_passes SET expires_ms = $1 WHERE appointment_id = $2")
            .bind(new_slot.ends_ms)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        // A guest who already redeemed their pass keeps access to the moved appointment.
        sqlx::query("UPDATE guest_sessions SET expires_ms = $1 WHERE appointment_id = $2")
            .bind(guest_session_expires_ms)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn appointment(&self, id: &str) -> Result<Option<AppointmentRow>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            appointment_columns!(),
            " FROM appointments WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(appointment_from).transpose()
    }

    /// Appointments ending after `from_ms`, of a clinician and/or a patient (empty
    /// string: any), by start time.
    pub async fn appointments(
        &self,
        clinician_id: &str,
        patient_id: &str,
        from_ms: i64,
        limit: i64,
    ) -> Result<Vec<AppointmentRow>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            appointment_columns!(),
            " FROM appointments WHERE ends_ms > $1 AND ($2 = '' OR clinician_id = $2) \
             AND ($3 = '' OR patient_id = $3) ORDER BY starts_ms LIMIT $4"
        ))
        .bind(from_ms)
        .bind(clinician_id)
        .bind(patient_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(appointment_from).collect()
    }

    /// Booked appointments starting within `[from_ms, to_ms)` that have had no reminder.
    pub async fn due_reminders(
        &self,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<AppointmentRow>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            appointment_columns!(),
            " FROM appointments WHERE status = 'booked' AND reminded_ms IS NULL AND starts_ms >= $1 AND starts_ms < $2 \
             ORDER BY starts_ms LIMIT 200"
        ))
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(appointment_from).collect()
    }

    /// Marks the reminder sent; false if another node sent it first.
    pub async fn mark_reminded(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE appointments SET reminded_ms = $1 WHERE id = $2 AND reminded_ms IS NULL",
        )
        .bind(now_ms)
        .bind(id)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Records the first start, the end (completing it) or the verification of a call.
    pub async fn mark_appointment(
        &self,
        id: &str,
        event: AppointmentEvent,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let sql = match event {
            AppointmentEvent::Started => {
                "UPDATE appointments SET started_ms = COALESCE(started_ms, $1) WHERE id = $2"
            }
            AppointmentEvent::Ended => {
                "UPDATE appointments SET ended_ms = $1, status = CASE WHEN status = 'booked' THEN 'completed' ELSE status END WHERE id = $2"
            }
            AppointmentEvent::Verified => "UPDATE appointments SET verified_ms = $1 WHERE id = $2",
        };
        let n = sqlx::query(sql)
            .bind(now_ms)
            .bind(id)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    pub async fn guest_pass_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<GuestPassRow>, StoreError> {
        let row = sqlx::query(
            "SELECT appointment_id, token_hash, code_hash, name_sealed, email, created_ms, expires_ms, used_ms, attempts \
             FROM guest_passes WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(GuestPassRow {
                appointment_id: r.try_get("appointment_id")?,
                token_hash: r.try_get("token_hash")?,
                code_hash: r.try_get("code_hash")?,
                name_sealed: r.try_get("name_sealed")?,
                email: r.try_get("email")?,
                created_ms: r.try_get("created_ms")?,
                expires_ms: r.try_get("expires_ms")?,
                used_ms: r.try_get("used_ms")?,
                attempts: r.try_get("attempts")?,
            })
        })
        .transpose()
    }

    /// Counts a code attempt atomically before it is checked; false once `max` are used,
    /// or the pass is used or expired.
    pub async fn guest_pass_attempt(
        &self,
        appointment_id: &str,
        max: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE guest_passes SET attempts = attempts + 1 \
             WHERE appointment_id = $1 AND attempts < $2 AND used_ms IS NULL AND expires_ms > $3",
        )
        .bind(appointment_id)
        .bind(max)
        .bind(now_ms)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Uses the pass; true only once.
    pub async fn use_guest_pass(
        &self,
        appointment_id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query("UPDATE guest_passes SET used_ms = $1 WHERE appointment_id = $2 AND used_ms IS NULL AND expires_ms > $1")
            .bind(now_ms)
            .bind(appointment_id)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    pub async fn insert_guest_session(
        &self,
        id_hash: &str,
        appointment_id: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO guest_sessions (id_hash, appointment_id, created_ms, expires_ms) VALUES ($1, $2, $3, $4)")
            .bind(id_hash)
            .bind(appointment_id)
            .bind(now_ms)
            .bind(expires_ms)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The appointment a live guest session may join.
    pub async fn guest_session(
        &self,
        id_hash: &str,
        now_ms: i64,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT appointment_id FROM guest_sessions WHERE id_hash = $1 AND expires_ms > $2",
        )
        .bind(id_hash)
        .bind(now_ms)
        .fetch_optional(self.pool())
        .await?)
    }

    pub async fn guest_name_sealed(
        &self,
        appointment_id: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT name_sealed FROM guest_passes WHERE appointment_id = $1")
                .bind(appointment_id)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    pub async fn put_note(
        &self,
        appointment_id: &str,
        author_id: &str,
        sealed: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO consult_notes (appointment_id, author_id, sealed, updated_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (appointment_id) DO UPDATE SET author_id = excluded.author_id, sealed = excluded.sealed, \
             updated_ms = excluded.updated_ms",
        )
        .bind(appointment_id)
        .bind(author_id)
        .bind(sealed)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The sealed note of an appointment and when it was last saved.
    pub async fn note(&self, appointment_id: &str) -> Result<Option<(String, i64)>, StoreError> {
        let row =
            sqlx::query("SELECT sealed, updated_ms FROM consult_notes WHERE appointment_id = $1")
                .bind(appointment_id)
                .fetch_optional(self.pool())
                .await?;
        row.map(|r| Ok((r.try_get("sealed")?, r.try_get("updated_ms")?)))
            .transpose()
    }

    pub async fn insert_consult_file(&self, f: &ConsultFileRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO consult_files (id, appointment_id, saved_by, name_sealed, media_type, size_bytes, sealed, created_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&f.id)
        .bind(&f.appointment_id)
        .bind(&f.saved_by)
        .bind(&f.name_sealed)
        .bind(&f.media_type)
        .bind(f.size_bytes)
        .bind(&f.sealed)
        .bind(f.created_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn consult_files(
        &self,
        appointment_id: &str,
    ) -> Result<Vec<ConsultFileRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, appointment_id, saved_by, name_sealed, media_type, size_bytes, sealed, created_ms \
             FROM consult_files WHERE appointment_id = $1 ORDER BY created_ms",
        )
        .bind(appointment_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ConsultFileRow {
                    id: r.try_get("id")?,
                    appointment_id: r.try_get("appointment_id")?,
                    saved_by: r.try_get("saved_by")?,
                    name_sealed: r.try_get("name_sealed")?,
                    media_type: r.try_get("media_type")?,
                    size_bytes: r.try_get("size_bytes")?,
                    sealed: r.try_get("sealed")?,
                    created_ms: r.try_get("created_ms")?,
                })
            })
            .collect()
    }
}

/// What happened to a call, for [`Db::mark_appointment`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppointmentEvent {
    Started,
    Ended,
    Verified,
}
