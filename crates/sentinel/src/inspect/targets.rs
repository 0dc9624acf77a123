//! Splitting a request into the decoded values ("targets") the rules look at.
//!
//! Matching a rule against a whole query string or body would let one parameter's
//! quote pair with another's keyword; splitting first keeps each rule inside one value,
//! where an injection has to live to work.

use super::body;
use super::decode::decode_value;
use super::{Location, MAX_TARGETS, MAX_VALUE, RequestParts};

/// What a target is, which decides the rules that run on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TargetKind {
    /// The request path.
    Path,
    /// A parameter, cookie or JSON key name.
    Name,
    /// A parameter, cookie, JSON or XML value.
    Value,
    /// The `User-Agent` header.
    UserAgent,
    /// Another header's value.
    Header,
    /// An uploaded file's name.
    FileName,
}

/// What kind of text a value may legitimately hold, which decides how strict the rules
/// may be with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Context {
    /// Free text (a note, a message, a search box) or the path: prose says "select",
    /// "drop", "or", "cat" and uses `;`, `<`, `'`, so only full attack syntax counts.
    Prose,
    /// A structured value (an identifier, a code, a date, a name, a key): no prose, so
    /// SQL operators, SQL function calls and bare shell commands are out of place.
    Data,
    /// A header value (user agent, referer, cookie, custom header): machine-written,
    /// never prose; a bare command name as the whole value is a probe.
    Header,
}

/// One decoded value of a request.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) kind: TargetKind,
    pub(crate) location: Location,
    pub(crate) context: Context,
    /// Fully decoded and folded, lowercase (see [`super::decode`]).
    pub(crate) text: String,
    /// Only rules at least this strong may report on this target: secrets (password
    /// fields) are full of symbols, so only syntax no password has is reported there.
    pub(crate) min_weight: u8,
}

/// Rules weaker than this are not reported on password-like fields: a password may be
/// any string, so only syntax that completes an attack (a tautology after a quote,
/// `UNION SELECT`, Shellshock, a JNDI lookup) counts there.
pub(crate) const SECRET_MIN_WEIGHT: u8 = 10;

/// Collects the targets of a request, in order path, query, headers, body, at most
/// [`MAX_TARGETS`].
pub(crate) fn collect(parts: &RequestParts<'_>) -> Vec<Target> {
    let mut out = Targets::default();
    out.push_raw(
        TargetKind::Path,
        Location::Path,
        parts.path.as_bytes(),
        false,
    );
    if let Some(query) = parts.query {
        pairs(query.as_bytes(), b'&', Location::Query, true, &mut out);
    }
    for (name, value) in parts.headers {
        header(name, value, &mut out);
    }
    if let Some(body_bytes) = parts.body {
        body::collect(body_bytes, content_type(parts), &mut out);
    }
    out.items
}

/// The content type, from the field or else the headers.
fn content_type<'a>(parts: &RequestParts<'a>) -> Option<&'a str> {
    parts.content_type.or_else(|| {
        parts
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    })
}

/// Headers whose values are structured, set by browsers and proxies, or secret: their
/// syntax (`;q=0.9`, `*/*`, base64 tokens) would only feed false positives.
const SKIPPED_HEADERS: &[&str] = &[
    "host",
    "accept",
    "accept-encoding",
    "accept-language",
    "accept-charset",
    "authorization",
    "proxy-authorization",
    "cache-control",
    "connection",
    "content-length",
    "content-type",
    "content-encoding",
    "keep-alive",
    "proxy-connection",
    "pragma",
    "priority",
    "range",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "upgrade-insecure-requests",
    "dnt",
    "origin",
    "traceparent",
    "tracestate",
    "x-csrf-token",
    "x-xsrf-token",
    "x-request-id",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-real-ip",
    "forwarded",
    "via",
];

