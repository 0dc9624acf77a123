//! Splitting a body into values: forms, JSON, XML, multipart, or plain text.
//!
//! Hand-written scanners rather than full parsers: they must not fail on the malformed
//! bodies probes send, they look at the first [`MAX_BODY`] bytes only, and they only
//! need the strings, not the structure.

use super::Location;
use super::MAX_BODY;
use super::decode::{decode_value, fold};
use super::targets::{
    SECRET_MIN_WEIGHT, TargetKind, Targets, is_secret_name, pairs, value_context,
};

/// Pushes the values of a body according to its content type (sniffing when absent).
pub(crate) fn collect(body: &[u8], content_type: Option<&str>, out: &mut Targets) {
    let body = &body[..body.len().min(MAX_BODY)];
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    let start = body.trim_ascii_start();
    if ct.contains("multipart/")
        && let Some(boundary) = boundary(&ct, content_type.unwrap_or(""))
    {
        multipart(body, boundary.as_bytes(), out);
        return;
    }
    if ct.contains("json") || (ct.is_empty() && matches!(start.first(), Some(b'{' | b'['))) {
        json(body, out);
    } else if ct.contains("xml") || (ct.is_empty() && start.starts_with(b"<?xml")) {
        xml(body, out);
    } else if ct.is_empty() || ct.contains("x-www-form-urlencoded") {
        pairs(body, b'&', Location::Body, true, out);
    } else {
        out.push_raw(TargetKind::Value, Location::Body, body, false);
    }
}

/// The multipart boundary, in its original case (boundaries are case-sensitive).
fn boundary(lower: &str, original: &str) -> Option<String> {
    let at = lower.find("boundary=")? + "boundary=".len();
    let rest = original.get(at..)?;
    let value = rest.split(';').next()?.trim().trim_matches('"');
    (!value.is_empty()).then(|| value.to_string())
}

/// Multipart: each part's field name, file name and content.
fn multipart(body: &[u8], boundary: &[u8], out: &mut Targets) {
    let mut delimiter = b"--".to_vec();
    delimiter.extend_from_slice(boundary);
    for part in split_on(body, &delimiter).into_iter().skip(1) {
        if part.starts_with(b"--") {
            break;
        }
        let (head, content) = match find(part, b"\r\n\r\n") {
            Some(i) => (&part[..i], &part[i + 4..]),
            None => match find(part, b"\n\n") {
                Some(i) => (&part[..i], &part[i + 2..]),
                None => (part, &part[part.len()..]),
            },
        };
        let head_text = String::from_utf8_lossy(head);
        let mut secret = false;
        for line in head_text.lines() {
            if !line.to_ascii_lowercase().starts_with("content-disposition") {
                continue;
            }
            if let Some(name) = disposition_param(line, "name") {
                secret = is_secret_name(&name);
                out.push_text(TargetKind::Name, Location::Body, fold(&name), 0);
            }
            if let Some(file) = disposition_param(line, "filename") {
                out.push_text(TargetKind::FileName, Location::Body, fold(&file), 0);
            }
        }
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        let min_weight = if secret { SECRET_MIN_WEIGHT } else { 0 };
        out.push_raw_with(
            TargetKind::Value,
            Location::Body,
            content,
            false,
            min_weight,
        );
    }
}

/// A `name="value"` parameter of a `Content-Disposition` line.
fn disposition_param(line: &str, param: &str) -> Option<String> {
    let lower = line.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = lower[from..].find(param) {
        let at = from + pos;
        let before_ok = at == 0 || matches!(lower.as_bytes()[at - 1], b' ' | b';' | b'\t');
        let rest = &line[at + param.len()..];
        if before_ok && let Some(value) = rest.trim_start().strip_prefix('=') {
            let value = value.trim_start();
            return Some(match value.strip_prefix('"') {
                Some(quoted) => quoted.split('"').next().unwrap_or("").to_string(),
                None => value.split(';').next().unwrap_or("").trim().to_string(),
            });
        }
        from = at + param.len();
    }
    None
}

/// JSON: every string, keys as names and values as values. A value under a key named
/// like a password is only checked by the strongest rules.
fn json(body: &[u8], out: &mut Targets) {
    let text = String::from_utf8_lossy(body);
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut secret_value = false;
    let mut key = String::new();
    while i < bytes.len() && !out.full() {
        if bytes[i] != b'"' {
            i += 1;
            continue;
        }
        let (value, end) = json_string(&text, i + 1);
        i = end;
        let next = bytes[i..].iter().find(|b| !b.is_ascii_whitespace());
        if next == Some(&b':') {
            secret_value = is_secret_name(&value);
            key.clone_from(&value);
            out.push_text(TargetKind::Name, Location::Body, fold(&value), 0);
        } else {
            let min_weight = if secret_value { SECRET_MIN_WEIGHT } else { 0 };
            // A JSON string may itself carry a URL-encoded payload.
            let decoded = decode_value(value.as_bytes(), false);
            let context = value_context(&key, &decoded);
            out.push_text_in(
                TargetKind::Value,
                Location::Body,
                decoded,
                min_weight,
                context,
            );
        }
    }
}

