//! From risk to response: the ladder allow → step-up → throttle → block (or hold), and
//! the verdicts the [layer](crate::layer) enforces on every request.
//!
//! Rules of the ladder:
//! - each identity (source, account, session) has its own decaying risk;
//! - a source is only ever blocked on source-scoped evidence (stuffing, scanning,
//!   floods, slow attacks), so one user's mistakes never block a clinic's NAT address;
//! - the model may raise a response by at most one step above what the rules alone
//!   warrant, and on its own only to step-up: it never blocks.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;

use crate::config::Config;
use crate::event::SessionKey;
use crate::window::MinuteSeries;

/// What the application should do about a request, sign-in or sensitive action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Action {
    /// Go ahead.
    Allow,
    /// Ask for a second factor first.
    StepUp,
    /// Slow down: answer 429 with this `Retry-After`.
    Throttle {
        /// Suggested wait.
        retry_after: Duration,
    },
    /// Refuse until `until_ms` (ms since the epoch).
    Block {
        /// End of the block.
        until_ms: i64,
    },
    /// Revoke the sessions and hold the account for review by a person.
    Hold,
}

impl Action {
    /// Rank on the ladder (Allow = 0 … Hold = 4).
    pub fn rank(&self) -> u8 {
        match self {
            Action::Allow => 0,
            Action::StepUp => 1,
            Action::Throttle { .. } => 2,
            Action::Block { .. } => 3,
            Action::Hold => 4,
        }
    }
}

/// Who is asking: the request's source, and the account and session when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// Client address.
    pub source: IpAddr,
    /// Account, when known (e.g. the account a sign-in is for).
    pub account: Option<String>,
    /// Session, when known.
    pub session: Option<SessionKey>,
}

/// The sentinel's answer for a [`Subject`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    /// The highest risk among the subject's identities.
    pub score: f64,
    /// What to do.
    pub action: Action,
    /// Why, one line each (empty when allowed with no risk).
    pub reasons: Vec<String>,
}

/// A step on the ladder, before it is turned into an [`Action`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    Allow,
    StepUp,
    Throttle,
    Block,
}

impl Level {
    fn of(cfg: &Config, score: f64) -> Level {
        if score >= cfg.block_at {
            Level::Block
        } else if score >= cfg.throttle_at {
            Level::Throttle
        } else if score >= cfg.step_up_at {
            Level::StepUp
        } else {
            Level::Allow
        }
    }

    fn next(self) -> Level {
        match self {
            Level::Allow => Level::StepUp,
            Level::StepUp => Level::Throttle,
            Level::Throttle | Level::Block => Level::Block,
        }
    }

    /// The level warranted by a rules part and a model part of risk.
    pub(crate) fn for_risk(cfg: &Config, rule: f64, model: f64) -> Level {
        let rules_alone = Level::of(cfg, rule);
        let with_model = Level::of(cfg, rule + model);
        with_model.min(rules_alone.next()).max(rules_alone)
    }
}

/// A refusal in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Block {
    /// End (ms since the epoch).
    pub until_ms: i64,
    /// Short reason, shown to the client.
    pub reason: String,
    /// Set by a person (not lifted by the engine).
    pub manual: bool,
}

#[derive(Debug, Clone, Copy)]
struct Throttle {
    until_ms: i64,
    minute: i64,
    count: u32,
}

/// What the layer should do with a request before handling it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Gate {
    /// Handle it; `known_good` when its session was seen authenticated, `risky` when
    /// its source has risk (shed first under load).
    Pass { known_good: bool, risky: bool },
    /// 403 with a reason.
    Blocked(String),
    /// 429 with Retry-After seconds.
    Throttled(u64),
}

