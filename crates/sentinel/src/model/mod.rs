//! The streaming anomaly model: unsupervised, per deployment, explainable.
//!
//! Two parts, both scored on an identity's current hour and day:
//! - **its own baselines**: robust z-scores of reads, distinct subjects and bytes
//!   against the identity's history (median/MAD of active hours and days, EWMA per
//!   hour-of-week slot). Only the part of a z-score above [`Z_FREE`] counts.
//! - **the population** ([`hbos`]): how rare the identity-hour's values are among all
//!   identity-hours of the deployment, above the most common bin. Volume (reads,
//!   subjects, bytes) counts once, and only when the identity has no history of its own
//!   or its own baselines also find the hour unusual.
//!
//! The score is the sum of per-feature contributions, and every score lists them, so a
//! security officer sees *why*. A model finding only raises risk (to step-up at most;
//! see [`crate::risk`]).

pub mod hbos;
pub mod robust;

use serde::Serialize;

use crate::detect::transfer::{ClosedHour, MIN_DAYS, MIN_HOURS, Transfer};
use hbos::Hbos;
use robust::Seasonal;

/// z-scores up to this are free (normal variation).
pub const Z_FREE: f64 = 2.0;

/// Population features, in order.
pub const POPULATION_FEATURES: [&str; 6] = [
    "reads_hour",
    "subjects_hour",
    "bytes_hour",
    "failures_hour",
    "sources_hour",
    "off_hours_reads",
];

/// One feature's part in a score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contribution {
    /// Feature name.
    pub feature: String,
    /// Its value now.
    pub value: f64,
    /// What was expected, when the part is a z-score.
    pub expected: Option<f64>,
    /// Its part of the score.
    pub contribution: f64,
}

/// A model score with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelScore {
    /// Sum of contributions.
    pub score: f64,
    /// Contributions, largest first (zero ones left out).
    pub contributions: Vec<Contribution>,
}

/// The deployment's model.
#[derive(Debug, Clone, Default)]
pub struct AnomalyModel {
    population: Hbos<6>,
    activity: Seasonal,
}

impl AnomalyModel {
    /// Nothing learned.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the deployment is usually quiet at the hour of `at_ms` (its
    /// hour-of-week slot has under a tenth of the busiest slot's reads).
    fn off_hours(&self, at_ms: i64) -> bool {
        let Some(slot) = self.activity.slot(at_ms, 1) else {
            return false;
        };
        let busiest = (0..robust::HOURS_PER_WEEK as i64)
            .filter_map(|h| self.activity.slot(h * 3_600_000, 1))
            .map(|s| s.mean())
            .fold(0.0, f64::max);
        busiest > 0.0 && slot.mean() < 0.1 * busiest
    }

    fn population_vector(&self, hour: &ClosedHour) -> [f64; 6] {
        let off = if self.off_hours(hour.hour_ms) {
            hour.reads
        } else {
            0.0
        };
        [
            hour.reads,
            hour.subjects,
            hour.bytes,
            hour.failures,
            hour.sources,
            off,
        ]
    }

    /// Learns an identity's completed hour.
    pub fn learn(&mut self, hour: &ClosedHour) {
        let v = self.population_vector(hour);
        self.population.learn(&v);
    }

    /// Learns the deployment's total reads of a completed hour (for "off hours").
    pub fn learn_activity(&mut self, hour_ms: i64, reads: f64) {
        self.activity.push(hour_ms, reads);
    }