fn header(name: &str, value: &[u8], out: &mut Targets) {
    let lower = name.to_ascii_lowercase();
    if SKIPPED_HEADERS.contains(&lower.as_str())
        || lower.starts_with("sec-")
        || lower.starts_with("if-")
    {
        return;
    }
    match lower.as_str() {
        "user-agent" => out.push_raw(TargetKind::UserAgent, Location::Header, value, false),
        "cookie" => pairs(value, b';', Location::Cookie, false, out),
        // Browsers send the page they came from: its scheme and host (the site's own,
        // often `localhost` or a private address when self-hosted) say nothing; an
        // attack would be in its path or query.
        "referer" => {
            let rest = referer_rest(value);
            match rest.iter().position(|b| *b == b'?') {
                // The page's query holds values like any query's.
                Some(q) => {
                    out.push_raw(TargetKind::Header, Location::Header, &rest[..q], true);
                    pairs(&rest[q + 1..], b'&', Location::Header, true, out);
                }
                None => out.push_raw(TargetKind::Header, Location::Header, rest, true),
            }
        }
        _ => out.push_raw(TargetKind::Header, Location::Header, value, false),
    }
}

/// A Referer without its `scheme://host[:port]` (the whole value when it is no URL).
fn referer_rest(value: &[u8]) -> &[u8] {
    let lower_starts =
        |p: &[u8]| value.len() >= p.len() && value[..p.len()].eq_ignore_ascii_case(p);
    let after = if lower_starts(b"https://") {
        8
    } else if lower_starts(b"http://") {
        7
    } else {
        return value;
    };
    match value[after..]
        .iter()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
    {
        Some(i) => &value[after + i..],
        None => b"",
    }
}

/// Splits `name=value` pairs on `sep` and pushes each name (when it is more than a
/// plain identifier) and each value. `plus_is_space` for queries and forms.
pub(crate) fn pairs(
    input: &[u8],
    sep: u8,
    location: Location,
    plus_is_space: bool,
    out: &mut Targets,
) {
    for pair in input.split(|b| *b == sep) {
        let pair = pair.trim_ascii();
        if pair.is_empty() {
            continue;
        }
        let (name, value) = match pair.iter().position(|b| *b == b'=') {
            Some(eq) => (&pair[..eq], Some(&pair[eq + 1..])),
            None => (pair, None),
        };
        let decoded_name = decode_value(&name[..name.len().min(MAX_VALUE)], plus_is_space);
        if !is_plain_name(name) || super::sqli::is_catalog_name(&decoded_name) {
            // A name that decodes to `a=b` had its `=` encoded: an application that
            // decodes twice reads `b` as the value, so it is inspected as one too.
            if let Some((left, rest)) = decoded_name.split_once('=')
                && !rest.trim().is_empty()
            {
                let context = value_context(left, rest);
                out.push_text_in(TargetKind::Value, location, rest.to_string(), 0, context);
            }
            out.push_text(TargetKind::Name, location, decoded_name.clone(), 0);
        }
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            let min_weight = if is_secret_name(&decoded_name) {
                SECRET_MIN_WEIGHT
            } else {
                0
            };
            let raw = &value[..value.len().min(MAX_VALUE)];
            let text = decode_value(raw, plus_is_space);
            let context = if location == Location::Cookie {
                Context::Header
            } else {
                value_context(&decoded_name, &text)
            };
            out.push_text_in(TargetKind::Value, location, text, min_weight, context);
        }
        if out.full() {
            return;
        }
    }
}

/// A name made of identifier characters only holds nothing worth matching. A dot is
/// allowed inside a name (`user.name`) but a dotted path of script objects
/// (`document.cookie`) is not plain.
fn is_plain_name(name: &[u8]) -> bool {
    name.iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !(name.contains(&b'.') && name.iter().any(u8::is_ascii_alphabetic) && {
            let lower = name.to_ascii_lowercase();
            [
                &b"document."[..],
                b"window.",
                b"location.",
                b"self.",
                b"top.",
            ]
            .iter()
            .any(|p| lower.starts_with(p))
        })
}

