use super::*;

#[test]
fn hipaa_sixty_days_and_hhs_threshold() {
    let ny = new_york();
    let discovered = "2026-03-01T10:00:00-05:00";
    let sixty = ms("2026-04-30T23:59:59.999-04:00");

    let i = hipaa_incident(discovered, 499);
    let clocks = duties(&i, &ny);
    assert_eq!(
        kinds(&clocks),
        vec![Duty::HipaaIndividuals, Duty::HhsAnnualLog]
    );
    assert_eq!(
        find(&clocks, &Duty::HipaaIndividuals).unwrap().due_ms,
        sixty
    );
    assert_eq!(
        find(&clocks, &Duty::HhsAnnualLog).unwrap().due_ms,
        ms("2027-03-01T23:59:59.999-05:00")
    );
    assert!(
        not_required(&i)
            .iter()
            .any(|n| n.duties == vec![Duty::HhsImmediate] && n.reason.contains("499 affected"))
    );

    for total in [500, 501] {
        let i = hipaa_incident(discovered, total);
        let clocks = duties(&i, &ny);
        assert_eq!(
            kinds(&clocks),
            vec![Duty::HipaaIndividuals, Duty::HhsImmediate]
        );
        assert_eq!(find(&clocks, &Duty::HhsImmediate).unwrap().due_ms, sixty);
        assert!(clocks.iter().all(|c| c.statutory));
    }
}

#[test]
fn media_only_for_states_over_five_hundred() {
    let mut i = hipaa_incident("2026-03-01T10:00:00-05:00", 1600);
    i.affected_by_state = BTreeMap::from([
        ("CA".to_string(), 501),
        ("NY".to_string(), 500),
        ("NJ".to_string(), 499),
        ("TX".to_string(), 600),
    ]);
    let clocks = duties(&i, &new_york());
    let media: Vec<_> = kinds(&clocks)
        .into_iter()
        .filter(|d| matches!(d, Duty::Media { .. }))
        .collect();
    assert_eq!(
        media,
        vec![
            Duty::Media { state: "CA".into() },
            Duty::Media { state: "TX".into() }
        ]
    );
    assert!(
        !not_required(&i)
            .iter()
            .any(|n| n.reason.starts_with("Media"))
    );

    i.affected_by_state = BTreeMap::from([("NY".to_string(), 500)]);
    assert!(
        !kinds(&duties(&i, &new_york()))
            .iter()
            .any(|d| matches!(d, Duty::Media { .. }))
    );
    // 1,600 affected but only 500 counted by state: nobody can say the media are not
    // owed a notice.
    let nr = not_required(&i);
    assert!(
        nr.iter().any(|n| n
            .reason
            .starts_with("Media notice undetermined: 500 of 1600")),
        "{nr:?}"
    );
    assert!(
        !nr.iter()
            .any(|n| n.reason.starts_with("Media notice not required"))
    );
    i.affected_total = 500;
    let nr = not_required(&i);
    assert!(
        nr.iter().any(|n| n.reason.contains("largest: 500 in NY")),
        "{nr:?}"
    );
}

#[test]
fn substitute_notice_from_ten_unreachable() {
    let mut i = hipaa_incident("2026-03-01T10:00:00-05:00", 50);
    i.unreachable_count = 9;
    assert!(find(&duties(&i, &new_york()), &Duty::SubstituteNotice).is_none());
    assert!(
        not_required(&i)
            .iter()
            .any(|n| n.duties == vec![Duty::SubstituteNotice]
                && n.reason.contains("9 cannot be reached"))
    );
    i.unreachable_count = 10;
    let c = find(&duties(&i, &new_york()), &Duty::SubstituteNotice)
        .cloned()
        .unwrap();
    assert_eq!(c.due_ms, ms("2026-04-30T23:59:59.999-04:00"));
}

