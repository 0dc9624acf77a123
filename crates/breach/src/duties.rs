//! Which duties apply to an incident, when each is due, and which were found not to
//! apply and why.
//!
//! The rules follow the facts recorded so far, so the list grows as the incident is
//! assessed: the NDB assessment clock starts with awareness, notice duties appear once
//! an assessment (or recorded reasonable grounds) makes the breach notifiable, and HIPAA
//! presumes a breach of unsecured PHI is notifiable until the four-factor assessment
//! shows a low probability of compromise (§164.402(2)).

use jiff::tz::TimeZone;
use serde::Serialize;

use crate::clock::{self, DAY_MS, DutyClock};
use crate::duty::Duty;
use crate::incident::Incident;

/// The NDB assessment period (s26WH(2)(b)).
pub const NDB_ASSESSMENT_DAYS: i64 = 30;
/// Practice target for "as soon as practicable" notices (OAIC, individuals, ADHA). Not a
/// statutory deadline: clocks using it have `statutory: false`.
pub const PRACTICE_TARGET_DAYS: i64 = 30;
/// HIPAA outer limit after discovery (§164.404(b), §164.406(b), §164.408(b)).
pub const HIPAA_DAYS: i64 = 60;
/// HHS must be told alongside individuals at this many affected or more (§164.408(b)).
pub const HHS_IMMEDIATE_THRESHOLD: u64 = 500;
/// Media notice needs *more than* this many residents of one state (§164.406(a)).
pub const MEDIA_THRESHOLD: u64 = 500;
/// Substitute notice is needed at this many unreachable people or more (§164.404(d)(2)(ii)).
pub const SUBSTITUTE_THRESHOLD: u64 = 10;

/// A duty that was considered and found not to apply, with the reason; kept so that an
/// incident assessed and not notified still shows its reasoning (§164.414(b)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotRequired {
    /// The duties this finding covers.
    pub duties: Vec<Duty>,
    /// Plain-language reason, quoting the recorded rationale where there is one.
    pub reason: String,
    /// The provision that makes them unnecessary.
    pub citation: &'static str,
}

/// Whether a recorded notification discharges `duty`. HHS submissions count for either
/// HHS duty (both go through the same portal; only the date matters), and media states
/// match regardless of case or spacing.
fn discharges(sent: &Duty, duty: &Duty) -> bool {
    match (sent, duty) {
        (Duty::HhsImmediate | Duty::HhsAnnualLog, Duty::HhsImmediate | Duty::HhsAnnualLog) => true,
        (Duty::Media { state: a }, Duty::Media { state: b }) => {
            a.trim().eq_ignore_ascii_case(b.trim())
        }
        _ => sent == duty,
    }
}

fn done_ms(incident: &Incident, duty: &Duty) -> Option<i64> {
    if *duty == Duty::NdbAssessment {
        return incident.ndb.as_ref().map(|a| a.decided_ms);
    }
    incident
        .notifications
        .iter()
        .filter(|n| discharges(&n.duty, duty))
        .map(|n| n.sent_ms)
        .min()
}

/// Deadline arithmetic that cannot fail for a validated record; for an unvalidated one
/// with absurd dates it falls back to 24-hour days rather than dropping the duty.
fn due(start_ms: i64, days: i64, tz: &TimeZone) -> i64 {
    clock::deadline_ms(start_ms, days, tz)
        .unwrap_or_else(|_| start_ms.saturating_add(days.saturating_mul(DAY_MS)))
}

/// NDB is eligible when the assessment says so; with no assessment yet, recorded
/// reasonable grounds are taken at their word.
fn ndb_notifiable(incident: &Incident) -> Option<i64> {
    match &incident.ndb {
        Some(a) if a.eligible() => Some(incident.reasonable_grounds_ms.unwrap_or(a.decided_ms)),
        Some(_) => None,
        None => incident.reasonable_grounds_ms,
    }
}