    /// Scores an identity's current hour and day.
    pub fn score(&self, t: &Transfer, now_ms: i64, seasonal_min: u16) -> ModelScore {
        let mut parts: Vec<Contribution> = Vec::new();
        let mut z_part = |feature: &str, value: f64, z: Option<(f64, f64)>| {
            if let Some((z, expected)) = z
                && z > Z_FREE
            {
                parts.push(Contribution {
                    feature: feature.to_owned(),
                    value,
                    expected: Some(expected),
                    contribution: z - Z_FREE,
                });
            }
        };
        let reads_hour = f64::from(t.hour_reads);
        let subjects_hour = t.hour_subjects();
        let median = |b: &robust::RobustBaseline<48>| b.median_mad().map_or(0.0, |(m, _)| m);

        let hour_z = match t.seasonal_reads.slot(now_ms, seasonal_min) {
            Some(slot) => slot.z(reads_hour, 3.0).map(|z| (z, slot.mean())),
            None if t.hourly_reads.len() >= MIN_HOURS => t
                .hourly_reads
                .z(reads_hour, 3.0)
                .map(|z| (z, median(&t.hourly_reads))),
            None => None,
        };
        z_part("reads_hour", reads_hour, hour_z);
        if t.hourly_subjects.len() >= MIN_HOURS {
            let z = t.hourly_subjects.z(subjects_hour, 3.0);
            z_part(
                "subjects_hour",
                subjects_hour,
                z.map(|z| (z, median(&t.hourly_subjects))),
            );
            let bytes = t.hour_bytes as f64;
            let typical = median(&t.hourly_bytes);
            let z = t.hourly_bytes.z(bytes, typical.max(65_536.0));
            z_part("bytes_hour", bytes, z.map(|z| (z, typical)));
        }
        if t.daily_reads.len() >= MIN_DAYS {
            let day_reads = f64::from(t.day_reads);
            let day_median = t.daily_reads.median_mad().map_or(0.0, |(m, _)| m);
            let z = t.daily_reads.z(day_reads, 3.0);
            z_part("reads_day", day_reads, z.map(|z| (z, day_median)));
            let day_subjects = t.day_subjects();
            let subj_median = t.daily_subjects.median_mad().map_or(0.0, |(m, _)| m);
            let z = t.daily_subjects.z(day_subjects, 3.0);
            z_part("subjects_day", day_subjects, z.map(|z| (z, subj_median)));
        }

        let current = ClosedHour {
            hour_ms: now_ms,
            reads: reads_hour,
            subjects: subjects_hour,
            bytes: t.hour_bytes as f64,
            failures: f64::from(t.hour_failures),
            sources: t.hour_sources(),
        };
        let v = self.population_vector(&current);
        if let Some(excess) = self.population.excess(&v) {
            // Reads, subjects and bytes move together: count the rarest of the three
            // once, and only when the identity's own history does not explain it (a
            // front desk is rare in the population, and normal for itself).
            let own_history = t.hourly_reads.len() >= MIN_HOURS;
            let own_unusual = !parts.is_empty();
            let volume = (0..3)
                .max_by(|a, b| excess[*a].total_cmp(&excess[*b]))
                .unwrap_or(0);
            for (i, ((name, value), e)) in POPULATION_FEATURES
                .iter()
                .zip(v.iter())
                .zip(excess)
                .enumerate()
            {
                let counted = match i {
                    0..=2 => i == volume && (!own_history || own_unusual),
                    _ => true,
                };
                if counted && e > 0.0 {
                    parts.push(Contribution {
                        feature: format!("population_{name}"),
                        value: *value,
                        expected: None,
                        contribution: e,
                    });
                }
            }
        }
        parts.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
        ModelScore {
            score: parts.iter().map(|c| c.contribution).sum(),
            contributions: parts,
        }
    }

    /// Bytes held.
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.activity.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 24 * HOUR;

    fn train(t: &mut Transfer, model: &mut AnomalyModel, days: i64, per_hour: u32) {
        let mut subject = 0u64;
        for day in 0..days {
            for hour in 9..17 {
                for k in 0..per_hour {
                    let at = day * DAY + hour * HOUR + i64::from(k) * 60_000;
                    if let Some(closed) = t.roll(at) {
                        model.learn(&closed);
                    }
                    subject += 1;
                    t.count(
                        at,
                        Some(subject.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
                        1,
                        3_000,
                    );
                }
            }
        }
    }

    #[test]
    fn a_threefold_day_scores_and_names_its_features() {
        let mut t = Transfer::new(0);
        let mut model = AnomalyModel::new();
        train(&mut t, &mut model, 21, 3);
        let start = 21 * DAY + 9 * HOUR;
        let mut score = ModelScore {
            score: 0.0,
            contributions: vec![],
        };
        // 72 reads spread over the day instead of 24.
        for k in 0..72u64 {
            let at = start + k as i64 * 400_000;
            t.roll(at);
            t.count(at, Some(k ^ 0xABCDEF), 1, 3_000);
            score = model.score(&t, at, 3);
        }
        assert!(score.score > 8.0, "{score:?}");
        assert!(
            score
                .contributions
                .iter()
                .any(|c| c.feature == "reads_day" && c.expected == Some(24.0))
        );
    }

    #[test]
    fn a_normal_day_scores_low() {
        let mut t = Transfer::new(0);
        let mut model = AnomalyModel::new();
        train(&mut t, &mut model, 21, 3);
        let start = 21 * DAY + 9 * HOUR;
        let mut worst = model.score(&t, start, 3);
        for k in 0..26u64 {
            let at = start + k as i64 * 1_100_000;
            t.roll(at);
            t.count(at, Some(k ^ 0xABCDEF), 1, 3_000);
            let s = model.score(&t, at, 3);
            if s.score > worst.score {
                worst = s;
            }
        }
        assert!(worst.score < 4.0, "{worst:?}");
    }
}
