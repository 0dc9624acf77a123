//! Incident and breach response: the domain model behind the incident pages.
//!
//! An [`Incident`] records when the practice became aware, had reasonable grounds, or
//! discovered a breach; the facts (information, people and states affected, encryption,
//! My Health Record); containment and remedial steps; the NDB serious-harm and HIPAA
//! four-factor assessments; and the notices given. From that record, [`duties`] works
//! out which obligations apply and when each falls due in the practice's time zone,
//! [`not_required`] keeps the reasons for duties that do not apply (the practice carries
//! the burden of proof, §164.414(b)), and [`draft_notice`] writes plain-language drafts.
//!
//! Everything is pure: timestamps are Unix milliseconds UTC, "now" is a parameter, and
//! the time zone is passed in, so the server decides storage and the clock.

mod clock;
mod duties;
mod duty;
mod error;
mod incident;
mod notice;
mod validate;

#[cfg(test)]
mod tests;

pub use clock::{
    ClockStatus, DAY_MS, DutyClock, Escalation, annual_log_due_ms, deadline_ms,
    end_of_local_day_ms, local_date, local_date_text, local_datetime_input, local_datetime_text,
    parse_timestamp_ms, time_zone,
};
pub use duties::{
    HHS_IMMEDIATE_THRESHOLD, HIPAA_DAYS, MEDIA_THRESHOLD, NDB_ASSESSMENT_DAYS, NotRequired,
    PRACTICE_TARGET_DAYS, SUBSTITUTE_THRESHOLD, duties, not_required,
};
pub use duty::Duty;
pub use error::BreachError;
pub use incident::{
    Action, FourFactorAssessment, Incident, Notification, SeriousHarmAssessment, Source,
};
/// Re-exported so callers use the same jiff version without depending on it.
pub use jiff;
pub use jiff::tz::TimeZone;
pub use notice::{Practice, Statement, draft_notice, oaic_statement};
pub use validate::MAX_DELAY_DAYS;
