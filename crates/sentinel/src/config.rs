//! The sentinel's one configuration struct, with defaults sized for a single practice
//! server (hundreds of accounts, a few thousand requests a minute at peak).

use std::net::IpAddr;
use std::time::Duration;

use http::HeaderName;

/// Everything the sentinel can be tuned with. `Config::default()` is meant to be usable
/// as is; each field says what it trades off.
#[derive(Debug, Clone)]
pub struct Config {
    // ---- Event queue ----
    /// Events the queue holds before [`record`](crate::Sentinel::record) starts dropping
    /// (and counting) them. The request path never waits for the engine.
    pub queue_capacity: usize,

    // ---- Bounded state ----
    /// Most sources (client addresses) tracked exactly. Beyond it the least risky, stalest
    /// entry is evicted (see [`crate::table`]).
    pub max_sources: usize,
    /// Most accounts tracked exactly.
    pub max_accounts: usize,
    /// Most authenticated sessions tracked exactly.
    pub max_sessions: usize,
    /// Most access tokens tracked exactly (data-transfer baselines per token).
    pub max_tokens: usize,
    /// A new source gets an exact entry only once the count-min sketch has seen it this
    /// many times (or at once when it carries a finding), so a flood of one-shot
    /// addresses cannot grow memory.
    pub admit_after_events: u32,
    /// Entries idle this long (with no risk left) are pruned.
    pub idle_ttl: Duration,

    // ---- Risk and responses ----
    /// Risk halves over this period without new evidence.
    pub risk_half_life: Duration,
    /// Risk at which a sign-in or sensitive action should ask for a second factor.
    pub step_up_at: f64,
    /// Risk at which a source or session is throttled.
    pub throttle_at: f64,
    /// Risk at which a source is blocked, or an account held for review.
    pub block_at: f64,
    /// Requests a minute a throttled source or session may still make.
    pub throttle_requests_per_minute: u32,
    /// How long a throttle lasts once decided.
    pub throttle_for: Duration,
    /// How long a first block lasts; each further block of the same source doubles it, up
    /// to `max_block_for`.
    pub block_for: Duration,
    /// Longest automatic block.
    pub max_block_for: Duration,
    /// Each distinct account that signed in successfully from a source in the last day
    /// raises that source's tolerance for auth-failure and error-rate rules by this
    /// fraction (a clinic NAT with 30 users tolerates 1 + 30 × 0.2 = 7 times more).
    pub shared_address_tolerance_per_account: f64,
    /// Cap on the shared-address tolerance factor.
    pub max_shared_address_tolerance: f64,
    /// A rule may fire again for the same identity only after this long (its risk then
    /// adds up while an attack goes on).
    pub refire_after: Duration,

    // ---- Auth rules ----
    /// Sliding window of the auth rules.
    pub auth_window: Duration,
    /// Failures on one account within the window that make a brute-force finding.
    pub brute_force_failures: u32,
    /// Distinct accounts failing from one source within the window that make a
    /// credential-stuffing finding (times the source's shared-address tolerance).
    pub stuffing_distinct_accounts: u32,
    /// Failures from one source within the window (whatever the accounts) that make a
    /// source-failures finding (times the tolerance).
    pub source_failures: u32,
    /// Global sign-in attempts within the window below which the global failure ratio
    /// is not judged.
    pub global_min_attempts: u32,
    /// Global failures within the window below which the global ratio is not judged.
    pub global_min_failures: u32,
    /// The global failure ratio must exceed this floor, and its baseline by
    /// `global_ratio_factor`, for a distributed-stuffing finding.
    pub global_failure_ratio_floor: f64,
    /// See `global_failure_ratio_floor`.
    pub global_ratio_factor: f64,
    /// How long the distributed-stuffing alarm lasts after the last judgement that saw it.
    pub stuffing_alarm_for: Duration,

    // ---- Enumeration ----
    /// Window of the enumeration rule.
    pub enumeration_window: Duration,
    /// Distinct paths answered 401/403/404 within the window for one source (times its
    /// tolerance) or one session.
    pub enumeration_distinct_paths: u32,

