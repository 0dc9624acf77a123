//! Decoding: undoing the encodings attackers hide a payload behind.
//!
//! A server or framework somewhere behind us may decode a value more than once (a proxy
//! and then the application, or a JSON string holding a URL-encoded form), so the
//! inspector decodes until nothing changes, a bounded number of times, and then folds
//! the representations that mean the same character: HTML entities, `\x`/`\u` escapes,
//! overlong UTF-8, full-width forms, case. A benign value survives this unchanged in
//! meaning; an attack loses its disguise.

use std::borrow::Cow;

/// How many extra rounds of percent-decoding after the first (double and triple
/// encoding are seen in the wild; more is noise).
const EXTRA_ROUNDS: usize = 2;

/// Fully decodes and folds a raw value for matching: percent-decoding (`+` as space
/// when `plus_is_space`, i.e. in queries and forms), repeated; then
/// [`fold`]. The result is lowercase.
pub(crate) fn decode_value(raw: &[u8], plus_is_space: bool) -> String {
    let mut bytes = percent_decode(raw, plus_is_space);
    for _ in 0..EXTRA_ROUNDS {
        if !has_percent_escape(&bytes) {
            break;
        }
        bytes = percent_decode(&bytes, false);
    }
    let bytes = fold_overlong(&bytes);
    let text = String::from_utf8_lossy(&bytes);
    fold(&text)
}

