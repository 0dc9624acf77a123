//! Protocol abuse that shows in the request's parts: header injection (CR/LF followed
//! by a header in a value: response splitting), NUL bytes in the path or query,
//! request-smuggling header combinations, and methods no application serves.
//!
//! Most of the CRS protocol family (920) is about malformed framing that hyper rejects
//! before a request ever reaches us; this module covers what survives parsing.

use std::sync::LazyLock;

use super::rules::{Rule, RuleSet, rule};
use super::targets::{Target, TargetKind};
use super::{Family, Findings, Location, RequestParts};

static RULES: &[Rule] = &[rule(
    "protocol-header-injection",
    9,
    r"[\r\n]\s*(?:set-cookie|location|content-(?:type|length|disposition)|refresh|x-xss-protection|access-control-allow-\w+|transfer-encoding|host|cookie|link)\s*:|[\r\n]\s*http/\d(?:\.\d)?\s+\d{3}|[\r\n]\s*(?:get|post|put|delete|head|options)\s+/\S*\s+http/\d",
)];

static SET: LazyLock<Option<RuleSet>> = LazyLock::new(|| RuleSet::compile(Family::Protocol, RULES));

/// Methods that no web application serves and probes use.
const PROBE_METHODS: &[&str] = &["TRACE", "TRACK", "DEBUG", "CONNECT", "PROPFIND", "SEARCH"];

/// Request-level checks: method, NUL bytes, smuggling headers.
pub(crate) fn inspect_request(parts: &RequestParts<'_>, out: &mut Findings) {
    let method = parts.method.to_ascii_uppercase();
    if PROBE_METHODS.contains(&method.as_str()) {
        out.push(
            Family::Protocol,
            "protocol-probe-method",
            Location::Path,
            &method,
            5,
        );
    }
    let raw = [parts.path, parts.query.unwrap_or("")];
    if raw.iter().any(|s| s.contains("%00") || s.contains('\0')) {
        out.push(
            Family::Protocol,
            "protocol-nul-byte",
            Location::Path,
            "%00",
            7,
        );
    }
    let mut content_length = 0;
    let mut transfer_encoding = false;
    for (name, value) in parts.headers {
        if name.eq_ignore_ascii_case("content-length") {
            content_length += 1;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            transfer_encoding = true;
        }
        if value.iter().any(|b| matches!(b, b'\r' | b'\n' | b'\0')) {
            out.push(
                Family::Protocol,
                "protocol-header-control-char",
                Location::Header,
                name,
                8,
            );
        }
    }
    if content_length > 1 || (content_length > 0 && transfer_encoding) {
        out.push(
            Family::Protocol,
            "protocol-smuggling-headers",
            Location::Header,
            "content-length with transfer-encoding or twice",
            8,
        );
    }
}

/// Header injection through a decoded value.
pub(crate) fn inspect_value(target: &Target, out: &mut Findings) {
    if target.kind == TargetKind::Path {
        return;
    }
    let text = target.text.as_str();
    if !text.bytes().any(|b| matches!(b, b'\r' | b'\n')) {
        return;
    }
    if let Some(set) = SET.as_ref() {
        set.scan(target, text, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::rules::assert_compiles;

    #[test]
    fn rules_compile() {
        assert_compiles(SET.as_ref(), RULES);
    }
}
