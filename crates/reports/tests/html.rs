//! HTML renderings: escaping and CSP compatibility.

// Helpers outside #[test] functions are not covered by allow-unwrap-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use reports::{Block, Document, Section, StatusState, html_fragment, html_standalone};

#[test]
fn every_text_is_escaped() {
    let doc = common::sample(3);
    for html in [html_fragment(&doc), html_standalone(&doc)] {
        assert!(
            !html.contains("<script"),
            "unescaped script tag in:\n{html}"
        );
        assert!(
            html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;")
        );
    }
    // Each field that carries the hostile string shows up escaped: title,
    // subtitle, generated, paragraph, list, key, value, status label and
    // detail, column heading and cell.
    let fragment = html_fragment(&doc);
    assert!(
        fragment.matches("&lt;script&gt;").count() >= 12,
        "{fragment}"
    );
}

#[test]
fn fragment_has_no_inline_style_or_document_wrapper() {
    let fragment = html_fragment(&common::sample(3));
    assert!(!fragment.contains("style="));
    assert!(!fragment.contains("<style"));
    assert!(!fragment.contains("<html"));
    assert!(!fragment.contains("<head>"));
    // Every attribute used is one of a known, harmless set (no on*= handlers).
    let mut tags = fragment.split('<');
    tags.next(); // the text before the first tag
    for attr in tags.filter_map(|tag| tag.split('>').next()) {
        // Drop quoted values (odd-numbered pieces) so only names remain.
        let unquoted: String = attr.split('"').step_by(2).collect::<Vec<_>>().join(" ");
        let mut words = unquoted.split_whitespace();
        words.next(); // the tag name
        for part in words {
            let name = part.split('=').next().unwrap_or("");
            assert!(
                ["class", "scope", "min", "max", "value"].contains(&name),
                "attribute {name:?} in <{attr}>"
            );
        }
    }
    for class in [
        "class=\"report\"",
        "report-table",
        "status-pass",
        "status-fail",
        "status-unknown",
        "status-info",
    ] {
        assert!(fragment.contains(class), "missing {class}");
    }
    assert!(fragment.contains("<h2 class=\"report-heading\">Incident log</h2>"));
    assert!(fragment.contains("value=\"87\""));
}

#[test]
fn standalone_is_a_complete_document() {
    let doc = common::sample(2);
    let html = html_standalone(&doc);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<style>"));
    assert!(html.contains("<title>Risk assessment &lt;script&gt;"));
    assert!(html.contains(&html_fragment(&doc)));
    assert!(html.trim_end().ends_with("</html>"));
}

#[test]
fn ragged_tables_keep_every_cell_and_completeness_is_clamped() {
    let doc = Document {
        title: "T".into(),
        subtitle: None,
        generated: "now".into(),
        completeness_percent: Some(250),
        sections: vec![Section {
            heading: "S".into(),
            blocks: vec![
                Block::Table {
                    columns: vec!["A".into()],
                    rows: vec![vec!["1".into(), "2".into()], vec![]],
                },
                Block::Status {
                    label: "L".into(),
                    state: StatusState::Pass,
                    detail: String::new(),
                },
            ],
        }],
    };
    let html = html_fragment(&doc);
    assert!(html.contains("<td>1</td><td>2</td>"));
    assert!(html.contains("<tr><td></td><td></td></tr>"));
    assert!(html.contains("value=\"100\""));
    assert!(!html.contains("status-detail"));
}
