//! Unusual data transfers: per account and per token, reads, distinct subjects and
//! bytes per hour and per day, against a learned baseline with hour-of-week
//! seasonality; and sequential-id walking.
//!
//! The rule is deliberately coarse (a multiple of the expected volume, above an
//! absolute floor), so that a busy day does not alert; the [model](crate::model) looks
//! at smaller, sustained departures and may only ask for step-up.

use crate::config::Config;
use crate::detect::num;
use crate::model::robust::{RobustBaseline, Seasonal};
use crate::window::{DistinctBits, SlidingDistinct};

/// One minute in milliseconds.
const MINUTE_MS: i64 = 60_000;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// Active hours kept for the overall hourly baseline.
const HOURLY_HISTORY: usize = 48;
/// Active days kept for the daily baseline.
const DAILY_HISTORY: usize = 28;

/// Hours of (active) history before the hourly baseline is trusted.
pub const MIN_HOURS: usize = 8;
/// Days of (active) history before the daily baseline is trusted.
pub const MIN_DAYS: usize = 4;

/// One identity's transfer history.
#[derive(Debug, Clone)]
pub struct Transfer {
    hour_start_ms: i64,
    /// Reads this hour.
    pub hour_reads: u32,
    /// Bytes this hour.
    pub hour_bytes: u64,
    hour_subjects: DistinctBits<32>,
    /// Sign-in failures on the identity this hour.
    pub hour_failures: u32,
    hour_sources: DistinctBits<1>,
    day_start_ms: i64,
    /// Reads today (UTC day).
    pub day_reads: u32,
    /// Bytes today.
    pub day_bytes: u64,
    day_subjects: DistinctBits<32>,
    /// Reads per hour-of-week slot, zeros included.
    pub seasonal_reads: Seasonal,
    /// Active hours: reads.
    pub hourly_reads: RobustBaseline<HOURLY_HISTORY>,
    /// Active hours: distinct subjects.
    pub hourly_subjects: RobustBaseline<HOURLY_HISTORY>,
    /// Active hours: bytes.
    pub hourly_bytes: RobustBaseline<HOURLY_HISTORY>,
    /// Active days: reads.
    pub daily_reads: RobustBaseline<DAILY_HISTORY>,
    /// Active days: distinct subjects.
    pub daily_subjects: RobustBaseline<DAILY_HISTORY>,
    recent_hour: [i64; 24],
    recent_reads: [u32; 24],
    recent_bytes: [u64; 24],
    walk_last: Option<u64>,
    walk_run: u32,
    /// Distinct subjects read over the last minute or two.
    minute_subjects: SlidingDistinct<4>,
    /// Their estimate at the last read.
    pub minute_subjects_seen: f64,
    /// When the model last scored this identity.
    pub model_scored_ms: i64,
}

/// A completed hour, for the model to learn from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClosedHour {
    /// Start of the hour.
    pub hour_ms: i64,
    /// Reads.
    pub reads: f64,
    /// Distinct subjects.
    pub subjects: f64,
    /// Bytes.
    pub bytes: f64,
    /// Sign-in failures.
    pub failures: f64,
    /// Distinct sources.
    pub sources: f64,
}

/// How far above its expected volume an identity is.
#[derive(Debug, Clone, PartialEq)]
pub struct Excess {
    /// Which measure (`reads_hour`, `subjects_day`…).
    pub measure: &'static str,
    /// Observed value.
    pub observed: f64,
    /// Expected value (the baseline), if there was one.
    pub expected: Option<f64>,
    /// Threshold that was passed.
    pub threshold: f64,
}

impl Excess {
    /// Observed over threshold (≥ 1 when it fired).
    pub fn ratio(&self) -> f64 {
        self.observed / self.threshold.max(1.0)
    }

    /// Evidence pairs.
    pub fn evidence(&self) -> Vec<(String, String)> {
        let mut e = vec![
            ("measure".to_owned(), self.measure.to_owned()),
            ("observed".to_owned(), num(self.observed)),
            ("threshold".to_owned(), num(self.threshold)),
        ];
        if let Some(x) = self.expected {
            e.push(("expected".to_owned(), num(x)));
        }
        e
    }
}

