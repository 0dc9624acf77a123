//! Probe inspection: injection strings, scanner user agents and sensitive paths in a
//! request's parts.
//!
//! [`inspect`] is a pure function over a request's parts ([`RequestParts`]): no I/O, no
//! state, no allocation beyond the values it decodes and the findings it returns. It is
//! meant to run on every request, so it looks at bounded input only (the first
//! [`MAX_BODY`] bytes of a body, the first [`MAX_VALUE`] bytes of any one value, at most
//! [`MAX_TARGETS`] values) and its patterns are compiled once, on first use.
//!
//! # How it looks
//! 1. **Split** the request into *targets*: the path, each query and form parameter
//!    (name and value), each string of a JSON body, the text and attribute values of an
//!    XML body, each part of a multipart body (and its file name), each cookie, the user
//!    agent, the referer and any header not known to be harmless ([`targets`]).
//! 2. **Decode** each target the way an attacker hides behind: percent-encoding (also
//!    double and `%uXXXX`), `+` for space in queries and forms, HTML entities, `\x`/`\u`
//!    escapes, overlong UTF-8 dots and slashes, full-width characters, NUL bytes and case
//!    ([`decode`]). Each family adds its own view on top: SQL without comments, shell
//!    without quotes and empty expansions, a path without `./` noise.
//! 3. **Match** each family's rules, a list of regular expressions about *attack syntax*
//!    (a quote that closes a string then `OR 1=1`, `UNION SELECT`, `../` runs, a command
//!    after a shell separator, `<script`, …), or a list of literals (scanner names,
//!    sensitive files) through Aho-Corasick.
//!
//! # Precision first
//! A finding is meant to mean "this is a probe": the rules are written so that the
//! traffic of a telehealth app does not trip them — FHIR search parameters
//! (`name=O'Brien`, `date=ge2024-01-01`, `identifier=http://…|123`), clinical notes that
//! say "select", "drop", "union", "cat", "rm", `<` and `;`, passwords full of symbols
//! (a JSON field named like a password is not inspected at all), browsers' ordinary
//! headers. Plain words are never enough: a rule wants the syntax around them.
//!
//! # Using it
//! The sentinel's engine turns the findings into risk: [`Finding::weight`] is a
//! confidence in 1..=10 (10: no legitimate request looks like this), and a request's
//! findings can be summed per source.

mod body;
mod clean;
mod command;
mod decode;
mod java;
mod php;
mod protocol;
mod rfi;
mod rules;
mod scanner;
mod sqli;
mod targets;
mod traversal;
mod xss;

use std::fmt;

use targets::{Target, TargetKind};

/// Bodies longer than this are inspected in their first `MAX_BODY` bytes only.
pub const MAX_BODY: usize = 16 * 1024;
/// One value (a parameter, a header, a JSON string) is inspected in its first
/// `MAX_VALUE` bytes only.
pub const MAX_VALUE: usize = 4 * 1024;
/// At most this many targets (values) are inspected per request; the rest are skipped.
pub const MAX_TARGETS: usize = 256;
/// At most this many findings are returned per request (one per rule and location).
pub const MAX_FINDINGS: usize = 16;
/// Evidence is cut to this many characters (an ellipsis marks the cut).
pub const MAX_EVIDENCE: usize = 80;

/// The parts of a request the inspector looks at, borrowed from the request.
///
/// Build it in the tower layer from `http::request::Parts` and, when the body has been
/// buffered (forms, JSON, XML up to [`MAX_BODY`]), the body bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestParts<'a> {
    /// The method as sent, e.g. `GET`.
    pub method: &'a str,
    /// The path, raw: still percent-encoded, without the query.
    pub path: &'a str,
    /// The query string without the `?`, raw.
    pub query: Option<&'a str>,
    /// Every header as (name, value). Names in any case; values as bytes because a
    /// header value need not be UTF-8.
    pub headers: &'a [(&'a str, &'a [u8])],
    /// The body, or its first bytes; `None` when not buffered.
    pub body: Option<&'a [u8]>,
    /// The `Content-Type` header, if any (also found in `headers`; given apart so that a
    /// caller that already parsed it need not search).
    pub content_type: Option<&'a str>,
}

