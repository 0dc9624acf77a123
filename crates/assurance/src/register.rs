//! The risk register, on the NIST SP 800-30 model: a threat source starts a threat event
//! that exploits a vulnerability of an asset; likelihood and impact on five levels give
//! one risk level (Table I-2). Failed checks and "no"/"don't know" answers raise the
//! likelihood of the scenarios they inform, so the register moves with the system.

use serde::{Deserialize, Serialize};

use crate::AssuranceError;
use crate::evaluate::{CheckResult, Outcome};

/// A telehealth threat scenario of the catalogue.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Scenario {
    pub id: &'static str,
    pub title: &'static str,
    /// NIST threat source type: adversarial, accidental, structural or environmental.
    pub source: &'static str,
    pub event: &'static str,
    pub assets: &'static [&'static str],
    pub vulnerabilities: &'static [&'static str],
    /// Likelihood (1–5) with every check passing and every question answered well.
    pub base_likelihood: u8,
    /// Impact (1–5) on patients and the practice.
    pub impact: u8,
}

pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        id: "phishing",
        title: "Phishing of staff credentials",
        source: "adversarial",
        event: "A staff member enters their password or code on a fake sign-in page.",
        assets: &["staff accounts", "patient records"],
        vulnerabilities: &[
            "passwords without phishing-resistant MFA",
            "untrained staff",
        ],
        base_likelihood: 2,
        impact: 4,
    },
    Scenario {
        id: "credential_stuffing",
        title: "Credential stuffing",
        source: "adversarial",
        event: "Passwords leaked elsewhere are tried against staff and patient accounts.",
        assets: &["staff accounts", "patient accounts"],
        vulnerabilities: &["reused passwords", "accounts without MFA", "stale accounts"],
        base_likelihood: 2,
        impact: 4,
    },
    Scenario {
        id: "ransomware",
        title: "Ransomware",
        source: "adversarial",
        event: "Malware encrypts the server or practice workstations and demands payment.",
        assets: &["database", "backups", "workstations"],
        vulnerabilities: &["untested restores", "unpatched software", "Office macros"],
        base_likelihood: 2,
        impact: 5,
    },
    Scenario {
        id: "lost_device",
        title: "Lost or stolen device",
        source: "accidental",
        event: "A laptop or phone with an open session or local copies of records is lost.",
        assets: &["workstations", "phones", "sessions"],
        vulnerabilities: &["long idle sessions", "unencrypted disks"],
        base_likelihood: 2,
        impact: 3,
    },
    Scenario {
        id: "insider_snooping",
        title: "Insider snooping",
        source: "adversarial",
        event: "A staff member opens records of patients they do not care for.",
        assets: &["patient records"],
        vulnerabilities: &[
            "unreviewed break-glass access",
            "shared accounts",
            "unverified audit log",
        ],
        base_likelihood: 2,
        impact: 4,
    },
    Scenario {
        id: "vendor_outage",
        title: "Vendor outage or vendor breach",
        source: "structural",
        event: "A hosting, e-mail or TURN provider fails or leaks data.",
        assets: &["hosting", "e-mail", "video relay"],
        vulnerabilities: &["no vendor agreements", "no continuity plan"],
        base_likelihood: 2,
        impact: 3,
    },
    Scenario {
        id: "session_hijack",
        title: "Session hijack",
        source: "adversarial",
        event: "An attacker steals a session cookie or intercepts traffic.",
        assets: &["sessions", "consult calls"],
        vulnerabilities: &["weak TLS", "missing HSTS", "long sessions"],
        base_likelihood: 1,
        impact: 4,
    },
    Scenario {
        id: "unpatched_software",
        title: "Unpatched software",
        source: "adversarial",
        event: "A known vulnerability in the server, its libraries or a workstation is exploited.",
        assets: &["server", "workstations"],
        vulnerabilities: &["open advisories", "no patch process"],
        base_likelihood: 2,
        impact: 4,
    },
    Scenario {
        id: "backup_failure",
        title: "Backup failure",
        source: "structural",
        event: "Data is lost and the backup is missing, old or does not restore.",
        assets: &["database", "backups"],
        vulnerabilities: &["no recent backup", "untested restores", "no off-site copy"],
        base_likelihood: 2,
        impact: 5,
    },
    Scenario {
        id: "physical_intrusion",
        title: "Physical intrusion",
        source: "adversarial",
        event: "Someone enters the practice and uses an unlocked workstation or takes paper records.",
        assets: &["workstations", "paper records"],
        vulnerabilities: &["no screen locks", "unlocked rooms"],
        base_likelihood: 1,
        impact: 3,
    },
];

