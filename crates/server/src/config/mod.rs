//! The one configuration struct.
//!
//! Layering (defaults → `telewarden.toml` → `TW_…` environment → command-line flags) is
//! done by the binary; this module defines the keys, their defaults and documentation,
//! validation that names the offending key, and the redacted view printed by
//! `telewarden config check`.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use ipnet::IpNet;

mod render;
mod validate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Everything an operator can set. Each field is one key of `telewarden.toml`, one
/// `TW_<KEY>` environment variable (nested keys use `__`, e.g. `TW_LIMITS__MAX_BODY_BYTES`),
/// and, for the common ones, a flag of `telewarden serve`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Directory for the SQLite database, the ledger signing key and generated TLS files.
    pub data_dir: PathBuf,
    /// Address and port of the web app. Without TLS or a trusted proxy, only loopback
    /// addresses are allowed.
    pub listen: SocketAddr,
    /// The address people type to reach Telewarden, e.g. `https://telehealth.example.org`.
    /// Used in printed links and to recognise same-origin requests. Defaults to the
    /// listen address.
    pub public_url: Option<String>,
    /// `postgres://…` to use PostgreSQL; unset means SQLite in `data_dir`. Secret: it may
    /// hold a password (also readable from the file named by `TW_DATABASE_URL_FILE`).
    pub database_url: Option<Secret>,
    /// The master key (64 hex characters) that seals secrets at rest. Unset: a key file
    /// `master.key` is created in `data_dir` (mode 0600) on first start. Secret.
    pub master_key: Option<Secret>,
    /// PEM certificate chain for TLS.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for TLS.
    pub tls_key: Option<PathBuf>,
    /// Generate a self-signed certificate into `data_dir/tls/` (for trying things out).
    pub tls_self_signed: bool,
    /// With TLS on: also listen here with plain HTTP and redirect everything to HTTPS.
    pub redirect_listen: Option<SocketAddr>,
    /// Trusted reverse proxies (addresses or CIDR ranges). Only requests arriving from
    /// these have their `X-Forwarded-For` believed; setting this allows plain HTTP on a
    /// non-loopback address, because the proxy terminates TLS.
    #[serde(deserialize_with = "proxies_from_list_or_string")]
    pub behind_proxy: Vec<IpNet>,
    /// Address of the Prometheus `/metrics` listener; loopback by default. Set to
    /// `"off"` to disable it.
    #[serde(with = "optional_addr")]
    pub metrics_listen: Option<SocketAddr>,
    /// Log output: `text` (for people) or `json` (for collectors).
    pub log_format: LogFormat,
    /// Minimum level logged: `error`, `warn`, `info`, `debug` or `trace`.
    pub log_level: LogLevel,
    /// How long the first-run setup link stays valid, in minutes.
    pub setup_link_minutes: u32,
    /// Resource limits that keep one slow or greedy client from holding the server.
    pub limits: Limits,
    /// Audit ledger tuning.
    pub ledger: LedgerSettings,
    /// How long sessions last.
    pub sessions: SessionSettings,
    /// Outgoing e-mail (invitations, security notifications).
    pub mail: MailSettings,
    /// The TURN relay (coturn) that video calls fall back to when browsers cannot reach
    /// each other directly.
    pub turn: TurnSettings,
    /// Traffic monitoring and defence (the sentinel).
    pub sentinel: SentinelSettings,
    /// Continuous risk assessment: how often the checks run, where the advisory
    /// database is, the formal review cycle.
    pub assurance: AssuranceSettings,
    /// Security training and phishing simulations.
    pub training: TrainingSettings,
    /// End-to-end encrypted messaging.
    pub messaging: MessagingSettings,
}

/// End-to-end encrypted messaging (the server keeps only ciphertext).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MessagingSettings {
    /// Largest encrypted attachment accepted, in bytes.
    pub max_attachment_bytes: usize,
    /// Most attachment bytes one conversation may hold: blobs are kept as long as the
    /// conversation, so without a cap one member could fill the server's disk.
    pub max_conversation_bytes: u64,
    /// Most conversations one account may start in 24 hours, so nobody can fill the
    /// database with empty conversations.
    pub max_new_conversations_per_day: u32,
}