    // ---- Bots ----
    /// Requests needed before the cadence of a source is judged.
    pub cadence_min_requests: u32,
    /// Coefficient of variation of inter-request gaps below which cadence is machine-like.
    pub cadence_max_cv: f64,
    /// Mean gap below which a regular cadence counts (slow regular polling is fine).
    pub cadence_max_mean_gap: Duration,
    /// HTML pages without Accept-Language or Accept, or with a known tool user agent,
    /// before a header-anomaly finding.
    pub header_anomaly_pages: u32,
    /// HTML pages fetched by a client that never fetched an asset (and sends no
    /// Sec-Fetch-* headers) before a no-JS finding.
    pub no_assets_pages: u32,
    /// Path prefixes of static assets (JS, CSS) that browsers fetch for pages.
    pub asset_path_prefixes: Vec<String>,

    // ---- Data transfer ----
    /// Hourly reads below which no bulk-read finding is made, whatever the baseline.
    pub transfer_hour_floor: f64,
    /// Daily reads below which no bulk-read finding is made, whatever the baseline.
    pub transfer_day_floor: f64,
    /// Reads above `transfer_factor` × the expected value (and above the floors) make a
    /// bulk-read finding.
    pub transfer_factor: f64,
    /// Without any history, reads of distinct subjects in an hour above this make a
    /// finding (a new account or token that starts by reading hundreds).
    pub transfer_absolute_hour: f64,
    /// Distinct subjects read by one identity within a minute (or two) above this make a
    /// finding at once, whatever the history: no one reads two charts a second.
    pub transfer_minute_subjects: f64,
    /// Hours of history before a seasonal (hour-of-week) slot is trusted over the
    /// identity's overall baseline.
    pub seasonal_min_observations: u16,
    /// Consecutive reads of increasing numeric subject ids (steps of at most
    /// `id_walk_max_step`) that make an id-walk finding.
    pub id_walk_run: u32,
    /// See `id_walk_run`.
    pub id_walk_max_step: u64,
    /// Subjects in one export above which an export finding is made.
    pub export_subjects: u64,

    // ---- Floods and slow attacks ----
    /// Requests a minute from one source (times its tolerance) that make a flood finding.
    pub source_requests_per_minute: u32,
    /// Global requests a minute must exceed this many times the baseline (and
    /// `global_flood_floor`) to make a global flood finding.
    pub global_flood_factor: f64,
    /// See `global_flood_factor`.
    pub global_flood_floor: u32,
    /// Slow-request timeouts from one source within `auth_window` that make a finding.
    pub slow_requests: u32,
    /// WebSocket messages a minute from one session that make a finding.
    pub socket_messages_per_minute: u32,

    // ---- Responses ----
    /// Answer findings with throttles, blocks and holds, and shed load. `false`
    /// ("watch only"): detect, score and alert, refuse nothing — except blocks a
    /// person set by hand.
    pub enforce: bool,

    // ---- Anomaly model ----
    /// Whether the streaming model scores identities (the ablation turns it off).
    pub model_enabled: bool,
    /// Model score above which a model finding is made (it can only ask for step-up).
    pub model_threshold: f64,

    // ---- Alerts ----
    /// Alerts buffered for slow subscribers (older ones are lost to them, not to the
    /// dashboard).
    pub alert_channel_capacity: usize,
    /// An alert with no new finding for this long is closed; a later finding opens a
    /// new one.
    pub alert_quiet_period: Duration,

