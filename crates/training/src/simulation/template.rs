//! Checking and filling in lure templates.
//!
//! The guardrail: lures must not play on pay, jobs, gifts or tax refunds. Tests that do
//! (GoDaddy's "holiday bonus" e-mail is the known case) teach staff that the employer
//! will lie about their livelihood, and cost the programme the trust that reporting
//! depends on. The check is deliberately broad: a refused lure is easy to reword, a
//! lure that hurts people cannot be unsent.
//!
//! Templates are plain text with two placeholders, `{{name}}` and `{{link}}` (spaces
//! inside the braces allowed). The server escapes the rendered text for HTML mail.

use crate::TrainingError;

/// Longest subject, in characters.
pub const MAX_SUBJECT_CHARS: usize = 120;
/// Longest body, in characters.
pub const MAX_BODY_CHARS: usize = 5_000;
/// Longest landing-page text, in characters.
pub const MAX_LANDING_CHARS: usize = 5_000;
/// The placeholders [`render`] fills in.
pub const PLACEHOLDERS: [&str; 2] = ["name", "link"];

/// Single words refused in any field, with their common variants.
const FORBIDDEN_WORDS: &[&str] = &[
    // Pay.
    "pay",
    "pays",
    "paid",
    "payday",
    "payslip",
    "payslips",
    "payroll",
    "paycheck",
    "paychecks",
    "paycheque",
    "paycheques",
    "payrise",
    "payrises",
    "salary",
    "salaries",
    "salaried",
    "wage",
    "wages",
    "bonus",
    "bonuses",
    "raise",
    "raises",
    "remuneration",
    "compensation",
    "overtime",
    "superannuation",
    "commission",
    "commissions",
    // Jobs.
    "layoff",
    "layoffs",
    "redundancy",
    "redundancies",
    "redundant",
    "retrench",
    "retrenched",
    "retrenchment",
    "retrenchments",
    "terminate",
    "terminated",
    "termination",
    "terminations",
    "dismissal",
    "dismissals",
    "dismissed",
    "fired",
    "firing",
    "sacked",
    "sacking",
    "restructure",
    "restructured",
    "restructuring",
    "downsizing",
    "downsize",
    // Gifts.
    "gift",
    "gifts",
    "giftcard",
    "giftcards",
    "hamper",
    "hampers",
    // Tax refunds.
    "taxrefund",
    "ato",
    "irs",
];

/// Two-word phrases refused (matched on consecutive words, so "lay-off" and "lay off"
/// are both caught).
const FORBIDDEN_PHRASES: &[(&str, &str)] = &[
    ("lay", "off"),
    ("lay", "offs"),
    ("laid", "off"),
    ("let", "go"),
    ("job", "cuts"),
    ("job", "losses"),
    ("tax", "refund"),
    ("tax", "refunds"),
    ("tax", "return"),
    ("tax", "returns"),
    ("tax", "rebate"),
];

/// Refuses a lure about a forbidden topic, or one that is malformed: an empty or
/// multi-line subject, a body without `{{link}}` (no click could be recorded), an unknown
/// or unclosed placeholder, an empty landing text, or a field over its length limit.
pub fn validate_template(subject: &str, body: &str, landing: &str) -> Result<(), TrainingError> {
    let fields = [
        ("subject", subject, MAX_SUBJECT_CHARS),
        ("body", body, MAX_BODY_CHARS),
        ("landing", landing, MAX_LANDING_CHARS),
    ];
    for (field, text, max) in fields {
        if text.trim().is_empty() {
            return Err(TrainingError::Empty { field });
        }
        let got = text.chars().count();
        if got > max {
            return Err(TrainingError::TooLong { field, max, got });
        }
    }
    if subject.contains(['\r', '\n']) {
        return Err(TrainingError::MultilineSubject);
    }
    for (field, text, _) in fields {
        let names =
            placeholders(text).map_err(|()| TrainingError::UnclosedPlaceholder { field })?;
        if let Some(name) = names.iter().find(|n| !PLACEHOLDERS.contains(&n.as_str())) {
            return Err(TrainingError::UnknownPlaceholder {
                field,
                name: name.clone(),
            });
        }
        if field == "body" && !names.iter().any(|n| n == "link") {
            return Err(TrainingError::MissingLink);
        }
        if let Some(word) = forbidden_topic(text) {
            return Err(TrainingError::ForbiddenTopic { field, word });
        }
        if let Some(found) = outside_link(text) {
            return Err(TrainingError::OutsideLink { field, found });
        }
    }
    Ok(())
}

