//! A sample document shared by the HTML and PDF tests.

use reports::{Block, Document, Section, StatusState};

/// A multi-section report with every block kind, hostile text in every field,
/// and a table long enough to span several pages.
pub fn sample(rows: usize) -> Document {
    let evil = "<script>alert('x')</script> & \"q\"";
    Document {
        title: format!("Risk assessment {evil}"),
        subtitle: Some(format!("Clinic – “North” {evil}")),
        generated: format!("2025-03-01 10:00 AEDT {evil}"),
        completeness_percent: Some(87),
        sections: vec![
            Section {
                heading: "Summary".into(),
                blocks: vec![
                    Block::Paragraph(format!(
                        "This report covers the assessment period — all controls ≤ 3 months old, ≥ 95% coverage, 2×2 matrix. {evil} {}",
                        "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(12)
                    )),
                    Block::List(vec!["First • item".into(), evil.into(), "x".repeat(300)]),
                    Block::KeyValues(vec![
                        ("Assessor".into(), "A. Officer".into()),
                        (evil.into(), evil.into()),
                    ]),
                ],
            },
            Section {
                heading: "Essential Eight controls".into(),
                blocks: vec![
                    Block::Status {
                        label: "Multi-factor authentication".into(),
                        state: StatusState::Pass,
                        detail: "Enforced for all staff".into(),
                    },
                    Block::Status { label: evil.into(), state: StatusState::Fail, detail: evil.into() },
                    Block::Status { label: "Backups".into(), state: StatusState::Unknown, detail: String::new() },
                    Block::Status { label: "Note".into(), state: StatusState::Info, detail: "FYI".into() },
                ],
            },
            Section {
                heading: "Incident log".into(),
                blocks: vec![Block::Table {
                    columns: vec!["When".into(), "Severity".into(), "Description".into(), evil.into()],
                    rows: (0..rows)
                        .map(|i| {
                            vec![
                                format!("2025-02-{:02} 09:{:02}", i % 28 + 1, i % 60),
                                ["low", "medium", "high"][i % 3].into(),
                                format!("Incident {i}: repeated failed logins from a single address, blocked by the sentinel. {}", "More detail. ".repeat(i % 5)),
                                evil.into(),
                            ]
                        })
                        .collect(),
                }],
            },
            Section { heading: "HIPAA safeguards".into(), blocks: vec![Block::Paragraph("Checklist follows.".into())] },
        ],
    }
}
