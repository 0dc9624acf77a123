use super::*;

fn first_error(i: &Incident) -> String {
    i.validate().unwrap_err().to_string()
}

#[test]
fn a_full_consistent_record_is_valid() {
    let i = full_incident();
    assert_eq!(i.problems(), Vec::<BreachError>::new());
    assert!(i.validate().is_ok());
}

#[test]
fn empty_title_and_rationale_are_named() {
    let mut i = full_incident();
    i.title = "  ".into();
    assert_eq!(first_error(&i), "title is empty");
    i.title = "t".into();
    if let Some(a) = i.ndb.as_mut() {
        a.rationale = String::new();
    }
    assert_eq!(first_error(&i), "ndb.rationale is empty");
}

#[test]
fn awareness_before_the_breach_is_refused() {
    let mut i = full_incident();
    i.aware_suspected_ms = Some(ms("2026-03-01T00:00:00Z"));
    let msg = first_error(&i);
    assert!(
        msg.starts_with("aware_suspected_ms (2026-03-01T00:00:00Z) is before occurred_ms"),
        "{msg}"
    );
    let mut i = full_incident();
    i.discovered_ms = Some(ms("2026-03-01T00:00:00Z"));
    assert!(first_error(&i).starts_with("discovered_ms"));
    let mut i = full_incident();
    i.reasonable_grounds_ms = Some(ms("2026-03-03T08:00:00+11:00"));
    assert!(
        first_error(&i)
            .contains("reasonable_grounds_ms (2026-03-02T21:00:00Z) is before aware_suspected_ms")
    );
}

#[test]
fn notice_and_decision_before_awareness_are_refused() {
    let mut i = full_incident();
    i.notifications.push(Notification {
        duty: Duty::OaicStatement,
        sent_ms: ms("2026-03-02T09:00:00+11:00"),
        method: "OAIC online form".into(),
        reference: "OAIC-1".into(),
    });
    let msg = first_error(&i);
    assert!(
        msg.starts_with("notifications[0].sent_ms") && msg.contains("first awareness"),
        "{msg}"
    );

    let mut i = full_incident();
    if let Some(a) = i.ndb.as_mut() {
        a.decided_ms = ms("2026-03-03T08:00:00+11:00");
    }
    assert!(first_error(&i).starts_with("ndb.decided_ms"));

    let mut i = full_incident();
    i.aware_suspected_ms = None;
    i.reasonable_grounds_ms = None;
    i.discovered_ms = None;
    i.notifications.push(Notification {
        duty: Duty::HipaaIndividuals,
        sent_ms: ms("2026-03-10T09:00:00+11:00"),
        method: "mail".into(),
        reference: String::new(),
    });
    let all: Vec<String> = i.problems().iter().map(ToString::to_string).collect();
    assert!(
        all.iter()
            .any(|m| m == "aware_suspected_ms is needed because an NDB assessment is recorded"),
        "{all:?}"
    );
    assert!(
        all.iter()
            .any(|m| m.contains("is needed because notifications[0] is recorded")),
        "{all:?}"
    );
}

#[test]
fn closing_is_checked() {
    let mut i = full_incident();
    i.closed_ms = Some(ms("2026-03-04T00:00:00+11:00"));
    i.closed_reason = Some("Notified and contained".into());
    let msg = first_error(&i);
    assert!(
        msg.starts_with("closed_ms") && msg.contains("reasonable_grounds_ms"),
        "{msg}"
    );
    i.closed_ms = Some(ms("2026-04-01T00:00:00+11:00"));
    assert!(i.validate().is_ok());
    i.closed_reason = None;
    assert_eq!(first_error(&i), "closed_reason is empty");
    i.closed_ms = None;
    i.closed_reason = Some("done".into());
    assert_eq!(
        first_error(&i),
        "closed_ms is needed because closed_reason is set"
    );
}

#[test]
fn counts_must_add_up() {
    let mut i = full_incident();
    i.affected_by_state.insert("VIC".into(), 1);
    assert_eq!(
        first_error(&i),
        "affected_by_state adds up to 121, more than affected_total (120)"
    );
    let mut i = full_incident();
    i.unreachable_count = 121;
    assert_eq!(
        first_error(&i),
        "unreachable_count (121) is more than affected_total (120)"
    );
}

#[test]
fn delays_and_ranges_are_checked() {
    let mut i = full_incident();
    i.law_enforcement_delay_days = Some(30);
    i.law_enforcement_delay_until_ms = Some(ms("2026-06-01T00:00:00Z"));
    assert!(first_error(&i).contains("not both"));
    let mut i = full_incident();
    i.law_enforcement_delay_days = Some(MAX_DELAY_DAYS + 1);
    assert!(first_error(&i).contains("law_enforcement_delay_days"));
    let mut i = full_incident();
    i.occurred_ms = Some(-5);
    assert_eq!(first_error(&i), "occurred_ms (-5 ms) is outside 1970-8999");
}

#[test]
fn four_factor_fields_are_required() {
    let mut i = full_incident();
    i.hipaa = Some(FourFactorAssessment {
        nature_and_extent: "Names".into(),
        decided_by: "PO".into(),
        decided_ms: ms("2026-03-04T00:00:00+11:00"),
        ..FourFactorAssessment::default()
    });
    let all: Vec<String> = i.problems().iter().map(ToString::to_string).collect();
    assert_eq!(
        all,
        vec![
            "hipaa.unauthorized_person is empty",
            "hipaa.acquired_or_viewed is empty",
            "hipaa.mitigation is empty"
        ]
    );
}

#[test]
fn actions_need_text_author_and_a_plausible_date() {
    let mut i = full_incident();
    i.containment.push(Action {
        at_ms: ms("2026-03-01T00:00:00+11:00"),
        by: String::new(),
        text: "Blocked".into(),
    });
    let all: Vec<String> = i.problems().iter().map(ToString::to_string).collect();
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[0], "containment[1].by is empty");
    assert!(all[1].starts_with("containment[1].at_ms"));
}
