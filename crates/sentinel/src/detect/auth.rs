//! Brute force on one account, credential stuffing from one source, and stuffing
//! spread over many sources at a low rate each.
//!
//! The spread case is invisible to per-source counters, so it is judged on the
//! *global* failure ratio over a sliding window against its own baseline (sampled in
//! quiet windows), with the number of distinct failing sources and the share of
//! unknown accounts as evidence. While that alarm is on, every sign-in should ask for
//! a second factor (see [`Sentinel::assess`](crate::Sentinel::assess)) and each source
//! that fails adds source-level evidence of its own.

use crate::config::{Config, ms};
use crate::detect::{Detector, Finding, Scope, Severity, ev, num};
use crate::event::{AuthEvent, AuthOutcome};
use crate::model::robust::RobustBaseline;
use crate::state::{AccountState, DAY_MS, Fired, SourceState};
use crate::window::{SlidingCount, SlidingDistinct};

/// Deployment-wide sign-in counters.
#[derive(Debug, Clone, Default)]
pub struct AuthGlobal {
    attempts: SlidingCount,
    failures: SlidingCount,
    unknown: SlidingCount,
    failing_sources: SlidingDistinct<16>,
    ratio_history: RobustBaseline<48>,
    last_sample_ms: i64,
    alarm_until_ms: i64,
    fired: Fired,
    /// Failures per minute, for the dashboard.
    pub failures_per_minute: crate::window::MinuteSeries,
}

impl AuthGlobal {
    /// Whether distributed stuffing is believed to be going on at `now_ms`.
    pub fn alarm(&self, now_ms: i64) -> bool {
        now_ms < self.alarm_until_ms
    }
}

/// Hashes of the event's source and account (keyed, from the engine).
#[derive(Debug, Clone, Copy)]
pub struct AuthKeys {
    /// Source hash.
    pub source: u64,
    /// Account hash.
    pub account: u64,
}

/// Updates a source's counters with a sign-in step; returns its findings.
pub fn on_source(
    cfg: &Config,
    src: &mut SourceState,
    e: &AuthEvent,
    keys: AuthKeys,
    stuffing_alarm: bool,
    out: &mut Vec<Finding>,
) {
    let now = e.at_ms;
    let window = ms(cfg.auth_window);
    src.auth_attempts.add(now, window, 1);
    if !e.outcome.is_failure() {
        src.good_accounts.insert(now, DAY_MS, keys.account);
        return;
    }
    src.auth_failures.add(now, window, 1);
    src.failed_accounts.insert(now, window, keys.account);

    let tolerance = src.tolerance(
        now,
        cfg.shared_address_tolerance_per_account,
        cfg.max_shared_address_tolerance,
    );
    let failures = src.auth_failures.estimate(now, window);
    let attempts = src.auth_attempts.estimate(now, window).max(1.0);
    let distinct = src.failed_accounts.estimate(now, window);
    let refire = ms(cfg.refire_after);
    let scope = Scope::Source(e.source);
    let evidence = || {
        ev([
            ("failures", num(failures)),
            ("attempts", num(attempts)),
            ("distinct_failed_accounts", num(distinct)),
            ("shared_address_tolerance", num(tolerance)),
            ("window_s", cfg.auth_window.as_secs().to_string()),
        ])
    };

    if distinct >= f64::from(cfg.stuffing_distinct_accounts) * tolerance
        && failures / attempts >= 0.5
        && src
            .common
            .fired
            .try_fire(Detector::CredentialStuffing, now, refire)
    {
        out.push(Finding::new(
            Detector::CredentialStuffing,
            Severity::Critical,
            scope.clone(),
            format!(
                "sign-in failures on {} distinct accounts from one address",
                num(distinct)
            ),
            evidence(),
        ));
    } else if failures >= f64::from(cfg.source_failures) * tolerance
        && src
            .common
            .fired
            .try_fire(Detector::SourceFailures, now, refire)
    {
        out.push(Finding::new(
            Detector::SourceFailures,
            Severity::High,
            scope.clone(),
            format!("{} sign-in failures from one address", num(failures)),
            evidence(),
        ));
    }
    if stuffing_alarm
        && src
            .common
            .fired
            .try_fire(Detector::DistributedStuffing, now, refire)
    {
        // Taking part in a spread attack is source-level evidence, stronger when the
        // account tried does not even exist.
        let severity = if e.outcome == AuthOutcome::UnknownAccount {
            Severity::High
        } else {
            Severity::Medium
        };
        out.push(Finding::new(
            Detector::DistributedStuffing,
            severity,
            scope,
            "sign-in failure during a credential-stuffing alarm",
            ev([
                ("outcome", format!("{:?}", e.outcome)),
                ("failures", num(failures)),
            ]),
        ));
    }
}

