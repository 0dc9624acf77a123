//! Page layout: turns a [`Document`] into positioned drawing operations, one
//! list per page.
//!
//! Layout is separated from PDF object writing so that the page count is known
//! before any page is written; the "page N of M" footers need M.

use super::metrics::{self, Face};
use super::{blocks, table};
use crate::{Block, Document, ReportError, clamp_percent};

/// A4 in PostScript points.
pub(crate) const PAGE_WIDTH: f32 = 595.28;
pub(crate) const PAGE_HEIGHT: f32 = 841.89;
/// Left and right margin.
pub(crate) const MARGIN_X: f32 = 50.0;
/// Width available to content between the margins.
pub(crate) const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN_X;
/// Where content starts on each page.
const TOP: f32 = PAGE_HEIGHT - 56.0;
/// Content never goes below this; the footer lives underneath.
const BOTTOM: f32 = 64.0;
/// A guard against runaway input (a multi-megabyte log pasted into a report)
/// producing an unbounded PDF; real reports are a few dozen pages.
pub(crate) const MAX_PAGES: usize = 2000;

pub(crate) const BODY_SIZE: f32 = 10.0;
pub(crate) const BLACK: Rgb = Rgb(0.0, 0.0, 0.0);
pub(crate) const GREY: Rgb = Rgb(0.35, 0.35, 0.35);
pub(crate) const RULE: Rgb = Rgb(0.6, 0.6, 0.6);

/// An RGB colour, components 0–1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rgb(pub f32, pub f32, pub f32);

/// One drawing operation, in page coordinates (origin bottom left).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    /// A single line of WinAnsi text with its baseline starting at (x, y).
    Text {
        x: f32,
        y: f32,
        face: Face,
        size: f32,
        color: Rgb,
        text: Vec<u8>,
    },
    /// A straight stroke.
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width: f32,
        color: Rgb,
    },
    /// A filled rectangle with its lower left corner at (x, y).
    Fill {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        color: Rgb,
    },
}

/// The line pitch for a font size.
pub(crate) fn leading(size: f32) -> f32 {
    size * 1.3
}

/// A cursor moving down the pages, starting a new page when content would
/// cross the bottom margin.
#[derive(Debug)]
pub(crate) struct Layout {
    done: Vec<Vec<Op>>,
    current: Vec<Op>,
    /// The top of the next thing to place.
    pub(crate) y: f32,
}

impl Layout {
    fn new() -> Self {
        Layout {
            done: Vec::new(),
            current: Vec::new(),
            y: TOP,
        }
    }

    pub(crate) fn push(&mut self, op: Op) {
        self.current.push(op);
    }

    pub(crate) fn new_page(&mut self) -> Result<(), ReportError> {
        if self.done.len() + 1 >= MAX_PAGES {
            return Err(ReportError::TooManyPages { max: MAX_PAGES });
        }
        self.done.push(std::mem::take(&mut self.current));
        self.y = TOP;
        Ok(())
    }

    /// Vertical space left on the current page.
    pub(crate) fn remaining(&self) -> f32 {
        self.y - BOTTOM
    }

    /// The height of an empty page's content area.
    pub(crate) fn page_capacity() -> f32 {
        TOP - BOTTOM
    }

