//! Application-layer floods (one source's rate, and the global rate against its
//! baseline) and slow attacks (requests the server timed out), and WebSocket floods.

use crate::config::{Config, ms};
use crate::detect::{Detector, Finding, Scope, Severity, ev, num};
use crate::event::{SlowRequestEvent, SocketMessagesEvent};
use crate::model::robust::RobustBaseline;
use crate::state::{Fired, SessionState, SourceState};
use crate::window::MinuteSeries;

const MINUTE_MS: i64 = 60_000;

/// Deployment-wide request rate.
#[derive(Debug, Clone)]
pub struct FloodGlobal {
    /// Requests per minute over the last hour (all of them, for the dashboard).
    pub requests: MinuteSeries,
    /// Requests without a vouched session per minute: what a flood is judged on.
    anonymous: MinuteSeries,
    minute: i64,
    baseline: RobustBaseline<120>,
    alarm_until_ms: i64,
    fired: Fired,
}

impl Default for FloodGlobal {
    fn default() -> Self {
        Self {
            requests: MinuteSeries::new(),
            anonymous: MinuteSeries::new(),
            minute: i64::MIN,
            baseline: RobustBaseline::new(),
            alarm_until_ms: 0,
            fired: Fired::default(),
        }
    }
}

impl FloodGlobal {
    /// Whether a global flood is believed to be going on.
    pub fn alarm(&self, now_ms: i64) -> bool {
        now_ms < self.alarm_until_ms
    }

    /// Counts a request and, when it came without a session the application vouched
    /// for, judges the global rate of such requests: colleagues at work are no flood.
    pub fn on_request(&mut self, cfg: &Config, now: i64, vouched: bool, out: &mut Vec<Finding>) {
        self.requests.add(now, 1);
        if vouched {
            return;
        }
        let minute = now.div_euclid(MINUTE_MS);
        if minute != self.minute {
            // Learn finished minutes outside floods (and at most an hour of silence).
            if self.minute != i64::MIN && !self.alarm(now) {
                let gap = (minute - self.minute).clamp(1, 60);
                for m in (minute - gap)..minute {
                    self.baseline.push(self.anonymous.count(m) as f64);
                }
            }
            self.minute = minute;
        }
        self.anonymous.add(now, 1);
        let this_minute = self.anonymous.count(minute) as f64;
        let typical = self.baseline.median_mad().map_or(0.0, |(m, _)| m);
        let limit = f64::from(cfg.global_flood_floor).max(cfg.global_flood_factor * typical);
        if this_minute >= limit {
            self.alarm_until_ms = now + 5 * MINUTE_MS;
            if self
                .fired
                .try_fire(Detector::GlobalFlood, now, ms(cfg.refire_after))
            {
                out.push(Finding::new(
                    Detector::GlobalFlood,
                    Severity::Critical,
                    Scope::Global,
                    format!(
                        "{} requests this minute, typical {}",
                        num(this_minute),
                        num(typical)
                    ),
                    ev([
                        ("requests_this_minute", num(this_minute)),
                        ("typical_per_minute", num(typical)),
                        ("limit", num(limit)),
                    ]),
                ));
            }
        }
    }

    /// Requests without a vouched session so far in the minute of `now`.
    pub fn this_minute(&self, now: i64) -> u64 {
        self.anonymous.count(now.div_euclid(MINUTE_MS))
    }
}

/// A flood three times over its limit is critical.
fn flood_severity(rate: f64, limit: f64) -> Severity {
    if rate >= 3.0 * limit {
        Severity::Critical
    } else {
        Severity::High
    }
}

/// Judges one signed-in session's rate. Its requests are its own and do not count
/// for its address, so that a clinic's shared address is judged by what comes from
/// it anonymously, not by how many colleagues are at work behind it.
pub fn on_session_request(
    cfg: &Config,
    session: &mut SessionState,
    key: crate::event::SessionKey,
    now: i64,
    out: &mut Vec<Finding>,
) {
    session.requests.add(now, MINUTE_MS, 1);
    let rate = session.requests.estimate(now, MINUTE_MS);
    let limit = f64::from(cfg.source_requests_per_minute);
    let severity = flood_severity(rate, limit);
    if rate >= limit
        && session.common.fired.try_fire_at(
            Detector::SourceFlood,
            severity,
            now,
            ms(cfg.refire_after),
        )
    {
        out.push(Finding::new(
            Detector::SourceFlood,
            severity,
            Scope::Session(key),
            format!("{} requests a minute from one session", num(rate)),
            ev([("requests_per_minute", num(rate)), ("limit", num(limit))]),
        ));
    }
}

