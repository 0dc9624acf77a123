//! QR codes as inline SVG, for showing an authenticator set-up link on screen.
//!
//! The SVG is drawn here rather than by qrcode's renderer so that it can be inlined in
//! a page under a strict Content-Security-Policy: no XML prolog, no `style`
//! attributes (only presentation attributes such as `fill`), `role="img"` with an
//! `aria-label` for screen readers, and a `viewBox` so CSS can scale it.

use qrcode::{Color, EcLevel, QrCode};

/// Light modules around the code, as the QR specification requires for scanning.
pub const QUIET_ZONE: usize = 4;
/// Default rendered size in CSS pixels; the `viewBox` lets CSS override it.
pub const DEFAULT_SIZE_PX: u32 = 240;

/// Why a QR code could not be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QrError {
    #[error("That is too much information to fit in a QR code.")]
    TooLong,
    #[error("That information cannot be put in a QR code.")]
    Unencodable,
}

impl From<qrcode::types::QrError> for QrError {
    fn from(e: qrcode::types::QrError) -> Self {
        match e {
            qrcode::types::QrError::DataTooLong => QrError::TooLong,
            _ => QrError::Unencodable,
        }
    }
}

/// `text` as a QR code (error correction level M: survives some glare or a smudged
/// screen while keeping the code small enough to scan from a phone) in a standalone
/// SVG element: black modules on white, with a quiet zone, labelled `label` for
/// assistive technology.
pub fn svg(text: &str, label: &str) -> Result<String, QrError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)?;
    let width = code.width();
    let size = width + 2 * QUIET_ZONE;
    let colors = code.to_colors();

    // One sub-path per horizontal run of dark modules keeps the output small.
    let mut d = String::new();
    for (y, row) in colors.chunks(width).enumerate() {
        let mut x = 0;
        while x < row.len() {
            if row[x] != Color::Dark {
                x += 1;
                continue;
            }
            let start = x;
            while x < row.len() && row[x] == Color::Dark {
                x += 1;
            }
            let run = x - start;
            d.push_str(&format!(
                "M{} {}h{run}v1h-{run}z",
                start + QUIET_ZONE,
                y + QUIET_ZONE
            ));
        }
    }

    Ok(format!(
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" "#,
            r#"width="{px}" height="{px}" role="img" aria-label="{label}" "#,
            r#"shape-rendering="crispEdges">"#,
            r##"<rect width="{size}" height="{size}" fill="#ffffff"/>"##,
            r##"<path fill="#000000" d="{d}"/></svg>"##,
        ),
        size = size,
        px = DEFAULT_SIZE_PX,
        label = escape_xml(label),
        d = d,
    ))
}

/// Escapes text for an XML attribute value, dropping control characters that XML
/// does not allow.
fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: &str = "otpauth://totp/Telewarden:ana%40example.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Telewarden&algorithm=SHA1&digits=6&period=30";

    /// The dark modules the SVG path draws, as a grid without the quiet zone.
    fn modules_drawn(svg: &str, width: usize) -> Vec<bool> {
        let d = svg
            .split(" d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let mut grid = vec![false; width * width];
        for cmd in d.split('M').filter(|c| !c.is_empty()) {
            let (xy, rest) = cmd.split_once('h').unwrap();
            let (x, y) = xy.split_once(' ').unwrap();
            let run: usize = rest.split('v').next().unwrap().parse().unwrap();
            let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
            for dx in 0..run {
                grid[(y - QUIET_ZONE) * width + x - QUIET_ZONE + dx] = true;
            }
        }
        grid
    }

    #[test]
    fn renders_csp_safe_scalable_svg() {
        let out = svg(URI, "Set-up code").unwrap();
        let code = QrCode::with_error_correction_level(URI, EcLevel::M).unwrap();
        let size = code.width() + 2 * QUIET_ZONE;
        assert!(out.starts_with("<svg "));
        assert!(out.ends_with("</svg>"));
        assert!(out.contains(&format!(r#"viewBox="0 0 {size} {size}""#)));
        assert!(out.contains(r#"width="240" height="240""#));
        assert!(out.contains(r#"role="img" aria-label="Set-up code""#));
        assert!(!out.contains("style="));
        assert!(!out.contains("<?xml"));
        let expected: Vec<bool> = code.to_colors().iter().map(|c| *c == Color::Dark).collect();
        assert_eq!(modules_drawn(&out, code.width()), expected);
    }

    #[test]
    fn label_is_escaped() {
        let out = svg("x", "<script>alert(\"a\" & 'b')</script>\n").unwrap();
        assert!(out.contains(
            "aria-label=\"&lt;script&gt;alert(&quot;a&quot; &amp; &apos;b&apos;)&lt;/script&gt; \""
        ));
        assert!(!out.contains("<script"));
    }

    #[test]
    fn long_uri_fits_and_oversized_input_is_an_error() {
        let uri = format!("{URI}&x={}", "a".repeat(200 - URI.len() - 3));
        assert_eq!(uri.len(), 200);
        assert!(svg(&uri, "code").is_ok());
        assert_eq!(svg(&"a".repeat(5000), "code"), Err(QrError::TooLong));
        assert_eq!(svg(&"é".repeat(2000), "code"), Err(QrError::TooLong));
    }

    #[test]
    fn empty_text_still_renders() {
        assert!(svg("", "").unwrap().contains(r#"aria-label="""#));
    }
}