/// Field names whose values are free text: notes, messages, search boxes.
pub(crate) fn is_prose_name(name: &str) -> bool {
    let n = name.trim().to_ascii_lowercase();
    let n = n
        .rsplit(['.', '[', ':'])
        .next()
        .unwrap_or(&n)
        .trim_end_matches(']');
    const PROSE: &[&str] = &[
        "q",
        "query",
        "search",
        "term",
        "terms",
        "keyword",
        "keywords",
        "text",
        "note",
        "notes",
        "comment",
        "comments",
        "description",
        "message",
        "msg",
        "body",
        "content",
        "_content",
        "_text",
        "summary",
        "reason",
        "title",
        "subject",
        "instructions",
        "instruction",
        "answer",
        "feedback",
        "bio",
        "history",
        "details",
        "detail",
        "div",
        "sentence",
        "narrative",
        "story",
        "remarks",
        "remark",
        "plan",
        "assessment",
        "complaint",
        "display",
        "contains",
        "exact",
    ];
    PROSE.contains(&n)
        || [
            "text",
            "note",
            "notes",
            "comment",
            "message",
            "description",
            "summary",
        ]
        .iter()
        .any(|s| n.ends_with(s))
}

/// Text with four or more words reads as prose whatever its field is called.
pub(crate) fn looks_like_prose(text: &str) -> bool {
    // Code (`f('{"a": 1}') = 'x'`) has words too, but more brackets and operators.
    let code = text
        .bytes()
        .filter(|b| {
            matches!(
                b,
                b'{' | b'}'
                    | b'['
                    | b']'
                    | b'('
                    | b')'
                    | b'='
                    | b'<'
                    | b'>'
                    | b'$'
                    | b';'
                    | b'|'
                    | b'&'
                    | b'`'
            )
        })
        .count();
    let needed = (code * 2).div_ceil(3).max(4);
    text.split_whitespace()
        .filter(|w| is_prose_word(w))
        .take(needed)
        .count()
        >= needed
}

/// A word as prose has it: letters (an apostrophe or hyphen between them), perhaps
/// wrapped in quotes or brackets and followed by punctuation (`"tired,"`, `(3-4h)` is
/// not one, `O'Brien's` is). Identifiers (`a.b`, `x_y`, `tag1`), operators and code
/// fragments (`iif(1`, `ab-,`) are not words.
fn is_prose_word(word: &str) -> bool {
    let core = word
        .trim_start_matches([
            '(', '"', '\'', '\u{201c}', '\u{2018}', '[', '{', '<', '¿', '¡',
        ])
        .trim_end_matches([
            '.', ',', ';', ':', '!', '?', ')', '"', '\'', '\u{201d}', '\u{2019}', ']', '}', '>',
        ]);
    let mut letters = 0;
    let mut prev_letter = false;
    let mut chars = core.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphabetic() {
            letters += 1;
            prev_letter = true;
        } else if matches!(c, '\'' | '-' | '\u{2019}' | '/')
            && prev_letter
            && chars.peek().is_some_and(|n| n.is_alphabetic())
        {
            prev_letter = false;
        } else {
            return false;
        }
    }
    letters >= 2
}

/// The context of a value under a field name.
pub(crate) fn value_context(name: &str, text: &str) -> Context {
    if is_prose_name(name) || looks_like_prose(text) {
        Context::Prose
    } else {
        Context::Data
    }
}

/// Names of fields that hold passwords and other secrets.
pub(crate) fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("password")
        || n.contains("passwd")
        || n.contains("passphrase")
        || n.contains("secret")
        || matches!(n.as_str(), "pass" | "pwd" | "pin" | "otp" | "totp")
}

/// The targets collected so far, capped at [`MAX_TARGETS`].
#[derive(Debug, Default)]
pub(crate) struct Targets {
    items: Vec<Target>,
}

impl Targets {
    pub(crate) fn full(&self) -> bool {
        self.items.len() >= MAX_TARGETS
    }

