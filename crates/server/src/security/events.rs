//! What the domain code tells the sentinel, and what it asks it.
//!
//! Reporting never waits and never fails a request: the sentinel's queue is bounded and
//! drops (and counts) what it cannot take. Accounts are named by their opaque ids;
//! typed e-mail addresses of unknown accounts only as a keyed hash; patients by their
//! opaque ids (the sentinel counts distinct ones, it learns nothing else about them).

use sentinel::{Action, Assessment, AuthEvent, AuthOutcome, Event, ExportEvent, ResourceReadEvent};

use crate::http::meta::RequestMeta;
use crate::identity::session::CurrentUser;
use crate::state::AppState;

/// A sign-in step ended; `account` is the user id, or a hash of the typed address when
/// there is no such account.
pub fn auth(state: &AppState, meta: &RequestMeta, account: &str, outcome: AuthOutcome) {
    state.sentinel.record(Event::Auth(AuthEvent {
        at_ms: state.clock.now_ms(),
        source: meta.client_ip,
        account: account.to_owned(),
        outcome,
    }));
}

/// `who` read (a version of) `patient_id`'s record: `bytes` of it.
pub fn record_read(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    patient_id: &str,
    bytes: u64,
) {
    state
        .sentinel
        .record(Event::ResourceRead(ResourceReadEvent {
            at_ms: state.clock.now_ms(),
            source: meta.client_ip,
            account: who.user.id.clone(),
            token: None,
            subject: patient_id.to_owned(),
            bytes,
        }));
}

/// `who` exported `patients` patients' records, `bytes` in all.
pub fn export(state: &AppState, meta: &RequestMeta, who: &CurrentUser, patients: u64, bytes: u64) {
    state.sentinel.record(Event::Export(ExportEvent {
        at_ms: state.clock.now_ms(),
        source: meta.client_ip,
        account: who.user.id.clone(),
        subjects: patients,
        bytes,
    }));
}

/// Whether the sentinel wants a fresh second step before a sensitive action, even
/// inside the usual step-up window.
pub fn wants_step_up(assessment: &Assessment) -> bool {
    assessment.action != Action::Allow
}
