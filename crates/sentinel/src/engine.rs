//! The handle the application holds ([`Sentinel`]) and the task that digests events
//! ([`Engine`]).
//!
//! `record` never waits: events go to a bounded queue with `try_send`. When it is full
//! the event is dropped and counted, and a `queue_overflow` alert is raised at most once
//! a minute, so a flood slows neither requests nor the engine.

use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use clock::SharedClock;
use tokio::sync::{broadcast, mpsc};

use crate::alert::{Alert, AlertBook};
use crate::config::{Config, ms};
use crate::core::Core;
use crate::detect::{Detector, Scope, Severity};
use crate::event::{Event, SessionKey};
use crate::health::{self, Dashboard, Health};
use crate::risk::{Action, Assessment, Block, Level, Subject, Verdicts};
use crate::state::Common;

/// Events digested per lock of the engine state.
const BATCH: usize = 256;

/// The application's handle: record events, ask for risk, read health. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Sentinel {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub config: Arc<Config>,
    pub clock: SharedClock,
    sender: mpsc::Sender<Event>,
    core: Mutex<Core>,
    verdicts: Mutex<Verdicts>,
    dropped: AtomicU64,
    last_drop_alert_ms: AtomicI64,
    alerts: broadcast::Sender<Alert>,
    alert_ids: Arc<AtomicU64>,
    session_hasher: RandomState,
    pub in_flight: AtomicUsize,
    pub expensive_in_flight: AtomicUsize,
}

/// The task that digests events. Spawn [`Engine::run`] once; tests may instead call
/// [`Engine::process_pending`] to digest what was recorded, deterministically.
#[derive(Debug)]
pub struct Engine {
    inner: Arc<Inner>,
    receiver: mpsc::Receiver<Event>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves counters, not invariants, half-updated:
    // carry on with them rather than take the service down.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Sentinel {
    /// A sentinel and its engine. Time for refusals, assessments and layer events is
    /// read from `clock`; domain events carry their own time.
    pub fn new(config: Config, clock: SharedClock) -> (Sentinel, Engine) {
        let (sender, receiver) = mpsc::channel(config.queue_capacity.max(1));
        let (alerts, _) = broadcast::channel(config.alert_channel_capacity.max(1));
        let alert_ids = Arc::new(AtomicU64::new(1));
        let book = AlertBook::new(
            alerts.clone(),
            Arc::clone(&alert_ids),
            ms(config.alert_quiet_period),
        );
        let verdicts = Verdicts::new(&config);
        let inner = Arc::new(Inner {
            core: Mutex::new(Core::new(config.clone(), book)),
            config: Arc::new(config),
            clock,
            sender,
            verdicts: Mutex::new(verdicts),
            dropped: AtomicU64::new(0),
            last_drop_alert_ms: AtomicI64::new(i64::MIN),
            alerts,
            alert_ids,
            session_hasher: RandomState::new(),
            in_flight: AtomicUsize::new(0),
            expensive_in_flight: AtomicUsize::new(0),
        });
        (
            Sentinel {
                inner: Arc::clone(&inner),
            },
            Engine { inner, receiver },
        )
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The current time by the sentinel's clock (ms since the epoch).
    pub fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// The sentinel's key for a raw session key (e.g. the session cookie's value): a
    /// keyed hash, so the raw key is never stored. Stable for the process's life.
    pub fn session_key(&self, raw: &str) -> SessionKey {
        SessionKey(self.inner.session_hasher.hash_one(raw))
    }

    /// Queues an event for the engine. Never blocks: when the queue is full the event
    /// is dropped and counted.
    pub fn record(&self, event: Event) {
        if self.inner.sender.try_send(event).is_ok() {
            return;
        }
        let dropped = self.inner.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        let now = self.now_ms();
        let last = self.inner.last_drop_alert_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= 60_000
            && self
                .inner
                .last_drop_alert_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let capacity = self.inner.config.queue_capacity;
            let alert = Alert {
                id: self.inner.alert_ids.fetch_add(1, Ordering::Relaxed),
                first_at_ms: now,
                at_ms: now,
                severity: Severity::High,
                kind: Detector::QueueOverflow,
                subject: Scope::Global,
                summary: format!("event queue full ({capacity}): {dropped} events dropped so far"),
                evidence: vec![
                    ("dropped_events".to_owned(), dropped.to_string()),
                    ("queue_capacity".to_owned(), capacity.to_string()),
                ],
                score: 0.0,
                occurrences: 1,
            };
            // No subscriber is fine.
            let _ = self.inner.alerts.send(alert);
        }
    }