impl Transfer {
    /// No history, starting at `now_ms`.
    pub fn new(now_ms: i64) -> Self {
        Self {
            hour_start_ms: now_ms - now_ms.rem_euclid(HOUR_MS),
            hour_reads: 0,
            hour_bytes: 0,
            hour_subjects: DistinctBits::new(),
            hour_failures: 0,
            hour_sources: DistinctBits::new(),
            day_start_ms: now_ms - now_ms.rem_euclid(DAY_MS),
            day_reads: 0,
            day_bytes: 0,
            day_subjects: DistinctBits::new(),
            seasonal_reads: Seasonal::new(),
            hourly_reads: RobustBaseline::new(),
            hourly_subjects: RobustBaseline::new(),
            hourly_bytes: RobustBaseline::new(),
            daily_reads: RobustBaseline::new(),
            minute_subjects: SlidingDistinct::new(),
            minute_subjects_seen: 0.0,
            daily_subjects: RobustBaseline::new(),
            recent_hour: [i64::MIN; 24],
            recent_reads: [0; 24],
            recent_bytes: [0; 24],
            walk_last: None,
            walk_run: 0,
            model_scored_ms: i64::MIN,
        }
    }

    /// Heap bytes (the seasonal slots).
    pub fn heap_bytes(&self) -> usize {
        self.seasonal_reads.heap_bytes()
    }

    /// Distinct subjects this hour.
    pub fn hour_subjects(&self) -> f64 {
        self.hour_subjects.estimate()
    }

    /// Distinct subjects today.
    pub fn day_subjects(&self) -> f64 {
        self.day_subjects.estimate()
    }

    /// Distinct sources this hour.
    pub fn hour_sources(&self) -> f64 {
        self.hour_sources.estimate()
    }

    /// Closes the hours (and day) that ended before `now_ms`; returns the hour closed
    /// with activity, if any, for the model to learn from.
    pub fn roll(&mut self, now_ms: i64) -> Option<ClosedHour> {
        let mut closed = None;
        if now_ms >= self.hour_start_ms + HOUR_MS {
            let reads = f64::from(self.hour_reads);
            if self.hour_reads > 0 || self.hour_failures > 0 {
                closed = Some(ClosedHour {
                    hour_ms: self.hour_start_ms,
                    reads,
                    subjects: self.hour_subjects(),
                    bytes: self.hour_bytes as f64,
                    failures: f64::from(self.hour_failures),
                    sources: self.hour_sources(),
                });
            }
            if self.hour_reads > 0 {
                self.hourly_reads.push(reads);
                self.hourly_subjects.push(self.hour_subjects());
                self.hourly_bytes.push(self.hour_bytes as f64);
            }
            // The closed hour, then zeros for the silent hours in between (a week at
            // most: older slots would be overwritten anyway).
            self.seasonal_reads.push(self.hour_start_ms, reads);
            let next = now_ms - now_ms.rem_euclid(HOUR_MS);
            let silent = ((next - self.hour_start_ms) / HOUR_MS - 1).clamp(0, 168);
            for h in 1..=silent {
                self.seasonal_reads
                    .push(next - (silent + 1 - h) * HOUR_MS, 0.0);
            }
            self.hour_start_ms = next;
            self.hour_reads = 0;
            self.hour_bytes = 0;
            self.hour_subjects.clear();
            self.hour_failures = 0;
            self.hour_sources.clear();
        }
        if now_ms >= self.day_start_ms + DAY_MS {
            if self.day_reads > 0 {
                self.daily_reads.push(f64::from(self.day_reads));
                self.daily_subjects.push(self.day_subjects());
            }
            self.day_start_ms = now_ms - now_ms.rem_euclid(DAY_MS);
            self.day_reads = 0;
            self.day_bytes = 0;
            self.day_subjects.clear();
        }
        closed
    }

