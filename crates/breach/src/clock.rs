//! Calendar-day deadlines in the practice's time zone, and how urgent an open one is.
//!
//! Regulators count calendar days where the practice is: a breach noticed at 23:30 on
//! 4 April in Sydney starts its count on 4 April there, even though it is still 3 April
//! in UTC. A deadline is therefore the *end* (23:59:59.999 local) of the Nth local day
//! after the trigger's local date. Days are counted on the civil calendar, so a DST
//! change inside the window neither adds nor removes a day.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::duty::Duty;
use crate::error::BreachError;

/// One day in milliseconds; used only for escalation bands, never for deadlines.
pub const DAY_MS: i64 = 86_400_000;

/// Looks up an IANA time zone (e.g. `Australia/Sydney`) in the bundled database, so the
/// result does not depend on the host's zoneinfo files.
pub fn time_zone(name: &str) -> Result<TimeZone, BreachError> {
    TimeZone::get(name).map_err(|e| BreachError::TimeZone {
        name: name.to_string(),
        reason: e.to_string(),
    })
}

fn timestamp(ms: i64) -> Result<Timestamp, BreachError> {
    Timestamp::from_millisecond(ms).map_err(|e| BreachError::Date(e.to_string()))
}

/// The practice-local calendar date of an instant.
pub fn local_date(ms: i64, tz: &TimeZone) -> Result<Date, BreachError> {
    Ok(tz.to_datetime(timestamp(ms)?).date())
}

/// The last millisecond of `date` in `tz`: one millisecond before the next local day
/// starts. Going through the next midnight (rather than 23:59:59.999 directly) stays
/// right in zones whose DST change happens at midnight.
pub fn end_of_local_day_ms(date: Date, tz: &TimeZone) -> Result<i64, BreachError> {
    let next = date
        .tomorrow()
        .map_err(|e| BreachError::Date(e.to_string()))?;
    let start = tz
        .to_ambiguous_timestamp(next.at(0, 0, 0, 0))
        .compatible()
        .map_err(|e| BreachError::Date(e.to_string()))?;
    Ok(start.as_millisecond() - 1)
}

/// The end of the `days`-th calendar day after the local date of `trigger_ms`.
///
/// `deadline_ms(t, 30, tz)` is the NDB assessment deadline for awareness at `t`;
/// `deadline_ms(t, 60, tz)` the HIPAA one for discovery at `t`.
pub fn deadline_ms(trigger_ms: i64, days: i64, tz: &TimeZone) -> Result<i64, BreachError> {
    let start = local_date(trigger_ms, tz)?;
    let due = start
        .checked_add(jiff::Span::new().days(days))
        .map_err(|e| BreachError::Date(e.to_string()))?;
    end_of_local_day_ms(due, tz)
}

/// The HHS annual-log deadline for a breach discovered at `discovered_ms`: 60 days after
/// the end of the (local) calendar year of discovery, i.e. 1 March, or 29 February in a
/// leap year (§164.408(c)).
pub fn annual_log_due_ms(discovered_ms: i64, tz: &TimeZone) -> Result<i64, BreachError> {
    let year_end = local_date(discovered_ms, tz)?.last_of_year();
    let due = year_end
        .checked_add(jiff::Span::new().days(60))
        .map_err(|e| BreachError::Date(e.to_string()))?;
    end_of_local_day_ms(due, tz)
}

/// Reads what a person typed into a time field: RFC 3339 with an offset
/// (`2026-04-04T23:30:00+11:00`, `...Z`), or a practice-local `YYYY-MM-DDTHH:MM`
/// (optionally with seconds) as sent by an HTML `datetime-local` input.
///
/// A local time that falls in a DST gap or is repeated by a DST fold is rejected rather
/// than guessed, because the record may have to prove timeliness: the message asks for
/// an explicit offset instead.
pub fn parse_timestamp_ms(input: &str, tz: &TimeZone) -> Result<i64, BreachError> {
    let text = input.trim();
    let err = |reason: String| BreachError::Timestamp {
        input: input.to_string(),
        reason,
    };
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts.as_millisecond());
    }
    // Only a full date and time: a bare date would silently mean midnight.
    if text.len() < 16 || !text.contains('T') && !text.contains(' ') {
        return Err(err(
            "expected 2026-04-04T23:30 (practice time) or 2026-04-04T23:30:00+11:00".into(),
        ));
    }
    let dt: DateTime = text
        .parse()
        .map_err(|e: jiff::Error| err(format!("not a date and time ({e})")))?;
    let ambiguous = tz.to_ambiguous_timestamp(dt);
    if ambiguous.is_ambiguous() {
        return Err(err(
            "this local time is skipped or repeated by a daylight-saving change; add the UTC offset, e.g. +10:00"
                .into(),
        ));
    }
    ambiguous
        .unambiguous()
        .map(Timestamp::as_millisecond)
        .map_err(|e| err(e.to_string()))
}

