//! HBOS (histogram-based outlier score) with streaming histograms.
//!
//! One histogram per feature over log₂-spaced bins, learned from completed hours of
//! every identity in the deployment. An identity-hour scores by how rare each of its
//! values is, above the most common bin; rarity in a *low* value (reading less than
//! usual) is not suspicious and scores nothing. Each bin borrows half the mass of the
//! bin below it, so one bin above the usual is "unusual", not "rare". Histograms halve their counts when
//! they grow large, so old behaviour fades.

/// Bins per feature: values 0, 1, 2–3, 4–7, … up to 2²².
pub const BINS: usize = 24;

/// Vectors learned before the model scores anything.
pub const MIN_LEARNED: f64 = 50.0;

/// Streaming HBOS over `F` features.
#[derive(Debug, Clone)]
pub struct Hbos<const F: usize> {
    counts: [[f64; BINS]; F],
    total: f64,
}

/// Bin of a non-negative value.
pub fn bin_of(x: f64) -> usize {
    if x.is_nan() || x < 1.0 {
        return 0;
    }
    ((x.log2().floor() as usize) + 1).min(BINS - 1)
}

impl<const F: usize> Hbos<F> {
    /// Nothing learned.
    pub fn new() -> Self {
        Self {
            counts: [[0.0; BINS]; F],
            total: 0.0,
        }
    }

    /// Vectors learned (decayed).
    pub fn learned(&self) -> f64 {
        self.total
    }

    /// Learns one vector.
    pub fn learn(&mut self, x: &[f64; F]) {
        for (hist, v) in self.counts.iter_mut().zip(x.iter()) {
            if let Some(c) = hist.get_mut(bin_of(*v)) {
                *c += 1.0;
            }
        }
        self.total += 1.0;
        if self.total > 20_000.0 {
            for hist in &mut self.counts {
                for c in hist.iter_mut() {
                    *c /= 2.0;
                }
            }
            self.total /= 2.0;
        }
    }

    /// Per-feature excess rarity of `x` (0 when not rarer than the most common bin, or
    /// below it); `None` until enough has been learned.
    pub fn excess(&self, x: &[f64; F]) -> Option<[f64; F]> {
        if self.total < MIN_LEARNED {
            return None;
        }
        let mut out = [0.0; F];
        let smooth = 0.5;
        let denom = self.total + smooth * BINS as f64;
        for ((hist, v), o) in self.counts.iter().zip(x.iter()).zip(out.iter_mut()) {
            let (mode_bin, mode_count) = hist
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or((0, 0.0), |(i, c)| (i, *c));
            let b = bin_of(*v);
            if b <= mode_bin {
                continue;
            }
            // The bin just below lends half its mass: a value one bin above the usual
            // is unusual, not rare.
            let below = b
                .checked_sub(1)
                .and_then(|i| hist.get(i))
                .copied()
                .unwrap_or(0.0);
            let mass = hist.get(b).copied().unwrap_or(0.0) + 0.5 * below;
            let p = (mass + smooth) / denom;
            let p_mode = (mode_count + smooth) / denom;
            *o = (p_mode.ln() - p.ln()).max(0.0);
        }
        Some(out)
    }
}

impl<const F: usize> Default for Hbos<F> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rare_high_values_score_and_common_ones_do_not() {
        let mut h = Hbos::<2>::new();
        for i in 0..500 {
            h.learn(&[f64::from(i % 5 + 1), 0.0]);
        }
        let common = h.excess(&[3.0, 0.0]).unwrap();
        assert_eq!(common, [0.0, 0.0]);
        let rare = h.excess(&[400.0, 0.0]).unwrap();
        assert!(rare[0] > 4.0, "{rare:?}");
        // Lower than usual is not suspicious.
        assert_eq!(h.excess(&[0.0, 0.0]).unwrap()[0], 0.0);
    }

    #[test]
    fn bins_are_log_spaced() {
        assert_eq!(bin_of(0.0), 0);
        assert_eq!(bin_of(1.0), 1);
        assert_eq!(bin_of(3.0), 2);
        assert_eq!(bin_of(4.0), 3);
        assert_eq!(bin_of(f64::NAN), 0);
        assert_eq!(bin_of(1e30), BINS - 1);
    }
}