#[test]
fn encrypted_data_needs_no_hipaa_notice_but_keeps_the_reason() {
    let mut i = hipaa_incident("2026-03-01T10:00:00-05:00", 900);
    i.data_encrypted = true;
    i.unreachable_count = 20;
    i.affected_by_state = BTreeMap::from([("CA".to_string(), 900)]);
    assert!(duties(&i, &new_york()).is_empty());
    let nr = not_required(&i);
    assert_eq!(nr.len(), 1);
    assert!(
        nr[0]
            .reason
            .contains("HIPAA notice not required: data encrypted")
    );
    assert!(nr[0].duties.contains(&Duty::HipaaIndividuals));
    assert!(nr[0].citation.contains("164.402"));
}

#[test]
fn four_factor_assessment_decides_hipaa_notice() {
    let mut i = hipaa_incident("2026-03-01T10:00:00-05:00", 3);
    let mut a = FourFactorAssessment {
        nature_and_extent: "Names and appointment dates only".into(),
        unauthorized_person: "A nurse at another covered entity".into(),
        acquired_or_viewed: "Returned unopened".into(),
        mitigation: "Written assurance it was destroyed".into(),
        low_probability_of_compromise: true,
        decided_by: "Privacy officer".into(),
        decided_ms: ms("2026-03-03T10:00:00-05:00"),
    };
    i.hipaa = Some(a.clone());
    assert!(duties(&i, &new_york()).is_empty());
    let nr = not_required(&i);
    assert_eq!(nr.len(), 1);
    for fact in [
        "low probability",
        "Names and appointment dates only",
        "A nurse at another",
        "Returned unopened",
        "Written assurance",
        "Privacy officer",
    ] {
        assert!(
            nr[0].reason.contains(fact),
            "missing {fact}: {}",
            nr[0].reason
        );
    }

    a.low_probability_of_compromise = false;
    i.hipaa = Some(a);
    assert_eq!(
        kinds(&duties(&i, &new_york())),
        vec![Duty::HipaaIndividuals, Duty::HhsAnnualLog]
    );
}

#[test]
fn law_enforcement_delay_until_a_date() {
    let ny = new_york();
    let mut i = hipaa_incident("2026-03-01T10:00:00-05:00", 600);
    i.law_enforcement_delay_until_ms = Some(ms("2026-06-15T12:00:00-04:00"));
    let clocks = duties(&i, &ny);
    for c in &clocks {
        assert_eq!(
            c.due_ms,
            ms("2026-06-15T23:59:59.999-04:00"),
            "{:?}",
            c.duty
        );
        assert!(c.delayed_by_law_enforcement);
    }
    // A delay that ends before the deadline changes nothing.
    i.law_enforcement_delay_until_ms = Some(ms("2026-03-20T12:00:00-04:00"));
    let c = find(&duties(&i, &ny), &Duty::HipaaIndividuals)
        .cloned()
        .unwrap();
    assert_eq!(c.due_ms, ms("2026-04-30T23:59:59.999-04:00"));
    assert!(!c.delayed_by_law_enforcement);
}

#[test]
fn law_enforcement_delay_by_days_moves_hipaa_only() {
    let mut i = hipaa_incident("2026-03-01T10:00:00-05:00", 10);
    i.aware_suspected_ms = i.discovered_ms;
    i.law_enforcement_delay_days = Some(30);
    let clocks = duties(&i, &new_york());
    let ind = find(&clocks, &Duty::HipaaIndividuals).unwrap();
    assert_eq!(ind.due_ms, ms("2026-05-30T23:59:59.999-04:00"));
    assert!(ind.delayed_by_law_enforcement);
    let log = find(&clocks, &Duty::HhsAnnualLog).unwrap();
    assert_eq!(log.due_ms, ms("2027-03-31T23:59:59.999-04:00"));
    let ndb = find(&clocks, &Duty::NdbAssessment).unwrap();
    assert_eq!(ndb.due_ms, ms("2026-03-31T23:59:59.999-04:00"));
    assert!(!ndb.delayed_by_law_enforcement);
}

