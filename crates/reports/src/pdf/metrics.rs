//! Text encoding and measurement for the standard Helvetica fonts.
//!
//! The PDF uses the non-embedded standard Type1 fonts with WinAnsiEncoding, so
//! text must be converted to single WinAnsi bytes and measured with the fonts'
//! published advance widths (Adobe's Helvetica and Helvetica-Bold AFM files,
//! in thousandths of the font size). Measuring with real widths is what lets
//! word wrapping and table columns fit without overflowing into each other.

/// The two faces the renderer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Face {
    Regular,
    Bold,
}

/// The width of one WinAnsi byte in thousandths of the font size. Codes the
/// encoding leaves undefined never reach here ([`encode`] does not emit them)
/// but get the width of `?` for safety.
fn glyph_width(face: Face, byte: u8) -> u16 {
    let table = match face {
        Face::Regular => &HELVETICA,
        Face::Bold => &HELVETICA_BOLD,
    };
    match byte.checked_sub(32).and_then(|i| table.get(usize::from(i))) {
        Some(&w) if w > 0 => w,
        _ => 556,
    }
}

/// The width in points of WinAnsi `text` set in `face` at `size`.
pub(crate) fn width(face: Face, size: f32, text: &[u8]) -> f32 {
    let units: u32 = text.iter().map(|&b| u32::from(glyph_width(face, b))).sum();
    units as f32 * size / 1000.0
}

/// Converts text to WinAnsi bytes.
///
/// Characters the encoding has (ASCII, Latin-1, the Windows-1252 extras such
/// as curly quotes, dashes and the bullet) map directly; a few common others
/// get a readable ASCII spelling (`≤` → `<=`); anything else becomes `?` so
/// the loss is visible rather than silent. Control characters are dropped
/// (tabs become spaces) and combining accents are dropped so that decomposed
/// text keeps its base letters.
pub(crate) fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        let code = u32::from(c);
        match c {
            '\t' => out.push(b' '),
            c if c.is_control() => {}
            // A soft hyphen marks a possible break, not a visible glyph.
            '\u{AD}' => {}
            ' '..='~' => out.push(code as u8),
            '\u{A0}'..='\u{FF}' => out.push(code as u8),
            '\u{300}'..='\u{36F}' => {}
            c => match windows_1252_extra(c) {
                Some(b) => out.push(b),
                None => out.extend_from_slice(fallback(c).as_bytes()),
            },
        }
    }
    out
}

/// The characters Windows-1252 (≈ WinAnsiEncoding) places in 0x80–0x9F.
fn windows_1252_extra(c: char) -> Option<u8> {
    Some(match c {
        '€' => 0x80,
        '‚' => 0x82,
        'ƒ' => 0x83,
        '„' => 0x84,
        '…' => 0x85,
        '†' => 0x86,
        '‡' => 0x87,
        'ˆ' => 0x88,
        '‰' => 0x89,
        'Š' => 0x8A,
        '‹' => 0x8B,
        'Œ' => 0x8C,
        'Ž' => 0x8E,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '˜' => 0x98,
        '™' => 0x99,
        'š' => 0x9A,
        '›' => 0x9B,
        'œ' => 0x9C,
        'ž' => 0x9E,
        'Ÿ' => 0x9F,
        _ => return None,
    })
}

/// A readable stand-in for characters WinAnsi lacks.
fn fallback(c: char) -> &'static str {
    match c {
        '≤' => "<=",
        '≥' => ">=",
        '≠' => "!=",
        '≈' => "~",
        '−' | '‐' | '‑' | '‒' | '⁃' => "-",
        '→' | '⇒' => "->",
        '←' | '⇐' => "<-",
        '↔' => "<->",
        '′' => "'",
        '″' => "\"",
        '‛' => "'",
        '‟' => "\"",
        '⋅' | '∙' => "\u{B7}",
        '✓' | '✔' => "[x]",
        '✗' | '✘' => "[ ]",
        '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => " ",
        // Zero-width characters and the BOM carry nothing visible.
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' => "",
        _ => "?",
    }
}