    /// Counts `reads` reads (of one subject, when given by hash) and `bytes`.
    pub fn count(&mut self, now_ms: i64, subject_hash: Option<u64>, reads: u32, bytes: u64) {
        self.hour_reads = self.hour_reads.saturating_add(reads);
        self.hour_bytes = self.hour_bytes.saturating_add(bytes);
        self.day_reads = self.day_reads.saturating_add(reads);
        self.day_bytes = self.day_bytes.saturating_add(bytes);
        if let Some(h) = subject_hash {
            self.hour_subjects.insert(h);
            self.day_subjects.insert(h);
            self.minute_subjects.insert(now_ms, MINUTE_MS, h);
            self.minute_subjects_seen = self.minute_subjects.estimate(now_ms, MINUTE_MS);
        }
        let hour = now_ms.div_euclid(HOUR_MS);
        let i = hour.rem_euclid(24) as usize;
        if let (Some(hh), Some(r), Some(b)) = (
            self.recent_hour.get_mut(i),
            self.recent_reads.get_mut(i),
            self.recent_bytes.get_mut(i),
        ) {
            if *hh != hour {
                *hh = hour;
                *r = 0;
                *b = 0;
            }
            *r = r.saturating_add(reads);
            *b = b.saturating_add(bytes);
        }
    }

    /// Notes a sign-in failure or a source, for the model's features.
    pub fn note_auth(&mut self, failure: bool, source_hash: u64) {
        if failure {
            self.hour_failures = self.hour_failures.saturating_add(1);
        }
        self.hour_sources.insert(source_hash);
    }

    /// Reads and bytes over the 24 hours ending at `now_ms`.
    pub fn last_24h(&self, now_ms: i64) -> (u64, u64) {
        let hour = now_ms.div_euclid(HOUR_MS);
        let mut reads = 0u64;
        let mut bytes = 0u64;
        for ((h, r), b) in self
            .recent_hour
            .iter()
            .zip(self.recent_reads.iter())
            .zip(self.recent_bytes.iter())
        {
            if *h > hour - 24 && *h <= hour {
                reads += u64::from(*r);
                bytes = bytes.saturating_add(*b);
            }
        }
        (reads, bytes)
    }

    /// Notes a numeric subject id; returns the current run of increasing ids with small
    /// steps.
    pub fn walk(&mut self, subject: &str, max_step: u64) -> u32 {
        let Some(id) = trailing_number(subject) else {
            return self.walk_run;
        };
        match self.walk_last {
            Some(last) if id > last && id - last <= max_step => self.walk_run += 1,
            Some(last) if id == last => {}
            _ => self.walk_run = 0,
        }
        self.walk_last = Some(id);
        self.walk_run
    }

    /// Expected reads for the current hour: the hour-of-week slot when it has enough
    /// history, else the overall median of active hours.
    pub fn expected_hour_reads(&self, now_ms: i64, min_observations: u16) -> Option<f64> {
        if let Some(slot) = self.seasonal_reads.slot(now_ms, min_observations) {
            return Some(slot.mean());
        }
        if self.hourly_reads.len() >= MIN_HOURS {
            return self.hourly_reads.median_mad().map(|(m, _)| m);
        }
        None
    }

