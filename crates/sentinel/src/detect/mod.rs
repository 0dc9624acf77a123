//! Detectors: rules (as fail2ban, CrowdSec and nginx have them) that turn the event
//! stream into [`Finding`]s, each with the counts that made it.
//!
//! Each submodule is one family of attack. They read and update the per-identity state
//! in [`crate::state`] and never decide a response themselves: [`crate::risk`] does.

pub mod auth;
pub mod bot;
pub mod enumeration;
pub mod flood;
pub mod probe;
pub mod transfer;

use std::net::IpAddr;

use serde::Serialize;

use crate::event::SessionKey;

/// How bad a finding is; each level adds a fixed amount of risk by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Severity {
    /// Worth a note; not enough to act alone.
    Low,
    /// Enough to ask for a second factor.
    Medium,
    /// Enough to throttle.
    High,
    /// Enough to block (or hold) at once.
    Critical,
}

impl Severity {
    /// Risk a finding of this severity adds (with the default thresholds: Medium asks
    /// for step-up, High throttles, Critical blocks).
    pub fn risk(self) -> f64 {
        match self {
            Severity::Low => 10.0,
            Severity::Medium => 25.0,
            Severity::High => 50.0,
            Severity::Critical => 90.0,
        }
    }
}

/// Which rule (or the model) made a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Detector {
    /// Many failures on one account.
    BruteForce,
    /// Failures over many distinct accounts from one source.
    CredentialStuffing,
    /// Many failures from one source, whatever the accounts.
    SourceFailures,
    /// A global failure ratio far above its baseline: stuffing spread over many sources.
    DistributedStuffing,
    /// Many 401/403/404 on distinct paths.
    Enumeration,
    /// Injection strings, scanner user agents or sensitive paths in requests.
    Probe,
    /// A request cadence too regular and fast for a person.
    BotCadence,
    /// Pages fetched without browser headers, or by a known tool.
    BotHeaders,
    /// Pages fetched by a client that never fetches the pages' scripts and styles.
    NoAssets,
    /// Resources read far above the identity's learned volume.
    BulkRead,
    /// Subject ids read in increasing order.
    IdWalk,
    /// A large export.
    BulkExport,
    /// One source's request rate.
    SourceFlood,
    /// The global request rate far above its baseline.
    GlobalFlood,
    /// Requests timed out for arriving or being read too slowly.
    SlowAttack,
    /// A WebSocket session sending too many messages.
    SocketFlood,
    /// The event queue overflowed: events were dropped.
    QueueOverflow,
    /// The streaming anomaly model.
    Model,
}

impl Detector {
    /// Every detector, for per-detector counts.
    pub const ALL: [Detector; 18] = [
        Detector::BruteForce,
        Detector::CredentialStuffing,
        Detector::SourceFailures,
        Detector::DistributedStuffing,
        Detector::Enumeration,
        Detector::Probe,
        Detector::BotCadence,
        Detector::BotHeaders,
        Detector::NoAssets,
        Detector::BulkRead,
        Detector::IdWalk,
        Detector::BulkExport,
        Detector::SourceFlood,
        Detector::GlobalFlood,
        Detector::SlowAttack,
        Detector::SocketFlood,
        Detector::QueueOverflow,
        Detector::Model,
    ];

    /// Stable name, for logs and alerts.
    pub fn name(self) -> &'static str {
        match self {
            Detector::BruteForce => "brute_force",
            Detector::CredentialStuffing => "credential_stuffing",
            Detector::SourceFailures => "source_failures",
            Detector::DistributedStuffing => "distributed_stuffing",
            Detector::Enumeration => "enumeration",
            Detector::Probe => "probe",
            Detector::BotCadence => "bot_cadence",
            Detector::BotHeaders => "bot_headers",
            Detector::NoAssets => "no_assets",
            Detector::BulkRead => "bulk_read",
            Detector::IdWalk => "id_walk",
            Detector::BulkExport => "bulk_export",
            Detector::SourceFlood => "source_flood",
            Detector::GlobalFlood => "global_flood",
            Detector::SlowAttack => "slow_attack",
            Detector::SocketFlood => "socket_flood",
            Detector::QueueOverflow => "queue_overflow",
            Detector::Model => "model",
        }
    }

    pub(crate) fn index(self) -> usize {
        Detector::ALL.iter().position(|d| *d == self).unwrap_or(0)
    }
}

/// Whom a finding is about, and so whose risk it raises.
///
/// Source-level responses (blocking an address) follow only from source-scoped
/// findings (stuffing, scanning, floods, slow attacks): an account's or session's
/// misdeeds never block the address it shares with colleagues.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// A client address.
    Source(IpAddr),
    /// An account.
    Account(String),
    /// A session.
    Session(SessionKey),
    /// The whole service.
    Global,
}

/// What a detector found.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Which detector.
    pub detector: Detector,
    /// How bad.
    pub severity: Severity,
    /// Whom it is about.
    pub scope: Scope,
    /// One line for people.
    pub summary: String,
    /// The counts and features behind it, as (name, value).
    pub evidence: Vec<(String, String)>,
    /// Risk it adds to its scope.
    pub risk: f64,
    /// Made by the anomaly model alone (can only ask for step-up).
    pub from_model: bool,
}

impl Finding {
    /// A rule finding with the default risk of its severity.
    pub fn new(
        detector: Detector,
        severity: Severity,
        scope: Scope,
        summary: impl Into<String>,
        evidence: Vec<(String, String)>,
    ) -> Self {
        Self {
            detector,
            severity,
            scope,
            summary: summary.into(),
            evidence,
            risk: severity.risk(),
            from_model: false,
        }
    }
}

/// Builds evidence pairs tersely: `ev(&[("failures", 12.to_string())])`.
pub(crate) fn ev<const N: usize>(pairs: [(&str, String); N]) -> Vec<(String, String)> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// Formats an estimate for evidence.
pub(crate) fn num(x: f64) -> String {
    if (x - x.round()).abs() < 0.05 {
        format!("{}", x.round() as i64)
    } else {
        format!("{x:.1}")
    }
}
