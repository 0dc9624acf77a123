//! Table layout: column widths from the content, wrapped cells, and header
//! rows repeated on every page a table spans (an auditor reading page 7 of an
//! incident log must still know which column is which).

use super::layout::{BLACK, CONTENT_WIDTH, Layout, MARGIN_X, Op, RULE, Rgb, leading};
use super::metrics::{self, Face};
use crate::ReportError;

const SIZE: f32 = 9.0;
const PAD: f32 = 3.0;
const HEADER_FILL: Rgb = Rgb(0.91, 0.91, 0.91);

/// A row's cells, already wrapped to their column widths.
type Cells = Vec<Vec<Vec<u8>>>;

pub(crate) fn table(
    l: &mut Layout,
    columns: &[String],
    rows: &[Vec<String>],
) -> Result<(), ReportError> {
    let count = rows
        .iter()
        .map(Vec::len)
        .chain([columns.len()])
        .max()
        .unwrap_or(0);
    if count == 0 {
        return Ok(());
    }
    let widths = column_widths(columns, rows, count);
    let wrap_row = |cells: &[String], face: Face| -> Cells {
        (0..count)
            .map(|i| {
                let text = cells.get(i).map(String::as_str).unwrap_or("");
                let inner = widths.get(i).copied().unwrap_or(0.0) - 2.0 * PAD;
                metrics::wrap_text(face, SIZE, text, inner)
            })
            .collect()
    };
    let header = if columns.is_empty() {
        None
    } else {
        Some(wrap_row(columns, Face::Bold))
    };
    let header_height = header.as_ref().map_or(0.0, row_height);

    let mut need_header = true;
    for row in rows {
        let mut cells = wrap_row(row, Face::Regular);
        loop {
            let height = row_height(&cells);
            let header_cost = if need_header { header_height } else { 0.0 };
            let fits_here = header_cost + height <= l.remaining();
            let fits_on_page = header_height + height <= Layout::page_capacity();
            if !fits_here
                && (fits_on_page || l.remaining() - header_cost < PAD * 2.0 + leading(SIZE))
            {
                // Move the row whole to the next page when it would fit
                // there; otherwise only move if not even one line fits here.
                l.new_page()?;
                need_header = true;
                if fits_on_page {
                    continue;
                }
            }
            if need_header {
                if let Some(header) = &header {
                    draw_row(l, &widths, header, Face::Bold, Some(HEADER_FILL));
                }
                need_header = false;
            }
            if height <= l.remaining() {
                draw_row(l, &widths, &cells, Face::Regular, None);
                break;
            }
            // Taller than a page: draw what fits, continue on the next page.
            let lines_fit = ((l.remaining() - 2.0 * PAD) / leading(SIZE))
                .floor()
                .max(1.0) as usize;
            let rest: Cells = cells
                .iter_mut()
                .map(|cell| cell.split_off(lines_fit.min(cell.len())))
                .collect();
            draw_row(l, &widths, &cells, Face::Regular, None);
            cells = rest;
            l.new_page()?;
            need_header = true;
        }
    }
    if let (true, Some(header)) = (rows.is_empty(), &header) {
        l.ensure(header_height)?;
        draw_row(l, &widths, header, Face::Bold, Some(HEADER_FILL));
    }
    Ok(())
}

fn row_height(cells: &Cells) -> f32 {
    let lines = cells.iter().map(Vec::len).max().unwrap_or(0).max(1);
    lines as f32 * leading(SIZE) + 2.0 * PAD
}

fn draw_row(l: &mut Layout, widths: &[f32], cells: &Cells, face: Face, fill: Option<Rgb>) {
    let height = row_height(cells);
    let top = l.y;
    let bottom = top - height;
    let total: f32 = widths.iter().sum();
    if let Some(color) = fill {
        l.push(Op::Fill {
            x: MARGIN_X,
            y: bottom,
            w: total,
            h: height,
            color,
        });
    }
    let mut x = MARGIN_X;
    for (width, lines) in widths.iter().zip(cells) {
        let mut line_top = top - PAD;
        for line in lines {
            l.text_at(x + PAD, line_top, face, SIZE, BLACK, line.clone());
            line_top -= leading(SIZE);
        }
        x += width;
    }
    l.rule(MARGIN_X, MARGIN_X + total, top, 0.5, RULE);
    l.rule(MARGIN_X, MARGIN_X + total, bottom, 0.5, RULE);
    let mut x = MARGIN_X;
    for width in std::iter::once(&0.0).chain(widths) {
        x += width;
        l.push(Op::Line {
            x1: x,
            y1: top,
            x2: x,
            y2: bottom,
            width: 0.5,
            color: RULE,
        });
    }
    l.y = bottom;
}