    /// The largest excess over the rule's thresholds, if any measure passed its own.
    pub fn excess(&self, cfg: &Config, now_ms: i64) -> Option<Excess> {
        let mut found: Vec<Excess> = Vec::new();
        let hour_reads = f64::from(self.hour_reads);
        let hour_subjects = self.hour_subjects();
        let threshold =
            |expected: f64, floor: f64| (cfg.transfer_factor * expected).max(expected + floor);

        // Faster than anyone reads: whatever the history, a machine is reading.
        found.push(Excess {
            measure: "subjects_minute",
            observed: self.minute_subjects_seen,
            expected: None,
            threshold: cfg.transfer_minute_subjects,
        });
        match self.expected_hour_reads(now_ms, cfg.seasonal_min_observations) {
            Some(expected) => {
                let t = threshold(expected, cfg.transfer_hour_floor);
                found.push(Excess {
                    measure: "reads_hour",
                    observed: hour_reads,
                    expected: Some(expected),
                    threshold: t,
                });
            }
            None => found.push(Excess {
                measure: "subjects_hour",
                observed: hour_subjects,
                expected: None,
                threshold: cfg.transfer_absolute_hour,
            }),
        }
        if self.hourly_subjects.len() >= MIN_HOURS
            && let Some((m, _)) = self.hourly_subjects.median_mad()
        {
            found.push(Excess {
                measure: "subjects_hour",
                observed: hour_subjects,
                expected: Some(m),
                threshold: threshold(m, cfg.transfer_hour_floor),
            });
        }
        if self.daily_reads.len() >= MIN_DAYS {
            if let Some((m, _)) = self.daily_reads.median_mad() {
                found.push(Excess {
                    measure: "reads_day",
                    observed: f64::from(self.day_reads),
                    expected: Some(m),
                    threshold: threshold(m, cfg.transfer_day_floor),
                });
            }
            if let Some((m, _)) = self.daily_subjects.median_mad() {
                found.push(Excess {
                    measure: "subjects_day",
                    observed: self.day_subjects(),
                    expected: Some(m),
                    threshold: threshold(m, cfg.transfer_day_floor),
                });
            }
        }
        found
            .into_iter()
            .filter(|e| e.observed >= e.threshold)
            .max_by(|a, b| a.ratio().total_cmp(&b.ratio()))
    }
}

/// The number at the end of an opaque id (`"1042"`, `"P-001042"`), if any.
pub fn trailing_number(id: &str) -> Option<u64> {
    let digits: String = id
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .take(18)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        Config::default()
    }

    /// A user who reads 3 records an hour, 8 hours a day, for two weeks.
    fn trained() -> (Transfer, i64) {
        let mut t = Transfer::new(0);
        let mut subject = 0u64;
        for day in 0..14 {
            for hour in 9..17 {
                for k in 0..3 {
                    let at = day * DAY_MS + hour * HOUR_MS + k * 600_000;
                    t.roll(at);
                    subject += 1;
                    t.count(
                        at,
                        Some(subject.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
                        1,
                        2_000,
                    );
                }
            }
        }
        (t, 14 * DAY_MS)
    }

    #[test]
    fn a_normal_day_does_not_exceed() {
        let (mut t, start) = trained();
        for k in 0..5 {
            let at = start + 10 * HOUR_MS + k * 60_000;
            t.roll(at);
            t.count(at, Some(1_000_000 + k as u64), 1, 2_000);
        }
        assert_eq!(t.excess(&cfg(), start + 10 * HOUR_MS + 300_000), None);
        assert!(t.expected_hour_reads(start + 10 * HOUR_MS, 3).unwrap() > 2.0);
    }

    #[test]
    fn hundreds_in_an_hour_exceed_the_learned_baseline() {
        let (mut t, start) = trained();
        let mut fired_at = None;
        for k in 0..300u64 {
            let at = start + 10 * HOUR_MS + k as i64 * 1_000;
            t.roll(at);
            t.count(
                at,
                Some(k.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 7),
                1,
                2_000,
            );
            if fired_at.is_none() && t.excess(&cfg(), at).is_some() {
                fired_at = Some(k + 1);
            }
        }
        // Expected ≈ 3 in this slot: the threshold is max(5 × 3, 3 + 40) = 43.
        let n = fired_at.unwrap();
        assert!((40..=50).contains(&n), "fired after {n} reads");
    }

    #[test]
    fn walking_ids_in_order_makes_a_run() {
        let mut t = Transfer::new(0);
        let mut run = 0;
        for id in 100..130 {
            run = t.walk(&format!("P-{id:06}"), 5);
        }
        assert_eq!(run, 29);
        assert_eq!(t.walk("P-000050", 5), 0);
        assert_eq!(t.walk("not-numeric", 5), 0);
        assert_eq!(trailing_number("abc"), None);
        assert_eq!(trailing_number("0042"), Some(42));
    }

    #[test]
    fn last_24h_sums_recent_hours_only() {
        let mut t = Transfer::new(0);
        t.count(0, None, 5, 100);
        t.count(HOUR_MS, None, 2, 10);
        assert_eq!(t.last_24h(HOUR_MS), (7, 110));
        assert_eq!(t.last_24h(24 * HOUR_MS), (2, 10));
    }
}