    /// The texts collected, for tests.
    #[cfg(test)]
    pub(crate) fn texts(&self) -> Vec<String> {
        self.items.iter().map(|t| t.text.clone()).collect()
    }

    /// Decodes (percent-encoding and all) and pushes a raw value.
    pub(crate) fn push_raw(
        &mut self,
        kind: TargetKind,
        location: Location,
        raw: &[u8],
        plus_is_space: bool,
    ) {
        self.push_raw_with(kind, location, raw, plus_is_space, 0);
    }

    pub(crate) fn push_raw_with(
        &mut self,
        kind: TargetKind,
        location: Location,
        raw: &[u8],
        plus_is_space: bool,
        min_weight: u8,
    ) {
        let raw = &raw[..raw.len().min(MAX_VALUE)];
        let text = decode_value(raw, plus_is_space);
        self.push_text(kind, location, text, min_weight);
    }

    /// Pushes text that is already decoded and folded, in the context its kind and
    /// location imply (names are data, headers and cookies are headers, the path and
    /// file names are held to the prose rules, a value is data unless it reads as
    /// prose).
    pub(crate) fn push_text(
        &mut self,
        kind: TargetKind,
        location: Location,
        text: String,
        min_weight: u8,
    ) {
        let context = match (kind, location) {
            (TargetKind::UserAgent | TargetKind::Header, _) | (_, Location::Cookie) => {
                Context::Header
            }
            (TargetKind::Name, _) => Context::Data,
            (TargetKind::Value, _) if !looks_like_prose(&text) => Context::Data,
            _ => Context::Prose,
        };
        self.push_text_in(kind, location, text, min_weight, context);
    }

    /// Pushes decoded text in a given context.
    pub(crate) fn push_text_in(
        &mut self,
        kind: TargetKind,
        location: Location,
        text: String,
        min_weight: u8,
        context: Context,
    ) {
        if self.full() || text.trim().is_empty() {
            return;
        }
        self.items.push(Target {
            kind,
            location,
            context,
            text,
            min_weight,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(parts: &RequestParts<'_>) -> Vec<(TargetKind, String)> {
        collect(parts)
            .into_iter()
            .map(|t| (t.kind, t.text))
            .collect()
    }

    #[test]
    fn query_pairs_are_split_and_decoded() {
        let parts = RequestParts {
            path: "/fhir/Patient",
            query: Some("name=O%27Brien&given=Mary+Ann&_sort=-date&a[b]=1"),
            ..RequestParts::default()
        };
        let t = texts(&parts);
        assert!(t.contains(&(TargetKind::Value, "o'brien".into())));
        assert!(t.contains(&(TargetKind::Value, "mary ann".into())));
        assert!(t.contains(&(TargetKind::Name, "a[b]".into())));
        assert!(!t.contains(&(TargetKind::Name, "name".into())));
    }

    #[test]
    fn password_fields_are_marked_secret() {
        let mut out = Targets::default();
        pairs(b"user=a&password=x'y", b'&', Location::Body, true, &mut out);
        let secret = out.items.iter().find(|t| t.text == "x'y");
        assert_eq!(secret.map(|t| t.min_weight), Some(SECRET_MIN_WEIGHT));
    }

    #[test]
    fn harmless_headers_are_skipped_and_cookies_split() {
        let headers: &[(&str, &[u8])] = &[
            ("Accept", b"text/html,*/*;q=0.8"),
            ("Cookie", b"a=1; b=%3Cx"),
            ("User-Agent", b"Mozilla/5.0"),
        ];
        let parts = RequestParts {
            path: "/",
            headers,
            ..RequestParts::default()
        };
        let t = texts(&parts);
        assert!(t.contains(&(TargetKind::Value, "<x".into())));
        assert!(t.contains(&(TargetKind::UserAgent, "mozilla/5.0".into())));
        assert!(!t.iter().any(|(_, s)| s.contains("q=0.8")));
    }
}
