//! Progressive delays against password guessing, per account and per source address.
//!
//! Every attempt is counted as a failure the moment it starts ([`Throttle::begin`],
//! under one lock), and taken back only when it succeeds — so a burst of concurrent
//! guesses cannot all slip past the check before any of them is counted. After a few
//! free failures, each further one doubles the wait before the next attempt is even
//! looked at (capped), and a quiet quarter of an hour clears it. There is never a permanent lockout an attacker could use against the
//! victim: passkey sign-in is not delayed at all, and a password attempt waits at most
//! `MAX_DELAY_MS`. Sources get more free failures than accounts, because a clinic's
//! staff may share one address. Unknown and known accounts are counted alike, so the
//! delay itself reveals nothing. Memory is bounded: at most `CAPACITY` keys, the
//! stalest dropped first.

use std::collections::HashMap;
use std::sync::Mutex;

pub const MAX_DELAY_MS: i64 = 60_000;
const FORGET_AFTER_MS: i64 = 15 * 60_000;
const CAPACITY: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last_ms: i64,
}

/// One kind of key (accounts, or sources) and its free failures.
#[derive(Debug)]
pub struct Throttle {
    free_failures: u32,
    entries: Mutex<HashMap<String, Entry>>,
}

impl Throttle {
    pub fn new(free_failures: u32) -> Self {
        Self {
            free_failures,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn delay_after(&self, failures: u32) -> i64 {
        if failures < self.free_failures {
            return 0;
        }
        let doublings = (failures - self.free_failures).min(16);
        (1_000_i64 << doublings).min(MAX_DELAY_MS)
    }

    fn wait_in(&self, entries: &HashMap<String, Entry>, key: &str, now_ms: i64) -> i64 {
        match entries.get(key) {
            Some(e) if now_ms - e.last_ms < FORGET_AFTER_MS => {
                (e.last_ms + self.delay_after(e.failures) - now_ms).max(0)
            }
            _ => 0,
        }
    }

    /// Milliseconds until an attempt for `key` may be evaluated (0: now). A poisoned
    /// lock answers with the longest wait (fails closed).
    pub fn wait_ms(&self, key: &str, now_ms: i64) -> i64 {
        match self.entries.lock() {
            Ok(entries) => self.wait_in(&entries, key, now_ms),
            Err(_) => MAX_DELAY_MS,
        }
    }

    /// Starts an attempt: refuses with the wait in milliseconds, or counts the attempt
    /// as a failure until [`Throttle::succeeded`] or [`Throttle::release`] says otherwise.
    pub fn begin(&self, key: &str, now_ms: i64) -> Result<(), i64> {
        let Ok(mut entries) = self.entries.lock() else {
            return Err(MAX_DELAY_MS);
        };
        let wait = self.wait_in(&entries, key, now_ms);
        if wait > 0 {
            return Err(wait);
        }
        count(&mut entries, key, now_ms);
        Ok(())
    }

    /// Takes back one attempt counted by [`Throttle::begin`]: it succeeded, but the key
    /// is shared (as an address is by a clinic), so its other failures stay.
    pub fn release(&self, key: &str) {
        if let Ok(mut entries) = self.entries.lock()
            && let Some(e) = entries.get_mut(key)
        {
            e.failures = e.failures.saturating_sub(1);
        }
    }

    #[cfg(test)]
    pub fn failed(&self, key: &str, now_ms: i64) {
        if let Ok(mut entries) = self.entries.lock() {
            count(&mut entries, key, now_ms);
        }
    }

    pub fn succeeded(&self, key: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }
}

fn count(entries: &mut HashMap<String, Entry>, key: &str, now_ms: i64) {
    if entries.len() >= CAPACITY && !entries.contains_key(key) {
        evict(entries, now_ms);
    }
    let e = entries.entry(key.to_owned()).or_insert(Entry {
        failures: 0,
        last_ms: now_ms,
    });
    if now_ms - e.last_ms >= FORGET_AFTER_MS {
        e.failures = 0;
    }
    e.failures = e.failures.saturating_add(1);
    e.last_ms = now_ms;
}

/// Drops forgotten entries; if none, the stalest tenth.
fn evict(entries: &mut HashMap<String, Entry>, now_ms: i64) {
    entries.retain(|_, e| now_ms - e.last_ms < FORGET_AFTER_MS);
    if entries.len() >= CAPACITY {
        let mut ages: Vec<i64> = entries.values().map(|e| e.last_ms).collect();
        ages.sort_unstable();
        let cutoff = ages[ages.len() / 10];
        entries.retain(|_, e| e.last_ms > cutoff);
    }
}

/// The throttles sign-in uses.
#[derive(Debug)]
pub struct SignInThrottles {
    pub accounts: Throttle,
    pub sources: Throttle,
}

impl Default for SignInThrottles {
    fn default() -> Self {
        Self {
            accounts: Throttle::new(5),
            sources: Throttle::new(20),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_after_free_failures_and_are_capped() {
        let t = Throttle::new(3);
        let mut now = 1_000_000;
        for _ in 0..3 {
            assert_eq!(t.wait_ms("a", now), 0);
            t.failed("a", now);
        }
        assert_eq!(t.wait_ms("a", now), 1_000);
        now += 1_000;
        assert_eq!(t.wait_ms("a", now), 0);
        t.failed("a", now);
        assert_eq!(t.wait_ms("a", now), 2_000);
        for _ in 0..20 {
            t.failed("a", now);
        }
        assert_eq!(t.wait_ms("a", now), MAX_DELAY_MS, "never more than the cap");
        assert_eq!(t.wait_ms("b", now), 0, "other keys are unaffected");
    }

    #[test]
    fn success_or_quiet_clears_it() {
        let t = Throttle::new(1);
        t.failed("a", 0);
        t.failed("a", 0);
        assert!(t.wait_ms("a", 0) > 0);
        t.succeeded("a");
        assert_eq!(t.wait_ms("a", 0), 0);
        t.failed("a", 0);
        t.failed("a", 0);
        assert_eq!(t.wait_ms("a", FORGET_AFTER_MS), 0);
        t.failed("a", FORGET_AFTER_MS);
        assert_eq!(
            t.wait_ms("a", FORGET_AFTER_MS),
            1_000,
            "counting restarted: one failure, not three"
        );
    }

    #[test]
    fn begin_counts_at_once_and_release_takes_it_back() {
        let t = Throttle::new(2);
        assert!(t.begin("a", 0).is_ok());
        assert!(t.begin("a", 0).is_ok());
        // Two attempts in flight already count: a third waits, even before either failed.
        assert_eq!(t.begin("a", 0), Err(1_000));
        t.release("a");
        assert!(t.begin("a", 0).is_ok(), "a success gives its slot back");
        t.succeeded("a");
        assert_eq!(t.wait_ms("a", 0), 0);
    }

    #[test]
    fn memory_is_bounded() {
        let t = Throttle::new(1);
        for i in 0..(CAPACITY + 5_000) {
            t.failed(&format!("k{i}"), i as i64);
        }
        assert!(t.len() <= CAPACITY, "{}", t.len());
    }
}
