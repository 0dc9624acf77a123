//! Alerts: findings turned into something a person reads, one per ongoing attack.
//!
//! The application consumes alerts from [`Sentinel::subscribe`](crate::Sentinel::subscribe)
//! (a tokio broadcast channel: a subscriber that lags loses the oldest alerts it has
//! not read, never slows the engine; the dashboard keeps the recent ones).
//!
//! **Dedupe**: findings of the same detector about the same subject update one open
//! alert (its `occurrences`, `at_ms`, evidence and score) instead of making new ones.
//! An update is broadcast again only when the severity rises. An alert with no new
//! finding for `alert_quiet_period` is closed; a later finding opens a new one.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use tokio::sync::broadcast;

use crate::detect::{Detector, Finding, Scope, Severity};

/// An alert for the security officer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// Stable id while the alert is open (updates keep it).
    pub id: u64,
    /// First finding (ms since the epoch).
    pub first_at_ms: i64,
    /// Latest finding.
    pub at_ms: i64,
    /// Highest severity so far.
    pub severity: Severity,
    /// Which detector.
    pub kind: Detector,
    /// Whom it is about.
    pub subject: Scope,
    /// One line.
    pub summary: String,
    /// The latest finding's features and values.
    pub evidence: Vec<(String, String)>,
    /// Risk of the subject after the latest finding.
    pub score: f64,
    /// Findings folded into this alert.
    pub occurrences: u32,
}

/// Open alerts keyed by (detector, subject), plus the recent ones for the dashboard.
#[derive(Debug)]
pub(crate) struct AlertBook {
    open: HashMap<(Detector, Scope), Alert>,
    recent: VecDeque<Alert>,
    next_id: Arc<AtomicU64>,
    sender: broadcast::Sender<Alert>,
    quiet_ms: i64,
}

/// Most open alerts kept; beyond, the stalest is closed.
const MAX_OPEN: usize = 4_096;
/// Recent alerts kept for the dashboard.
const RECENT: usize = 200;
/// Open alerts of one detector beyond which its new findings fold into one global alert.
pub const SPREAD_AFTER: usize = 20;

impl AlertBook {
    pub fn new(sender: broadcast::Sender<Alert>, next_id: Arc<AtomicU64>, quiet_ms: i64) -> Self {
        Self {
            open: HashMap::new(),
            recent: VecDeque::new(),
            next_id,
            sender,
            quiet_ms,
        }
    }

    /// Folds a finding into its alert; broadcasts when new or more severe.
    pub fn raise(&mut self, finding: &Finding, score: f64, now_ms: i64) {
        if finding.severity == Severity::Low {
            return;
        }
        let mut key = (finding.detector, finding.scope.clone());
        let spread = !self.open.contains_key(&key)
            && finding.scope != Scope::Global
            && self
                .open
                .iter()
                .filter(|((d, _), a)| *d == finding.detector && now_ms - a.at_ms < self.quiet_ms)
                .count()
                >= SPREAD_AFTER;
        let folded;
        let finding = if spread {
            key = (finding.detector, Scope::Global);
            let mut f = finding.clone();
            f.summary = format!("{} (spread over many identities)", finding.summary);
            f.scope = Scope::Global;
            folded = f;
            &folded
        } else {
            finding
        };
        if let Some(alert) = self.open.get_mut(&key)
            && now_ms - alert.at_ms < self.quiet_ms
        {
            let escalated = finding.severity > alert.severity;
            alert.at_ms = now_ms;
            alert.occurrences = alert.occurrences.saturating_add(1);
            alert.evidence.clone_from(&finding.evidence);
            alert.summary.clone_from(&finding.summary);
            alert.score = score;
            alert.severity = alert.severity.max(finding.severity);
            let snapshot = alert.clone();
            self.remember(snapshot.clone());
            if escalated {
                // No receivers is fine: nobody listens yet.
                let _ = self.sender.send(snapshot);
            }
            return;
        }
        if self.open.len() >= MAX_OPEN {
            self.open.retain(|_, a| now_ms - a.at_ms < self.quiet_ms);
            if self.open.len() >= MAX_OPEN
                && let Some(stalest) = self
                    .open
                    .iter()
                    .min_by_key(|(_, a)| a.at_ms)
                    .map(|(k, _)| k.clone())
            {
                self.open.remove(&stalest);
            }
        }
        let alert = Alert {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            first_at_ms: now_ms,
            at_ms: now_ms,
            severity: finding.severity,
            kind: finding.detector,
            subject: finding.scope.clone(),
            summary: finding.summary.clone(),
            evidence: finding.evidence.clone(),
            score,
            occurrences: 1,
        };
        self.open.insert(key, alert.clone());
        self.remember(alert.clone());
        let _ = self.sender.send(alert);
    }

