//! Per-identity state kept in the [bounded tables](crate::table): fixed-size counters,
//! a decaying risk score, and the last few reasons for it.

use crate::detect::transfer::Transfer;
use crate::detect::{Detector, Severity};
use crate::table::Tracked;
use crate::window::{SlidingCount, SlidingDistinct};

/// A risk score that halves every `half_life`, kept as two parts: what the rules
/// found and what the model found (the model's part may only ask for step-up).
#[derive(Debug, Clone, Copy)]
pub struct Risk {
    rule: f32,
    model: f32,
    at_ms: i64,
    half_life_s: u32,
}

impl Risk {
    /// No risk.
    pub fn new(half_life_ms: i64) -> Self {
        Self {
            rule: 0.0,
            model: 0.0,
            at_ms: 0,
            half_life_s: u32::try_from(half_life_ms / 1000)
                .unwrap_or(u32::MAX)
                .max(1),
        }
    }

    fn factor(&self, now_ms: i64) -> f64 {
        let elapsed = (now_ms - self.at_ms).max(0) as f64 / 1000.0;
        (-elapsed / f64::from(self.half_life_s) * std::f64::consts::LN_2).exp()
    }

    /// The rules' part at `now_ms`.
    pub fn rule_at(&self, now_ms: i64) -> f64 {
        f64::from(self.rule) * self.factor(now_ms)
    }

    /// The model's part at `now_ms`.
    pub fn model_at(&self, now_ms: i64) -> f64 {
        f64::from(self.model) * self.factor(now_ms)
    }

    /// Both parts.
    pub fn total_at(&self, now_ms: i64) -> f64 {
        self.rule_at(now_ms) + self.model_at(now_ms)
    }

    /// Adds `amount` to the rules' or the model's part.
    pub fn add(&mut self, now_ms: i64, amount: f64, from_model: bool) {
        let now_ms = now_ms.max(self.at_ms);
        let (rule, model) = (self.rule_at(now_ms), self.model_at(now_ms));
        self.rule = rule as f32;
        self.model = model as f32;
        if from_model {
            self.model += amount as f32;
        } else {
            self.rule += amount as f32;
        }
        self.at_ms = now_ms;
    }
}

/// The last few reasons an identity became risky.
#[derive(Debug, Clone, Default)]
pub struct Reasons {
    items: Vec<(Detector, String, i64)>,
}

impl Reasons {
    const KEEP: usize = 4;

    /// Notes a reason, replacing an older one of the same detector.
    pub fn note(&mut self, detector: Detector, summary: &str, at_ms: i64) {
        self.items.retain(|(d, _, _)| *d != detector);
        if self.items.len() >= Self::KEEP {
            self.items.remove(0);
        }
        self.items.push((detector, summary.to_owned(), at_ms));
    }

    /// The reasons, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &(Detector, String, i64)> {
        self.items.iter()
    }

    fn heap_bytes(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<(Detector, String, i64)>()
            + self
                .items
                .iter()
                .map(|(_, s, _)| s.capacity())
                .sum::<usize>()
    }
}

/// When each detector last fired for an identity (and how severely), so rules fire
/// once per `refire_after` rather than on every event of an ongoing attack, but may
/// fire again at once when the severity rises.
#[derive(Debug, Clone, Default)]
pub struct Fired {
    last: Vec<(Detector, Severity, i64)>,
}

impl Fired {
    /// Whether `detector` may fire now; if so, notes that it did.
    pub fn try_fire(&mut self, detector: Detector, now_ms: i64, refire_ms: i64) -> bool {
        self.try_fire_at(detector, Severity::Low, now_ms, refire_ms)
    }