/// `4 April 2026` in the practice's zone, for notices; a visible placeholder if the
/// instant cannot be shown.
pub fn local_date_text(ms: i64, tz: &TimeZone) -> String {
    match timestamp(ms) {
        Ok(ts) => tz.to_datetime(ts).strftime("%-d %B %Y").to_string(),
        Err(_) => "[date]".to_string(),
    }
}

/// `4 April 2026, 23:30 AEDT` in the practice's zone, for deadlines on screen.
pub fn local_datetime_text(ms: i64, tz: &TimeZone) -> String {
    match timestamp(ms) {
        Ok(ts) => ts
            .to_zoned_datetime(tz.clone())
            .strftime("%-d %B %Y, %H:%M %Z")
            .to_string(),
        Err(_) => "[date and time]".to_string(),
    }
}

/// An instant as `YYYY-MM-DDTHH:MM` in `tz`: the value of an HTML `datetime-local`
/// input, which [`parse_timestamp_ms`] reads back.
pub fn local_datetime_input(ms: i64, tz: &TimeZone) -> String {
    match timestamp(ms) {
        Ok(ts) => ts
            .to_zoned_datetime(tz.clone())
            .strftime("%Y-%m-%dT%H:%M")
            .to_string(),
        Err(_) => String::new(),
    }
}

/// RFC 3339 UTC text of an instant, for error messages.
pub(crate) fn utc_text(ms: i64) -> String {
    match timestamp(ms) {
        Ok(ts) => ts.to_string(),
        Err(_) => format!("{ms} ms"),
    }
}

/// One duty with its clock: when it started, when it is due, and whether it is done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DutyClock {
    /// What must be done.
    pub duty: Duty,
    /// The trigger instant (awareness, reasonable grounds, discovery).
    pub starts_ms: i64,
    /// End of the last local day allowed.
    pub due_ms: i64,
    /// `false` for practice targets standing in for "as soon as practicable", so the
    /// page does not present them as the law's own deadline.
    pub statutory: bool,
    /// When it was done: the earliest matching notification, or the assessment decision.
    pub done_ms: Option<i64>,
    /// `true` when a law-enforcement delay (§164.412) moved `due_ms` later.
    #[serde(default)]
    pub delayed_by_law_enforcement: bool,
}

/// Where a duty stands at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ClockStatus {
    /// Done; `late` if after `due_ms` (kept, because lateness must be explained).
    Done {
        /// Done after the deadline.
        late: bool,
    },
    /// Not done yet.
    Open {
        /// How close the deadline is.
        escalation: Escalation,
    },
}

/// How loudly an open duty should be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Escalation {
    /// More than 7 days left.
    None,
    /// 7 days or less left.
    Soon,
    /// 2 days or less left.
    Urgent,
    /// Past the deadline.
    Overdue,
}

impl DutyClock {
    /// Milliseconds left until the deadline (negative once overdue).
    pub fn remaining_ms(&self, now_ms: i64) -> i64 {
        self.due_ms.saturating_sub(now_ms)
    }

    /// The status at `now_ms`. The deadline millisecond itself still counts as in time.
    pub fn status(&self, now_ms: i64) -> ClockStatus {
        if let Some(done) = self.done_ms {
            return ClockStatus::Done {
                late: done > self.due_ms,
            };
        }
        let left = self.remaining_ms(now_ms);
        let escalation = if left < 0 {
            Escalation::Overdue
        } else if left <= 2 * DAY_MS {
            Escalation::Urgent
        } else if left <= 7 * DAY_MS {
            Escalation::Soon
        } else {
            Escalation::None
        };
        ClockStatus::Open { escalation }
    }
}
