//! The incident record: timestamps, facts, actions, assessments and notifications.
//!
//! It stores timestamps and reasoning, not only outcomes, because under both regimes the
//! practice carries the burden of proving it assessed and notified in time
//! (§164.414(b); s26WH), including for incidents it decided not to notify.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::duty::Duty;

/// How the incident came to be recorded.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// Entered by a person.
    #[default]
    Manual,
    /// Opened from a sentinel alert.
    Alert {
        /// The sentinel alert's id.
        alert_id: String,
    },
}

/// A dated step taken by someone (containment or remedial action).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Action {
    /// When it was done (Unix ms UTC).
    pub at_ms: i64,
    /// Who did it.
    pub by: String,
    /// What was done, in plain words; this text is quoted in notices.
    pub text: String,
}

/// The NDB serious-harm assessment (s26WB, s26WF, s26WG).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SeriousHarmAssessment {
    /// Would a reasonable person conclude the breach is likely to result in serious harm?
    pub likely_serious_harm: bool,
    /// Did remedial action taken in time make serious harm no longer likely (s26WF)?
    pub remedial_action_prevented_harm: bool,
    /// Why; kept even when nobody is notified.
    pub rationale: String,
    /// Who decided.
    pub decided_by: String,
    /// When the assessment was finished (Unix ms UTC); this completes the s26WH duty.
    pub decided_ms: i64,
}

impl SeriousHarmAssessment {
    /// An eligible data breach: serious harm likely and not prevented by remedial action.
    pub fn eligible(&self) -> bool {
        self.likely_serious_harm && !self.remedial_action_prevented_harm
    }
}

/// The HIPAA four-factor risk assessment (§164.402(2)).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FourFactorAssessment {
    /// (i) Nature and extent of the PHI, including identifiers and likelihood of re-identification.
    pub nature_and_extent: String,
    /// (ii) The unauthorized person who used the PHI or to whom it was disclosed.
    pub unauthorized_person: String,
    /// (iii) Whether the PHI was actually acquired or viewed.
    pub acquired_or_viewed: String,
    /// (iv) The extent to which the risk has been mitigated.
    pub mitigation: String,
    /// The conclusion: a low probability that the PHI has been compromised.
    pub low_probability_of_compromise: bool,
    /// Who decided.
    pub decided_by: String,
    /// When (Unix ms UTC).
    pub decided_ms: i64,
}

/// A notice that was actually given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Which duty it discharges.
    pub duty: Duty,
    /// When it was sent (Unix ms UTC).
    pub sent_ms: i64,
    /// How: first-class mail, email, OAIC online form, HHS portal, press release...
    pub method: String,
    /// A receipt, case number or file reference; may be empty.
    pub reference: String,
}

/// One incident, possibly a breach. All timestamps are Unix milliseconds UTC.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Incident {
    /// A short name.
    pub title: String,
    /// What happened, in plain words; quoted in notices.
    pub description: String,
    /// Kinds of information involved (e.g. "names", "Medicare numbers"); s26WK(3)(c).
    pub kinds_of_information: Vec<String>,
    /// Steps the practice recommends individuals take; s26WK(3)(d) and §164.404(c)(1)(C).
    pub recommended_steps: Vec<String>,
    /// How it was opened.
    pub source: Source,
    /// When the breach itself happened, if known.
    pub occurred_ms: Option<i64>,
    /// When the practice became aware of a *suspected* eligible data breach: starts the
    /// 30-day NDB assessment (s26WH).
    pub aware_suspected_ms: Option<i64>,
    /// When there were reasonable grounds to believe an eligible data breach happened:
    /// starts the s26WK/s26WL duties.
    pub reasonable_grounds_ms: Option<i64>,
    /// HIPAA discovery: the first day the breach was known, or by reasonable diligence
    /// would have been known (§164.404(a)(2)).
    pub discovered_ms: Option<i64>,
    /// Number of people affected; 0 means not yet known (HHS is then treated as due
    /// within 60 days, and drafts show a placeholder).
    pub affected_total: u64,
    /// People affected per state or territory (US or AU codes, as typed).
    pub affected_by_state: BTreeMap<String, u64>,
    /// People whose contact details are missing or out of date.
    pub unreachable_count: u64,
    /// Data encrypted to HHS guidance, so not "unsecured PHI" (§164.402).
    pub data_encrypted: bool,
    /// My Health Record data involved (ADHA and OAIC must be told).
    pub my_health_record: bool,
    /// A law-enforcement official asked for notices to wait until this instant (§164.412).
    pub law_enforcement_delay_until_ms: Option<i64>,
    /// A law-enforcement official asked for notices to wait this many days (§164.412);
    /// HIPAA deadlines move out by that many calendar days.
    pub law_enforcement_delay_days: Option<u32>,
    /// Containment steps.
    pub containment: Vec<Action>,
    /// Remedial action (s26WF) and steps to prevent a repeat.
    pub remedial: Vec<Action>,
    /// The NDB serious-harm assessment, once made.
    pub ndb: Option<SeriousHarmAssessment>,
    /// The HIPAA four-factor assessment, once made.
    pub hipaa: Option<FourFactorAssessment>,
    /// Notices given.
    pub notifications: Vec<Notification>,
    /// When the incident was closed.
    pub closed_ms: Option<i64>,
    /// Why it was closed.
    pub closed_reason: Option<String>,
}

impl Incident {
    /// The first moment the practice knew of the incident under any regime: the earliest
    /// of awareness, reasonable grounds and discovery. Nothing can be decided or sent
    /// before it.
    pub fn first_known_ms(&self) -> Option<i64> {
        [
            self.aware_suspected_ms,
            self.reasonable_grounds_ms,
            self.discovered_ms,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// When the NDB clock starts: awareness of a suspected breach, or reasonable grounds
    /// if those were recorded without a separate suspicion stage.
    pub fn ndb_aware_ms(&self) -> Option<i64> {
        self.aware_suspected_ms.or(self.reasonable_grounds_ms)
    }

    /// The earliest notification recorded for `duty`.
    pub fn first_sent_ms(&self, duty: &Duty) -> Option<i64> {
        self.notifications
            .iter()
            .filter(|n| &n.duty == duty)
            .map(|n| n.sent_ms)
            .min()
    }
}