/// The scenario `id`, or a clear error.
pub fn scenario(id: &str) -> Result<&'static Scenario, AssuranceError> {
    SCENARIOS.iter().find(|s| s.id == id).ok_or_else(|| {
        AssuranceError::Invalid(format!(
            "unknown risk scenario `{}`",
            id.chars().take(64).collect::<String>()
        ))
    })
}

/// NIST SP 800-30 five-level scale names, 1 = very low … 5 = very high.
pub const LEVELS: [&str; 5] = ["very low", "low", "moderate", "high", "very high"];

/// The name of level `n` (1–5).
pub fn level_name(n: u8) -> &'static str {
    LEVELS[usize::from(n.clamp(1, 5)) - 1]
}

/// Checks a likelihood or impact entered by a person.
pub fn parse_level(field: &str, raw: &str) -> Result<u8, AssuranceError> {
    match raw.trim().parse::<u8>() {
        Ok(n @ 1..=5) => Ok(n),
        _ => Err(AssuranceError::Invalid(format!(
            "{field} must be a whole number from 1 (very low) to 5 (very high)"
        ))),
    }
}

/// The risk level of `likelihood` × `impact` (both 1–5), by NIST SP 800-30 Table I-2.
pub fn risk_level(likelihood: u8, impact: u8) -> u8 {
    // Rows: likelihood very low … very high; columns: impact very low … very high.
    const TABLE: [[u8; 5]; 5] = [
        [1, 1, 1, 2, 2],
        [1, 2, 2, 2, 3],
        [1, 2, 3, 3, 4],
        [1, 2, 3, 4, 5],
        [1, 2, 3, 4, 5],
    ];
    TABLE[usize::from(likelihood.clamp(1, 5)) - 1][usize::from(impact.clamp(1, 5)) - 1]
}

/// The likelihood of a scenario now: its assessed likelihood raised by one for each
/// failing linked check (at most two) and by one more when two or more questions that
/// inform it are answered "no" or "don't know". Never above 5.
pub fn adjusted_likelihood(assessed: u8, failing_checks: usize, question_gaps: usize) -> u8 {
    let raise = failing_checks.min(2) + usize::from(question_gaps >= 2);
    (usize::from(assessed.clamp(1, 5)) + raise).min(5) as u8
}

/// How many results of `results` fail among the checks that inform `scenario`.
pub fn failing_checks_for(scenario: &str, results: &[CheckResult]) -> Vec<&'static str> {
    results
        .iter()
        .filter(|r| r.outcome == Outcome::Fail && r.check.spec().scenarios.contains(&scenario))
        .map(|r| r.check.key())
        .collect()
}

/// What the practice decided to do about a risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Treatment {
    Mitigate,
    Accept,
    Transfer,
    Avoid,
}

impl Treatment {
    pub fn parse(s: &str) -> Result<Self, AssuranceError> {
        match s {
            "mitigate" => Ok(Self::Mitigate),
            "accept" => Ok(Self::Accept),
            "transfer" => Ok(Self::Transfer),
            "avoid" => Ok(Self::Avoid),
            _ => Err(AssuranceError::Invalid(
                "treatment must be mitigate, accept, transfer or avoid".into(),
            )),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mitigate => "mitigate",
            Self::Accept => "accept",
            Self::Transfer => "transfer",
            Self::Avoid => "avoid",
        }
    }
}

/// A treatment decision as entered, before it is stored.
#[derive(Debug, Clone)]
pub struct TreatmentPlan {
    pub treatment: Treatment,
    pub owner: Option<String>,
    pub due_ms: Option<i64>,
    /// Who accepted the risk, and until when (acceptance only).
    pub approver: Option<String>,
    pub accept_until_ms: Option<i64>,
    /// The party the risk is transferred to (insurer, vendor).
    pub transfer_to: Option<String>,
    pub plan: String,
}