/// Folds text that is already free of percent-encoding (a JSON string, an XML text):
/// HTML entities, `\x`/`\u` escapes, full-width forms, NUL bytes, case.
pub(crate) fn fold(text: &str) -> String {
    let text = html_entities(text);
    let text = backslash_escapes(&text);
    if text.is_ascii() {
        // The common case (headers, paths, most values): only case and NUL bytes to
        // fold, a byte at a time.
        return text
            .bytes()
            .filter(|&b| b != 0)
            .map(|b| char::from(b.to_ascii_lowercase()))
            .collect();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\0' => {}
            // Full-width ASCII forms (U+FF01..U+FF5E) read as ASCII to many parsers.
            '\u{ff01}'..='\u{ff5e}' => {
                let ascii = char::from_u32(c as u32 - 0xff01 + 0x21).unwrap_or(c);
                out.extend(ascii.to_lowercase());
            }
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Decodes `%XX` and `%uXXXX` (IIS's Unicode escape); `+` becomes a space when asked.
/// Malformed escapes are kept as they are.
pub(crate) fn percent_decode(input: &[u8], plus_is_space: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b == b'%' {
            if let Some(v) = hex_at(input, i + 1, 2) {
                out.push(v as u8);
                i += 3;
                continue;
            }
            if matches!(input.get(i + 1), Some(b'u' | b'U'))
                && let Some(v) = hex_at(input, i + 2, 4)
            {
                let c = char::from_u32(v).unwrap_or('\u{fffd}');
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                i += 6;
                continue;
            }
        } else if b == b'+' && plus_is_space {
            out.push(b' ');
            i += 1;
            continue;
        }
        out.push(b);
        i += 1;
    }
    out
}

/// Reads `len` hex digits at `at`, if they are all there.
fn hex_at(input: &[u8], at: usize, len: usize) -> Option<u32> {
    let digits = input.get(at..at + len)?;
    let mut v = 0u32;
    for d in digits {
        v = v * 16 + char::from(*d).to_digit(16)?;
    }
    Some(v)
}

/// True when a `%XX` or `%uXXXX` escape is left to decode.
fn has_percent_escape(input: &[u8]) -> bool {
    input.iter().enumerate().any(|(i, b)| {
        *b == b'%' && (hex_at(input, i + 1, 2).is_some() || hex_at(input, i + 2, 4).is_some())
    })
}

/// Replaces overlong UTF-8 encodings of `.`, `/` and `\` (`C0 AE`, `C0 AF`, `C1 9C`,
/// and the three-byte `E0 80 AE` forms) by the ASCII byte: old decoders accepted them,
/// so traversal probes still use them.
fn fold_overlong(input: &[u8]) -> Cow<'_, [u8]> {
    if !input.iter().any(|b| matches!(b, 0xc0 | 0xc1 | 0xe0)) {
        return Cow::Borrowed(input);
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let two = (input[i], input.get(i + 1).copied());
        let ascii = match two {
            (0xc0, Some(0xae)) => Some(b'.'),
            (0xc0, Some(0xaf)) => Some(b'/'),
            (0xc1, Some(0x9c)) => Some(b'\\'),
            _ => None,
        };
        if let Some(a) = ascii {
            out.push(a);
            i += 2;
            continue;
        }
        if input[i] == 0xe0 && input.get(i + 1) == Some(&0x80) {
            let ascii = match input.get(i + 2) {
                Some(0xae) => Some(b'.'),
                Some(0xaf) => Some(b'/'),
                _ => None,
            };
            if let Some(a) = ascii {
                out.push(a);
                i += 3;
                continue;
            }
        }
        out.push(input[i]);
        i += 1;
    }
    Cow::Owned(out)
}

/// Decodes HTML character references: numeric (`&#60;`, `&#x3c;`, also without the
/// `;` and with leading zeros, as browsers accept) and the named ones that matter for
/// markup and script (`&lt;`, `&colon;`, `&tab;`, `&newline;`, …). Others are kept.
pub(crate) fn html_entities(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        match entity(after) {
            Some((c, used)) => {
                out.push(c);
                rest = &after[used..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Parses one entity after its `&`: the character and the bytes used (with the `;`).
fn entity(after: &str) -> Option<(char, usize)> {
    let bytes = after.as_bytes();
    if bytes.first() == Some(&b'#') {
        let (radix, start) = match bytes.get(1) {
            Some(b'x' | b'X') => (16, 2),
            _ => (10, 1),
        };
        let digits = after[start..]
            .bytes()
            .take_while(|b| char::from(*b).is_digit(radix))
            .count();
        if digits == 0 || digits > 10 {
            return None;
        }
        let value = u32::from_str_radix(&after[start..start + digits], radix).ok()?;
        let c = char::from_u32(value).unwrap_or('\u{fffd}');
        let mut used = start + digits;
        if bytes.get(used) == Some(&b';') {
            used += 1;
        }
        return Some((c, used));
    }
    let name_len = bytes
        .iter()
        .take(10)
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    let name = after[..name_len].to_ascii_lowercase();
    let c = match name.as_str() {
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "amp" => '&',
        "colon" => ':',
        "tab" => '\t',
        "newline" => '\n',
        "lpar" => '(',
        "rpar" => ')',
        "sol" => '/',
        "bsol" => '\\',
        "semi" => ';',
        "period" => '.',
        "grave" => '`',
        "equals" => '=',
        "nbsp" => ' ',
        _ => return None,
    };
    let mut used = name_len;
    if bytes.get(used) == Some(&b';') {
        used += 1;
    }
    Some((c, used))
}

/// Decodes `\xNN` and `\uNNNN` (`\u{N…}` too) escapes, as JavaScript, PHP and many
/// template engines do. Other backslashes are kept (they matter to SQL and shells).
pub(crate) fn backslash_escapes(text: &str) -> Cow<'_, str> {
    if !text.contains('\\') {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        let decoded = match bytes.get(i + 1) {
            Some(b'x' | b'X') => hex_at(bytes, i + 2, 2).map(|v| (v, 4)),
            Some(b'u' | b'U') => {
                if bytes.get(i + 2) == Some(&b'{') {
                    let digits = bytes[i + 3..]
                        .iter()
                        .take(7)
                        .take_while(|b| b.is_ascii_hexdigit())
                        .count();
                    if digits > 0 && bytes.get(i + 3 + digits) == Some(&b'}') {
                        hex_at(bytes, i + 3, digits).map(|v| (v, 4 + digits))
                    } else {
                        None
                    }
                } else {
                    hex_at(bytes, i + 2, 4).map(|v| (v, 6))
                }
            }
            _ => None,
        };
        match decoded {
            Some((value, used)) => {
                out.push_str(&text[copied..i]);
                out.push(char::from_u32(value).unwrap_or('\u{fffd}'));
                i += used;
                copied = i;
            }
            None => i += 1,
        }
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// Collapses every run of whitespace (and of the control characters that parsers treat
/// as whitespace) into one space.
pub(crate) fn squash_spaces(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() || (c.is_control() && c != '\0') {
            if !space {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_repeats_and_knows_iis_unicode() {
        assert_eq!(decode_value(b"%252e%252e%252f", false), "../");
        assert_eq!(decode_value(b"%u003cscript", false), "<script");
        assert_eq!(decode_value(b"a+b", true), "a b");
        assert_eq!(decode_value(b"a+b", false), "a+b");
        assert_eq!(decode_value(b"100%", true), "100%");
        assert_eq!(decode_value(b"%zz%4", true), "%zz%4");
    }

    #[test]
    fn overlong_dots_and_slashes_fold() {
        assert_eq!(decode_value(b"%c0%ae%c0%ae%c0%af", false), "../");
    }

    #[test]
    fn entities_and_escapes_fold() {
        assert_eq!(fold("&lt;ScRiPt&gt;"), "<script>");
        assert_eq!(fold("&#x6A;&#97vascript&colon;"), "javascript:");
        assert_eq!(fold("c\\u006fnsole \\x41"), "console a");
        assert_eq!(fold("AT&T &unknown; & x"), "at&t &unknown; & x");
        assert_eq!(fold("\u{ff1c}script"), "<script");
        assert_eq!(fold("a\0b"), "ab");
    }

    #[test]
    fn spaces_squash() {
        assert_eq!(squash_spaces("a \t\r\n b\u{b}c"), "a b c");
    }
}
