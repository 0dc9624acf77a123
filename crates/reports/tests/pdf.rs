//! PDF rendering, checked with poppler's `pdftoppm` and `pdftotext`.

// Helpers outside #[test] functions are not covered by allow-unwrap-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;

use reports::{Block, Document, Section, pdf};

/// Runs a poppler tool, failing loudly (never skipping) when it is absent.
fn run(tool: &str, args: &[&Path]) -> std::process::Output {
    match Command::new(tool).args(args).output() {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "`{tool}` is not installed; these tests need Debian's poppler-utils: \
             apt-get install -y poppler-utils"
        ),
        Err(e) => panic!("could not run {tool}: {e}"),
    }
}

#[test]
fn long_report_renders_and_text_is_extractable() {
    let doc = common::sample(120);
    let bytes = pdf(&doc).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.pdf");
    std::fs::write(&file, &bytes).unwrap();

    let prefix = dir.path().join("page");
    let output = run(
        "pdftoppm",
        &[
            Path::new("-r"),
            Path::new("40"),
            Path::new("-png"),
            &file,
            &prefix,
        ],
    );
    assert!(
        output.status.success(),
        "pdftoppm failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stderr.is_empty(),
        "pdftoppm complained: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let pngs = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "png")
        })
        .count();
    assert!(pngs >= 2, "expected several pages, got {pngs}");

    let text_file = dir.path().join("report.txt");
    let output = run("pdftotext", &[Path::new("-layout"), &file, &text_file]);
    assert!(
        output.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&text_file).unwrap();
    for section in &doc.sections {
        assert!(
            text.contains(&section.heading),
            "heading {:?} not found in:\n{text}",
            section.heading
        );
    }
    assert!(text.contains("page 1 of"));
    assert!(
        text.contains(&format!("page {pngs} of {pngs}")),
        "one footer per page"
    );
    assert!(text.contains("Completeness: 87%"));
    assert!(text.contains("PASS") && text.contains("FAIL") && text.contains("UNKNOWN"));
    assert!(
        text.contains("<script>alert('x')</script>"),
        "text is kept verbatim in the PDF"
    );
    // WinAnsi mappings: dash, curly quotes, ≤ and ×.
    assert!(text.contains("Clinic – “North”"), "{text}");
    assert!(text.contains("<= 3 months") && text.contains("2×2"));
    // The table header is repeated on the pages the table continues onto.
    let header_pages = text
        .split('\u{c}')
        .filter(|page| page.contains("Severity"))
        .count();
    assert!(
        header_pages >= 2,
        "table header appears on {header_pages} page(s)"
    );
    // Every row made it.
    assert!(text.contains("Incident 0:") && text.contains("Incident 119:"));

    let info = run("pdfinfo", &[&file]);
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.contains("Producer:") && info.contains("Telewarden"),
        "{info}"
    );
    assert!(
        info.contains("Page size:") && info.contains("595.28 x 841.89"),
        "A4: {info}"
    );
}

#[test]
fn output_is_deterministic() {
    let doc = common::sample(10);
    assert_eq!(pdf(&doc).unwrap(), pdf(&doc).unwrap());
}

#[test]
fn oversized_cells_and_empty_documents_still_render() {
    let huge_cell = "word ".repeat(3000);
    let doc = Document {
        title: "Edge cases ".repeat(40),
        subtitle: None,
        generated: String::new(),
        completeness_percent: Some(0),
        sections: vec![
            Section {
                heading: "Empty".into(),
                blocks: vec![],
            },
            Section {
                heading: "Huge".into(),
                blocks: vec![
                    Block::Table {
                        columns: vec!["Key".into(), "Value".into()],
                        rows: vec![
                            vec!["k".into(), huge_cell],
                            vec!["a".repeat(500), "b".into()],
                        ],
                    },
                    Block::Table {
                        columns: vec![],
                        rows: vec![],
                    },
                    Block::Table {
                        columns: vec!["Only header".into()],
                        rows: vec![],
                    },
                    Block::KeyValues(vec![]),
                    Block::List(vec![String::new()]),
                    Block::Paragraph("emoji 🙂 and 中文 become ?".into()),
                ],
            },
        ],
    };
    let bytes = pdf(&doc).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("edge.pdf");
    std::fs::write(&file, &bytes).unwrap();
    let output = run(
        "pdftoppm",
        &[
            Path::new("-r"),
            Path::new("20"),
            Path::new("-png"),
            &file,
            &dir.path().join("edge"),
        ],
    );
    assert!(
        output.status.success(),
        "pdftoppm failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text_file = dir.path().join("edge.txt");
    let output = run("pdftotext", &[&file, &text_file]);
    assert!(output.status.success());
    let text = std::fs::read_to_string(&text_file).unwrap();
    assert!(text.contains("page 1 of"));
    assert!(text.contains("emoji ? and ?? become ?"));
    let empty = Document {
        title: String::new(),
        subtitle: None,
        generated: String::new(),
        completeness_percent: None,
        sections: vec![],
    };
    assert!(pdf(&empty).unwrap().starts_with(b"%PDF-"));
}