/// The verdicts in force: a small structure the layer consults on every request, kept
/// apart from the engine's state so the request path takes one short lock.
#[derive(Debug)]
pub(crate) struct Verdicts {
    pub blocked_sources: HashMap<IpAddr, Block>,
    pub blocked_sessions: HashMap<SessionKey, Block>,
    pub held_accounts: HashMap<String, Block>,
    throttled_sources: HashMap<IpAddr, Throttle>,
    throttled_sessions: HashMap<SessionKey, Throttle>,
    risky_sources: HashMap<IpAddr, i64>,
    known_good: HashMap<SessionKey, i64>,
    max_known_good: usize,
    throttle_rpm: u32,
    /// Requests refused (blocked or throttled) per minute.
    pub refused: MinuteSeries,
    /// Requests shed per minute.
    pub shed: MinuteSeries,
    /// Totals.
    pub refused_total: u64,
    pub shed_total: u64,
}

impl Verdicts {
    pub fn new(cfg: &Config) -> Self {
        Self {
            blocked_sources: HashMap::new(),
            blocked_sessions: HashMap::new(),
            held_accounts: HashMap::new(),
            throttled_sources: HashMap::new(),
            throttled_sessions: HashMap::new(),
            risky_sources: HashMap::new(),
            known_good: HashMap::new(),
            max_known_good: cfg.max_sessions,
            throttle_rpm: cfg.throttle_requests_per_minute,
            refused: MinuteSeries::new(),
            shed: MinuteSeries::new(),
            refused_total: 0,
            shed_total: 0,
        }
    }

    fn throttle_gate(t: &mut Throttle, now_ms: i64, rpm: u32) -> Option<u64> {
        let minute = now_ms.div_euclid(60_000);
        if t.minute != minute {
            t.minute = minute;
            t.count = 0;
        }
        t.count += 1;
        (t.count > rpm).then(|| (60 - now_ms.rem_euclid(60_000) / 1000).max(1) as u64)
    }

    /// Decides the gate for a request and counts refusals.
    pub fn gate(&mut self, source: IpAddr, session: Option<SessionKey>, now_ms: i64) -> Gate {
        let gate = self.decide(source, session, now_ms);
        if !matches!(gate, Gate::Pass { .. }) {
            self.refused.add(now_ms, 1);
            self.refused_total += 1;
        }
        gate
    }

    fn decide(&mut self, source: IpAddr, session: Option<SessionKey>, now_ms: i64) -> Gate {
        if let Some(b) = self.blocked_sources.get(&source)
            && b.until_ms > now_ms
        {
            return Gate::Blocked(b.reason.clone());
        }
        if let Some(s) = session
            && let Some(b) = self.blocked_sessions.get(&s)
            && b.until_ms > now_ms
        {
            return Gate::Blocked(b.reason.clone());
        }
        let rpm = self.throttle_rpm;
        if let Some(t) = self.throttled_sources.get_mut(&source)
            && t.until_ms > now_ms
            && let Some(wait) = Self::throttle_gate(t, now_ms, rpm)
        {
            return Gate::Throttled(wait);
        }
        if let Some(s) = session
            && let Some(t) = self.throttled_sessions.get_mut(&s)
            && t.until_ms > now_ms
            && let Some(wait) = Self::throttle_gate(t, now_ms, rpm)
        {
            return Gate::Throttled(wait);
        }
        Gate::Pass {
            known_good: session.is_some_and(|s| self.known_good.contains_key(&s)),
            risky: self
                .risky_sources
                .get(&source)
                .is_some_and(|until| *until > now_ms),
        }
    }

    pub fn count_shed(&mut self, now_ms: i64) {
        self.shed.add(now_ms, 1);
        self.shed_total += 1;
    }

    pub fn is_blocked(&self, source: IpAddr, now_ms: i64) -> bool {
        self.blocked_sources
            .get(&source)
            .is_some_and(|b| b.until_ms > now_ms)
    }

    pub fn block_source(&mut self, source: IpAddr, block: Block) {
        self.throttled_sources.remove(&source);
        self.blocked_sources.insert(source, block);
    }

    pub fn unblock_source(&mut self, source: IpAddr) -> bool {
        self.throttled_sources.remove(&source);
        self.risky_sources.remove(&source);
        self.blocked_sources.remove(&source).is_some()
    }

