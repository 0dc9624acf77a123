//! Fixed-size counters over time windows: the building blocks of per-identity state.
//!
//! Every counter here has a fixed size whatever the traffic, so the memory of an entry
//! is known when the entry is created.

/// An approximate sliding-window count: two tumbling buckets, the previous one weighted
/// by how much of it still overlaps the window (as Cloudflare's rate limiter does).
#[derive(Debug, Clone, Copy)]
pub struct SlidingCount {
    start_ms: i64,
    current: u32,
    previous: u32,
}

impl SlidingCount {
    /// An empty counter.
    pub fn new() -> Self {
        Self {
            start_ms: i64::MIN / 2,
            current: 0,
            previous: 0,
        }
    }

    fn roll(&mut self, now_ms: i64, window_ms: i64) {
        let window_ms = window_ms.max(1);
        let elapsed = now_ms.saturating_sub(self.start_ms);
        if elapsed >= 2 * window_ms {
            self.previous = 0;
            self.current = 0;
            self.start_ms = now_ms - now_ms.rem_euclid(window_ms);
        } else if elapsed >= window_ms {
            self.previous = self.current;
            self.current = 0;
            self.start_ms += window_ms;
        }
    }

    /// Adds `n` at `now_ms`.
    pub fn add(&mut self, now_ms: i64, window_ms: i64, n: u32) {
        self.roll(now_ms, window_ms);
        self.current = self.current.saturating_add(n);
    }

    /// Estimated count over the `window_ms` ending at `now_ms`.
    pub fn estimate(&mut self, now_ms: i64, window_ms: i64) -> f64 {
        self.roll(now_ms, window_ms);
        let into = (now_ms - self.start_ms).clamp(0, window_ms.max(1)) as f64;
        let overlap = 1.0 - into / window_ms.max(1) as f64;
        f64::from(self.current) + f64::from(self.previous) * overlap
    }
}

impl Default for SlidingCount {
    fn default() -> Self {
        Self::new()
    }
}

/// Distinct-count estimate in a fixed bitmap of `64 × WORDS` bits (linear counting):
/// exact enough up to a few times the bit count, and saturating beyond.
#[derive(Debug, Clone, Copy)]
pub struct DistinctBits<const WORDS: usize> {
    bits: [u64; WORDS],
}

impl<const WORDS: usize> DistinctBits<WORDS> {
    /// An empty set.
    pub fn new() -> Self {
        Self { bits: [0; WORDS] }
    }

    /// Adds an item by its hash.
    pub fn insert(&mut self, hash: u64) {
        let m = (WORDS * 64) as u64;
        let bit = (hash.rotate_left(17) ^ hash) % m.max(1);
        if let Some(word) = self.bits.get_mut((bit / 64) as usize) {
            *word |= 1 << (bit % 64);
        }
    }

    /// Whether an item with this hash may have been added.
    pub fn may_contain(&self, hash: u64) -> bool {
        let m = (WORDS * 64) as u64;
        let bit = (hash.rotate_left(17) ^ hash) % m.max(1);
        self.bits
            .get((bit / 64) as usize)
            .is_some_and(|w| w & (1 << (bit % 64)) != 0)
    }

    /// Estimated number of distinct items added.
    pub fn estimate(&self) -> f64 {
        Self::estimate_bits(&self.bits)
    }

    fn estimate_bits(bits: &[u64; WORDS]) -> f64 {
        let m = (WORDS * 64) as f64;
        let zeros: u32 = bits.iter().map(|w| w.count_zeros()).sum();
        if zeros == 0 {
            return m * m.ln();
        }
        -m * (f64::from(zeros) / m).ln()
    }

    /// Estimated distinct items in the union of two sets.
    pub fn union_estimate(&self, other: &Self) -> f64 {
        let mut bits = self.bits;
        for (a, b) in bits.iter_mut().zip(other.bits.iter()) {
            *a |= b;
        }
        Self::estimate_bits(&bits)
    }

    /// Empties the set.
    pub fn clear(&mut self) {
        self.bits = [0; WORDS];
    }
}

impl<const WORDS: usize> Default for DistinctBits<WORDS> {
    fn default() -> Self {
        Self::new()
    }
}

/// Distinct items seen over the last one to two windows (two tumbling bitmaps).
#[derive(Debug, Clone, Copy)]
pub struct SlidingDistinct<const WORDS: usize> {
    start_ms: i64,
    current: DistinctBits<WORDS>,
    previous: DistinctBits<WORDS>,
}