/// The first web or mail address in `text`, if any: a template sent from the
/// practice's own sender must not point anywhere but its tracked `{{link}}` (else an
/// insider could send a real phish through the sanctioned channel).
fn outside_link(text: &str) -> Option<String> {
    for word in text.split_whitespace() {
        let w =
            word.trim_matches(|c: char| !c.is_alphanumeric() && c != '/' && c != ':' && c != '@');
        let lower = w.to_ascii_lowercase();
        if lower.contains("://")
            || lower.starts_with("www.")
            || lower.starts_with("mailto:")
            || (lower.contains('@') && lower.contains('.'))
        {
            return Some(w.chars().take(80).collect());
        }
        // A bare domain: labels joined by dots, ending in a letters-only top-level label.
        let labels: Vec<&str> = lower.split('.').collect();
        if labels.len() >= 2
            && labels
                .iter()
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
            && labels.last().is_some_and(|t| {
                (2..=24).contains(&t.len()) && t.chars().all(|c| c.is_ascii_alphabetic())
            })
        {
            return Some(w.chars().take(80).collect());
        }
    }
    None
}

/// The names inside `{{ }}` in `text`, trimmed; `Err` on a `{{` that is never closed.
fn placeholders(text: &str) -> Result<Vec<String>, ()> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or(())?;
        names.push(after[..end].trim().to_owned());
        rest = &after[end + 2..];
    }
    Ok(names)
}

/// The first forbidden word or phrase in `text`, if any.
///
/// Words are compared in lower case after removing invisible characters (soft hyphens,
/// zero-width spaces) and undoing common digit-for-letter swaps ("b0nus", "sa1ary").
pub(crate) fn forbidden_topic(text: &str) -> Option<String> {
    let visible: String = text
        .chars()
        .filter(|c| !is_invisible(*c))
        .collect::<String>();
    let lower = visible.to_lowercase();
    for variant in [None, Some('i'), Some('l')] {
        let words = words(&lower, variant);
        for (i, w) in words.iter().enumerate() {
            if FORBIDDEN_WORDS.contains(&w.as_str()) {
                return Some(w.clone());
            }
            if let Some(next) = words.get(i + 1)
                && FORBIDDEN_PHRASES.contains(&(w.as_str(), next.as_str()))
            {
                return Some(format!("{w} {next}"));
            }
        }
    }
    None
}

/// Splits on anything that is not a letter or digit. With `one_as` set, digits and
/// symbols that stand in for letters are swapped back first, `1` becoming `one_as`.
fn words(text: &str, one_as: Option<char>) -> Vec<String> {
    let swapped: String = match one_as {
        None => text.to_owned(),
        Some(one) => text
            .chars()
            .map(|c| match c {
                '0' => 'o',
                '1' | '!' | '|' => one,
                '3' => 'e',
                '4' | '@' => 'a',
                '5' | '$' => 's',
                '7' => 't',
                other => other,
            })
            .collect(),
    };
    swapped
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{034F}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}'
            | '\u{FEFF}'
    )
}

/// Fills in `{{name}}` and `{{link}}` in one pass, so text inside the values is never
/// read as a placeholder. Line breaks and other control characters in the values become
/// spaces, so a name cannot add a line (or a mail header) to a subject. Unknown or
/// unclosed placeholders are left as they are; [`validate_template`] refuses them first.
pub fn render(template: &str, recipient_name: &str, link: &str) -> String {
    let name = single_line(recipient_name);
    let link = single_line(link);
    let mut out = String::with_capacity(template.len() + name.len() + link.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            break;
        };
        out.push_str(&rest[..start]);
        match after[..end].trim() {
            "name" => out.push_str(&name),
            "link" => out.push_str(&link),
            _ => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

fn single_line(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