    fn remember(&mut self, alert: Alert) {
        if let Some(existing) = self.recent.iter_mut().find(|a| a.id == alert.id) {
            *existing = alert;
            return;
        }
        if self.recent.len() >= RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(alert);
    }

    /// Alerts still open at `now_ms`.
    pub fn open_count(&self, now_ms: i64) -> usize {
        self.open
            .values()
            .filter(|a| now_ms - a.at_ms < self.quiet_ms)
            .count()
    }

    /// Recent alerts, newest first.
    pub fn recent(&self) -> Vec<Alert> {
        self.recent.iter().rev().cloned().collect()
    }

    /// Closes quiet alerts.
    pub fn prune(&mut self, now_ms: i64) {
        self.open.retain(|_, a| now_ms - a.at_ms < self.quiet_ms);
    }

    pub fn memory_bytes(&self) -> usize {
        let per = std::mem::size_of::<Alert>() + 256;
        (self.open.capacity() + self.recent.capacity()) * per
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(sev: Severity) -> Finding {
        Finding::new(
            Detector::Probe,
            sev,
            Scope::Source("192.0.2.1".parse().unwrap()),
            "probe",
            vec![],
        )
    }

    #[test]
    fn findings_over_many_sources_fold_into_one_global_alert() {
        let (tx, mut rx) = broadcast::channel(256);
        let mut book = AlertBook::new(tx, Arc::new(AtomicU64::new(1)), 60_000);
        for i in 0..200u32 {
            let mut f = finding(Severity::High);
            f.scope = Scope::Source(std::net::IpAddr::from(i.to_be_bytes()));
            book.raise(&f, 50.0, 1_000);
        }
        let mut sent = Vec::new();
        while let Ok(a) = rx.try_recv() {
            sent.push(a);
        }
        assert_eq!(sent.len(), SPREAD_AFTER + 1);
        assert_eq!(sent.last().map(|a| a.subject.clone()), Some(Scope::Global));
        // Low findings make no alert.
        book.raise(&finding(Severity::Low), 10.0, 2_000);
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn one_ongoing_attack_makes_one_alert() {
        let (tx, mut rx) = broadcast::channel(16);
        let mut book = AlertBook::new(tx, Arc::new(AtomicU64::new(1)), 60_000);
        for i in 0..1000 {
            book.raise(&finding(Severity::High), 50.0, i * 10);
        }
        let first = rx.try_recv().unwrap();
        assert_eq!(first.occurrences, 1);
        assert!(rx.try_recv().is_err(), "no broadcast for repeats");
        assert_eq!(book.recent().len(), 1);
        assert_eq!(book.recent()[0].occurrences, 1000);
        // Escalation is broadcast with the same id.
        book.raise(&finding(Severity::Critical), 90.0, 10_000);
        let up = rx.try_recv().unwrap();
        assert_eq!((up.id, up.severity), (first.id, Severity::Critical));
        // After a quiet period a new alert opens.
        book.raise(&finding(Severity::High), 50.0, 100_000);
        assert_ne!(rx.try_recv().unwrap().id, first.id);
    }
}