    /// Digests an event at once, bypassing the queue (for simulations and tests, and
    /// for events the caller wants judged before it answers).
    pub fn process_now(&self, event: Event) {
        self.inner.apply(std::slice::from_ref(&event));
    }

    /// Alerts as they are raised (and when an open alert's severity rises).
    pub fn subscribe(&self) -> broadcast::Receiver<Alert> {
        self.inner.alerts.subscribe()
    }

    /// Risk of a request, sign-in or sensitive action, and what to do about it.
    pub fn assess(&self, subject: &Subject) -> Assessment {
        let now = self.now_ms();
        let core = lock(&self.inner.core);
        let verdicts = lock(&self.inner.verdicts);
        let cfg = &core.cfg;
        let mut score: f64 = 0.0;
        let mut action = Action::Allow;
        let mut reasons = Vec::new();
        let mut consider = |who: String, common: &Common, top: Action| {
            let (rule, model) = (common.risk.rule_at(now), common.risk.model_at(now));
            score = score.max(rule + model);
            let level = Level::for_risk(cfg, rule, model);
            let a = match level {
                Level::Allow => Action::Allow,
                Level::StepUp => Action::StepUp,
                Level::Throttle => Action::Throttle {
                    retry_after: cfg.throttle_for,
                },
                Level::Block => top,
            };
            if level > Level::Allow {
                for (d, summary, _) in common.reasons.iter() {
                    reasons.push(format!("{who}: {}: {summary}", d.name()));
                }
            }
            if a.rank() > action.rank() {
                action = a;
            }
        };
        if let Some(s) = core.sources.get(&subject.source) {
            let until = verdicts
                .blocked_sources
                .get(&subject.source)
                .map_or(now + ms(cfg.block_for), |b| b.until_ms);
            consider(
                format!("source {}", subject.source),
                &s.common,
                Action::Block { until_ms: until },
            );
        }
        if let Some(account) = &subject.account
            && let Some(a) = core.accounts.get(account)
        {
            consider(format!("account {account}"), &a.common, Action::Hold);
        }
        if let Some(key) = subject.session
            && let Some(s) = core.sessions.get(&key)
        {
            consider(format!("session {:x}", key.0), &s.common, Action::Hold);
        }
        if let Some(b) = verdicts.blocked_sources.get(&subject.source)
            && b.until_ms > now
            && action.rank() < 3
        {
            action = Action::Block {
                until_ms: b.until_ms,
            };
            reasons.push(format!("source {}: blocked: {}", subject.source, b.reason));
        }
        if let Some(account) = &subject.account
            && verdicts
                .held_accounts
                .get(account)
                .is_some_and(|b| b.until_ms > now)
        {
            action = Action::Hold;
            reasons.push(format!("account {account}: held for review"));
        }
        if core.auth.alarm(now) && action.rank() < 1 {
            action = Action::StepUp;
            reasons.push("credential stuffing in progress: second factor for everyone".to_owned());
        }
        Assessment {
            score,
            action,
            reasons,
        }
    }

    /// Whether `source` is blocked now.
    pub fn is_blocked(&self, source: IpAddr) -> bool {
        lock(&self.inner.verdicts).is_blocked(source, self.now_ms())
    }

