//! A count-min sketch: fixed memory, approximate counts of how often a key was seen.
//!
//! It is the pre-filter in front of the exact source table: a flood of addresses that
//! each appear once or twice only touches the sketch, never allocates. Counts are never
//! under-estimated; over-estimation grows with the increments absorbed, so the sketch
//! rotates (current and previous halves) both on a time period and after `width / 4`
//! increments, which keeps false "seen often" answers rare even at 10⁶ addresses a
//! minute.

use std::hash::{BuildHasher, Hash, RandomState};

const DEPTH: usize = 4;

/// Rotating count-min sketch.
#[derive(Debug)]
pub struct CountMinSketch {
    width: usize,
    current: Vec<u16>,
    previous: Vec<u16>,
    increments: usize,
    started_ms: i64,
    period_ms: i64,
    hasher: RandomState,
}

impl CountMinSketch {
    /// A sketch of `DEPTH` rows of `width` counters, rotating every `period_ms`.
    pub fn new(width: usize, period_ms: i64) -> Self {
        let width = width.max(64);
        Self {
            width,
            current: vec![0; width * DEPTH],
            previous: vec![0; width * DEPTH],
            increments: 0,
            started_ms: i64::MIN,
            period_ms: period_ms.max(1),
            hasher: RandomState::new(),
        }
    }

    fn cells(&self, key: &impl Hash) -> [usize; DEPTH] {
        let h = self.hasher.hash_one(key);
        let (a, b) = (h as u32 as usize, (h >> 32) as usize | 1);
        let mut cells = [0; DEPTH];
        for (row, cell) in cells.iter_mut().enumerate() {
            *cell = row * self.width + a.wrapping_add(row.wrapping_mul(b)) % self.width;
        }
        cells
    }

    fn maybe_rotate(&mut self, now_ms: i64) {
        let expired = now_ms.saturating_sub(self.started_ms) >= self.period_ms;
        if expired || self.increments >= self.width / 4 {
            std::mem::swap(&mut self.current, &mut self.previous);
            self.current.fill(0);
            if expired {
                // A whole quiet period: the previous half is stale too.
                if now_ms.saturating_sub(self.started_ms) >= 2 * self.period_ms {
                    self.previous.fill(0);
                }
            }
            self.increments = 0;
            self.started_ms = now_ms;
        }
    }

    /// Counts one sighting of `key` at `now_ms` and returns its estimated count over the
    /// current and previous halves.
    pub fn increment(&mut self, key: &impl Hash, now_ms: i64) -> u32 {
        self.maybe_rotate(now_ms);
        self.increments += 1;
        let cells = self.cells(key);
        let mut estimate = u32::MAX;
        for cell in cells {
            if let Some(c) = self.current.get_mut(cell) {
                *c = c.saturating_add(1);
                let prev = self.previous.get(cell).copied().unwrap_or(0);
                estimate = estimate.min(u32::from(*c) + u32::from(prev));
            }
        }
        estimate
    }

    /// Bytes held (fixed at construction).
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + (self.current.len() + self.previous.len()) * 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_repeated_keys_and_not_a_flood_of_distinct_ones() {
        let mut s = CountMinSketch::new(65_536, 600_000);
        for i in 0..5 {
            assert_eq!(s.increment(&"10.0.0.1", i), i as u32 + 1);
        }
        let mut passed = 0;
        for i in 0..1_000_000u32 {
            if s.increment(&i, 1_000) >= 3 {
                passed += 1;
            }
        }
        // Rotation keeps the false "seen three times" share tiny.
        assert!(passed < 1_000, "{passed} one-shot keys looked frequent");
    }

    #[test]
    fn forgets_after_two_quiet_periods() {
        let mut s = CountMinSketch::new(1024, 1_000);
        s.increment(&1u8, 0);
        s.increment(&1u8, 0);
        assert_eq!(s.increment(&1u8, 5_000), 1);
    }
}
