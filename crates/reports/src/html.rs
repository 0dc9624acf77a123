//! HTML renderings of a [`Document`].
//!
//! The fragment is embedded in the server's pages, whose Content Security
//! Policy forbids inline styles and scripts, so it carries only classes
//! (`report`, `report-table`, `status-pass`, …) that the app's stylesheet
//! targets. The standalone file is downloaded and opened without the app's
//! stylesheet, so it brings a small `<style>` of its own.

use std::fmt::Write as _;

use crate::{Block, Document, Section, clamp_percent};

/// The document's body as HTML, for embedding in a page layout.
///
/// No `<html>`/`<head>`, no `style=` or event-handler attributes; every piece
/// of caller text is escaped, so report content (which may quote attacker-
/// controlled strings such as incident descriptions) cannot inject markup.
pub fn html_fragment(doc: &Document) -> String {
    let mut out = String::with_capacity(4096);
    out.push_str("<article class=\"report\">\n<header class=\"report-header\">\n");
    push_element(&mut out, "h1", "report-title", &doc.title);
    if let Some(subtitle) = &doc.subtitle {
        push_element(&mut out, "p", "report-subtitle", subtitle);
    }
    push_element(
        &mut out,
        "p",
        "report-generated",
        &format!("Generated: {}", doc.generated),
    );
    if let Some(p) = doc.completeness_percent {
        let p = clamp_percent(p);
        // A <meter> shows the bar without any inline style; the number is
        // also written out for screen readers and printouts.
        let _ = writeln!(
            out,
            "<p class=\"report-completeness\">Completeness: \
             <meter class=\"report-completeness-meter\" min=\"0\" max=\"100\" value=\"{p}\">{p}%</meter> \
             <span class=\"report-completeness-value\">{p}%</span></p>"
        );
    }
    out.push_str("</header>\n");
    for section in &doc.sections {
        push_section(&mut out, section);
    }
    out.push_str("</article>\n");
    out
}

/// A complete, printable HTML document with the same content as
/// [`html_fragment`] and a small embedded stylesheet (it is a downloaded file,
/// not subject to the app's CSP).
pub fn html_standalone(doc: &Document) -> String {
    let body = html_fragment(doc);
    let mut out = String::with_capacity(body.len() + STANDALONE_CSS.len() + 512);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta name=\"generator\" content=\"Telewarden\">\n");
    let _ = writeln!(out, "<title>{}</title>", escape(&doc.title));
    out.push_str("<style>\n");
    out.push_str(STANDALONE_CSS);
    out.push_str("</style>\n</head>\n<body>\n");
    out.push_str(&body);
    out.push_str("</body>\n</html>\n");
    out
}

/// Screen and print styles for the standalone file: readable without the app,
/// and tables that keep their header on every printed page.
const STANDALONE_CSS: &str = "\
body { font-family: Helvetica, Arial, sans-serif; font-size: 11pt; color: #111; margin: 2em auto; max-width: 60em; padding: 0 1em; }
.report-title { font-size: 1.8em; margin-bottom: 0.2em; }
.report-subtitle { font-size: 1.15em; color: #444; margin-top: 0; }
.report-generated { color: #555; font-size: 0.9em; }
.report-section { margin-top: 1.6em; }
.report-section h2 { font-size: 1.3em; border-bottom: 1px solid #999; padding-bottom: 0.2em; }
.report-table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
.report-table th, .report-table td { border: 1px solid #bbb; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
.report-table th { background: #eee; }
.report-kv dt { font-weight: bold; float: left; clear: left; width: 14em; }
.report-kv dd { margin-left: 15em; margin-bottom: 0.3em; }
.report-status { margin: 0.4em 0; }
.status-badge { display: inline-block; min-width: 5.5em; font-weight: bold; }
.status-label { font-weight: bold; }
.status-detail { display: block; margin-left: 5.9em; color: #333; }
.status-pass .status-badge { color: #1a7f37; }
.status-fail .status-badge { color: #b42318; }
.status-unknown .status-badge { color: #9a6700; }
.status-info .status-badge { color: #1f4e99; }
@page { size: A4; margin: 18mm; }
@media print {
  body { margin: 0; max-width: none; }
  .report-table thead { display: table-header-group; }
  .report-table tr, .report-status { break-inside: avoid; }
  .report-section h2 { break-after: avoid; }
  .status-badge { color: #000 !important; }
}
";

fn push_section(out: &mut String, section: &Section) {
    out.push_str("<section class=\"report-section\">\n");
    push_element(out, "h2", "report-heading", &section.heading);
    for block in &section.blocks {
        push_block(out, block);
    }
    out.push_str("</section>\n");
}

fn push_block(out: &mut String, block: &Block) {
    match block {
        Block::Paragraph(text) => {
            // Line breaks inside a paragraph are meaningful (addresses, lists
            // typed by hand), so they become <br>.
            let _ = writeln!(
                out,
                "<p class=\"report-paragraph\">{}</p>",
                escape(text).replace('\n', "<br>\n")
            );
        }
        Block::List(items) => {
            out.push_str("<ul class=\"report-list\">\n");
            for item in items {
                let _ = writeln!(out, "<li>{}</li>", escape(item));
            }
            out.push_str("</ul>\n");
        }
        Block::KeyValues(pairs) => {
            out.push_str("<dl class=\"report-kv\">\n");
            for (key, value) in pairs {
                let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", escape(key), escape(value));
            }
            out.push_str("</dl>\n");
        }
        Block::Table { columns, rows } => push_table(out, columns, rows),
        Block::Status {
            label,
            state,
            detail,
        } => {
            let _ = write!(
                out,
                "<div class=\"report-status {}\"><span class=\"status-badge\">{}</span> \
                 <span class=\"status-label\">{}</span>",
                state.css_class(),
                state.label(),
                escape(label)
            );
            if !detail.is_empty() {
                let _ = write!(
                    out,
                    " <span class=\"status-detail\">{}</span>",
                    escape(detail)
                );
            }
            out.push_str("</div>\n");
        }
    }
}

fn push_table(out: &mut String, columns: &[String], rows: &[Vec<String>]) {
    let width = rows
        .iter()
        .map(Vec::len)
        .chain([columns.len()])
        .max()
        .unwrap_or(0);
    out.push_str("<div class=\"report-table-wrap\">\n<table class=\"report-table\">\n");
    if !columns.is_empty() {
        out.push_str("<thead><tr>");
        for i in 0..width {
            let heading = columns.get(i).map(String::as_str).unwrap_or("");
            let _ = write!(out, "<th scope=\"col\">{}</th>", escape(heading));
        }
        out.push_str("</tr></thead>\n");
    }
    out.push_str("<tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for i in 0..width {
            let cell = row.get(i).map(String::as_str).unwrap_or("");
            let _ = write!(out, "<td>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</div>\n");
}

fn push_element(out: &mut String, tag: &str, class: &str, text: &str) {
    let _ = writeln!(out, "<{tag} class=\"{class}\">{}</{tag}>", escape(text));
}

/// Escapes text for use in element content and in quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab/newline are not valid in
            // HTML text; drop them rather than let a browser guess.
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}
