//! Times in the practice's time zone: what clinicians type, and how times are shown.
//! Stored times are UTC milliseconds; the browser adds the viewer's own zone when it
//! differs (see `app.js`).

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};

/// The practice's zone, or UTC if its name is unknown to the bundled database.
pub fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

/// Unix milliseconds of `date` at `time` in `tz`, or None for a nonsensical input.
pub fn local_to_ms(tz: &TimeZone, date: &str, time: &str) -> Option<i64> {
    let date: Date = date.trim().parse().ok()?;
    let time: Time = time.trim().parse().ok()?;
    let zoned = date.to_datetime(time).to_zoned_datetime(tz.clone()).ok()?;
    Some(zoned.timestamp().as_millisecond())
}

fn zoned(ms: i64, tz: &TimeZone) -> Option<ZonedDateTime> {
    Some(
        Timestamp::from_millisecond(ms)
            .ok()?
            .to_zoned_datetime(tz.clone()),
    )
}

/// "Tuesday 1 December 2026, 9:30 am" in `tz`.
pub fn long(ms: i64, tz: &TimeZone) -> String {
    zoned(ms, tz).map_or_else(String::new, |z| {
        z.strftime("%A %-d %B %Y, %-I:%M %P").to_string()
    })
}

/// "9:30 am".
pub fn clock(ms: i64, tz: &TimeZone) -> String {
    zoned(ms, tz).map_or_else(String::new, |z| z.strftime("%-I:%M %P").to_string())
}

/// "Tue 1 Dec".
pub fn day(ms: i64, tz: &TimeZone) -> String {
    zoned(ms, tz).map_or_else(String::new, |z| z.strftime("%a %-d %b").to_string())
}

/// ISO 8601 (UTC) for `<time datetime>`.
pub fn iso(ms: i64) -> String {
    clock::rfc3339_ms(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn practice_local_times_become_utc_and_back() {
        let sydney = zone("Australia/Sydney");
        // 1 December 2026 is summer time in Sydney: UTC+11.
        let ms = local_to_ms(&sydney, "2026-12-01", "09:30").unwrap();
        assert_eq!(clock::rfc3339_ms(ms), "2026-11-30T22:30:00Z");
        assert_eq!(long(ms, &sydney), "Tuesday 1 December 2026, 9:30 am");
        assert_eq!(clock(ms, &zone("Australia/Perth")), "6:30 am");
        assert_eq!(day(ms, &sydney), "Tue 1 Dec");
        assert_eq!(local_to_ms(&sydney, "2026-13-01", "09:30"), None);
        assert_eq!(local_to_ms(&sydney, "2026-12-01", "25:00"), None);
        assert_eq!(zone("Mars/Olympus"), TimeZone::UTC);
    }
}