    /// Starts a new page unless `height` still fits on this one. A page that
    /// is still empty is kept (the content is taller than a page and will be
    /// split by the caller). Returns whether a page was started.
    pub(crate) fn ensure(&mut self, height: f32) -> Result<bool, ReportError> {
        if height > self.remaining() && self.y < TOP {
            self.new_page()?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Places a line of text with its top at the cursor, moving the cursor
    /// down by the line pitch.
    pub(crate) fn line(
        &mut self,
        x: f32,
        face: Face,
        size: f32,
        color: Rgb,
        text: Vec<u8>,
    ) -> Result<(), ReportError> {
        self.ensure(leading(size))?;
        self.text_at(x, self.y, face, size, color, text);
        self.y -= leading(size);
        Ok(())
    }

    /// Places text whose line box top is at `top` without moving the cursor.
    pub(crate) fn text_at(
        &mut self,
        x: f32,
        top: f32,
        face: Face,
        size: f32,
        color: Rgb,
        text: Vec<u8>,
    ) {
        if text.is_empty() {
            return;
        }
        // The Helvetica ascender is 0.718 em; half the extra leading sits
        // above it.
        let baseline = top - size * (0.718 + 0.15);
        self.push(Op::Text {
            x,
            y: baseline,
            face,
            size,
            color,
            text,
        });
    }

    pub(crate) fn rule(&mut self, x1: f32, x2: f32, y: f32, width: f32, color: Rgb) {
        self.push(Op::Line {
            x1,
            y1: y,
            x2,
            y2: y,
            width,
            color,
        });
    }

    fn finish(mut self) -> Vec<Vec<Op>> {
        self.done.push(self.current);
        self.done
    }
}

/// Lays out the whole document.
pub(crate) fn layout(doc: &Document) -> Result<Vec<Vec<Op>>, ReportError> {
    let mut l = Layout::new();
    title_block(&mut l, doc)?;
    for section in &doc.sections {
        heading(&mut l, &section.heading)?;
        for block in &section.blocks {
            match block {
                Block::Paragraph(text) => paragraph(&mut l, text)?,
                Block::List(items) => blocks::list(&mut l, items)?,
                Block::KeyValues(pairs) => blocks::key_values(&mut l, pairs)?,
                Block::Table { columns, rows } => table::table(&mut l, columns, rows)?,
                Block::Status {
                    label,
                    state,
                    detail,
                } => blocks::status(&mut l, label, *state, detail)?,
            }
            l.y -= 6.0;
        }
        l.y -= 8.0;
    }
    Ok(l.finish())
}

fn title_block(l: &mut Layout, doc: &Document) -> Result<(), ReportError> {
    for line in metrics::wrap_text(Face::Bold, 20.0, &doc.title, CONTENT_WIDTH) {
        l.line(MARGIN_X, Face::Bold, 20.0, BLACK, line)?;
    }
    if let Some(subtitle) = &doc.subtitle {
        for line in metrics::wrap_text(Face::Regular, 12.0, subtitle, CONTENT_WIDTH) {
            l.line(MARGIN_X, Face::Regular, 12.0, GREY, line)?;
        }
    }
    l.y -= 4.0;
    let generated = format!("Generated: {}", doc.generated);
    for line in metrics::wrap_text(Face::Regular, 9.0, &generated, CONTENT_WIDTH) {
        l.line(MARGIN_X, Face::Regular, 9.0, GREY, line)?;
    }
    if let Some(p) = doc.completeness_percent {
        let p = clamp_percent(p);
        l.y -= 4.0;
        let text = metrics::encode(&format!("Completeness: {p}%"));
        let text_width = metrics::width(Face::Bold, 11.0, &text);
        let top = l.y;
        l.line(MARGIN_X, Face::Bold, 11.0, BLACK, text)?;
        // A bar beside the figure, for a quick read; the number remains the
        // authoritative value (and survives black-and-white printing).
        let (bar_x, bar_w, bar_h) = (MARGIN_X + text_width + 12.0, 160.0, 7.0);
        let bar_y = top - leading(11.0) / 2.0 - bar_h / 2.0;
        l.push(Op::Fill {
            x: bar_x,
            y: bar_y,
            w: bar_w,
            h: bar_h,
            color: Rgb(0.88, 0.88, 0.88),
        });
        if p > 0 {
            let w = bar_w * f32::from(p) / 100.0;
            l.push(Op::Fill {
                x: bar_x,
                y: bar_y,
                w,
                h: bar_h,
                color: Rgb(0.16, 0.5, 0.3),
            });
        }
    }
    l.y -= 6.0;
    l.rule(MARGIN_X, MARGIN_X + CONTENT_WIDTH, l.y, 1.0, RULE);
    l.y -= 14.0;
    Ok(())
}

fn heading(l: &mut Layout, text: &str) -> Result<(), ReportError> {
    let size = 14.0;
    let lines = metrics::wrap_text(Face::Bold, size, text, CONTENT_WIDTH);
    // Keep the heading with at least three lines of what follows it.
    let height = lines.len() as f32 * leading(size) + 3.0 * leading(BODY_SIZE) + 10.0;
    l.ensure(height)?;
    for line in lines {
        l.line(MARGIN_X, Face::Bold, size, BLACK, line)?;
    }
    l.y -= 2.0;
    l.rule(MARGIN_X, MARGIN_X + CONTENT_WIDTH, l.y, 0.5, RULE);
    l.y -= 8.0;
    Ok(())
}

fn paragraph(l: &mut Layout, text: &str) -> Result<(), ReportError> {
    for line in metrics::wrap_text(Face::Regular, BODY_SIZE, text, CONTENT_WIDTH) {
        l.line(MARGIN_X, Face::Regular, BODY_SIZE, BLACK, line)?;
    }
    Ok(())
}