impl Default for MessagingSettings {
    fn default() -> Self {
        Self {
            max_attachment_bytes: 10 * 1024 * 1024,
            max_conversation_bytes: 1024 * 1024 * 1024,
            max_new_conversations_per_day: 20,
        }
    }
}

/// Security training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainingSettings {
    /// Staff must pass their lessons before they first open patient records (on by
    /// default; turning it off is for evaluation installs only).
    pub required_before_records: bool,
}

impl Default for TrainingSettings {
    fn default() -> Self {
        Self {
            required_before_records: true,
        }
    }
}

/// The automated checks run on this schedule (and on demand); the formal review of the
/// risk assessment comes round every `review_months`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AssuranceSettings {
    /// Hours between scheduled runs of the automated checks (1 to 168; daily by default).
    pub check_every_hours: u32,
    /// A checkout of the RustSec advisory database (github.com/rustsec/advisory-db),
    /// kept up to date by the operator. Default: `advisory-db` in the data directory.
    pub advisory_db: Option<PathBuf>,
    /// Months between formal reviews of the risk assessment (1 to 24).
    pub review_months: u32,
}

impl Default for AssuranceSettings {
    fn default() -> Self {
        Self {
            check_every_hours: 24,
            advisory_db: None,
            review_months: 12,
        }
    }
}

/// The sentinel watches every request and the security events of the domain code,
/// raises alerts and answers attacks (step-up, throttle, block).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SentinelSettings {
    /// `enforce` (the default): watch, alert and answer attacks (step-up, throttle,
    /// block, shed load). `watch`: watch and alert only, refuse nothing — for a trial
    /// period, or a test suite whose own traffic looks like an attack. `off`: nothing
    /// is watched (only to measure what the sentinel costs).
    pub mode: SentinelMode,
    /// Where alerts are also POSTed as JSON (`http://` or `https://`), e.g. a chat
    /// or paging service's incoming webhook. Secret: the URL often holds a token.
    pub webhook_url: Option<Secret>,
    /// Requests served at once before the least trusted are turned away (503), so
    /// signed-in users and consults keep being served during a flood.
    pub max_in_flight: usize,
    /// Requests a minute from one address (not counting those of signed-in sessions,
    /// judged on their own) or from one signed-in session before it is throttled.
    /// A clinic's shared address gets more for each colleague who signs in from it.
    pub requests_per_minute: u32,
}

/// What the sentinel does; see [`SentinelSettings::mode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SentinelMode {
    Enforce,
    Watch,
    Off,
}

impl Default for SentinelSettings {
    fn default() -> Self {
        Self {
            mode: SentinelMode::Enforce,
            webhook_url: None,
            max_in_flight: 512,
            requests_per_minute: 600,
        }
    }
}

/// coturn with its shared-secret REST scheme (`use-auth-secret`): Telewarden hands each
/// participant short-lived credentials derived from the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TurnSettings {
    /// TURN URLs, e.g. `["turn:turn.example.org:3478?transport=udp"]`. Empty: no relay
    /// (calls work when the browsers can reach each other).
    pub urls: Vec<String>,
    /// coturn's `static-auth-secret`. Secret.
    pub secret: Option<Secret>,
    /// Lifetime of issued credentials, in seconds (at most 600).
    pub ttl_secs: u32,
    /// Send every call through the relay (hides addresses from the other party).
    pub relay_only: bool,
}

impl Default for TurnSettings {
    fn default() -> Self {
        Self {
            urls: Vec::new(),
            secret: None,
            ttl_secs: 600,
            relay_only: false,
        }
    }
}

/// Session lifetimes. Staff sessions end sooner when idle: their screens show many
/// patients' data, often on shared workstations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionSettings {
    /// Minutes without activity after which a staff session ends.
    pub staff_idle_minutes: u32,
    /// Minutes without activity after which a patient session ends.
    pub patient_idle_minutes: u32,
    /// Hours after sign-in at which every session ends.
    pub absolute_hours: u32,
    /// Seconds a sign-in counts as recent for sensitive actions (step-up).
    pub step_up_seconds: u32,
    /// Days an invitation link stays valid.
    pub invitation_days: u32,
}