/// A family of probes, roughly the OWASP Core Rule Set's attack families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// SQL (and NoSQL operator) injection.
    Sqli,
    /// Cross-site scripting: markup or script in a value.
    Xss,
    /// Path traversal and local file inclusion (`../`, `/etc/passwd`).
    Traversal,
    /// OS command injection (Unix shell, Windows cmd/PowerShell, SSI, mail protocols).
    CommandInjection,
    /// Remote file inclusion and server-side request forgery (URLs to IP literals,
    /// unusual schemes, cloud metadata addresses).
    RemoteInclusion,
    /// PHP code injection (`<?php`, superglobals, serialized objects, uploads of `.php`).
    PhpInjection,
    /// Java injection (Log4Shell `${jndi:`, OGNL/SpEL, `java.lang.Runtime`, serialized
    /// Java objects).
    JavaInjection,
    /// A known scanner or attack tool's user agent.
    Scanner,
    /// A path that only a probe asks for (`/.env`, `/.git/`, `/wp-admin`, backups).
    SensitivePath,
    /// Protocol abuse: header injection (CR/LF in values), NUL bytes, request smuggling
    /// headers, methods no application serves.
    Protocol,
}

impl Family {
    /// Every family, in a stable order (for tables and metrics).
    pub const ALL: [Family; 10] = [
        Family::Sqli,
        Family::Xss,
        Family::Traversal,
        Family::CommandInjection,
        Family::RemoteInclusion,
        Family::PhpInjection,
        Family::JavaInjection,
        Family::Scanner,
        Family::SensitivePath,
        Family::Protocol,
    ];

    /// A short stable name, e.g. for a metric label: `sqli`, `xss`, `traversal`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Sqli => "sqli",
            Family::Xss => "xss",
            Family::Traversal => "traversal",
            Family::CommandInjection => "command-injection",
            Family::RemoteInclusion => "remote-inclusion",
            Family::PhpInjection => "php-injection",
            Family::JavaInjection => "java-injection",
            Family::Scanner => "scanner",
            Family::SensitivePath => "sensitive-path",
            Family::Protocol => "protocol",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in the request a finding was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Location {
    /// The request line: method or path.
    Path,
    /// A query parameter's name or value.
    Query,
    /// A body value (form field, JSON string, XML text, multipart part).
    Body,
    /// A cookie's name or value.
    Cookie,
    /// A header (user agent, referer or another).
    Header,
}

impl Location {
    /// A short stable name: `path`, `query`, `body`, `cookie`, `header`.
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Body => "body",
            Location::Cookie => "cookie",
            Location::Header => "header",
        }
    }
}

/// One probe found in a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The attack family.
    pub family: Family,
    /// The rule that matched: a stable kebab-case name such as `sqli-union-select`, fit
    /// for logs, metrics and alert evidence.
    pub rule: &'static str,
    /// Where the probe was.
    pub location: Location,
    /// The decoded text that matched, cut to [`MAX_EVIDENCE`] characters, control
    /// characters escaped: enough for a security officer to judge, never a whole body.
    pub evidence: String,
    /// Confidence in 1..=10: 10 means no legitimate request looks like this; lower
    /// weights are for syntax that is rare but not impossible in real traffic.
    pub weight: u8,
}

/// Inspects a request's parts and returns the probes found, strongest first.
///
/// Pure and bounded: see the module docs for the limits. At most one finding per rule
/// and location, at most [`MAX_FINDINGS`] in all.
pub fn inspect(parts: &RequestParts<'_>) -> Vec<Finding> {
    let mut out = Findings::default();
    protocol::inspect_request(parts, &mut out);
    scanner::inspect_request(parts, &mut out);
    for target in targets::collect(parts) {
        let (clean, key) = clean::seen(&target);
        if clean {
            continue;
        }
        let before = out.attempts;
        inspect_target(&target, &mut out);
        if out.attempts == before {
            clean::remember(key);
        }
        if out.full() {
            break;
        }
    }
    let mut findings = out.into_vec();
    findings.sort_by_key(|f| std::cmp::Reverse(f.weight));
    findings
}