#[test]
fn notifications_mark_duties_done_and_late() {
    let ny = new_york();
    let mut i = hipaa_incident("2026-03-01T10:00:00-05:00", 700);
    i.affected_by_state = BTreeMap::from([("CA".to_string(), 700)]);
    let note = |duty, sent: &str| Notification {
        duty,
        sent_ms: ms(sent),
        method: "mail".into(),
        reference: String::new(),
    };
    i.notifications = vec![
        note(Duty::HipaaIndividuals, "2026-05-01T00:00:01-04:00"),
        note(Duty::HipaaIndividuals, "2026-04-20T09:00:00-04:00"),
        note(Duty::HhsAnnualLog, "2026-04-30T23:59:59-04:00"),
        note(
            Duty::Media {
                state: " ca ".into(),
            },
            "2026-05-02T09:00:00-04:00",
        ),
    ];
    let clocks = duties(&i, &ny);
    let now = ms("2026-06-01T00:00:00-04:00");
    // The earliest notice counts.
    let ind = find(&clocks, &Duty::HipaaIndividuals).unwrap();
    assert_eq!(ind.done_ms, Some(ms("2026-04-20T09:00:00-04:00")));
    assert_eq!(ind.status(now), ClockStatus::Done { late: false });
    // Any HHS submission discharges the HHS duty.
    let hhs = find(&clocks, &Duty::HhsImmediate).unwrap();
    assert_eq!(hhs.status(now), ClockStatus::Done { late: false });
    let media = find(&clocks, &Duty::Media { state: "CA".into() }).unwrap();
    assert_eq!(media.status(now), ClockStatus::Done { late: true });
}

#[test]
fn open_duties_escalate_with_time() {
    let i = hipaa_incident("2026-03-01T10:00:00-05:00", 1);
    let ind = find(&duties(&i, &new_york()), &Duty::HipaaIndividuals)
        .cloned()
        .unwrap();
    let open = |e| ClockStatus::Open { escalation: e };
    assert_eq!(
        ind.status(ms("2026-03-02T00:00:00-05:00")),
        open(Escalation::None)
    );
    assert_eq!(
        ind.status(ms("2026-04-25T00:00:00-04:00")),
        open(Escalation::Soon)
    );
    assert_eq!(
        ind.status(ms("2026-04-29T12:00:00-04:00")),
        open(Escalation::Urgent)
    );
    assert_eq!(
        ind.status(ms("2026-05-01T00:00:00-04:00")),
        open(Escalation::Overdue)
    );
}

#[test]
fn duty_keys_round_trip() {
    let all = [
        Duty::NdbAssessment,
        Duty::OaicStatement,
        Duty::NdbIndividuals,
        Duty::AdhaMyHealthRecord,
        Duty::HipaaIndividuals,
        Duty::HhsImmediate,
        Duty::HhsAnnualLog,
        Duty::Media { state: "CA".into() },
        Duty::SubstituteNotice,
    ];
    for d in all {
        assert_eq!(d.key().parse::<Duty>().unwrap(), d);
        assert!(!d.label().is_empty());
        assert!(d.citation().contains("164") || d.citation().contains("Act"));
    }
    assert_eq!(
        Duty::Media { state: "TX".into() }.label(),
        "Notify media in TX"
    );
    assert!(matches!(
        "media:".parse::<Duty>(),
        Err(BreachError::UnknownDuty(_))
    ));
    assert!(matches!(
        "fax".parse::<Duty>(),
        Err(BreachError::UnknownDuty(_))
    ));
}

#[test]
fn unknown_count_takes_the_earlier_hhs_clock() {
    let i = hipaa_incident("2026-03-01T10:00:00-05:00", 0);
    let clocks = duties(&i, &new_york());
    assert_eq!(
        kinds(&clocks),
        vec![Duty::HipaaIndividuals, Duty::HhsImmediate]
    );
    assert!(
        !not_required(&i)
            .iter()
            .any(|n| n.duties == vec![Duty::HhsImmediate])
    );
}
