//! Layout of the simpler blocks: lists, key/value pairs and status lines.

use super::layout::{BLACK, BODY_SIZE, CONTENT_WIDTH, GREY, Layout, MARGIN_X, Rgb, leading};
use super::metrics::{self, Face};
use crate::{ReportError, StatusState};

pub(crate) fn list(l: &mut Layout, items: &[String]) -> Result<(), ReportError> {
    let indent = 14.0;
    for item in items {
        let lines = metrics::wrap_text(Face::Regular, BODY_SIZE, item, CONTENT_WIDTH - indent);
        for (i, line) in lines.into_iter().enumerate() {
            l.ensure(leading(BODY_SIZE))?;
            if i == 0 {
                l.text_at(
                    MARGIN_X + 3.0,
                    l.y,
                    Face::Regular,
                    BODY_SIZE,
                    BLACK,
                    vec![0x95],
                );
            }
            l.line(MARGIN_X + indent, Face::Regular, BODY_SIZE, BLACK, line)?;
        }
        l.y -= 2.0;
    }
    Ok(())
}

/// One column of wrapped text for [`two_columns`].
#[derive(Debug)]
struct Column {
    x: f32,
    face: Face,
    lines: Vec<Vec<u8>>,
}

/// Two side-by-side columns of wrapped text, drawn line by line so that a
/// pair taller than a page can still split; pairs that fit are kept whole.
fn two_columns(l: &mut Layout, left: Column, right: Column, size: f32) -> Result<(), ReportError> {
    let rows = left.lines.len().max(right.lines.len());
    l.ensure(rows as f32 * leading(size))?;
    let mut left_lines = left.lines.into_iter();
    let mut right_lines = right.lines.into_iter();
    for _ in 0..rows {
        l.ensure(leading(size))?;
        if let Some(text) = left_lines.next() {
            l.text_at(left.x, l.y, left.face, size, BLACK, text);
        }
        if let Some(text) = right_lines.next() {
            l.text_at(right.x, l.y, right.face, size, BLACK, text);
        }
        l.y -= leading(size);
    }
    Ok(())
}

pub(crate) fn key_values(l: &mut Layout, pairs: &[(String, String)]) -> Result<(), ReportError> {
    let gap = 12.0;
    let widest = pairs
        .iter()
        .map(|(k, _)| metrics::natural_width(Face::Bold, BODY_SIZE, k))
        .fold(0.0, f32::max);
    let key_width = widest.min(CONTENT_WIDTH * 0.35);
    let value_x = MARGIN_X + key_width + gap;
    let value_width = CONTENT_WIDTH - key_width - gap;
    for (key, value) in pairs {
        let keys = metrics::wrap_text(Face::Bold, BODY_SIZE, key, key_width);
        let values = metrics::wrap_text(Face::Regular, BODY_SIZE, value, value_width);
        two_columns(
            l,
            Column {
                x: MARGIN_X,
                face: Face::Bold,
                lines: keys,
            },
            Column {
                x: value_x,
                face: Face::Regular,
                lines: values,
            },
            BODY_SIZE,
        )?;
        l.y -= 2.0;
    }
    Ok(())
}

/// The badge colour. Text, not colour alone, carries the outcome.
fn status_color(state: StatusState) -> Rgb {
    match state {
        StatusState::Pass => Rgb(0.1, 0.5, 0.22),
        StatusState::Fail => Rgb(0.71, 0.14, 0.09),
        StatusState::Unknown => Rgb(0.6, 0.4, 0.0),
        StatusState::Info => Rgb(0.12, 0.31, 0.6),
    }
}

pub(crate) fn status(
    l: &mut Layout,
    label: &str,
    state: StatusState,
    detail: &str,
) -> Result<(), ReportError> {
    let badge_width = metrics::width(Face::Bold, BODY_SIZE, b"UNKNOWN") + 10.0;
    let text_x = MARGIN_X + badge_width;
    let text_width = CONTENT_WIDTH - badge_width;
    let labels = metrics::wrap_text(Face::Bold, BODY_SIZE, label, text_width);
    let details = if detail.is_empty() {
        Vec::new()
    } else {
        metrics::wrap_text(Face::Regular, 9.5, detail, text_width)
    };
    let height = labels.len() as f32 * leading(BODY_SIZE) + details.len() as f32 * leading(9.5);
    l.ensure(height)?;
    l.ensure(leading(BODY_SIZE))?;
    let badge = metrics::encode(state.label());
    l.text_at(
        MARGIN_X,
        l.y,
        Face::Bold,
        BODY_SIZE,
        status_color(state),
        badge,
    );
    for line in labels {
        l.line(text_x, Face::Bold, BODY_SIZE, BLACK, line)?;
    }
    for line in details {
        l.line(text_x, Face::Regular, 9.5, GREY, line)?;
    }
    l.y -= 2.0;
    Ok(())
}
