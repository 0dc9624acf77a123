//! Who must take which lessons, by when, and whom to remind.
//!
//! Staff: every lesson of [`staff_set`] must be passed before first access to patient
//! data, and each pass lasts [`RENEWAL_DAYS`]. A pass of an *older* version of a lesson
//! still counts until its year is up: a typo fix should not send the whole practice back
//! to class, and the renewal brings everyone onto the new text within a year. A change
//! that must be learned at once should ship as a new lesson id instead.
//!
//! Patients: lessons are offered at helpful moments and never required.

use serde::{Deserialize, Serialize};

use crate::lessons::{Lesson, lesson, staff_set};

/// One day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;
/// How long a passed lesson counts.
pub const RENEWAL_DAYS: i64 = 365;
/// The user is reminded from this many days before a lesson falls due.
pub const REMIND_BEFORE_DAYS: i64 = 14;
/// The practice admin is told once training is this many days overdue.
pub const ADMIN_AFTER_DAYS: i64 = 7;
/// The security officer is told once training is this many days overdue.
pub const SECURITY_OFFICER_AFTER_DAYS: i64 = 14;

/// A recorded pass of one lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion<'a> {
    /// The lesson id.
    pub lesson_id: &'a str,
    /// The version that was passed.
    pub version: u32,
    /// When the quiz was passed (Unix ms).
    pub passed_ms: i64,
}

/// Where a staff member stands with their training.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Every staff lesson has a pass that is still within its year.
    pub complete: bool,
    /// Every staff lesson has been passed at least once, at any time. This is the gate
    /// for first access to patient data; a lapsed yearly renewal escalates reminders
    /// but does not lock a clinician out of patients mid-consult. (A lesson added to the
    /// staff set later makes this false for everyone until they take it.)
    pub cleared: bool,
    /// When the next lesson falls due: for a lesson never passed, `enrolled_ms`; for a
    /// passed one, the pass plus [`RENEWAL_DAYS`]. The earliest of these.
    pub due_ms: i64,
    /// Whole days since `due_ms` (rounded down); negative while it is still ahead, so
    /// `-3` means due within three days. Feed it to [`escalation`].
    pub overdue_days: i64,
    /// Lessons with no pass within its year, in staff-set order.
    pub missing: Vec<&'static str>,
    /// Lessons whose counted pass is of an older version: still valid, but worth
    /// offering again.
    pub outdated: Vec<&'static str>,
}

/// Who should hear about training that is due or overdue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Escalation {
    /// Nothing due soon.
    None,
    /// Remind the staff member (from [`REMIND_BEFORE_DAYS`] before the due date).
    User,
    /// Also tell the practice admin ([`ADMIN_AFTER_DAYS`] overdue).
    Admin,
    /// Also tell the security officer ([`SECURITY_OFFICER_AFTER_DAYS`] overdue).
    SecurityOfficer,
}

/// The training status of one staff member at `now_ms`.
///
/// `enrolled_ms` is when the person became subject to training: the later of their
/// account's creation and the day training was turned on for the practice (otherwise
/// everyone is years overdue on the day it is turned on). Completions of unknown
/// lessons, of versions newer than the current one, or dated after `now_ms` are ignored;
/// of several passes of a lesson the latest counts.
pub fn staff_status(completions: &[Completion<'_>], now_ms: i64, enrolled_ms: i64) -> Status {
    let mut complete = true;
    let mut cleared = true;
    let mut due_ms = i64::MAX;
    let mut missing = Vec::new();
    let mut outdated = Vec::new();
    for l in staff_set() {
        let best = completions
            .iter()
            .filter(|c| c.lesson_id == l.id && c.version <= l.version && c.passed_ms <= now_ms)
            .max_by_key(|c| (c.passed_ms, c.version));
        let lesson_due = match best {
            None => {
                cleared = false;
                enrolled_ms
            }
            Some(c) => {
                if c.version < l.version {
                    outdated.push(l.id);
                }
                c.passed_ms.saturating_add(RENEWAL_DAYS * DAY_MS)
            }
        };
        if lesson_due <= now_ms {
            complete = false;
            missing.push(l.id);
        }
        due_ms = due_ms.min(lesson_due);
    }
    // An empty staff set is never the case, but keep the arithmetic total.
    if due_ms == i64::MAX {
        due_ms = now_ms;
    }
    let overdue_days = (i128::from(now_ms) - i128::from(due_ms)).div_euclid(i128::from(DAY_MS));
    Status {
        complete,
        cleared,
        due_ms,
        overdue_days: i64::try_from(overdue_days).unwrap_or(i64::MAX),
        missing,
        outdated,
    }
}

/// Who to tell, given [`Status::overdue_days`]: the user from [`REMIND_BEFORE_DAYS`]
/// before the due date, the admin from [`ADMIN_AFTER_DAYS`] after it, the security
/// officer from [`SECURITY_OFFICER_AFTER_DAYS`]. How often to send is the server's call.
pub fn escalation(overdue_days: i64) -> Escalation {
    if overdue_days >= SECURITY_OFFICER_AFTER_DAYS {
        Escalation::SecurityOfficer
    } else if overdue_days >= ADMIN_AFTER_DAYS {
        Escalation::Admin
    } else if overdue_days >= -REMIND_BEFORE_DAYS {
        Escalation::User
    } else {
        Escalation::None
    }
}

/// A moment when a patient might welcome a lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Moment {
    /// Just after creating their account.
    Enrolled,
    /// Before their first video consult.
    BeforeFirstConsult,
    /// With a breach notice from the practice.
    AfterBreachNotice,
}

/// The first lesson suited to `moment` that the patient has not done (`done` holds
/// lesson ids), or `None`. An offer only: the patient can always skip it, and nothing
/// waits on it.
pub fn offer_for_patient(moment: Moment, done: &[&str]) -> Option<&'static Lesson> {
    let ids: &[&str] = match moment {
        Moment::Enrolled => &["patient-how-we-contact", "patient-account"],
        Moment::BeforeFirstConsult => &["patient-check-link", "patient-how-we-contact"],
        Moment::AfterBreachNotice => &["patient-after-breach"],
    };
    ids.iter()
        .filter(|id| !done.contains(id))
        .find_map(|id| lesson(id).ok())
}