/// HIPAA applies once discovered, unless the PHI was secured or assessed as low risk.
fn hipaa_applies(incident: &Incident) -> Option<i64> {
    let discovered = incident.discovered_ms?;
    if incident.data_encrypted {
        return None;
    }
    match &incident.hipaa {
        Some(a) if a.low_probability_of_compromise => None,
        _ => Some(discovered),
    }
}

/// Applies a §164.412 law-enforcement delay to a HIPAA deadline.
fn delayed(incident: &Incident, due_ms: i64, tz: &TimeZone) -> (i64, bool) {
    if let Some(days) = incident.law_enforcement_delay_days {
        return (due(due_ms, i64::from(days), tz), days > 0);
    }
    if let Some(until) = incident.law_enforcement_delay_until_ms {
        let until_due = due(until, 0, tz);
        if until_due > due_ms {
            return (until_due, true);
        }
    }
    (due_ms, false)
}

/// The duties that apply given the facts and assessments recorded so far, each with its
/// clock, in a stable order (NDB, ADHA, then HIPAA).
pub fn duties(incident: &Incident, tz: &TimeZone) -> Vec<DutyClock> {
    let mut out = Vec::new();
    let mut push = |duty: Duty, starts_ms: i64, due_ms: i64, statutory: bool, held: bool| {
        let done_ms = done_ms(incident, &duty);
        out.push(DutyClock {
            duty,
            starts_ms,
            due_ms,
            statutory,
            done_ms,
            delayed_by_law_enforcement: held,
        });
    };

    if let Some(aware) = incident.ndb_aware_ms() {
        push(
            Duty::NdbAssessment,
            aware,
            due(aware, NDB_ASSESSMENT_DAYS, tz),
            true,
            false,
        );
    }
    if let Some(grounds) = ndb_notifiable(incident) {
        let target = due(grounds, PRACTICE_TARGET_DAYS, tz);
        push(Duty::OaicStatement, grounds, target, false, false);
        push(Duty::NdbIndividuals, grounds, target, false, false);
    }
    if incident.my_health_record
        && let Some(aware) = incident.first_known_ms()
    {
        push(
            Duty::AdhaMyHealthRecord,
            aware,
            due(aware, PRACTICE_TARGET_DAYS, tz),
            false,
            false,
        );
    }

    if let Some(discovered) = hipaa_applies(incident) {
        let (limit, held) = delayed(incident, due(discovered, HIPAA_DAYS, tz), tz);
        push(Duty::HipaaIndividuals, discovered, limit, true, held);
        // An unknown count (0) takes the earlier HHS clock: the annual log is only
        // justified once fewer than 500 are known to be affected.
        if incident.affected_total >= HHS_IMMEDIATE_THRESHOLD || incident.affected_total == 0 {
            push(Duty::HhsImmediate, discovered, limit, true, held);
        } else {
            let log = clock::annual_log_due_ms(discovered, tz)
                .unwrap_or_else(|_| discovered.saturating_add(425 * DAY_MS));
            let (log, held) = delayed(incident, log, tz);
            push(Duty::HhsAnnualLog, discovered, log, true, held);
        }
        for (state, n) in &incident.affected_by_state {
            if *n > MEDIA_THRESHOLD {
                let duty = Duty::Media {
                    state: state.clone(),
                };
                push(duty, discovered, limit, true, held);
            }
        }
        if incident.unreachable_count >= SUBSTITUTE_THRESHOLD {
            push(Duty::SubstituteNotice, discovered, limit, true, held);
        }
    }
    out
}

const HIPAA_NOTICES: [Duty; 4] = [
    Duty::HipaaIndividuals,
    Duty::HhsImmediate,
    Duty::HhsAnnualLog,
    Duty::SubstituteNotice,
];

