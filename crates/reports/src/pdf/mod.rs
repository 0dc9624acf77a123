//! PDF rendering of a [`Document`] with pdf-writer.
//!
//! The PDF uses the standard Type1 fonts Helvetica and Helvetica-Bold, which
//! every viewer must provide, so nothing is embedded and the crate needs no
//! font files; WinAnsiEncoding makes the text extractable (search, copy,
//! `pdftotext`) for the common Latin characters reports contain.

mod blocks;
mod layout;
mod metrics;
mod table;

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use layout::{CONTENT_WIDTH, GREY, MARGIN_X, Op, PAGE_HEIGHT, PAGE_WIDTH, RULE};
use metrics::Face;

use crate::{Document, ReportError};

const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");
const FOOTER_SIZE: f32 = 8.0;
/// The footer baseline, under the content's bottom margin.
const FOOTER_Y: f32 = 36.0;

/// Renders the document as a multi-page A4 PDF.
///
/// Every page carries a footer with the report title and "page N of M", so
/// that printed pages can be put back in order and a missing one noticed.
/// The output depends only on the document (no timestamps or random IDs), so
/// re-rendering the same report gives the same bytes, which keeps evidence
/// pack hashes stable.
pub fn pdf(doc: &Document) -> Result<Vec<u8>, ReportError> {
    let pages = layout::layout(doc)?;
    let total = pages.len();
    let too_many = || ReportError::TooManyPages {
        max: layout::MAX_PAGES,
    };
    let count = i32::try_from(total).map_err(|_| too_many())?;

    let catalog_id = Ref::new(1);
    let tree_id = Ref::new(2);
    let info_id = Ref::new(3);
    let regular_id = Ref::new(4);
    let bold_id = Ref::new(5);
    // Each page takes two ids: the page object and its content stream.
    let page_id = |i: i32| Ref::new(6 + 2 * i);
    let content_id = |i: i32| Ref::new(7 + 2 * i);
    if count
        .checked_mul(2)
        .and_then(|n| n.checked_add(7))
        .is_none()
    {
        return Err(too_many());
    }

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id)
        .kids((0..count).map(page_id))
        .count(count);
    let mut info = pdf.document_info(info_id);
    info.title(TextStr(&doc.title));
    if let Some(subtitle) = &doc.subtitle {
        info.subject(TextStr(subtitle));
    }
    info.producer(TextStr("Telewarden"))
        .creator(TextStr("Telewarden"));
    info.finish();
    for (id, face) in [(regular_id, "Helvetica"), (bold_id, "Helvetica-Bold")] {
        pdf.type1_font(id)
            .base_font(Name(face.as_bytes()))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }

    // One footer title for all pages, shortened to leave room for the widest
    // page number.
    let widest = format!("page {count} of {count}").into_bytes();
    let title_room = CONTENT_WIDTH - metrics::width(Face::Regular, FOOTER_SIZE, &widest) - 24.0;
    let title = truncate(&metrics::encode(&doc.title), title_room);
    for (index, ops) in (0..count).zip(pages) {
        let mut page = pdf.page(page_id(index));
        page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
        page.parent(tree_id);
        page.contents(content_id(index));
        page.resources()
            .fonts()
            .pair(REGULAR, regular_id)
            .pair(BOLD, bold_id);
        page.finish();

        let mut content = Content::new();
        for op in &ops {
            draw(&mut content, op);
        }
        for op in footer(&title, index + 1, count) {
            draw(&mut content, &op);
        }
        pdf.stream(content_id(index), &content.finish());
    }
    Ok(pdf.finish())
}

fn draw(content: &mut Content, op: &Op) {
    match op {
        Op::Text {
            x,
            y,
            face,
            size,
            color,
            text,
        } => {
            let font = match face {
                Face::Regular => REGULAR,
                Face::Bold => BOLD,
            };
            content.set_fill_rgb(color.0, color.1, color.2);
            content.begin_text();
            content.set_font(font, *size);
            content.next_line(*x, *y);
            content.show(Str(text));
            content.end_text();
        }
        Op::Line {
            x1,
            y1,
            x2,
            y2,
            width,
            color,
        } => {
            content.set_stroke_rgb(color.0, color.1, color.2);
            content.set_line_width(*width);
            content.move_to(*x1, *y1);
            content.line_to(*x2, *y2);
            content.stroke();
        }
        Op::Fill { x, y, w, h, color } => {
            content.set_fill_rgb(color.0, color.1, color.2);
            content.rect(*x, *y, *w, *h);
            content.fill_nonzero();
        }
    }
}

/// The footer: a rule, the title on the left (shortened with an ellipsis if
/// needed) and "page N of M" on the right.
fn footer(title: &[u8], page: i32, total: i32) -> Vec<Op> {
    let number = format!("page {page} of {total}").into_bytes();
    let number_width = metrics::width(Face::Regular, FOOTER_SIZE, &number);
    let right = MARGIN_X + CONTENT_WIDTH;
    vec![
        Op::Line {
            x1: MARGIN_X,
            y1: FOOTER_Y + 11.0,
            x2: right,
            y2: FOOTER_Y + 11.0,
            width: 0.5,
            color: RULE,
        },
        Op::Text {
            x: MARGIN_X,
            y: FOOTER_Y,
            face: Face::Regular,
            size: FOOTER_SIZE,
            color: GREY,
            text: title.to_vec(),
        },
        Op::Text {
            x: right - number_width,
            y: FOOTER_Y,
            face: Face::Regular,
            size: FOOTER_SIZE,
            color: GREY,
            text: number,
        },
    ]
}

/// Shortens WinAnsi text to `max_width` at the footer size, ending in "…".
fn truncate(text: &[u8], max_width: f32) -> Vec<u8> {
    if metrics::width(Face::Regular, FOOTER_SIZE, text) <= max_width {
        return text.to_vec();
    }
    const ELLIPSIS: u8 = 0x85;
    let budget = max_width - metrics::width(Face::Regular, FOOTER_SIZE, &[ELLIPSIS]);
    let mut used = 0.0;
    let mut out = Vec::new();
    for &b in text {
        used += metrics::width(Face::Regular, FOOTER_SIZE, &[b]);
        if used > budget {
            break;
        }
        out.push(b);
    }
    out.push(ELLIPSIS);
    out
}
