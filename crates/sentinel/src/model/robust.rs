//! Robust streaming baselines: median/MAD over a ring of recent observations, an EWMA
//! for long memory, and hour-of-week seasonal slots.
//!
//! Median and MAD shrug off the odd outlier (one busy day does not become "normal" at
//! once); the scale has a floor so that an identity whose history is all the same
//! value does not turn a small change into an enormous z-score.

/// Median and MAD over the last `N` observations.
#[derive(Debug, Clone, Copy)]
pub struct RobustBaseline<const N: usize> {
    ring: [f32; N],
    len: u16,
    next: u16,
}

impl<const N: usize> RobustBaseline<N> {
    /// No observations yet.
    pub fn new() -> Self {
        Self {
            ring: [0.0; N],
            len: 0,
            next: 0,
        }
    }

    /// Adds an observation, forgetting the oldest beyond `N`.
    pub fn push(&mut self, x: f64) {
        if N == 0 {
            return;
        }
        if let Some(slot) = self.ring.get_mut(usize::from(self.next)) {
            *slot = x as f32;
        }
        self.next = ((usize::from(self.next) + 1) % N) as u16;
        self.len = (usize::from(self.len) + 1).min(N) as u16;
    }

    /// Observations held.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether nothing was observed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn values(&self) -> Vec<f64> {
        self.ring
            .iter()
            .take(self.len())
            .map(|v| f64::from(*v))
            .collect()
    }

    /// Median and MAD, when there is any history.
    pub fn median_mad(&self) -> Option<(f64, f64)> {
        let mut v = self.values();
        let median = median_of(&mut v)?;
        let mut dev: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
        let mad = median_of(&mut dev)?;
        Some((median, mad))
    }

    /// Robust z-score of `x`: (x − median) / max(1.4826 · MAD, floor), where the floor is
    /// `min_scale` or a quarter of the median, whichever is larger.
    pub fn z(&self, x: f64, min_scale: f64) -> Option<f64> {
        let (median, mad) = self.median_mad()?;
        let scale = (1.4826 * mad).max(min_scale).max(0.25 * median.abs());
        Some((x - median) / scale)
    }

    /// Heap bytes (none: the ring is inline).
    pub const fn heap_bytes(&self) -> usize {
        0
    }
}

impl<const N: usize> Default for RobustBaseline<N> {
    fn default() -> Self {
        Self::new()
    }
}

fn median_of(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v.get(mid).copied()
    } else {
        Some((v.get(mid - 1)? + v.get(mid)?) / 2.0)
    }
}

/// Exponentially weighted mean and mean absolute deviation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ewma {
    mean: f32,
    dev: f32,
    n: u16,
}

impl Ewma {
    /// Adds an observation with smoothing `alpha` (the first one sets the mean).
    pub fn push(&mut self, x: f64, alpha: f64) {
        let x = x as f32;
        let alpha = alpha as f32;
        if self.n == 0 {
            self.mean = x;
            self.dev = 0.0;
        } else {
            let d = (x - self.mean).abs();
            self.mean += alpha * (x - self.mean);
            self.dev += alpha * (d - self.dev);
        }
        self.n = self.n.saturating_add(1);
    }

    /// The mean.
    pub fn mean(&self) -> f64 {
        f64::from(self.mean)
    }

    /// The mean absolute deviation.
    pub fn dev(&self) -> f64 {
        f64::from(self.dev)
    }

    /// Observations so far (saturating).
    pub fn count(&self) -> u16 {
        self.n
    }

    /// z-score of `x` with a scale floor of `min_scale`.
    pub fn z(&self, x: f64, min_scale: f64) -> Option<f64> {
        if self.n == 0 {
            return None;
        }
        let scale = (1.25 * self.dev())
            .max(min_scale)
            .max(0.25 * self.mean().abs());
        Some((x - self.mean()) / scale)
    }
}

/// Hours in a week: the seasonal slots.
pub const HOURS_PER_WEEK: usize = 168;

/// One EWMA per hour-of-week slot.
#[derive(Debug, Clone)]
pub struct Seasonal {
    slots: Box<[Ewma; HOURS_PER_WEEK]>,
}

impl Seasonal {
    /// No history.
    pub fn new() -> Self {
        Self {
            slots: Box::new([Ewma::default(); HOURS_PER_WEEK]),
        }
    }

    /// The hour-of-week slot of `at_ms` (UTC; 1970-01-01 was a Thursday, so slot 0 is
    /// Thursday 00:00 — the origin does not matter, only that it repeats weekly).
    pub fn slot_of(at_ms: i64) -> usize {
        at_ms
            .div_euclid(3_600_000)
            .rem_euclid(HOURS_PER_WEEK as i64) as usize
    }

    /// Records the value of the hour starting at `hour_ms`.
    pub fn push(&mut self, hour_ms: i64, x: f64) {
        if let Some(slot) = self.slots.get_mut(Self::slot_of(hour_ms)) {
            slot.push(x, 0.3);
        }
    }

    /// The slot's baseline for the hour of `at_ms`, if it has `min_observations`.
    pub fn slot(&self, at_ms: i64, min_observations: u16) -> Option<&Ewma> {
        self.slots
            .get(Self::slot_of(at_ms))
            .filter(|s| s.count() >= min_observations)
    }

    /// Heap bytes.
    pub const fn heap_bytes(&self) -> usize {
        std::mem::size_of::<[Ewma; HOURS_PER_WEEK]>()
    }
}

impl Default for Seasonal {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robust_z_ignores_one_outlier_in_history() {
        let mut b = RobustBaseline::<16>::new();
        for x in [20.0, 22.0, 18.0, 21.0, 19.0, 500.0, 20.0] {
            b.push(x);
        }
        let (median, mad) = b.median_mad().unwrap();
        assert_eq!(median, 20.0);
        assert_eq!(mad, 1.0);
        assert!(b.z(200.0, 1.0).unwrap() > 20.0);
        assert!(b.z(23.0, 1.0).unwrap() < 1.0);
    }

    #[test]
    fn ring_forgets_beyond_capacity() {
        let mut b = RobustBaseline::<4>::new();
        for x in [1.0, 1.0, 1.0, 1.0, 9.0, 9.0, 9.0] {
            b.push(x);
        }
        assert_eq!(b.len(), 4);
        assert_eq!(b.median_mad().unwrap().0, 9.0);
    }

    #[test]
    fn seasonal_slots_repeat_weekly() {
        let week = 7 * 24 * 3_600_000;
        assert_eq!(
            Seasonal::slot_of(3_600_000),
            Seasonal::slot_of(3_600_000 + week)
        );
        let mut s = Seasonal::new();
        for w in 0..3 {
            s.push(w * week, 10.0);
        }
        assert_eq!(s.slot(0, 3).unwrap().mean(), 10.0);
        assert!(s.slot(3_600_000, 1).is_none());
    }
}