/// Greedy word wrap of WinAnsi `text` into lines no wider than `max_width`.
///
/// `\n` in the source must already have been split off by the caller (lines
/// are wrapped one at a time). Runs of spaces collapse, as in HTML. A word
/// wider than the whole line is broken between characters rather than left to
/// overflow into the next column. Always returns at least one (possibly
/// empty) line so that empty cells still take up a row.
pub(crate) fn wrap(face: Face, size: f32, text: &[u8], max_width: f32) -> Vec<Vec<u8>> {
    let space = width(face, size, b" ");
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    let mut line_width = 0.0_f32;
    for word in text
        .split(|&b| b == b' ' || b == 0xA0)
        .filter(|w| !w.is_empty())
    {
        let word_width = width(face, size, word);
        if !line.is_empty() && line_width + space + word_width <= max_width {
            line.push(b' ');
            line.extend_from_slice(word);
            line_width += space + word_width;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if word_width <= max_width {
            line.extend_from_slice(word);
            line_width = word_width;
            continue;
        }
        // Break an over-long word (a hash, a URL) at character boundaries.
        line_width = 0.0;
        for &b in word {
            let w = width(face, size, &[b]);
            if !line.is_empty() && line_width + w > max_width {
                lines.push(std::mem::take(&mut line));
                line_width = 0.0;
            }
            line.push(b);
            line_width += w;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Wraps text that may contain `\n`: each source line is wrapped separately.
pub(crate) fn wrap_text(face: Face, size: f32, text: &str, max_width: f32) -> Vec<Vec<u8>> {
    text.split('\n')
        .flat_map(|line| wrap(face, size, &encode(line), max_width))
        .collect()
}

/// The width of the widest word, used as a table column's minimum width so
/// that words are only broken when the page truly cannot fit them.
pub(crate) fn longest_word(face: Face, size: f32, text: &str) -> f32 {
    encode(text)
        .split(|&b| b == b' ' || b == 0xA0)
        .map(|w| width(face, size, w))
        .fold(0.0, f32::max)
}

/// The width of the widest source line, unwrapped: a column's natural width.
pub(crate) fn natural_width(face: Face, size: f32, text: &str) -> f32 {
    text.split('\n')
        .map(|line| width(face, size, &encode(line)))
        .fold(0.0, f32::max)
}

// Advance widths for WinAnsi codes 0x20..=0xFF, generated from the Adobe
// Helvetica / Helvetica-Bold AFM metrics. Zero marks codes WinAnsi leaves
// undefined (0x7F, 0x81, 0x8D, 0x8F, 0x90, 0x9D).
#[rustfmt::skip]
const HELVETICA: [u16; 224] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // 0x20
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0x30
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // 0x40
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // 0x50
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // 0x60
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 0, // 0x70
    556, 0, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0, // 0x80
    0, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 0, 500, 667, // 0x90
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 333, 584, 333, 737, 333, // 0xA0
    400, 584, 333, 333, 333, 578, 537, 278, 333, 333, 365, 333, 834, 834, 834, 611, // 0xB0
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, // 0xC0
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, // 0xD0
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278, // 0xE0
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500, // 0xF0
];
#[rustfmt::skip]
const HELVETICA_BOLD: [u16; 224] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, // 0x20
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, // 0x30
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, // 0x40
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, // 0x50
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, // 0x60
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 0, // 0x70
    556, 0, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0, // 0x80
    0, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 0, 500, 667, // 0x90
    278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 333, 584, 333, 737, 333, // 0xA0
    400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 333, 834, 834, 834, 611, // 0xB0
    722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, // 0xC0
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, // 0xD0
    556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278, // 0xE0
    611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556, // 0xF0
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_are_the_afm_values() {
        // H 722 + e 556 + l 222 + l 222 + o 556 in Helvetica.
        assert!((width(Face::Regular, 1000.0, b"Hello") - 2278.0).abs() < 0.01);
        // The bold l is wider (278).
        assert!((width(Face::Bold, 1000.0, b"l") - 278.0).abs() < 0.01);
        assert!(
            (width(Face::Regular, 10.0, &[0x97]) - 10.0).abs() < 0.01,
            "em dash is 1 em"
        );
    }

    #[test]
    fn encoding_maps_common_punctuation() {
        assert_eq!(
            encode("a–b—c “q” ‘s’ • ×"),
            b"a\x96b\x97c \x93q\x94 \x91s\x92 \x95 \xD7"
        );
        assert_eq!(encode("≤1 ≥2 →"), b"<=1 >=2 ->");
        assert_eq!(encode("é\u{AD}e\u{301}\t🙂\u{7}"), b"\xE9e ?");
    }

    #[test]
    fn wrap_fits_and_breaks_long_words() {
        let lines = wrap(Face::Regular, 10.0, b"aaa bbb ccc ddd", 45.0);
        assert_eq!(lines, [b"aaa bbb".to_vec(), b"ccc ddd".to_vec()]);
        let lines = wrap(Face::Regular, 10.0, &[b'x'; 40], 50.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| width(Face::Regular, 10.0, l) <= 50.0));
        assert_eq!(wrap(Face::Regular, 10.0, b"", 50.0), [Vec::<u8>::new()]);
    }
}