/// Runs every family over one decoded target.
fn inspect_target(target: &Target, out: &mut Findings) {
    match target.kind {
        TargetKind::Path => {
            traversal::inspect(target, out);
            scanner::inspect_path(target, out);
            sqli::inspect(target, out);
            xss::inspect(target, out);
            php::inspect(target, out);
            java::inspect(target, out);
            command::inspect(target, out);
        }
        TargetKind::UserAgent => {
            scanner::inspect_user_agent(target, out);
            inject_families(target, out);
        }
        TargetKind::FileName => {
            traversal::inspect(target, out);
            php::inspect_file_name(target, out);
        }
        TargetKind::Name | TargetKind::Value | TargetKind::Header => {
            inject_families(target, out);
        }
    }
}

/// The injection families, for any value an attacker controls.
fn inject_families(target: &Target, out: &mut Findings) {
    sqli::inspect(target, out);
    xss::inspect(target, out);
    traversal::inspect(target, out);
    command::inspect(target, out);
    rfi::inspect(target, out);
    php::inspect(target, out);
    java::inspect(target, out);
    protocol::inspect_value(target, out);
}

/// The findings of one request, deduplicated by (rule, location) and capped.
#[derive(Debug, Default)]
struct Findings {
    items: Vec<Finding>,
    /// Every finding offered, kept or not: a target that offered none is clean.
    attempts: usize,
}

impl Findings {
    /// Records a finding unless the same rule already fired at the same location.
    fn push(
        &mut self,
        family: Family,
        rule: &'static str,
        location: Location,
        evidence: &str,
        weight: u8,
    ) {
        self.attempts += 1;
        if self.full() {
            return;
        }
        if self
            .items
            .iter()
            .any(|f| f.rule == rule && f.location == location)
        {
            return;
        }
        self.items.push(Finding {
            family,
            rule,
            location,
            evidence: truncate_evidence(evidence),
            weight,
        });
    }

    fn full(&self) -> bool {
        self.items.len() >= MAX_FINDINGS
    }

    fn into_vec(self) -> Vec<Finding> {
        self.items
    }
}

/// Cuts evidence to [`MAX_EVIDENCE`] characters and escapes control characters, so that
/// a finding can go into a log line or an alert as it is.
fn truncate_evidence(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_EVIDENCE + 8));
    for (n, c) in text.chars().enumerate() {
        if n >= MAX_EVIDENCE {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_is_cut_and_escaped() {
        let long = "x".repeat(500);
        let cut = truncate_evidence(&long);
        assert_eq!(cut.chars().count(), MAX_EVIDENCE + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate_evidence("a\r\nb"), "a\\r\\nb");
    }

    fn request_with_cookie<'a>(headers: &'a [(&'a str, &'a [u8])]) -> RequestParts<'a> {
        RequestParts {
            method: "GET",
            path: "/account",
            headers,
            ..RequestParts::default()
        }
    }

    #[test]
    fn remembering_clean_values_hides_no_probe() {
        let probe: &[u8] = b"a=1' OR '1'='1";
        let twice: [(&str, &[u8]); 1] = [("cookie", b"a=1' OR '1'='1; b=1' OR '1'='1")];
        let once: [(&str, &[u8]); 1] = [("cookie", probe)];
        let clean: [(&str, &[u8]); 1] = [("cookie", b"tw_session=abc123")];
        for _ in 0..3 {
            // The second cookie's finding is a duplicate of the first's in this
            // request: it must not be remembered as clean for the next one.
            assert!(!inspect(&request_with_cookie(&twice)).is_empty());
            assert!(!inspect(&request_with_cookie(&once)).is_empty());
            assert!(inspect(&request_with_cookie(&clean)).is_empty());
        }
    }

    #[test]
    fn findings_deduplicate_and_cap() {
        let mut f = Findings::default();
        f.push(Family::Sqli, "r", Location::Query, "a", 5);
        f.push(Family::Sqli, "r", Location::Query, "b", 5);
        assert_eq!(f.items.len(), 1);
        for _ in 0..100 {
            f.push(Family::Sqli, "s", Location::Body, "a", 5);
        }
        assert_eq!(f.items.len(), 2);
    }
}
