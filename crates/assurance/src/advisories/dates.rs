//! `YYYY-MM-DD` dates as day numbers, without a date crate.
//!
//! The advisory checks only need "how many days between two dates" (database freshness,
//! how long an advisory has been open), which Howard Hinnant's days-from-civil
//! algorithm answers exactly for the proleptic Gregorian calendar.

/// Days from 1970-01-01 to `date` (`YYYY-MM-DD`, years 0000–9999); `None` if the text
/// is not such a date (wrong shape, month 13, 30 February, ...).
pub fn days_since_epoch(date: &str) -> Option<i64> {
    let bytes = date.as_bytes();
    if bytes.len() != 10 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = date.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// `to - from` in days (negative when `to` is earlier); `None` if either is not a
/// `YYYY-MM-DD` date.
pub fn days_between(from: &str, to: &str) -> Option<i64> {
    Some(days_since_epoch(to)? - days_since_epoch(from)?)
}

/// The `YYYY-MM-DD` date `days` after 1970-01-01, for turning the server clock
/// (`unix_seconds.div_euclid(86_400)`) into a date to compare with advisory dates;
/// `None` outside years 0000–9999.
pub fn date_from_days(days: i64) -> Option<String> {
    let z = days.checked_add(719_468)?;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (0..=9999)
        .contains(&year)
        .then(|| format!("{year:04}-{month:02}-{day:02}"))
}

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = (month + 9) % 12; // March = 0, so the leap day ends the year
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}
