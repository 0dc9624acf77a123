//! Appointment reminders: a day ahead, once (claimed atomically, so several nodes do
//! not send twice). The e-mail carries the time and the practice's address only.

use std::time::Duration;

use tokio::sync::watch;

use crate::consult::schedule;
use crate::state::AppState;

const AHEAD_MS: i64 = 24 * 3_600_000;

/// Sends due reminders every minute until `shutdown` turns true.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tick.tick() => {
                if let Err(e) = send_due(&state).await {
                    tracing::warn!(error = %e, "reminders could not be sent");
                }
            }
        }
    }
}

/// One pass: reminds every booked appointment starting within a day.
pub async fn send_due(state: &AppState) -> Result<usize, crate::error::AppError> {
    let now = state.clock.now_ms();
    let mut sent = 0;
    for a in state.db.due_reminders(now, now + AHEAD_MS).await? {
        if !state.db.mark_reminded(&a.id, now).await? {
            continue;
        }
        // Booked within the day: the confirmation just sent is the reminder.
        if a.created_ms >= a.starts_ms - AHEAD_MS {
            continue;
        }
        // One appointment's trouble does not hold up the others' reminders.
        match remind(state, &a).await {
            Ok(true) => sent += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "a reminder could not be sent"),
        }
    }
    Ok(sent)
}

async fn remind(
    state: &AppState,
    a: &store::consults::AppointmentRow,
) -> Result<bool, crate::error::AppError> {
    let Some(patient_id) = &a.patient_id else {
        return Ok(false);
    };
    let Some(patient) = state.db.user_by_id(&state.keyring, patient_id).await? else {
        return Ok(false);
    };
    schedule::tell(state, &patient, a, "reminder").await?;
    Ok(true)
}