/// Judges one source's rate (times its shared-address tolerance); during a global
/// flood, a source with a large share of the traffic is a flooder too.
pub fn on_source_request(
    cfg: &Config,
    src: &mut SourceState,
    source: std::net::IpAddr,
    now: i64,
    global: &FloodGlobal,
    out: &mut Vec<Finding>,
) {
    src.requests.add(now, MINUTE_MS, 1);
    let rate = src.requests.estimate(now, MINUTE_MS);
    let tolerance = src.tolerance(
        now,
        cfg.shared_address_tolerance_per_account,
        cfg.max_shared_address_tolerance,
    );
    let mut limit = f64::from(cfg.source_requests_per_minute) * tolerance;
    let global_now = global.this_minute(now) as f64;
    let during_flood = global.alarm(now);
    if during_flood {
        limit = limit.min((0.05 * global_now).max(60.0) * tolerance);
    }
    let severity = flood_severity(rate, limit);
    if rate >= limit
        && src
            .common
            .fired
            .try_fire_at(Detector::SourceFlood, severity, now, ms(cfg.refire_after))
    {
        out.push(Finding::new(
            Detector::SourceFlood,
            severity,
            Scope::Source(source),
            format!("{} requests a minute from one address", num(rate)),
            ev([
                ("requests_per_minute", num(rate)),
                ("limit", num(limit)),
                ("during_global_flood", during_flood.to_string()),
                ("shared_address_tolerance", num(tolerance)),
            ]),
        ));
    }
}

/// Counts a slow-request timeout.
pub fn on_slow(cfg: &Config, src: &mut SourceState, e: &SlowRequestEvent, out: &mut Vec<Finding>) {
    let window = ms(cfg.auth_window);
    src.slow.add(e.at_ms, window, 1);
    let slow = src.slow.estimate(e.at_ms, window);
    let tolerance = src.tolerance(
        e.at_ms,
        cfg.shared_address_tolerance_per_account,
        cfg.max_shared_address_tolerance,
    );
    let limit = f64::from(cfg.slow_requests) * tolerance;
    let severity = if slow >= 4.0 * limit {
        Severity::Critical
    } else {
        Severity::High
    };
    if slow >= limit
        && src.common.fired.try_fire_at(
            Detector::SlowAttack,
            severity,
            e.at_ms,
            ms(cfg.refire_after),
        )
    {
        out.push(Finding::new(
            Detector::SlowAttack,
            severity,
            Scope::Source(e.source),
            format!("{} slow requests timed out", num(slow)),
            ev([
                ("slow_requests", num(slow)),
                ("limit", num(limit)),
                ("window_s", cfg.auth_window.as_secs().to_string()),
            ]),
        ));
    }
}

/// Counts WebSocket messages of a session.
pub fn on_socket(
    cfg: &Config,
    session: &mut SessionState,
    e: &SocketMessagesEvent,
    out: &mut Vec<Finding>,
) {
    session.socket_messages.add(e.at_ms, MINUTE_MS, e.count);
    let rate = session.socket_messages.estimate(e.at_ms, MINUTE_MS);
    if rate >= f64::from(cfg.socket_messages_per_minute)
        && session
            .common
            .fired
            .try_fire(Detector::SocketFlood, e.at_ms, ms(cfg.refire_after))
    {
        out.push(Finding::new(
            Detector::SocketFlood,
            Severity::High,
            Scope::Session(e.session),
            format!("{} WebSocket messages a minute", num(rate)),
            ev([
                ("messages_per_minute", num(rate)),
                ("limit", cfg.socket_messages_per_minute.to_string()),
            ]),
        ));
    }
}
