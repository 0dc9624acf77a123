//! What the sentinel watches: requests (from the [layer](crate::layer)) and domain events
//! (from the application through [`Sentinel::record`](crate::Sentinel::record)).
//!
//! Times are supplied by the caller in milliseconds since the Unix epoch, so tests and
//! simulations control time and never sleep.

use std::net::IpAddr;

use serde::Serialize;

use crate::detect::Severity;

/// A session key as the sentinel knows it: a keyed hash of the key the application
/// uses (the cookie value), never the key itself. Make one with
/// [`Sentinel::session_key`](crate::Sentinel::session_key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct SessionKey(pub(crate) u64);

impl SessionKey {
    /// The hash, e.g. for logs.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

/// One thing that happened.
#[derive(Debug, Clone)]
pub enum Event {
    /// An HTTP request finished (or was refused by the layer).
    Request(RequestEvent),
    /// A sign-in attempt or second-factor check.
    Auth(AuthEvent),
    /// A resource owned by `subject` was read.
    ResourceRead(ResourceReadEvent),
    /// Many subjects' resources were exported at once.
    Export(ExportEvent),
    /// A WebSocket session sent `count` messages since the last report.
    SocketMessages(SocketMessagesEvent),
    /// The server gave up on a request that was too slow to arrive or to be read
    /// (slowloris, slow body, slow read).
    SlowRequest(SlowRequestEvent),
}

impl Event {
    /// When it happened, in milliseconds since the Unix epoch.
    pub fn at_ms(&self) -> i64 {
        match self {
            Event::Request(e) => e.at_ms,
            Event::Auth(e) => e.at_ms,
            Event::ResourceRead(e) => e.at_ms,
            Event::Export(e) => e.at_ms,
            Event::SocketMessages(e) => e.at_ms,
            Event::SlowRequest(e) => e.at_ms,
        }
    }

    /// The client address it came from.
    pub fn source(&self) -> IpAddr {
        match self {
            Event::Request(e) => e.source,
            Event::Auth(e) => e.source,
            Event::ResourceRead(e) => e.source,
            Event::Export(e) => e.source,
            Event::SocketMessages(e) => e.source,
            Event::SlowRequest(e) => e.source,
        }
    }
}

/// Facts about a request's headers that tell browsers from tools.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeaderFacts {
    /// An `Accept` header was sent.
    pub accept: bool,
    /// An `Accept-Language` header was sent (browsers always send one).
    pub accept_language: bool,
    /// A `Referer` header was sent.
    pub referer: bool,
    /// Any `Sec-Fetch-*` header was sent (modern browsers send them on every request).
    pub sec_fetch: bool,
    /// A `Cookie` header was sent.
    pub cookie: bool,
}

/// A probe the inspector found in a request (injection, scanner, sensitive path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeHit {
    /// Attack family, e.g. `sqli`, `xss`, `traversal`, `scanner`.
    pub family: String,
    /// The rule or pattern that matched.
    pub rule: String,
    /// Where it was found: `path`, `query`, `body`, `cookie`, `header`.
    pub location: String,
    /// The decoded text that matched (short, escaped), for the alert's evidence.
    pub evidence: String,
    /// How bad it is.
    pub severity: Severity,
}

/// A finished request.
#[derive(Debug, Clone)]
pub struct RequestEvent {
    /// When the request arrived (ms since the epoch).
    pub at_ms: i64,
    /// HTTP method.
    pub method: http::Method,
    /// Route template (`/records/{id}`) when the router matched one, else a coarse path
    /// (the first segment), so that unmatched paths do not make unbounded keys.
    pub route: String,
    /// The path as requested (truncated), for distinct-path counting and evidence.
    pub path: String,
    /// Response status.
    pub status: u16,
    /// Response body bytes sent.
    pub bytes_out: u64,
    /// Time from request to the end of the response body, in milliseconds.
    pub duration_ms: u64,
    /// Client address.
    pub source: IpAddr,
    /// User agent (truncated).
    pub user_agent: Option<String>,
    /// Header facts.
    pub headers: HeaderFacts,
    /// The response was an HTML page (an interactive page a browser renders).
    pub html: bool,
    /// Session key hash, when the request carried the session cookie.
    pub session: Option<SessionKey>,
    /// The account, when the application identified the user (see
    /// [`IdentitySlot`](crate::IdentitySlot)).
    pub account: Option<String>,
    /// Probes found by the inspector in the request.
    pub probes: Vec<ProbeHit>,
}

/// How a sign-in step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum AuthOutcome {
    /// Signed in (or the second factor was accepted).
    Success,
    /// The account exists; the password was wrong.
    BadPassword,
    /// No such account.
    UnknownAccount,
    /// The password was right; the second factor was wrong.
    SecondFactorFailed,
}

impl AuthOutcome {
    /// Whether this is a failure.
    pub fn is_failure(self) -> bool {
        self != AuthOutcome::Success
    }
}

/// A sign-in step.
#[derive(Debug, Clone)]
pub struct AuthEvent {
    /// When (ms since the epoch).
    pub at_ms: i64,
    /// Client address.
    pub source: IpAddr,
    /// The account name tried (for `UnknownAccount`, attacker-chosen text: the sentinel
    /// never keeps per-account state for it).
    pub account: String,
    /// How it ended.
    pub outcome: AuthOutcome,
}

/// A resource read on behalf of `account`.
#[derive(Debug, Clone)]
pub struct ResourceReadEvent {
    /// When (ms since the epoch).
    pub at_ms: i64,
    /// Client address.
    pub source: IpAddr,
    /// Who read it.
    pub account: String,
    /// The access token's id (never its secret), when the read used one.
    pub token: Option<String>,
    /// Opaque id of the owner of the resource read. Numeric ids (or ids ending in
    /// digits) are also checked for sequential walking.
    pub subject: String,
    /// Bytes sent.
    pub bytes: u64,
}

/// A bulk export.
#[derive(Debug, Clone)]
pub struct ExportEvent {
    /// When (ms since the epoch).
    pub at_ms: i64,
    /// Client address.
    pub source: IpAddr,
    /// Who exported.
    pub account: String,
    /// How many subjects' resources were in it.
    pub subjects: u64,
    /// Bytes sent.
    pub bytes: u64,
}

/// Messages a WebSocket session sent since its last report.
#[derive(Debug, Clone)]
pub struct SocketMessagesEvent {
    /// When (ms since the epoch).
    pub at_ms: i64,
    /// Client address.
    pub source: IpAddr,
    /// The session.
    pub session: SessionKey,
    /// Messages since the last report.
    pub count: u32,
}

/// A request the server timed out because it arrived or was read too slowly.
#[derive(Debug, Clone)]
pub struct SlowRequestEvent {
    /// When (ms since the epoch).
    pub at_ms: i64,
    /// Client address.
    pub source: IpAddr,
}