    // ---- Layer ----
    /// Cookie that carries the session key; its value is hashed, never stored.
    pub session_cookie: Option<String>,
    /// Header carrying the client address when the peer is a trusted proxy.
    pub client_ip_header: Option<HeaderName>,
    /// Proxies whose `client_ip_header` is believed: addresses with a prefix length.
    pub trusted_proxies: Vec<IpPrefix>,
    /// Requests handled at once before everything but known-good sessions is shed.
    pub max_in_flight: usize,
    /// Fraction of `max_in_flight` from which risky sources are shed.
    pub shed_risky_at: f64,
    /// Fraction of `max_in_flight` from which requests without a known-good session
    /// are shed.
    pub shed_anonymous_at: f64,
    /// Route templates that are expensive (password hashing), with their own limit.
    pub expensive_routes: Vec<String>,
    /// Requests on expensive routes handled at once.
    pub expensive_max_in_flight: usize,
    /// Largest urlencoded or JSON body the layer reads to inspect for probes.
    pub inspect_body_limit: usize,
    /// Longest wait for such a body to arrive: a client slower than this gets 408 and
    /// counts as a slow request (slow-body attacks must not hold the inspector).
    pub inspect_body_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            queue_capacity: 16_384,
            max_sources: 50_000,
            max_accounts: 10_000,
            max_sessions: 50_000,
            max_tokens: 2_000,
            admit_after_events: 3,
            idle_ttl: Duration::from_secs(24 * 3600),
            risk_half_life: Duration::from_secs(30 * 60),
            step_up_at: 20.0,
            throttle_at: 45.0,
            block_at: 80.0,
            throttle_requests_per_minute: 30,
            throttle_for: Duration::from_secs(10 * 60),
            block_for: Duration::from_secs(15 * 60),
            max_block_for: Duration::from_secs(24 * 3600),
            shared_address_tolerance_per_account: 0.2,
            max_shared_address_tolerance: 10.0,
            refire_after: Duration::from_secs(5 * 60),
            auth_window: Duration::from_secs(10 * 60),
            brute_force_failures: 10,
            stuffing_distinct_accounts: 8,
            source_failures: 30,
            global_min_attempts: 40,
            global_min_failures: 25,
            global_failure_ratio_floor: 0.5,
            global_ratio_factor: 3.0,
            stuffing_alarm_for: Duration::from_secs(15 * 60),
            enumeration_window: Duration::from_secs(10 * 60),
            enumeration_distinct_paths: 25,
            cadence_min_requests: 30,
            cadence_max_cv: 0.15,
            cadence_max_mean_gap: Duration::from_secs(5),
            header_anomaly_pages: 10,
            no_assets_pages: 20,
            asset_path_prefixes: vec!["/static/".to_owned(), "/assets/".to_owned()],
            transfer_hour_floor: 40.0,
            transfer_day_floor: 120.0,
            transfer_factor: 5.0,
            transfer_absolute_hour: 300.0,
            transfer_minute_subjects: 120.0,
            seasonal_min_observations: 3,
            id_walk_run: 20,
            id_walk_max_step: 5,
            export_subjects: 500,
            source_requests_per_minute: 600,
            global_flood_factor: 5.0,
            global_flood_floor: 3_000,
            slow_requests: 5,
            socket_messages_per_minute: 600,
            enforce: true,
            model_enabled: true,
            model_threshold: 8.0,
            alert_channel_capacity: 256,
            alert_quiet_period: Duration::from_secs(30 * 60),
            session_cookie: None,
            client_ip_header: None,
            trusted_proxies: Vec::new(),
            max_in_flight: 512,
            shed_risky_at: 0.5,
            shed_anonymous_at: 0.8,
            expensive_routes: Vec::new(),
            expensive_max_in_flight: 4,
            inspect_body_limit: 16 * 1024,
            inspect_body_timeout: Duration::from_secs(10),
        }
    }
}

/// An address prefix (CIDR), e.g. `10.0.0.0/8`, for trusted proxies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpPrefix {
    addr: IpAddr,
    len: u8,
}

impl IpPrefix {
    /// The prefix `addr/len`; `len` is clamped to the address width.
    pub fn new(addr: IpAddr, len: u8) -> Self {
        let width = if addr.is_ipv4() { 32 } else { 128 };
        Self {
            addr,
            len: len.min(width),
        }
    }

    /// One address.
    pub fn host(addr: IpAddr) -> Self {
        Self::new(addr, 128)
    }

    /// Parses `a.b.c.d/n`, `a::b/n` or a bare address.
    pub fn parse(text: &str) -> Option<Self> {
        match text.split_once('/') {
            Some((addr, len)) => Some(Self::new(addr.parse().ok()?, len.parse().ok()?)),
            None => Some(Self::host(text.parse().ok()?)),
        }
    }

    /// Whether `addr` lies in the prefix.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.addr, addr) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0);
                u32::from(net) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.len))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

pub(crate) fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_their_addresses_only() {
        let p = IpPrefix::parse("10.1.0.0/16").unwrap();
        assert!(p.contains("10.1.200.3".parse().unwrap()));
        assert!(!p.contains("10.2.0.1".parse().unwrap()));
        assert!(!p.contains("::1".parse().unwrap()));
        let all = IpPrefix::parse("0.0.0.0/0").unwrap();
        assert!(all.contains("192.0.2.1".parse().unwrap()));
        let host = IpPrefix::parse("::1").unwrap();
        assert!(host.contains("::1".parse().unwrap()));
        assert!(IpPrefix::parse("nonsense/8").is_none());
    }
}
