use super::*;

fn suspected(aware: &str) -> Incident {
    Incident {
        title: "Odd logins".into(),
        aware_suspected_ms: Some(ms(aware)),
        ..Incident::default()
    }
}

fn ndb(likely: bool, prevented: bool, decided: &str) -> SeriousHarmAssessment {
    SeriousHarmAssessment {
        likely_serious_harm: likely,
        remedial_action_prevented_harm: prevented,
        rationale: "Only appointment times were seen.".into(),
        decided_by: "Dr Lee".into(),
        decided_ms: ms(decided),
    }
}

#[test]
fn nothing_before_anyone_knows() {
    let i = Incident {
        title: "x".into(),
        occurred_ms: Some(ms("2026-01-01T00:00:00Z")),
        ..Incident::default()
    };
    assert!(duties(&i, &sydney()).is_empty());
    assert!(not_required(&i).is_empty());
}

#[test]
fn suspicion_starts_only_the_ndb_assessment() {
    let i = suspected("2026-04-04T23:30:00+11:00");
    let clocks = duties(&i, &sydney());
    assert_eq!(kinds(&clocks), vec![Duty::NdbAssessment]);
    let c = &clocks[0];
    assert!(c.statutory);
    assert_eq!(c.starts_ms, ms("2026-04-04T23:30:00+11:00"));
    assert_eq!(c.due_ms, ms("2026-05-04T23:59:59.999+10:00"));
    assert_eq!(c.done_ms, None);
}

#[test]
fn eligible_assessment_adds_oaic_and_individuals_as_practice_targets() {
    let mut i = suspected("2026-04-04T23:30:00+11:00");
    i.reasonable_grounds_ms = Some(ms("2026-04-10T09:00:00+10:00"));
    i.ndb = Some(ndb(true, false, "2026-04-10T09:00:00+10:00"));
    let clocks = duties(&i, &sydney());
    assert_eq!(
        kinds(&clocks),
        vec![
            Duty::NdbAssessment,
            Duty::OaicStatement,
            Duty::NdbIndividuals
        ]
    );
    let assess = find(&clocks, &Duty::NdbAssessment).unwrap();
    assert_eq!(assess.done_ms, Some(ms("2026-04-10T09:00:00+10:00")));
    assert_eq!(assess.status(0), ClockStatus::Done { late: false });
    for d in [Duty::OaicStatement, Duty::NdbIndividuals] {
        let c = find(&clocks, &d).unwrap();
        assert!(!c.statutory, "{d:?} is a practice target");
        assert_eq!(c.starts_ms, ms("2026-04-10T09:00:00+10:00"));
        assert_eq!(c.due_ms, ms("2026-05-10T23:59:59.999+10:00"));
    }
    assert!(not_required(&i).is_empty());
}

#[test]
fn eligibility_without_recorded_grounds_starts_at_the_decision() {
    let mut i = suspected("2026-04-04T23:30:00+11:00");
    i.ndb = Some(ndb(true, false, "2026-04-20T09:00:00+10:00"));
    let c = find(&duties(&i, &sydney()), &Duty::OaicStatement)
        .cloned()
        .unwrap();
    assert_eq!(c.starts_ms, ms("2026-04-20T09:00:00+10:00"));
}

#[test]
fn recorded_grounds_without_assessment_still_require_notice() {
    let mut i = suspected("2026-04-04T23:30:00+11:00");
    i.reasonable_grounds_ms = Some(ms("2026-04-06T09:00:00+10:00"));
    let clocks = duties(&i, &sydney());
    assert!(find(&clocks, &Duty::OaicStatement).is_some());
    // The assessment itself stays open: the reasoning is not recorded yet.
    assert_eq!(find(&clocks, &Duty::NdbAssessment).unwrap().done_ms, None);
}

#[test]
fn no_serious_harm_keeps_the_reasoning() {
    let mut i = suspected("2026-04-04T23:30:00+11:00");
    i.ndb = Some(ndb(false, false, "2026-04-08T09:00:00+10:00"));
    assert_eq!(kinds(&duties(&i, &sydney())), vec![Duty::NdbAssessment]);
    let nr = not_required(&i);
    assert_eq!(nr.len(), 1);
    assert_eq!(
        nr[0].duties,
        vec![Duty::OaicStatement, Duty::NdbIndividuals]
    );
    assert!(
        nr[0].reason.contains("serious harm is not likely"),
        "{}",
        nr[0].reason
    );
    assert!(nr[0].reason.contains("Only appointment times were seen."));
    assert!(nr[0].reason.contains("Dr Lee"));

    i.ndb = Some(ndb(true, true, "2026-04-08T09:00:00+10:00"));
    let nr = not_required(&i);
    assert!(nr[0].reason.contains("remedial action prevented"));
    assert!(nr[0].citation.contains("s26WF"));
}

#[test]
fn my_health_record_adds_adha() {
    let mut i = suspected("2026-04-04T23:30:00+11:00");
    i.my_health_record = true;
    let c = find(&duties(&i, &sydney()), &Duty::AdhaMyHealthRecord)
        .cloned()
        .unwrap();
    assert!(!c.statutory);
    assert_eq!(c.due_ms, ms("2026-05-04T23:59:59.999+10:00"));
}