    /// Sources blocked now, with their blocks.
    pub fn blocked_sources(&self) -> Vec<(IpAddr, Block)> {
        let now = self.now_ms();
        let v = lock(&self.inner.verdicts);
        let mut list: Vec<(IpAddr, Block)> = v
            .blocked_sources
            .iter()
            .filter(|(_, b)| b.until_ms > now)
            .map(|(ip, b)| (*ip, b.clone()))
            .collect();
        list.sort_by_key(|(ip, _)| *ip);
        list
    }

    /// Blocks `source` by hand for `duration`.
    pub fn block(&self, source: IpAddr, duration: Duration, reason: &str) {
        let until_ms = self.now_ms().saturating_add(ms(duration));
        lock(&self.inner.verdicts).block_source(
            source,
            Block {
                until_ms,
                reason: reason.to_owned(),
                manual: true,
            },
        );
    }

    /// Lifts a block (and throttle) on `source`; returns whether it was blocked.
    pub fn unblock(&self, source: IpAddr) -> bool {
        lock(&self.inner.verdicts).unblock_source(source)
    }

    /// Releases an account held for review (and the sessions held with it stay
    /// revoked: the user signs in again).
    pub fn release_account(&self, account: &str) -> bool {
        lock(&self.inner.verdicts)
            .held_accounts
            .remove(account)
            .is_some()
    }

    /// Whether `account` is held for review.
    pub fn is_held(&self, account: &str) -> bool {
        let now = self.now_ms();
        lock(&self.inner.verdicts)
            .held_accounts
            .get(account)
            .is_some_and(|b| b.until_ms > now)
    }

    /// The engine's health.
    pub fn health(&self) -> Health {
        let now = self.now_ms();
        let core = lock(&self.inner.core);
        let verdicts = lock(&self.inner.verdicts);
        let capacity = self.inner.config.queue_capacity;
        health::health(
            &core,
            &verdicts,
            health::QueueFacts {
                capacity,
                depth: capacity.saturating_sub(self.inner.sender.capacity()),
                dropped: self.inner.dropped.load(Ordering::Relaxed),
                in_flight: self.inner.in_flight.load(Ordering::Relaxed),
            },
            now,
        )
    }

    /// The security dashboard's data.
    pub fn dashboard(&self) -> Dashboard {
        let now = self.now_ms();
        let core = lock(&self.inner.core);
        let verdicts = lock(&self.inner.verdicts);
        health::dashboard(&core, &verdicts, now)
    }

    pub(crate) fn verdicts(&self) -> MutexGuard<'_, Verdicts> {
        lock(&self.inner.verdicts)
    }
}

impl Inner {
    fn apply(&self, events: &[Event]) {
        let mut core = lock(&self.core);
        let mut verdicts = lock(&self.verdicts);
        for e in events {
            core.apply(e, &mut verdicts);
        }
    }
}

impl Engine {
    /// Digests events until the runtime shuts down.
    pub async fn run(mut self) {
        let mut batch = Vec::with_capacity(BATCH);
        while let Some(event) = self.receiver.recv().await {
            batch.push(event);
            while batch.len() < BATCH {
                match self.receiver.try_recv() {
                    Ok(e) => batch.push(e),
                    Err(_) => break,
                }
            }
            self.inner.apply(&batch);
            batch.clear();
            // Let request tasks run between batches.
            tokio::task::yield_now().await;
        }
    }

    /// Digests every event queued so far; returns how many.
    pub fn process_pending(&mut self) -> usize {
        let mut batch = Vec::new();
        while let Ok(e) = self.receiver.try_recv() {
            batch.push(e);
        }
        self.inner.apply(&batch);
        batch.len()
    }

    /// The handle this engine serves.
    pub fn sentinel(&self) -> Sentinel {
        Sentinel {
            inner: Arc::clone(&self.inner),
        }
    }
}
