//! Unit tests, grouped by concern, with shared fixtures.

mod deadlines;
mod duties_hipaa;
mod duties_ndb;
mod notice;
mod validate;

use std::collections::BTreeMap;

use crate::*;

/// An RFC 3339 instant as Unix ms.
pub(super) fn ms(s: &str) -> i64 {
    s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

pub(super) fn sydney() -> TimeZone {
    time_zone("Australia/Sydney").unwrap()
}

pub(super) fn new_york() -> TimeZone {
    time_zone("America/New_York").unwrap()
}

/// A consistent, fully recorded incident at a Sydney practice with US patients too.
pub(super) fn full_incident() -> Incident {
    Incident {
        title: "Lost laptop".into(),
        description: "A staff laptop with patient files was stolen from a car.".into(),
        kinds_of_information: vec![
            "names".into(),
            "dates of birth".into(),
            "Medicare numbers".into(),
        ],
        recommended_steps: vec![
            "Watch for letters or calls about services you did not receive.".into(),
        ],
        source: Source::Alert {
            alert_id: "a1b2".into(),
        },
        occurred_ms: Some(ms("2026-03-02T08:00:00+11:00")),
        aware_suspected_ms: Some(ms("2026-03-03T09:00:00+11:00")),
        reasonable_grounds_ms: Some(ms("2026-03-06T12:00:00+11:00")),
        discovered_ms: Some(ms("2026-03-03T09:00:00+11:00")),
        affected_total: 120,
        affected_by_state: BTreeMap::from([("NSW".to_string(), 100), ("CA".to_string(), 20)]),
        unreachable_count: 0,
        containment: vec![Action {
            at_ms: ms("2026-03-03T10:00:00+11:00"),
            by: "IT".into(),
            text: "We locked the laptop's account and wiped it remotely.".into(),
        }],
        remedial: vec![Action {
            at_ms: ms("2026-03-05T10:00:00+11:00"),
            by: "Practice manager".into(),
            text: "We now require disk encryption on every laptop.".into(),
        }],
        ndb: Some(SeriousHarmAssessment {
            likely_serious_harm: true,
            remedial_action_prevented_harm: false,
            rationale: "Medicare numbers and health details could be misused.".into(),
            decided_by: "Dr Lee".into(),
            decided_ms: ms("2026-03-06T12:00:00+11:00"),
        }),
        ..Incident::default()
    }
}

pub(super) fn practice() -> Practice {
    Practice {
        name: "Harbour Family Clinic".into(),
        contact_name: "Sam Privacy".into(),
        phone: "1800 123 456".into(),
        email: "privacy@harbour.example".into(),
        address: "1 George St, Sydney NSW 2000".into(),
        website: "https://harbour.example".into(),
    }
}

/// A bare HIPAA incident discovered at `discovered` with `total` affected.
pub(super) fn hipaa_incident(discovered: &str, total: u64) -> Incident {
    Incident {
        title: "Misdirected fax".into(),
        discovered_ms: Some(ms(discovered)),
        affected_total: total,
        ..Incident::default()
    }
}

pub(super) fn find<'a>(clocks: &'a [DutyClock], duty: &Duty) -> Option<&'a DutyClock> {
    clocks.iter().find(|c| &c.duty == duty)
}

pub(super) fn kinds(clocks: &[DutyClock]) -> Vec<Duty> {
    clocks.iter().map(|c| c.duty.clone()).collect()
}