/// Reads a JSON string starting after its opening quote; returns it unescaped and the
/// index after its closing quote (or the end).
fn json_string(text: &str, start: usize) -> (String, usize) {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut i = start;
    let mut copied = start;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                out.push_str(&text[copied..i]);
                return (out, i + 1);
            }
            b'\\' => {
                out.push_str(&text[copied..i]);
                let esc = bytes.get(i + 1).copied().unwrap_or(b'\\');
                let mut used = 2;
                match esc {
                    b'n' => out.push('\n'),
                    b'r' => out.push('\r'),
                    b't' => out.push('\t'),
                    b'b' | b'f' => out.push(' '),
                    b'u' => {
                        let hex = text.get(i + 2..i + 6).unwrap_or("");
                        match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                            Some(c) => {
                                out.push(c);
                                used = 6;
                            }
                            // A lone surrogate or bad escape: keep it literally.
                            None => out.push_str("\\u"),
                        }
                    }
                    other => out.push(char::from(other)),
                }
                i = (i + used).min(bytes.len());
                // Never split a UTF-8 sequence.
                while i < bytes.len() && !text.is_char_boundary(i) {
                    i += 1;
                }
                copied = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&text[copied.min(text.len())..]);
    (out, bytes.len())
}

/// XML: text between tags, attribute values, and markup declarations (`<!DOCTYPE`,
/// `<!ENTITY`) whole, entity references decoded.
fn xml(body: &[u8], out: &mut Targets) {
    let text = String::from_utf8_lossy(body);
    let mut rest: &str = &text;
    while !rest.is_empty() && !out.full() {
        let Some(open) = rest.find('<') else {
            out.push_text(TargetKind::Value, Location::Body, xml_text(rest), 0);
            break;
        };
        if open > 0 {
            out.push_text(
                TargetKind::Value,
                Location::Body,
                xml_text(&rest[..open]),
                0,
            );
        }
        let tag_and_more = &rest[open..];
        let close = tag_and_more.find('>').map_or(tag_and_more.len(), |c| c + 1);
        let tag = &tag_and_more[..close];
        if tag.starts_with("<!") {
            out.push_text(TargetKind::Value, Location::Body, fold(tag), 0);
        } else {
            for value in quoted_values(tag) {
                out.push_text(TargetKind::Value, Location::Body, xml_text(value), 0);
            }
        }
        rest = &tag_and_more[close..];
    }
}

/// An XML text or attribute value: entities first (XML's own escaping), then the
/// usual decoding, since the application may URL-decode what the XML carried.
fn xml_text(raw: &str) -> String {
    let unescaped = fold(raw);
    decode_value(unescaped.as_bytes(), false)
}

/// The quoted attribute values of a tag.
fn quoted_values(tag: &str) -> Vec<&str> {
    let mut values = Vec::new();
    let mut rest = tag;
    while let Some(q) = rest.find(['"', '\'']) {
        let quote = &rest[q..q + 1];
        let after = &rest[q + 1..];
        match after.find(quote) {
            Some(end) => {
                values.push(&after[..end]);
                rest = &after[end + 1..];
            }
            None => {
                values.push(after);
                break;
            }
        }
    }
    values
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn split_on<'a>(hay: &'a [u8], needle: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut rest = hay;
    while let Some(i) = find(rest, needle) {
        parts.push(&rest[..i]);
        rest = &rest[i + needle.len()..];
    }
    parts.push(rest);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::targets::Targets;

    fn values(body: &[u8], ct: Option<&str>) -> Vec<String> {
        let mut out = Targets::default();
        collect(body, ct, &mut out);
        out.texts()
    }

    #[test]
    fn json_strings_are_values_and_keys_names() {
        let v = values(
            br#"{"note":"Pt said \"drop it\" \u003cb\u003e","n":3,"password":"x"}"#,
            Some("application/json"),
        );
        assert!(v.contains(&"pt said \"drop it\" <b>".to_string()));
        assert!(v.contains(&"note".to_string()));
        assert!(v.contains(&"x".to_string()));
    }

    #[test]
    fn xml_text_attributes_and_declarations() {
        let v = values(
            br#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r a="&lt;b&gt;">t&amp;u</r>"#,
            Some("application/xml"),
        );
        assert!(v.contains(&"<b>".to_string()));
        assert!(v.contains(&"t&u".to_string()));
        assert!(
            v.iter()
                .any(|s| s.contains("system \"file:///etc/passwd\""))
        );
    }

    #[test]
    fn multipart_names_files_and_content() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"../a.php\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XyZ--\r\n";
        let v = values(body, Some("multipart/form-data; boundary=XyZ"));
        assert_eq!(v, vec!["doc", "../a.php", "hello"]);
    }

    #[test]
    fn malformed_bodies_do_not_panic() {
        for body in [
            &b"\"\\u12"[..],
            b"{\"a\":\"\\",
            b"<a b='",
            b"<!",
            b"\xff\xfe\"\\u00e9\xc3",
        ] {
            for ct in [
                "application/json",
                "application/xml",
                "multipart/form-data; boundary=a",
            ] {
                let _ = values(body, Some(ct));
            }
        }
    }
}
