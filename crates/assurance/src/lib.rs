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
pub mod questionnaire;
mod error;

pub use error::AssuranceError;
