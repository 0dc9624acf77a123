//! Continuous risk assessment for a telehealth practice.
//!
//! The HHS SRA Tool asks ~120 questions once a year. Telewarden knows its own state, so
//! this crate describes what it can check about itself ([`catalogue`]), turns observed
//! facts into pass/fail results with evidence ([`evaluate`]), reads the RustSec advisory
//! database the operator keeps on disk ([`advisories`]), asks people only what the
//! server cannot see ([`questionnaire`]), and keeps the NIST SP 800-30 risk register
//! ([`register`]). Nothing here does I/O except reading the advisory files; the server
//! gathers the facts and stores the results.

pub mod advisories;
pub mod catalogue;
mod error;
pub mod evaluate;
pub mod questionnaire;
pub mod register;

pub use error::AssuranceError;

const DAY_MS: i64 = 86_400_000;

/// `ms` since the epoch as `YYYY-MM-DD HH:MM UTC`, for evidence lines.
pub fn rfc3339_day(ms: i64) -> String {
    let day = advisories::date_from_days(ms.div_euclid(DAY_MS)).unwrap_or_default();
    let in_day = ms.rem_euclid(DAY_MS) / 60_000;
    format!("{day} {:02}:{:02} UTC", in_day / 60, in_day % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_times_read_as_utc() {
        assert_eq!(rfc3339_day(1_764_000_000_000), "2025-11-24 16:00 UTC");
        assert_eq!(rfc3339_day(0), "1970-01-01 00:00 UTC");
    }
}