impl<const WORDS: usize> SlidingDistinct<WORDS> {
    /// An empty set.
    pub fn new() -> Self {
        Self {
            start_ms: i64::MIN / 2,
            current: DistinctBits::new(),
            previous: DistinctBits::new(),
        }
    }

    fn roll(&mut self, now_ms: i64, window_ms: i64) {
        let window_ms = window_ms.max(1);
        let elapsed = now_ms.saturating_sub(self.start_ms);
        if elapsed >= 2 * window_ms {
            self.previous.clear();
            self.current.clear();
            self.start_ms = now_ms - now_ms.rem_euclid(window_ms);
        } else if elapsed >= window_ms {
            self.previous = self.current;
            self.current.clear();
            self.start_ms += window_ms;
        }
    }

    /// Adds an item by its hash at `now_ms`.
    pub fn insert(&mut self, now_ms: i64, window_ms: i64, hash: u64) {
        self.roll(now_ms, window_ms);
        self.current.insert(hash);
    }

    /// Whether the item may have been seen in the window.
    pub fn may_contain(&mut self, now_ms: i64, window_ms: i64, hash: u64) -> bool {
        self.roll(now_ms, window_ms);
        self.current.may_contain(hash) || self.previous.may_contain(hash)
    }

    /// Estimated distinct items over the window.
    pub fn estimate(&mut self, now_ms: i64, window_ms: i64) -> f64 {
        self.roll(now_ms, window_ms);
        self.current.union_estimate(&self.previous)
    }
}

impl<const WORDS: usize> Default for SlidingDistinct<WORDS> {
    fn default() -> Self {
        Self::new()
    }
}

/// Per-minute counts over the last hour (for dashboards and global rates).
#[derive(Debug, Clone)]
pub struct MinuteSeries {
    minutes: [i64; 60],
    counts: [u64; 60],
}

impl MinuteSeries {
    /// An empty series.
    pub fn new() -> Self {
        Self {
            minutes: [i64::MIN; 60],
            counts: [0; 60],
        }
    }

    fn slot(minute: i64) -> usize {
        minute.rem_euclid(60) as usize
    }

    /// Adds `n` in the minute of `now_ms`.
    pub fn add(&mut self, now_ms: i64, n: u64) {
        let minute = now_ms.div_euclid(60_000);
        let i = Self::slot(minute);
        if let (Some(m), Some(c)) = (self.minutes.get_mut(i), self.counts.get_mut(i)) {
            if *m != minute {
                *m = minute;
                *c = 0;
            }
            *c = c.saturating_add(n);
        }
    }

    /// The count of the minute starting at `minute × 60 000` ms.
    pub fn count(&self, minute: i64) -> u64 {
        let i = Self::slot(minute);
        match (self.minutes.get(i), self.counts.get(i)) {
            (Some(m), Some(c)) if *m == minute => *c,
            _ => 0,
        }
    }

    /// The last 60 minutes ending with the minute of `now_ms`, oldest first.
    pub fn last_hour(&self, now_ms: i64) -> Vec<u64> {
        let now_minute = now_ms.div_euclid(60_000);
        (now_minute - 59..=now_minute)
            .map(|m| self.count(m))
            .collect()
    }
}

impl Default for MinuteSeries {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_count_forgets_old_buckets() {
        let mut c = SlidingCount::new();
        for t in 0..10 {
            c.add(t * 1000, 60_000, 1);
        }
        assert!((c.estimate(10_000, 60_000) - 10.0).abs() < 1e-9);
        // Half a window later the previous bucket counts half.
        assert!((c.estimate(90_000, 60_000) - 5.0).abs() < 1e-9);
        assert_eq!(c.estimate(500_000, 60_000), 0.0);
    }

    #[test]
    fn distinct_bits_estimate_small_counts_closely() {
        let mut d = DistinctBits::<4>::new();
        for i in 0..20u64 {
            d.insert(i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            d.insert(i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        }
        let e = d.estimate();
        assert!((18.0..=23.0).contains(&e), "{e}");
    }

    #[test]
    fn minute_series_keeps_the_last_hour() {
        let mut s = MinuteSeries::new();
        s.add(0, 3);
        s.add(59_999, 1);
        s.add(60_000, 2);
        assert_eq!(s.count(0), 4);
        let hour = s.last_hour(60_000);
        assert_eq!(hour.len(), 60);
        assert_eq!(hour[58..], [4, 2]);
        s.add(3_600_000, 7); // minute 60 replaces minute 0
        assert_eq!(s.count(0), 0);
    }
}