    /// Like [`try_fire`](Self::try_fire), also allowing an escalation to `severity`.
    pub fn try_fire_at(
        &mut self,
        detector: Detector,
        severity: Severity,
        now_ms: i64,
        refire_ms: i64,
    ) -> bool {
        match self.last.iter_mut().find(|(d, _, _)| *d == detector) {
            Some((_, sev, at)) if now_ms - *at < refire_ms && severity <= *sev => false,
            Some((_, sev, at)) => {
                *sev = severity;
                *at = now_ms;
                true
            }
            None => {
                self.last.push((detector, severity, now_ms));
                true
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        self.last.capacity() * std::mem::size_of::<(Detector, Severity, i64)>()
    }
}

/// What every tracked identity has.
#[derive(Debug, Clone)]
pub struct Common {
    /// Last sighting.
    pub last_seen_ms: i64,
    /// Decaying risk.
    pub risk: Risk,
    /// Why.
    pub reasons: Reasons,
    /// Rule cool-downs.
    pub fired: Fired,
}

impl Common {
    /// Fresh, seen at `now_ms`.
    pub fn new(now_ms: i64, half_life_ms: i64) -> Self {
        Self {
            last_seen_ms: now_ms,
            risk: Risk::new(half_life_ms),
            reasons: Reasons::default(),
            fired: Fired::default(),
        }
    }

    fn heap_bytes(&self) -> usize {
        self.reasons.heap_bytes() + self.fired.heap_bytes()
    }
}

/// Inter-request gaps, to tell a script's metronome from a person.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cadence {
    last_ms: Option<i64>,
    n: u32,
    mean: f64,
    m2: f64,
}

impl Cadence {
    /// Notes a request at `now_ms`; gaps over a minute start a new run.
    pub fn observe(&mut self, now_ms: i64) {
        if let Some(last) = self.last_ms {
            let gap = (now_ms - last) as f64;
            if gap > 60_000.0 {
                *self = Self::default();
            } else {
                // Welford's running mean and variance.
                self.n += 1;
                let delta = gap - self.mean;
                self.mean += delta / f64::from(self.n);
                self.m2 += delta * (gap - self.mean);
            }
        }
        self.last_ms = Some(now_ms);
    }

    /// Gaps observed in the current run.
    pub fn gaps(&self) -> u32 {
        self.n
    }

    /// Mean gap (ms).
    pub fn mean_gap_ms(&self) -> f64 {
        self.mean
    }

    /// Coefficient of variation of the gaps.
    pub fn cv(&self) -> f64 {
        if self.n < 2 || self.mean <= 0.0 {
            return f64::INFINITY;
        }
        (self.m2 / f64::from(self.n - 1)).sqrt() / self.mean
    }
}

/// Browser-likeness of a client's page fetches.
#[derive(Debug, Clone, Copy, Default)]
pub struct PageHabits {
    /// HTML pages fetched.
    pub pages: u32,
    /// Pages fetched without Accept or Accept-Language, or by a known tool.
    pub anomalous_pages: u32,
    /// Pages fetched with no Sec-Fetch-* header.
    pub pages_without_sec_fetch: u32,
    /// Whether any asset (script, style) was fetched.
    pub asset_seen: bool,
}

/// A client address.
#[derive(Debug, Clone)]
pub struct SourceState {
    /// Risk, reasons, cool-downs.
    pub common: Common,
    /// Requests over the last minute.
    pub requests: SlidingCount,
    /// Sign-in attempts over the auth window.
    pub auth_attempts: SlidingCount,
    /// Sign-in failures over the auth window.
    pub auth_failures: SlidingCount,
    /// Distinct accounts that failed over the auth window.
    pub failed_accounts: SlidingDistinct<4>,
    /// Distinct accounts that signed in over the last day (shared-address tolerance).
    pub good_accounts: SlidingDistinct<2>,
    /// Distinct paths answered 401/403/404 over the enumeration window.
    pub error_paths: SlidingDistinct<4>,
    /// Request cadence.
    pub cadence: Cadence,
    /// Page habits.
    pub pages: PageHabits,
    /// Slow-request timeouts over the auth window.
    pub slow: SlidingCount,
    /// Times blocked so far (each block doubles the next).
    pub blocks: u8,
}

impl SourceState {
    /// Fresh.
    pub fn new(now_ms: i64, half_life_ms: i64) -> Self {
        Self {
            common: Common::new(now_ms, half_life_ms),
            requests: SlidingCount::new(),
            auth_attempts: SlidingCount::new(),
            auth_failures: SlidingCount::new(),
            failed_accounts: SlidingDistinct::new(),
            good_accounts: SlidingDistinct::new(),
            error_paths: SlidingDistinct::new(),
            cadence: Cadence::default(),
            pages: PageHabits::default(),
            slow: SlidingCount::new(),
            blocks: 0,
        }
    }