impl TreatmentPlan {
    /// Refuses plans that would not hold up: an acceptance without an approver or an
    /// expiry in the future, a mitigation without owner and due date, dates in the past.
    pub fn validate(&self, now_ms: i64) -> Result<(), AssuranceError> {
        let bad = |m: &str| Err(AssuranceError::Invalid(m.to_owned()));
        match self.treatment {
            Treatment::Accept => {
                if self.approver.as_deref().is_none_or(|a| a.trim().is_empty()) {
                    return bad("accepting a risk needs the approver's name");
                }
                match self.accept_until_ms {
                    None => return bad("accepting a risk needs an expiry date"),
                    Some(t) if t <= now_ms => {
                        return bad("the acceptance expiry must be in the future");
                    }
                    Some(_) => {}
                }
            }
            Treatment::Mitigate => {
                if self.owner.as_deref().is_none_or(|o| o.trim().is_empty()) {
                    return bad("a mitigation needs an owner");
                }
                match self.due_ms {
                    None => return bad("a mitigation needs a due date"),
                    Some(t) if t <= now_ms => return bad("the due date must be in the future"),
                    Some(_) => {}
                }
            }
            Treatment::Transfer => {
                if self
                    .transfer_to
                    .as_deref()
                    .is_none_or(|o| o.trim().is_empty())
                {
                    return bad("say to whom the risk is transferred (an insurer, a vendor)");
                }
            }
            Treatment::Avoid => {}
        }
        if self.plan.len() > 4000 {
            return bad("the plan is longer than 4000 characters");
        }
        Ok(())
    }
}

/// Whether a remediation counts as verified: every linked check passes now, or an
/// approver attached evidence. A remediation with no linked check needs the evidence.
pub fn remediation_verified(linked: &[Outcome], approver_evidence: bool) -> bool {
    approver_evidence || (!linked.is_empty() && linked.iter().all(|o| *o == Outcome::Pass))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nist_table_corners_and_monotone() {
        assert_eq!(risk_level(1, 1), 1);
        assert_eq!(risk_level(5, 5), 5);
        assert_eq!(risk_level(3, 3), 3);
        assert_eq!(risk_level(1, 5), 2);
        assert_eq!(risk_level(5, 1), 1);
        for l in 1..=5u8 {
            for i in 1..5u8 {
                assert!(risk_level(l, i) <= risk_level(l, i + 1));
                assert!(risk_level(i, l) <= risk_level(i + 1, l));
            }
        }
    }

    #[test]
    fn failures_raise_likelihood_capped() {
        assert_eq!(adjusted_likelihood(2, 0, 0), 2);
        assert_eq!(adjusted_likelihood(2, 1, 0), 3);
        assert_eq!(adjusted_likelihood(2, 5, 0), 4);
        assert_eq!(adjusted_likelihood(2, 5, 3), 5);
        assert_eq!(adjusted_likelihood(5, 2, 2), 5);
        assert_eq!(adjusted_likelihood(2, 0, 1), 2);
    }

    #[test]
    fn levels_parse_in_range_only() {
        assert_eq!(parse_level("likelihood", "3").ok(), Some(3));
        for bad in ["0", "6", "-1", "x", "", "2.5"] {
            assert!(parse_level("likelihood", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn acceptance_needs_approver_and_future_expiry() {
        let mut p = TreatmentPlan {
            treatment: Treatment::Accept,
            owner: None,
            due_ms: None,
            approver: Some("Dr Lee".into()),
            accept_until_ms: Some(2_000),
            transfer_to: None,
            plan: String::new(),
        };
        assert!(p.validate(1_000).is_ok());
        assert!(p.validate(3_000).is_err());
        p.approver = Some(" ".into());
        assert!(p.validate(1_000).is_err());
        let m = TreatmentPlan {
            treatment: Treatment::Mitigate,
            owner: Some("Sam".into()),
            due_ms: None,
            approver: None,
            accept_until_ms: None,
            transfer_to: None,
            plan: "x".into(),
        };
        assert!(m.validate(1).is_err());
    }

    #[test]
    fn verification_needs_a_passing_check_or_evidence() {
        assert!(!remediation_verified(&[], false));
        assert!(remediation_verified(&[], true));
        assert!(remediation_verified(&[Outcome::Pass, Outcome::Pass], false));
        assert!(!remediation_verified(
            &[Outcome::Pass, Outcome::CannotRun],
            false
        ));
        assert!(!remediation_verified(&[Outcome::Fail], false));
    }
}
