//! Security training and phishing simulations for Telewarden: the domain behind the
//! training pages.
//!
//! - [`lessons`]: short, versioned lessons for staff and patients, each with a quiz, and
//!   the staff acceptable use and confidentiality [`policy`].
//! - [`score`]: marks a quiz against the version the learner read (pass mark 80%).
//! - [`staff_status`] and [`escalation`]: the staff set is due before first access to
//!   patient data and then yearly; reminders go to the user, then the admin, then the
//!   security officer. [`offer_for_patient`] offers, never forces, patient lessons.
//! - simulations: telehealth [`lures`] that [`validate_template`] stops from playing on
//!   pay, jobs, gifts or tax refunds; keyed tracking [`token`]s; and a click rule,
//!   [`is_human_click`], that ignores mail scanners.
//! - [`campaign_metrics`] and friends: report rate first, every rate with n and a 95%
//!   Wilson interval.
//!
//! Everything is pure: no I/O, no clock. Times are Unix milliseconds passed in.

mod assignment;
mod error;
mod lessons;
mod metrics;
mod quiz;
mod simulation;

#[cfg(test)]
mod tests;

pub use assignment::{
    ADMIN_AFTER_DAYS, Completion, DAY_MS, Escalation, Moment, REMIND_BEFORE_DAYS, RENEWAL_DAYS,
    SECURITY_OFFICER_AFTER_DAYS, Status, escalation, offer_for_patient, staff_status,
};
pub use error::TrainingError;
pub use lessons::{
    Audience, Block, Lesson, Policy, QuizQuestion, lesson, lessons, patient_set, policy, staff_set,
};
pub use metrics::{
    CampaignMetrics, REPEAT_CLICKS, Rate, RecipientOutcome, Z_95, campaign_metrics,
    completion_rate, median_ms, proportion, repeat_clickers,
};
pub use quiz::{Feedback, PASS_PERCENT, QuizResult, score};
pub use simulation::{
    ClickEvidence, Event, Lure, LureKind, MAX_BODY_CHARS, MAX_LANDING_CHARS, MAX_SUBJECT_CHARS,
    MIN_SECONDS_AFTER_SEND, PLACEHOLDERS, TOKEN_BYTES, disclosure, is_human_click, lure, lures,
    render, token, validate_template, verify_token,
};
