//! Consistency checks on an incident record before it is saved.
//!
//! A breach record may be read years later by a regulator; dates in an impossible order
//! or counts that do not add up would undermine the whole record, so they are refused at
//! entry with a message naming the fields.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::clock::utc_text;
use crate::duty::Duty;
use crate::error::BreachError;
use crate::incident::{Action, Incident};

/// Longest law-enforcement delay accepted, in days; longer is almost surely a typo.
pub const MAX_DELAY_DAYS: u32 = 3650;

fn empty(field: impl Into<String>) -> BreachError {
    BreachError::Empty {
        field: field.into(),
    }
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

/// Pushes an error if `later` is before `earlier`.
fn order(out: &mut Vec<BreachError>, later: (&str, Option<i64>), earlier: (&str, Option<i64>)) {
    if let ((l, Some(lv)), (e, Some(ev))) = (later, earlier)
        && lv < ev
    {
        out.push(BreachError::OutOfOrder {
            later: l.to_string(),
            later_at: utc_text(lv),
            earlier: e.to_string(),
            earlier_at: utc_text(ev),
        });
    }
}

fn in_range(out: &mut Vec<BreachError>, field: &str, ms: Option<i64>) {
    let Some(ms) = ms else { return };
    let ok = Timestamp::from_millisecond(ms)
        .map(|ts| (1970..9000).contains(&ts.to_zoned_datetime(TimeZone::UTC).year()))
        .unwrap_or(false);
    if !ok || ms < 0 {
        out.push(BreachError::OutOfRange {
            field: field.to_string(),
            ms,
        });
    }
}

fn actions(out: &mut Vec<BreachError>, name: &str, list: &[Action], inc: &Incident) {
    for (i, a) in list.iter().enumerate() {
        let field = format!("{name}[{i}]");
        in_range(out, &format!("{field}.at_ms"), Some(a.at_ms));
        if blank(&a.text) {
            out.push(empty(format!("{field}.text")));
        }
        if blank(&a.by) {
            out.push(empty(format!("{field}.by")));
        }
        order(
            out,
            (&format!("{field}.at_ms"), Some(a.at_ms)),
            ("occurred_ms", inc.occurred_ms),
        );
    }
}

impl Incident {
    /// Checks the record; the first problem found, if any.
    pub fn validate(&self) -> Result<(), BreachError> {
        match self.problems().into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Every problem in the record, so a form can show them all at once.
    pub fn problems(&self) -> Vec<BreachError> {
        let mut out = Vec::new();
        if blank(&self.title) {
            out.push(empty("title"));
        }
        let times = [
            ("occurred_ms", self.occurred_ms),
            ("aware_suspected_ms", self.aware_suspected_ms),
            ("reasonable_grounds_ms", self.reasonable_grounds_ms),
            ("discovered_ms", self.discovered_ms),
            (
                "law_enforcement_delay_until_ms",
                self.law_enforcement_delay_until_ms,
            ),
            ("closed_ms", self.closed_ms),
        ];
        for (f, v) in times {
            in_range(&mut out, f, v);
        }
        let occurred = ("occurred_ms", self.occurred_ms);
        order(
            &mut out,
            ("aware_suspected_ms", self.aware_suspected_ms),
            occurred,
        );
        order(
            &mut out,
            ("reasonable_grounds_ms", self.reasonable_grounds_ms),
            occurred,
        );
        order(&mut out, ("discovered_ms", self.discovered_ms), occurred);
        order(
            &mut out,
            ("reasonable_grounds_ms", self.reasonable_grounds_ms),
            ("aware_suspected_ms", self.aware_suspected_ms),
        );
        for (i, k) in self.kinds_of_information.iter().enumerate() {
            if blank(k) {
                out.push(empty(format!("kinds_of_information[{i}]")));
            }
        }
        for (i, k) in self.recommended_steps.iter().enumerate() {
            if blank(k) {
                out.push(empty(format!("recommended_steps[{i}]")));
            }
        }
        self.check_counts(&mut out);
        self.check_delay(&mut out);
        actions(&mut out, "containment", &self.containment, self);
        actions(&mut out, "remedial", &self.remedial, self);
        self.check_assessments(&mut out);
        self.check_notifications(&mut out);
        self.check_closure(&mut out);
        out
    }

    fn check_counts(&self, out: &mut Vec<BreachError>) {
        let mut sum: u64 = 0;
        for (state, n) in &self.affected_by_state {
            if blank(state) {
                out.push(empty("affected_by_state key (state name)"));
            }
            sum = sum.saturating_add(*n);
        }
        if sum > self.affected_total {
            out.push(BreachError::Counts(format!(
                "affected_by_state adds up to {sum}, more than affected_total ({})",
                self.affected_total
            )));
        }
        if self.unreachable_count > self.affected_total {
            out.push(BreachError::Counts(format!(
                "unreachable_count ({}) is more than affected_total ({})",
                self.unreachable_count, self.affected_total
            )));
        }
    }

    fn check_delay(&self, out: &mut Vec<BreachError>) {
        if self.law_enforcement_delay_until_ms.is_some()
            && self.law_enforcement_delay_days.is_some()
        {
            out.push(BreachError::Inconsistent(
                "set law_enforcement_delay_until_ms or law_enforcement_delay_days, not both".into(),
            ));
        }
        if let Some(days) = self.law_enforcement_delay_days
            && days > MAX_DELAY_DAYS
        {
            out.push(BreachError::Inconsistent(format!(
                "law_enforcement_delay_days ({days}) is more than {MAX_DELAY_DAYS}"
            )));
        }
        let delayed = self.law_enforcement_delay_until_ms.is_some()
            || self.law_enforcement_delay_days.is_some();
        if delayed && self.discovered_ms.is_none() {
            out.push(BreachError::Missing {
                field: "discovered_ms".into(),
                because:
                    "a law-enforcement delay only moves HIPAA deadlines, which run from discovery"
                        .into(),
            });
        }
        order(
            out,
            (
                "law_enforcement_delay_until_ms",
                self.law_enforcement_delay_until_ms,
            ),
            ("discovered_ms", self.discovered_ms),
        );
    }

    fn check_assessments(&self, out: &mut Vec<BreachError>) {
        if let Some(a) = &self.ndb {
            if blank(&a.rationale) {
                out.push(empty("ndb.rationale"));
            }
            if blank(&a.decided_by) {
                out.push(empty("ndb.decided_by"));
            }
            in_range(out, "ndb.decided_ms", Some(a.decided_ms));
            if self.ndb_aware_ms().is_none() {
                out.push(BreachError::Missing {
                    field: "aware_suspected_ms".into(),
                    because: "an NDB assessment is recorded".into(),
                });
            }
            order(
                out,
                ("ndb.decided_ms", Some(a.decided_ms)),
                ("aware_suspected_ms", self.ndb_aware_ms()),
            );
        }
        if let Some(a) = &self.hipaa {
            let fields = [
                ("hipaa.nature_and_extent", &a.nature_and_extent),
                ("hipaa.unauthorized_person", &a.unauthorized_person),
                ("hipaa.acquired_or_viewed", &a.acquired_or_viewed),
                ("hipaa.mitigation", &a.mitigation),
                ("hipaa.decided_by", &a.decided_by),
            ];
            for (f, v) in fields {
                if blank(v) {
                    out.push(empty(f));
                }
            }
            in_range(out, "hipaa.decided_ms", Some(a.decided_ms));
            if self.discovered_ms.is_none() {
                out.push(BreachError::Missing {
                    field: "discovered_ms".into(),
                    because: "a HIPAA four-factor assessment is recorded".into(),
                });
            }
            order(
                out,
                ("hipaa.decided_ms", Some(a.decided_ms)),
                ("discovered_ms", self.discovered_ms),
            );
        }
    }

    fn check_notifications(&self, out: &mut Vec<BreachError>) {
        let known = self.first_known_ms();
        for (i, n) in self.notifications.iter().enumerate() {
            let field = format!("notifications[{i}].sent_ms");
            in_range(out, &field, Some(n.sent_ms));
            if blank(&n.method) {
                out.push(empty(format!("notifications[{i}].method")));
            }
            if n.duty == Duty::NdbAssessment {
                out.push(BreachError::Inconsistent(format!(
                    "notifications[{i}]: the NDB assessment is completed by recording the assessment (ndb), not a notification"
                )));
            }
            if let Duty::Media { state } = &n.duty
                && blank(state)
            {
                out.push(empty(format!("notifications[{i}].duty media state")));
            }
            match known {
                None => out.push(BreachError::Missing {
                    field: "aware_suspected_ms or discovered_ms".into(),
                    because: format!("notifications[{i}] is recorded"),
                }),
                Some(k) => order(
                    out,
                    (&field, Some(n.sent_ms)),
                    ("the first awareness/discovery time", Some(k)),
                ),
            }
        }
    }

    fn check_closure(&self, out: &mut Vec<BreachError>) {
        match (&self.closed_ms, &self.closed_reason) {
            (Some(_), None) => out.push(empty("closed_reason")),
            (Some(_), Some(r)) if blank(r) => out.push(empty("closed_reason")),
            (None, Some(_)) => out.push(BreachError::Missing {
                field: "closed_ms".into(),
                because: "closed_reason is set".into(),
            }),
            _ => {}
        }
        let Some(closed) = self.closed_ms else { return };
        let c = ("closed_ms", Some(closed));
        let mut earlier: Vec<(String, Option<i64>)> = vec![
            ("occurred_ms".into(), self.occurred_ms),
            ("aware_suspected_ms".into(), self.aware_suspected_ms),
            ("reasonable_grounds_ms".into(), self.reasonable_grounds_ms),
            ("discovered_ms".into(), self.discovered_ms),
            (
                "ndb.decided_ms".into(),
                self.ndb.as_ref().map(|a| a.decided_ms),
            ),
            (
                "hipaa.decided_ms".into(),
                self.hipaa.as_ref().map(|a| a.decided_ms),
            ),
        ];
        for (i, n) in self.notifications.iter().enumerate() {
            earlier.push((format!("notifications[{i}].sent_ms"), Some(n.sent_ms)));
        }
        for (f, v) in &earlier {
            order(out, c, (f, *v));
        }
    }
}