/// Column widths that fill the content width: every column gets at least its
/// longest word when possible (so words are not broken needlessly) and the
/// rest is shared in proportion to how much more each column would like.
fn column_widths(columns: &[String], rows: &[Vec<String>], count: usize) -> Vec<f32> {
    let mut natural = vec![0.0_f32; count];
    let mut minimum = vec![0.0_f32; count];
    let cells = columns
        .iter()
        .enumerate()
        .map(|(i, c)| (i, c, Face::Bold))
        .chain(
            rows.iter()
                .flat_map(|r| r.iter().enumerate().map(|(i, c)| (i, c, Face::Regular))),
        );
    for (i, text, face) in cells {
        if let (Some(n), Some(m)) = (natural.get_mut(i), minimum.get_mut(i)) {
            *n = n.max(metrics::natural_width(face, SIZE, text) + 2.0 * PAD);
            *m = m.max(metrics::longest_word(face, SIZE, text) + 2.0 * PAD);
        }
    }
    // A column of very long unbreakable tokens (hashes) should not starve the
    // others: cap any one column's minimum at a share of the page.
    let cap = (CONTENT_WIDTH / count as f32).max(CONTENT_WIDTH * 0.4);
    for (m, n) in minimum.iter_mut().zip(&natural) {
        *m = m.min(*n).min(cap).max(2.0 * PAD + 1.0);
    }
    let natural_sum: f32 = natural.iter().sum();
    if natural_sum <= 0.0 {
        return vec![CONTENT_WIDTH / count as f32; count];
    }
    if natural_sum <= CONTENT_WIDTH {
        let scale = CONTENT_WIDTH / natural_sum;
        return natural.iter().map(|n| n * scale).collect();
    }
    // Columns that fit within an even share of what is left (dates, short
    // codes) keep their natural width, so only the wordy columns wrap.
    let mut fixed = vec![false; count];
    loop {
        let free_count = fixed.iter().filter(|f| !**f).count();
        let used: f32 = natural
            .iter()
            .zip(&fixed)
            .filter(|(_, f)| **f)
            .map(|(n, _)| n)
            .sum();
        let share = (CONTENT_WIDTH - used) / free_count.max(1) as f32;
        let mut changed = false;
        for (f, n) in fixed.iter_mut().zip(&natural) {
            if !*f && *n <= share && free_count > 1 {
                *f = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let used: f32 = natural
        .iter()
        .zip(&fixed)
        .filter(|(_, f)| **f)
        .map(|(n, _)| n)
        .sum();
    let avail = CONTENT_WIDTH - used;
    let free = |values: &[f32]| -> f32 {
        values
            .iter()
            .zip(&fixed)
            .filter(|(_, f)| !**f)
            .map(|(v, _)| v)
            .sum()
    };
    let minimum_sum = free(&minimum);
    let flex: Vec<f32> = natural
        .iter()
        .zip(&minimum)
        .map(|(n, m)| (n - m).max(0.0))
        .collect();
    let flex_sum = free(&flex);
    let free_count = fixed.iter().filter(|f| !**f).count().max(1) as f32;
    natural
        .iter()
        .zip(&minimum)
        .zip(&flex)
        .zip(&fixed)
        .map(|(((&n, &m), &f), &is_fixed)| {
            if is_fixed {
                n
            } else if minimum_sum >= avail {
                m * avail / minimum_sum
            } else if flex_sum > 0.0 {
                m + (avail - minimum_sum) * f / flex_sum
            } else {
                m + (avail - minimum_sum) / free_count
            }
        })
        .collect()
}
