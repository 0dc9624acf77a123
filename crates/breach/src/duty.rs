//! The things the law may require after a breach, with their names and citations.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::BreachError;

/// One obligation under the Australian NDB scheme, the My Health Records Act or the
/// HIPAA breach notification rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Duty {
    /// Finish assessing a suspected eligible data breach within 30 days (s26WH).
    NdbAssessment,
    /// Give the OAIC a statement with the s26WK(3) contents.
    OaicStatement,
    /// Notify the affected or at-risk individuals (s26WL).
    NdbIndividuals,
    /// Notify the ADHA (System Operator) and the OAIC of a My Health Record breach.
    AdhaMyHealthRecord,
    /// Notify each affected individual (§164.404).
    HipaaIndividuals,
    /// Notify HHS alongside the individuals when 500 or more are affected (§164.408(b)).
    HhsImmediate,
    /// Log the breach with HHS after year end when fewer than 500 are affected (§164.408(c)).
    HhsAnnualLog,
    /// Notify prominent media in a state with more than 500 affected residents (§164.406).
    Media {
        /// The state or jurisdiction, as recorded in `affected_by_state`.
        state: String,
    },
    /// Substitute notice when 10 or more people cannot be reached (§164.404(d)(2)).
    SubstituteNotice,
}

impl Duty {
    /// A short name for lists and headings.
    pub fn label(&self) -> String {
        match self {
            Duty::NdbAssessment => "Assess the suspected breach (NDB)".into(),
            Duty::OaicStatement => "Statement to the OAIC".into(),
            Duty::NdbIndividuals => "Notify affected individuals (NDB)".into(),
            Duty::AdhaMyHealthRecord => "Notify the ADHA and OAIC (My Health Record)".into(),
            Duty::HipaaIndividuals => "Notify affected individuals (HIPAA)".into(),
            Duty::HhsImmediate => "Notify HHS (500 or more affected)".into(),
            Duty::HhsAnnualLog => "Log with HHS after year end (under 500 affected)".into(),
            Duty::Media { state } => format!("Notify media in {state}"),
            Duty::SubstituteNotice => "Substitute notice (10 or more unreachable)".into(),
        }
    }

    /// The legal provision that creates the duty.
    pub fn citation(&self) -> &'static str {
        match self {
            Duty::NdbAssessment => "Privacy Act 1988 (Cth) s26WH",
            Duty::OaicStatement => "Privacy Act 1988 (Cth) s26WK",
            Duty::NdbIndividuals => "Privacy Act 1988 (Cth) s26WL",
            Duty::AdhaMyHealthRecord => "My Health Records Act 2012 (Cth) s75",
            Duty::HipaaIndividuals => "45 CFR §164.404",
            Duty::HhsImmediate => "45 CFR §164.408(b)",
            Duty::HhsAnnualLog => "45 CFR §164.408(c)",
            Duty::Media { .. } => "45 CFR §164.406",
            Duty::SubstituteNotice => "45 CFR §164.404(d)(2)",
        }
    }

    /// `true` for duties under HIPAA, which a law-enforcement delay (§164.412) can move.
    pub fn is_hipaa(&self) -> bool {
        matches!(
            self,
            Duty::HipaaIndividuals
                | Duty::HhsImmediate
                | Duty::HhsAnnualLog
                | Duty::Media { .. }
                | Duty::SubstituteNotice
        )
    }

    /// A flat key for HTML forms and URLs: `oaic_statement`, `media:CA`. Round-trips
    /// through [`FromStr`].
    pub fn key(&self) -> String {
        match self {
            Duty::NdbAssessment => "ndb_assessment".into(),
            Duty::OaicStatement => "oaic_statement".into(),
            Duty::NdbIndividuals => "ndb_individuals".into(),
            Duty::AdhaMyHealthRecord => "adha_my_health_record".into(),
            Duty::HipaaIndividuals => "hipaa_individuals".into(),
            Duty::HhsImmediate => "hhs_immediate".into(),
            Duty::HhsAnnualLog => "hhs_annual_log".into(),
            Duty::Media { state } => format!("media:{state}"),
            Duty::SubstituteNotice => "substitute_notice".into(),
        }
    }
}

impl fmt::Display for Duty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

impl FromStr for Duty {
    type Err = BreachError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Some(state) = s.strip_prefix("media:") {
            let state = state.trim();
            if state.is_empty() {
                return Err(BreachError::UnknownDuty(s.to_string()));
            }
            return Ok(Duty::Media {
                state: state.to_string(),
            });
        }
        Ok(match s {
            "ndb_assessment" => Duty::NdbAssessment,
            "oaic_statement" => Duty::OaicStatement,
            "ndb_individuals" => Duty::NdbIndividuals,
            "adha_my_health_record" => Duty::AdhaMyHealthRecord,
            "hipaa_individuals" => Duty::HipaaIndividuals,
            "hhs_immediate" => Duty::HhsImmediate,
            "hhs_annual_log" => Duty::HhsAnnualLog,
            "substitute_notice" => Duty::SubstituteNotice,
            _ => return Err(BreachError::UnknownDuty(s.to_string())),
        })
    }
}
