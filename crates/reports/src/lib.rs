//! Compliance report documents rendered to HTML and PDF, and evidence packs.
//!
//! The server builds a [`Document`] (a risk assessment report, an Essential
//! Eight statement, a HIPAA safeguard checklist, an incident log) once and
//! renders it three ways: [`html_fragment`] to embed in its own page layout,
//! [`html_standalone`] as a downloadable, printable file, and [`pdf`] for a
//! paginated copy. The model is deliberately small and presentation-free so
//! that the three renderings cannot drift apart: every renderer walks the same
//! sections and blocks.
//!
//! An auditor's evidence pack ([`EvidencePack`]) bundles such files into one
//! POSIX tar with a `SHA256SUMS` manifest, so each member can be checked with
//! `sha256sum -c` after extraction, and the archive's own hash can be recorded
//! in the server's audit ledger. [`verify_pack`] re-checks an archive.
//!
//! The crate does no I/O and keeps no state: the caller supplies every input,
//! including the time that goes into the archive, so that outputs are
//! reproducible.

mod error;
mod html;
mod pack;
mod pdf;

use serde::{Deserialize, Serialize};

pub use error::ReportError;
pub use html::{html_fragment, html_standalone};
pub use pack::{EvidencePack, MANIFEST_NAME, PackOutput, verify_pack};
pub use pdf::pdf;

/// A report: a title block followed by sections of blocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// The report's name, also used as the PDF title and in its page footers.
    pub title: String,
    /// An optional second line under the title (organisation, scope, period).
    pub subtitle: Option<String>,
    /// When the report was generated, already formatted by the caller: the
    /// crate has no clock and no time-zone policy of its own.
    pub generated: String,
    /// How much of the underlying assessment has been answered, 0–100 (values
    /// above 100 are shown as 100). Shown on the first page when present.
    pub completeness_percent: Option<u8>,
    /// The body of the report, in order.
    pub sections: Vec<Section>,
}

/// A titled part of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    /// The section's heading (an `<h2>` in HTML, a bold heading in the PDF).
    pub heading: String,
    /// The section's content, in order.
    pub blocks: Vec<Block>,
}

/// One piece of section content.
///
/// All text is plain text: renderers escape it, so callers never need to (and
/// must not) pre-escape or embed markup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Block {
    /// A paragraph of text; a `\n` starts a new line within it.
    Paragraph(String),
    /// A bulleted list.
    List(Vec<String>),
    /// Label/value pairs, e.g. "Assessor: …", "Scope: …".
    KeyValues(Vec<(String, String)>),
    /// A table. Rows shorter than `columns` are padded with empty cells; rows
    /// longer than it get extra, unheaded columns, so no data is dropped.
    Table {
        /// Column headings (repeated at the top of each PDF page the table
        /// spans).
        columns: Vec<String>,
        /// The rows, each a list of cells.
        rows: Vec<Vec<String>>,
    },
    /// The outcome of one check or control: a PASS/FAIL/UNKNOWN/INFO badge,
    /// a label and a detail line.
    Status {
        /// What was checked, e.g. "Multi-factor authentication".
        label: String,
        /// The outcome.
        state: StatusState,
        /// Evidence or explanation.
        detail: String,
    },
}

/// The outcome shown by a [`Block::Status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusState {
    /// The control is in place.
    Pass,
    /// The control is missing or failing.
    Fail,
    /// Not yet assessed, or the evidence is inconclusive.
    Unknown,
    /// Informational; no judgement.
    Info,
}

impl StatusState {
    /// The badge text, spelled out so that a printed or black-and-white copy
    /// carries the outcome without relying on colour.
    pub fn label(self) -> &'static str {
        match self {
            StatusState::Pass => "PASS",
            StatusState::Fail => "FAIL",
            StatusState::Unknown => "UNKNOWN",
            StatusState::Info => "INFO",
        }
    }

    /// The CSS class (`status-pass`, …) the HTML renderers put on the block.
    pub fn css_class(self) -> &'static str {
        match self {
            StatusState::Pass => "status-pass",
            StatusState::Fail => "status-fail",
            StatusState::Unknown => "status-unknown",
            StatusState::Info => "status-info",
        }
    }
}

/// The completeness figure as displayed: clamped to 100 so a caller's
/// rounding slip cannot show "104 %".
pub(crate) fn clamp_percent(p: u8) -> u8 {
    p.min(100)
}