/// Where e-mail goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailSettings {
    /// `outbox` writes each message as a `.eml` file into `outbox_dir` (for trying
    /// things out and for tests); `smtp` sends through `smtp_host`.
    pub transport: MailTransport,
    /// Directory for the outbox [default: `<data_dir>/outbox`].
    pub outbox_dir: Option<PathBuf>,
    /// Sender address, e.g. `Harbour Clinic <telehealth@harbour.example>`.
    pub from: String,
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    pub smtp_username: Option<String>,
    /// Secret (also readable from the file named by `TW_MAIL__SMTP_PASSWORD_FILE`).
    pub smtp_password: Option<Secret>,
    /// `starttls` (port 587), `tls` (port 465), or `none` — allowed only to a loopback relay.
    pub smtp_security: SmtpSecurity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    Outbox,
    Smtp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    Starttls,
    Tls,
    None,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            staff_idle_minutes: 15,
            patient_idle_minutes: 30,
            absolute_hours: 12,
            step_up_seconds: 300,
            invitation_days: 7,
        }
    }
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            transport: MailTransport::Outbox,
            outbox_dir: None,
            from: "Telewarden <telewarden@localhost>".into(),
            smtp_host: None,
            smtp_port: 587,
            smtp_username: None,
            smtp_password: None,
            smtp_security: SmtpSecurity::Starttls,
        }
    }
}

/// Per-connection and per-request limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Time allowed to send a request's headers, and to keep an idle connection open
    /// between requests, in seconds.
    pub header_read_timeout_secs: u64,
    /// Time allowed to send a request's body, in seconds.
    pub body_read_timeout_secs: u64,
    /// Time allowed for the whole request, in seconds.
    pub request_timeout_secs: u64,
    /// Time allowed for a TLS handshake, in seconds.
    pub tls_handshake_timeout_secs: u64,
    /// Open connections at most; further ones are closed at once.
    pub max_connections: usize,
    /// On shutdown, how long in-flight requests may take to finish, in seconds.
    pub shutdown_grace_secs: u64,
}

/// When the ledger signs a checkpoint and how it batches writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LedgerSettings {
    /// Sign a tree head after this many new entries…
    pub checkpoint_every: u64,
    /// …or after this many seconds with new entries, whichever comes first.
    pub checkpoint_interval_secs: u64,
    /// Most entries written in one group commit.
    pub batch_max: usize,
    /// At start, recompute the whole ledger (`full`, the default) or only check the
    /// latest signed tree head and the entries after it (`head`, for very large logs;
    /// run `telewarden audit verify` on a schedule instead).
    pub verify_on_start: VerifyOnStart,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerifyOnStart {
    Full,
    Head,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./telewarden-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            database_url: None,
            master_key: None,
            tls_cert: None,
            tls_key: None,
            tls_self_signed: false,
            redirect_listen: None,
            behind_proxy: Vec::new(),
            metrics_listen: Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
            log_format: LogFormat::Text,
            log_level: LogLevel::Info,
            setup_link_minutes: 60,
            limits: Limits::default(),
            ledger: LedgerSettings::default(),
            sessions: SessionSettings::default(),
            mail: MailSettings::default(),
            turn: TurnSettings::default(),
            sentinel: SentinelSettings::default(),
            assurance: AssuranceSettings::default(),
            training: TrainingSettings::default(),
            messaging: MessagingSettings::default(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 20,
            request_timeout_secs: 30,
            tls_handshake_timeout_secs: 10,
            max_connections: 1024,
            shutdown_grace_secs: 20,
        }
    }
}

impl Default for LedgerSettings {
    fn default() -> Self {
        Self {
            checkpoint_every: 1000,
            checkpoint_interval_secs: 60,
            batch_max: 512,
            verify_on_start: VerifyOnStart::Full,
        }
    }
}