    pub fn throttle_source(&mut self, source: IpAddr, until_ms: i64) {
        let t = self.throttled_sources.entry(source).or_insert(Throttle {
            until_ms,
            minute: 0,
            count: 0,
        });
        t.until_ms = t.until_ms.max(until_ms);
    }

    pub fn throttle_session(&mut self, session: SessionKey, until_ms: i64) {
        let t = self.throttled_sessions.entry(session).or_insert(Throttle {
            until_ms,
            minute: 0,
            count: 0,
        });
        t.until_ms = t.until_ms.max(until_ms);
    }

    pub fn block_session(&mut self, session: SessionKey, block: Block) {
        self.known_good.remove(&session);
        self.blocked_sessions.insert(session, block);
    }

    pub fn mark_risky(&mut self, source: IpAddr, until_ms: i64) {
        self.risky_sources.insert(source, until_ms);
    }

    /// Notes a session the application authenticated (served first under load).
    pub fn mark_known_good(&mut self, session: SessionKey, now_ms: i64) {
        if self.blocked_sessions.contains_key(&session) {
            return;
        }
        if self.known_good.len() >= self.max_known_good && !self.known_good.contains_key(&session) {
            // Full: forget sessions not seen for an hour; if none, do not add (the
            // session is then treated as anonymous under load, never refused outright).
            self.known_good.retain(|_, seen| now_ms - *seen < 3_600_000);
            if self.known_good.len() >= self.max_known_good {
                return;
            }
        }
        self.known_good.insert(session, now_ms);
    }

    /// Drops expired verdicts (and sessions idle for a day).
    pub fn prune(&mut self, now_ms: i64) {
        self.blocked_sources.retain(|_, b| b.until_ms > now_ms);
        self.blocked_sessions.retain(|_, b| b.until_ms > now_ms);
        self.held_accounts.retain(|_, b| b.until_ms > now_ms);
        self.throttled_sources.retain(|_, t| t.until_ms > now_ms);
        self.throttled_sessions.retain(|_, t| t.until_ms > now_ms);
        self.risky_sources.retain(|_, until| *until > now_ms);
        self.known_good
            .retain(|_, seen| now_ms - *seen < 24 * 3_600_000);
    }

    pub fn memory_bytes(&self) -> usize {
        let block = std::mem::size_of::<Block>() + 48;
        self.blocked_sources.capacity() * (16 + block)
            + self.blocked_sessions.capacity() * (8 + block)
            + self.held_accounts.capacity() * (24 + block + 32)
            + (self.throttled_sources.capacity() + self.throttled_sessions.capacity()) * 40
            + self.risky_sources.capacity() * 24
            + self.known_good.capacity() * 16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_alone_only_asks_for_step_up() {
        let cfg = Config::default();
        assert_eq!(Level::for_risk(&cfg, 0.0, 500.0), Level::StepUp);
        assert_eq!(Level::for_risk(&cfg, 25.0, 500.0), Level::Throttle);
        assert_eq!(Level::for_risk(&cfg, 50.0, 500.0), Level::Block);
        assert_eq!(Level::for_risk(&cfg, 90.0, 0.0), Level::Block);
        assert_eq!(Level::for_risk(&cfg, 5.0, 0.0), Level::Allow);
    }

    #[test]
    fn throttled_sources_get_a_few_requests_a_minute() {
        let cfg = Config::default();
        let mut v = Verdicts::new(&cfg);
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        v.throttle_source(ip, 120_000);
        let mut refused = 0;
        for i in 0..40 {
            if let Gate::Throttled(wait) = v.gate(ip, None, i * 100) {
                assert!((1..=60).contains(&wait));
                refused += 1;
            }
        }
        assert_eq!(refused, 40 - cfg.throttle_requests_per_minute);
        // After the throttle ends, everything passes.
        assert!(matches!(v.gate(ip, None, 130_000), Gate::Pass { .. }));
    }
}