/// Updates an account's counters with a sign-in step (known accounts only).
pub fn on_account(
    cfg: &Config,
    acct: &mut AccountState,
    e: &AuthEvent,
    keys: AuthKeys,
    out: &mut Vec<Finding>,
) {
    let now = e.at_ms;
    let window = ms(cfg.auth_window);
    if let Some(t) = acct.transfer.as_mut() {
        t.note_auth(e.outcome.is_failure(), keys.source);
    }
    if !e.outcome.is_failure() {
        return;
    }
    acct.auth_failures.add(now, window, 1);
    acct.failing_sources.insert(now, window, keys.source);
    let failures = acct.auth_failures.estimate(now, window);
    let sources = acct.failing_sources.estimate(now, window);
    if failures >= f64::from(cfg.brute_force_failures)
        && acct
            .common
            .fired
            .try_fire(Detector::BruteForce, now, ms(cfg.refire_after))
    {
        let spread = if sources >= 3.0 {
            format!(" from {} addresses", num(sources))
        } else {
            String::new()
        };
        out.push(Finding::new(
            Detector::BruteForce,
            Severity::High,
            Scope::Account(e.account.clone()),
            format!("{} sign-in failures on one account{spread}", num(failures)),
            ev([
                ("failures", num(failures)),
                ("distinct_sources", num(sources)),
                ("last_outcome", format!("{:?}", e.outcome)),
                ("window_s", cfg.auth_window.as_secs().to_string()),
            ]),
        ));
    }
}

/// Updates the global counters and judges the global failure ratio.
pub fn on_global(
    cfg: &Config,
    g: &mut AuthGlobal,
    e: &AuthEvent,
    keys: AuthKeys,
    out: &mut Vec<Finding>,
) {
    let now = e.at_ms;
    let window = ms(cfg.auth_window);
    g.attempts.add(now, window, 1);
    if e.outcome.is_failure() {
        g.failures.add(now, window, 1);
        g.failures_per_minute.add(now, 1);
        g.failing_sources.insert(now, window, keys.source);
        if e.outcome == AuthOutcome::UnknownAccount {
            g.unknown.add(now, window, 1);
        }
    }
    let attempts = g.attempts.estimate(now, window);
    let failures = g.failures.estimate(now, window);
    let ratio = failures / attempts.max(1.0);

    // Learn the normal ratio once a window, from windows with enough traffic and no
    // alarm (an attack must not teach the baseline that attacks are normal).
    if now - g.last_sample_ms >= window {
        g.last_sample_ms = now;
        if attempts >= f64::from(cfg.global_min_attempts) && !g.alarm(now) {
            g.ratio_history.push(ratio);
        }
    }
    if attempts < f64::from(cfg.global_min_attempts)
        || failures < f64::from(cfg.global_min_failures)
    {
        return;
    }
    let baseline = (g.ratio_history.len() >= 6)
        .then(|| g.ratio_history.median_mad().map(|(m, _)| m))
        .flatten();
    let limit = cfg
        .global_failure_ratio_floor
        .max(baseline.unwrap_or(0.0) * cfg.global_ratio_factor);
    let sources = g.failing_sources.estimate(now, window);
    if ratio < limit || sources < 5.0 {
        return;
    }
    g.alarm_until_ms = now + ms(cfg.stuffing_alarm_for);
    if g.fired
        .try_fire(Detector::DistributedStuffing, now, ms(cfg.refire_after))
    {
        let unknown = g.unknown.estimate(now, window);
        out.push(Finding::new(
            Detector::DistributedStuffing,
            Severity::Critical,
            Scope::Global,
            format!(
                "global sign-in failure ratio {:.0}% from {} addresses",
                ratio * 100.0,
                num(sources)
            ),
            ev([
                ("failure_ratio", format!("{ratio:.3}")),
                (
                    "baseline_ratio",
                    baseline.map_or("none".to_owned(), |b| format!("{b:.3}")),
                ),
                ("limit", format!("{limit:.3}")),
                ("attempts", num(attempts)),
                ("failures", num(failures)),
                ("distinct_failing_sources", num(sources)),
                (
                    "unknown_account_share",
                    format!("{:.2}", unknown / failures.max(1.0)),
                ),
            ]),
        ));
    }
}