/// The duties considered and found not to apply, with the reasons.
pub fn not_required(incident: &Incident) -> Vec<NotRequired> {
    let mut out = Vec::new();
    if let Some(a) = &incident.ndb
        && !a.eligible()
    {
        let why = if a.likely_serious_harm {
            "remedial action prevented the likely serious harm"
        } else {
            "serious harm is not likely"
        };
        out.push(NotRequired {
            duties: vec![Duty::OaicStatement, Duty::NdbIndividuals],
            reason: format!(
                "NDB notification not required: {why} (assessed by {}). Reason: {}",
                a.decided_by.trim(),
                a.rationale.trim()
            ),
            citation: if a.likely_serious_harm {
                "Privacy Act 1988 (Cth) s26WF"
            } else {
                "Privacy Act 1988 (Cth) s26WE"
            },
        });
    }
    if incident.discovered_ms.is_some() {
        if incident.data_encrypted {
            out.push(NotRequired {
                duties: HIPAA_NOTICES.to_vec(),
                reason: "HIPAA notice not required: data encrypted, so not unsecured PHI".into(),
                citation: "45 CFR §164.402 (unsecured protected health information)",
            });
        } else if let Some(a) = incident
            .hipaa
            .as_ref()
            .filter(|a| a.low_probability_of_compromise)
        {
            out.push(NotRequired {
                duties: HIPAA_NOTICES.to_vec(),
                reason: format!(
                    "HIPAA notice not required: four-factor assessment by {} found a low probability that the PHI was compromised. Nature and extent: {}. Unauthorized person: {}. Acquired or viewed: {}. Mitigation: {}.",
                    a.decided_by.trim(),
                    a.nature_and_extent.trim(),
                    a.unauthorized_person.trim(),
                    a.acquired_or_viewed.trim(),
                    a.mitigation.trim()
                ),
                citation: "45 CFR §164.402(2)",
            });
        } else {
            hipaa_thresholds(incident, &mut out);
        }
    }
    out
}

/// Findings for the HIPAA thresholds that were not reached, so "why no HHS/media notice"
/// is answered on the record.
fn hipaa_thresholds(incident: &Incident, out: &mut Vec<NotRequired>) {
    if (1..HHS_IMMEDIATE_THRESHOLD).contains(&incident.affected_total) {
        out.push(NotRequired {
            duties: vec![Duty::HhsImmediate],
            reason: format!(
                "Immediate HHS notice not required: {} affected, fewer than {HHS_IMMEDIATE_THRESHOLD}; the breach goes in the annual log instead",
                incident.affected_total
            ),
            citation: "45 CFR §164.408(c)",
        });
    }
    let over = incident
        .affected_by_state
        .values()
        .any(|n| *n > MEDIA_THRESHOLD);
    let counted: u64 = incident.affected_by_state.values().sum();
    let undetermined =
        incident.affected_total > MEDIA_THRESHOLD && counted < incident.affected_total;
    if !over && undetermined {
        // Not a finding: with people not yet counted by state, nobody can say the media
        // threshold is not met. Say what is missing instead.
        out.push(NotRequired {
            duties: Vec::new(),
            reason: format!(
                "Media notice undetermined: {} of {} affected people are counted by state; enter people per state to know whether any state has more than {MEDIA_THRESHOLD}",
                counted, incident.affected_total
            ),
            citation: "45 CFR §164.406",
        });
    } else if !over {
        let largest = incident
            .affected_by_state
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(s, n)| format!(" (largest: {n} in {s})"))
            .unwrap_or_default();
        out.push(NotRequired {
            duties: Vec::new(),
            reason: format!(
                "Media notice not required: no state has more than {MEDIA_THRESHOLD} affected residents{largest}"
            ),
            citation: "45 CFR §164.406",
        });
    }
    if incident.unreachable_count < SUBSTITUTE_THRESHOLD {
        let reason = if incident.unreachable_count == 0 {
            "Substitute notice not required: everyone affected can be reached".to_string()
        } else {
            format!(
                "Substitute notice by website or media not required: {} cannot be reached, fewer than {SUBSTITUTE_THRESHOLD}; reach them by other written notice, phone or other means",
                incident.unreachable_count
            )
        };
        out.push(NotRequired {
            duties: vec![Duty::SubstituteNotice],
            reason,
            citation: "45 CFR §164.404(d)(2)(i)",
        });
    }
}
