use super::*;

#[test]
fn ndb_deadline_across_sydney_dst_end() {
    // DST ends in Sydney on 2026-04-05: +11:00 before, +10:00 after.
    let aware = ms("2026-04-04T23:30:00+11:00");
    let due = deadline_ms(aware, 30, &sydney()).unwrap();
    assert_eq!(due, ms("2026-05-04T23:59:59.999+10:00"));
    // The same instant seen from New York is the morning of 4 April there.
    let due_ny = deadline_ms(aware, 30, &new_york()).unwrap();
    assert_eq!(due_ny, ms("2026-05-04T23:59:59.999-04:00"));
    assert_ne!(due, due_ny);
}

#[test]
fn local_date_decides_the_day_count() {
    // 09:00 on 5 April in Sydney is still 4 April in New York.
    let t = ms("2026-04-05T09:00:00+10:00");
    assert_eq!(
        deadline_ms(t, 30, &sydney()).unwrap(),
        ms("2026-05-05T23:59:59.999+10:00")
    );
    assert_eq!(
        deadline_ms(t, 30, &new_york()).unwrap(),
        ms("2026-05-04T23:59:59.999-04:00")
    );
    // A trigger late in the local day counts from that day, not from UTC's next one.
    let late = ms("2026-06-10T23:59:00-04:00");
    assert_eq!(
        deadline_ms(late, 1, &new_york()).unwrap(),
        ms("2026-06-11T23:59:59.999-04:00")
    );
}

#[test]
fn hipaa_sixty_days_across_us_dst_start() {
    // New York springs forward on 2026-03-08.
    let discovered = ms("2026-03-01T10:00:00-05:00");
    assert_eq!(
        deadline_ms(discovered, 60, &new_york()).unwrap(),
        ms("2026-04-30T23:59:59.999-04:00")
    );
}

#[test]
fn annual_log_is_sixty_days_after_local_year_end() {
    let ny = new_york();
    assert_eq!(
        annual_log_due_ms(ms("2026-07-15T12:00:00-04:00"), &ny).unwrap(),
        ms("2027-03-01T23:59:59.999-05:00")
    );
    // Leap year: 60 days after 31 December 2027 is 29 February 2028.
    assert_eq!(
        annual_log_due_ms(ms("2027-12-31T23:30:00-05:00"), &ny).unwrap(),
        ms("2028-02-29T23:59:59.999-05:00")
    );
    // 02:00 UTC on 1 January 2027 is still 2026 in New York.
    assert_eq!(
        annual_log_due_ms(ms("2027-01-01T02:00:00Z"), &ny).unwrap(),
        ms("2027-03-01T23:59:59.999-05:00")
    );
}

#[test]
fn parses_offsets_and_practice_local_times() {
    let tz = sydney();
    assert_eq!(
        parse_timestamp_ms("2026-04-04T23:30:00+11:00", &tz).unwrap(),
        ms("2026-04-04T12:30:00Z")
    );
    assert_eq!(
        parse_timestamp_ms("2026-04-04T12:30:00Z", &tz).unwrap(),
        ms("2026-04-04T12:30:00Z")
    );
    assert_eq!(
        parse_timestamp_ms(" 2026-04-04T23:30 ", &tz).unwrap(),
        ms("2026-04-04T23:30:00+11:00")
    );
    assert_eq!(
        parse_timestamp_ms("2026-06-01T09:15", &tz).unwrap(),
        ms("2026-06-01T09:15:00+10:00")
    );
    assert_eq!(
        parse_timestamp_ms("2026-04-04T23:30+11:00", &tz).unwrap(),
        ms("2026-04-04T12:30:00Z")
    );
    assert_eq!(
        parse_timestamp_ms("2026-04-04T23:30:00+11:00[Australia/Sydney]", &tz).unwrap(),
        ms("2026-04-04T12:30:00Z")
    );
    // Local times mean different instants in different zones.
    assert_eq!(
        parse_timestamp_ms("2026-06-01T09:15", &new_york()).unwrap(),
        ms("2026-06-01T09:15:00-04:00")
    );
}

#[test]
fn rejects_ambiguous_missing_and_bad_times() {
    let tz = sydney();
    // 02:30 happens twice on 2026-04-05 (fold) and not at all on 2026-10-04 (gap).
    for input in [
        "2026-04-05T02:30",
        "2026-10-04T02:30",
        "2026-04-04",
        "yesterday",
        "",
    ] {
        let err = parse_timestamp_ms(input, &tz).unwrap_err();
        assert!(
            matches!(err, BreachError::Timestamp { .. }),
            "{input}: {err}"
        );
    }
    let fold = parse_timestamp_ms("2026-04-05T02:30", &tz).unwrap_err();
    assert!(fold.to_string().contains("daylight-saving"), "{fold}");
    // With an explicit offset the fold is resolved by the user, not guessed.
    assert_eq!(
        parse_timestamp_ms("2026-04-05T02:30:00+10:00", &tz).unwrap(),
        ms("2026-04-04T16:30:00Z")
    );
}

#[test]
fn unknown_time_zone_is_an_error() {
    assert!(matches!(
        time_zone("Mars/Olympus_Mons"),
        Err(BreachError::TimeZone { .. })
    ));
}

#[test]
fn local_text_uses_the_practice_zone() {
    let t = ms("2026-06-01T14:00:00Z");
    assert_eq!(local_date_text(t, &sydney()), "2 June 2026");
    assert_eq!(local_date_text(t, &new_york()), "1 June 2026");
    assert_eq!(local_datetime_text(t, &sydney()), "2 June 2026, 00:00 AEST");
}

fn clock_due(due_ms: i64) -> DutyClock {
    DutyClock {
        duty: Duty::HipaaIndividuals,
        starts_ms: due_ms - 60 * DAY_MS,
        due_ms,
        statutory: true,
        done_ms: None,
        delayed_by_law_enforcement: false,
    }
}

#[test]
fn escalation_boundaries() {
    let due = ms("2026-05-04T23:59:59.999+10:00");
    let c = clock_due(due);
    let open = |e| ClockStatus::Open { escalation: e };
    assert_eq!(c.status(due - 7 * DAY_MS - 1), open(Escalation::None));
    assert_eq!(c.status(due - 7 * DAY_MS), open(Escalation::Soon));
    assert_eq!(c.status(due - 2 * DAY_MS - 1), open(Escalation::Soon));
    assert_eq!(c.status(due - 2 * DAY_MS), open(Escalation::Urgent));
    assert_eq!(c.status(due), open(Escalation::Urgent));
    assert_eq!(c.status(due + 1), open(Escalation::Overdue));
    assert_eq!(c.remaining_ms(due + 1), -1);
}

#[test]
fn done_on_time_or_late_regardless_of_now() {
    let due = ms("2026-05-04T23:59:59.999+10:00");
    let mut c = clock_due(due);
    c.done_ms = Some(due);
    assert_eq!(
        c.status(due + 100 * DAY_MS),
        ClockStatus::Done { late: false }
    );
    c.done_ms = Some(due + 1);
    assert_eq!(c.status(0), ClockStatus::Done { late: true });
}
