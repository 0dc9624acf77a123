use crate::{
    Completion, DAY_MS, Escalation, Moment, RENEWAL_DAYS, escalation, offer_for_patient, staff_set,
    staff_status,
};

const ENROLLED: i64 = 1_767_225_600_000; // 2026-01-01T00:00Z
const YEAR: i64 = RENEWAL_DAYS * DAY_MS;

fn all_passed(at: i64) -> Vec<Completion<'static>> {
    staff_set()
        .into_iter()
        .map(|l| Completion {
            lesson_id: l.id,
            version: l.version,
            passed_ms: at,
        })
        .collect()
}

#[test]
fn new_staff_member_is_due_at_once_and_not_cleared() {
    let s = staff_status(&[], ENROLLED, ENROLLED);
    assert!(!s.complete && !s.cleared);
    assert_eq!(s.due_ms, ENROLLED);
    assert_eq!(s.overdue_days, 0);
    assert_eq!(
        s.missing,
        staff_set().iter().map(|l| l.id).collect::<Vec<_>>()
    );
    assert_eq!(escalation(s.overdue_days), Escalation::User);
    let s = staff_status(&[], ENROLLED + 8 * DAY_MS, ENROLLED);
    assert_eq!(
        (s.overdue_days, escalation(s.overdue_days)),
        (8, Escalation::Admin)
    );
}

#[test]
fn partial_completion_lists_what_is_missing() {
    let mut done = all_passed(ENROLLED + DAY_MS);
    done.retain(|c| c.lesson_id != "staff-breach-duties");
    let s = staff_status(&done, ENROLLED + 2 * DAY_MS, ENROLLED);
    assert!(!s.complete && !s.cleared);
    assert_eq!(s.missing, vec!["staff-breach-duties"]);
    assert_eq!(s.due_ms, ENROLLED);
    assert_eq!(s.overdue_days, 2);
}

#[test]
fn complete_set_is_due_again_a_year_after_the_earliest_pass() {
    let passed = ENROLLED + DAY_MS;
    let mut done = all_passed(passed);
    done[1].passed_ms = passed + 3 * DAY_MS; // one lesson taken later
    let now = passed + 10 * DAY_MS;
    let s = staff_status(&done, now, ENROLLED);
    assert!(s.complete && s.cleared && s.missing.is_empty());
    assert_eq!(s.due_ms, passed + YEAR);
    assert_eq!(escalation(s.overdue_days), Escalation::None);

    // Two weeks before the renewal, the user is reminded.
    let s = staff_status(&done, passed + YEAR - 14 * DAY_MS, ENROLLED);
    assert!(s.complete);
    assert_eq!(
        (s.overdue_days, escalation(s.overdue_days)),
        (-14, Escalation::User)
    );
    let s = staff_status(&done, passed + YEAR - 14 * DAY_MS - 1, ENROLLED);
    assert_eq!(escalation(s.overdue_days), Escalation::None);

    // At the anniversary the first lessons lapse; the later one still counts.
    let s = staff_status(&done, passed + YEAR, ENROLLED);
    assert!(
        !s.complete && s.cleared,
        "a lapsed renewal does not lock anyone out"
    );
    assert_eq!(s.missing.len(), 4);
    assert!(!s.missing.contains(&done[1].lesson_id));
    let s = staff_status(&done, passed + YEAR + 15 * DAY_MS, ENROLLED);
    assert_eq!(escalation(s.overdue_days), Escalation::SecurityOfficer);

    // Renewing brings it back to complete for another year.
    let renewed_at = passed + YEAR + 20 * DAY_MS;
    let mut again = done.clone();
    again.extend(all_passed(renewed_at));
    let s = staff_status(&again, renewed_at, ENROLLED);
    assert!(s.complete);
    assert_eq!(s.due_ms, renewed_at + YEAR);
}

#[test]
fn older_version_counts_until_its_year_is_up() {
    let passed = ENROLLED + DAY_MS;
    let mut done = all_passed(passed);
    let l = staff_set()[0];
    // A pass of the current version, recorded as if it were of version 0 (older).
    done[0].version = l.version - 1;
    let s = staff_status(&done, passed + DAY_MS, ENROLLED);
    assert!(s.complete);
    assert_eq!(s.outdated, vec![l.id]);
    let s = staff_status(&done, passed + YEAR, ENROLLED);
    assert!(s.missing.contains(&l.id));
}

#[test]
fn unknown_future_and_newer_completions_are_ignored() {
    let now = ENROLLED + DAY_MS;
    let mut done = all_passed(now);
    done[0].passed_ms = now + 1; // after "now"
    done[1].version += 1; // a version that does not exist yet
    done.push(Completion {
        lesson_id: "retired-lesson",
        version: 1,
        passed_ms: now,
    });
    let s = staff_status(&done, now, ENROLLED);
    assert_eq!(s.missing, vec![done[0].lesson_id, done[1].lesson_id]);
}

#[test]
fn escalation_thresholds() {
    assert_eq!(escalation(-15), Escalation::None);
    assert_eq!(escalation(-14), Escalation::User);
    assert_eq!(escalation(0), Escalation::User);
    assert_eq!(escalation(6), Escalation::User);
    assert_eq!(escalation(7), Escalation::Admin);
    assert_eq!(escalation(13), Escalation::Admin);
    assert_eq!(escalation(14), Escalation::SecurityOfficer);
    assert_eq!(escalation(i64::MAX), Escalation::SecurityOfficer);
    assert_eq!(escalation(i64::MIN), Escalation::None);
}

#[test]
fn overdue_days_round_down() {
    let s = staff_status(&[], ENROLLED + DAY_MS - 1, ENROLLED);
    assert_eq!(s.overdue_days, 0);
    let s = staff_status(&[], ENROLLED - 1, ENROLLED);
    assert_eq!(s.overdue_days, -1);
}

#[test]
fn patients_are_offered_lessons_never_forced() {
    let first = offer_for_patient(Moment::Enrolled, &[]).unwrap();
    assert_eq!(first.id, "patient-how-we-contact");
    let next = offer_for_patient(Moment::Enrolled, &["patient-how-we-contact"]).unwrap();
    assert_eq!(next.id, "patient-account");
    assert!(
        offer_for_patient(
            Moment::Enrolled,
            &["patient-how-we-contact", "patient-account"]
        )
        .is_none()
    );
    assert_eq!(
        offer_for_patient(Moment::BeforeFirstConsult, &[])
            .unwrap()
            .id,
        "patient-check-link"
    );
    assert_eq!(
        offer_for_patient(Moment::AfterBreachNotice, &[])
            .unwrap()
            .id,
        "patient-after-breach"
    );
}