/// A configuration value that must not be printed or logged.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Serialize for Secret {
    // Serialising is how configuration is shown; secrets are never shown.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // A URL keeps its scheme and host (useful to check), never its password; any
        // other secret is shown only as set.
        if self.0.contains("://") {
            s.serialize_str(&redact_url(&self.0))
        } else {
            s.serialize_str("***")
        }
    }
}

/// A configuration value that is not acceptable, naming the key and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration key `{key}`: {reason}")]
pub struct ConfigError {
    pub key: &'static str,
    pub reason: String,
}

impl Config {
    /// Whether TLS is configured (files or self-signed).
    pub fn tls_enabled(&self) -> bool {
        self.tls_self_signed || self.tls_cert.is_some()
    }

    /// The database URL in effect: the configured one, or SQLite in the data directory.
    pub fn effective_database_url(&self) -> Secret {
        match &self.database_url {
            Some(url) => url.clone(),
            None => Secret(format!(
                "sqlite://{}",
                self.data_dir.join("telewarden.db").display()
            )),
        }
    }

    /// The origin (`scheme://host[:port]`) the web app is reached at.
    pub fn public_origin(&self, bound: SocketAddr) -> String {
        if let Some(Ok(origin)) = self.public_url.as_deref().map(parse_origin) {
            return origin;
        }
        let scheme = if self.tls_enabled() { "https" } else { "http" };
        // Loopback is shown as `localhost`: browsers accept passkeys only for domain
        // names, never for IP addresses.
        let host = match bound.ip() {
            ip if ip.is_unspecified() || is_loopback(ip) => "localhost".to_owned(),
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
        };
        format!("{scheme}://{host}:{}", bound.port())
    }

    /// The configuration as `telewarden config check` prints it: TOML, secrets redacted.
    pub fn to_redacted_toml(&self) -> String {
        render::render(self)
    }

    /// Where outbox e-mail is written.
    pub fn outbox_dir(&self) -> PathBuf {
        self.mail
            .outbox_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("outbox"))
    }

    /// Path of a file inside the data directory.
    pub fn data_path(&self, name: impl AsRef<Path>) -> PathBuf {
        self.data_dir.join(name)
    }
}

/// `true` for 127.0.0.0/8 and ::1.
pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Checks `url` is `http(s)://host[:port]` with nothing after it, and returns it without
/// a trailing slash.
pub fn parse_origin(url: &str) -> Result<String, String> {
    let trimmed = url.trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| "must start with https:// or http://".to_owned())?;
    if rest.is_empty() {
        return Err("has no host".into());
    }
    if rest.contains(['/', '?', '#', '@', ' ']) {
        return Err("must be only scheme, host and port (no path, query or user)".into());
    }
    Ok(trimmed.to_owned())
}

/// `scheme://user:password@host` → `scheme://user:***@host`.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let authority_end = url[scheme_end..]
        .find('/')
        .map_or(url.len(), |i| scheme_end + i);
    let authority = &url[scheme_end..authority_end];
    match (authority.find(':'), authority.rfind('@')) {
        (Some(c), Some(a)) if c < a => format!(
            "{}{}:***{}",
            &url[..scheme_end],
            &authority[..c],
            &url[scheme_end + a..]
        ),
        _ => url.to_owned(),
    }
}

fn proxies_from_list_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        One(String),
        Many(Vec<String>),
    }
    let items = match Raw::deserialize(d)? {
        Raw::One(s) => s.split(',').map(str::to_owned).collect(),
        Raw::Many(v) => v,
    };
    items
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    serde::de::Error::custom(format!("`{s}` is not an IP address or CIDR range"))
                })
        })
        .collect()
}

mod optional_addr {
    use std::net::SocketAddr;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<SocketAddr>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(a) => s.serialize_str(&a.to_string()),
            None => s.serialize_str("off"),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
        let s = String::deserialize(d)?;
        if s.eq_ignore_ascii_case("off") || s.is_empty() {
            return Ok(None);
        }
        s.parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("`{s}` is not ADDRESS:PORT or \"off\"")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_loopback_only() {
        let c = Config::default();
        c.validate().unwrap();
        assert!(is_loopback(c.listen.ip()));
        assert!(!c.tls_enabled());
    }