    /// How many times more auth failures and errors this address is allowed, because
    /// many distinct accounts sign in from it (a clinic behind one NAT address).
    pub fn tolerance(&mut self, now_ms: i64, per_account: f64, max: f64) -> f64 {
        let good = self.good_accounts.estimate(now_ms, DAY_MS);
        (1.0 + good * per_account).min(max.max(1.0))
    }
}

/// One day in milliseconds.
pub const DAY_MS: i64 = 24 * 3_600_000;

/// An account.
#[derive(Debug, Clone)]
pub struct AccountState {
    /// Risk, reasons, cool-downs.
    pub common: Common,
    /// Sign-in failures over the auth window.
    pub auth_failures: SlidingCount,
    /// Distinct sources failing on it over the auth window.
    pub failing_sources: SlidingDistinct<2>,
    /// Data-transfer history (only for accounts that read resources).
    pub transfer: Option<Box<Transfer>>,
}

impl AccountState {
    /// Fresh.
    pub fn new(now_ms: i64, half_life_ms: i64) -> Self {
        Self {
            common: Common::new(now_ms, half_life_ms),
            auth_failures: SlidingCount::new(),
            failing_sources: SlidingDistinct::new(),
            transfer: None,
        }
    }
}

/// An authenticated session.
#[derive(Debug, Clone)]
pub struct SessionState {
    /// Risk, reasons, cool-downs.
    pub common: Common,
    /// The account it belongs to.
    pub account: Option<String>,
    /// Distinct paths answered 401/403/404 over the enumeration window.
    pub error_paths: SlidingDistinct<4>,
    /// WebSocket messages over the last minute.
    pub socket_messages: SlidingCount,
    /// Requests over the last minute.
    pub requests: SlidingCount,
}

impl SessionState {
    /// Fresh.
    pub fn new(now_ms: i64, half_life_ms: i64) -> Self {
        Self {
            common: Common::new(now_ms, half_life_ms),
            account: None,
            error_paths: SlidingDistinct::new(),
            socket_messages: SlidingCount::new(),
            requests: SlidingCount::new(),
        }
    }
}

/// An access token (data-transfer baseline of its own).
#[derive(Debug, Clone)]
pub struct TokenState {
    /// Risk, reasons, cool-downs.
    pub common: Common,
    /// Its transfer history.
    pub transfer: Box<Transfer>,
}

impl TokenState {
    /// Fresh.
    pub fn new(now_ms: i64, half_life_ms: i64) -> Self {
        Self {
            common: Common::new(now_ms, half_life_ms),
            transfer: Box::new(Transfer::new(now_ms)),
        }
    }
}

macro_rules! tracked {
    ($t:ty, $heap:expr) => {
        impl Tracked for $t {
            fn risk_at(&self, now_ms: i64) -> f64 {
                self.common.risk.total_at(now_ms)
            }
            fn last_seen_ms(&self) -> i64 {
                self.common.last_seen_ms
            }
            fn heap_bytes(&self) -> usize {
                let extra: fn(&$t) -> usize = $heap;
                self.common.heap_bytes() + extra(self)
            }
        }
    };
}

tracked!(SourceState, |_| 0);
tracked!(AccountState, |a| a
    .transfer
    .as_ref()
    .map_or(0, |t| std::mem::size_of::<Transfer>() + t.heap_bytes()));
tracked!(SessionState, |s| s
    .account
    .as_ref()
    .map_or(0, String::capacity));
tracked!(TokenState, |t| std::mem::size_of::<Transfer>()
    + t.transfer.heap_bytes());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn risk_halves_every_half_life() {
        let mut r = Risk::new(60_000);
        r.add(0, 40.0, false);
        r.add(0, 10.0, true);
        assert!((r.total_at(60_000) - 25.0).abs() < 1e-3);
        assert!((r.model_at(120_000) - 2.5).abs() < 1e-3);
    }

    #[test]
    fn cadence_of_a_metronome_has_tiny_variation() {
        let mut c = Cadence::default();
        for i in 0..50 {
            c.observe(i * 500);
        }
        assert_eq!(c.gaps(), 49);
        assert!(c.cv() < 0.01);
        assert!((c.mean_gap_ms() - 500.0).abs() < 1e-6);
    }

    #[test]
    fn fired_respects_the_cool_down() {
        let mut f = Fired::default();
        assert!(f.try_fire(Detector::Probe, 0, 1000));
        assert!(!f.try_fire(Detector::Probe, 999, 1000));
        assert!(f.try_fire(Detector::BruteForce, 999, 1000));
        assert!(f.try_fire(Detector::Probe, 1000, 1000));
        assert!(f.try_fire_at(Detector::Probe, Severity::High, 1001, 1000));
        assert!(!f.try_fire_at(Detector::Probe, Severity::High, 1002, 1000));
    }
}