    #[test]
    fn public_listen_needs_tls_or_proxy() {
        let mut c = Config {
            listen: "0.0.0.0:8443".parse().unwrap(),
            ..Config::default()
        };
        let err = c.validate().unwrap_err();
        assert_eq!(err.key, "listen");
        assert!(err.reason.contains("TLS is required"), "{err}");
        c.tls_self_signed = true;
        c.validate().unwrap();
        c.tls_self_signed = false;
        c.behind_proxy = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(c.validate().unwrap_err().key, "public_url");
        c.public_url = Some("https://tele.example.org".into());
        c.validate().unwrap();
    }

    #[test]
    fn tls_files_come_in_pairs() {
        let c = Config {
            tls_cert: Some("a.pem".into()),
            ..Config::default()
        };
        assert_eq!(c.validate().unwrap_err().key, "tls_key");
    }

    #[test]
    fn public_url_must_be_an_origin() {
        for bad_url in [
            "ftp://x",
            "https://",
            "https://x/path",
            "https://u@x",
            "x.org",
        ] {
            let c = Config {
                public_url: Some(bad_url.into()),
                ..Config::default()
            };
            assert_eq!(c.validate().unwrap_err().key, "public_url", "{bad_url}");
        }
        assert_eq!(
            parse_origin("https://clinic.example:8443/").unwrap(),
            "https://clinic.example:8443"
        );
    }

    #[test]
    fn messaging_limits_are_checked() {
        for (key, set) in [
            (
                "messaging.max_conversation_bytes",
                (|c: &mut Config| c.messaging.max_conversation_bytes = 0) as fn(&mut Config),
            ),
            ("messaging.max_conversation_bytes", |c| {
                c.messaging.max_conversation_bytes = 1023
            }),
            ("messaging.max_conversation_bytes", |c| {
                c.messaging.max_conversation_bytes = 1024 * 1024 * 1024 * 1024 + 1
            }),
            ("messaging.max_new_conversations_per_day", |c| {
                c.messaging.max_new_conversations_per_day = 0
            }),
            ("messaging.max_new_conversations_per_day", |c| {
                c.messaging.max_new_conversations_per_day = 10_001
            }),
        ] {
            let mut c = Config::default();
            set(&mut c);
            let err = c.validate().unwrap_err();
            assert_eq!(err.key, key, "{err}");
            assert!(err.reason.contains("between"), "{err}");
        }
        let mut c = Config::default();
        c.messaging.max_conversation_bytes = 1024;
        c.messaging.max_new_conversations_per_day = 1;
        c.validate().unwrap();
        c.messaging.max_conversation_bytes = 1024 * 1024 * 1024 * 1024;
        c.messaging.max_new_conversations_per_day = 10_000;
        c.validate().unwrap();
    }

    #[test]
    fn redacts_database_passwords() {
        assert_eq!(
            redact_url("postgres://tw:hunter2@db:5432/tw"),
            "postgres://tw:***@db:5432/tw"
        );
        assert_eq!(redact_url("postgres://tw@db/tw"), "postgres://tw@db/tw");
        let c = Config {
            database_url: Some(Secret::new("postgres://tw:hunter2@db/tw")),
            ..Config::default()
        };
        let shown = c.to_redacted_toml();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("postgres://tw:***@db/tw"), "{shown}");
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn effective_database_defaults_to_sqlite_in_data_dir() {
        let c = Config::default();
        assert_eq!(
            c.effective_database_url().expose(),
            "sqlite://./telewarden-data/telewarden.db"
        );
    }

    #[test]
    fn origin_follows_tls_and_bound_port() {
        let mut c = Config::default();
        assert_eq!(
            c.public_origin("127.0.0.1:4000".parse().unwrap()),
            "http://localhost:4000"
        );
        c.tls_self_signed = true;
        assert_eq!(
            c.public_origin("0.0.0.0:443".parse().unwrap()),
            "https://localhost:443"
        );
        c.public_url = Some("https://tele.example.org".into());
        assert_eq!(
            c.public_origin("0.0.0.0:443".parse().unwrap()),
            "https://tele.example.org"
        );
    }
}
