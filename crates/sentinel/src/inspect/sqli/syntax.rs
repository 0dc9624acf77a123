//! The hand-written SQL checks beside the rules: values made of SQL symbols, keywords
//! cut by comments, literal tautologies, and the comment-free view the rules read.

use super::super::decode::squash_spaces;
use super::super::targets::{Context, Target, TargetKind};
use super::super::{Family, Findings};
use super::COMPARISON;

/// Characters that mean something to SQL (or to a query built from a value) and that
/// no identifier holds.
pub(super) fn is_sql_special(c: char) -> bool {
    matches!(
        c,
        '\'' | '"'
            | '`'
            | ';'
            | '='
            | '<'
            | '>'
            | '|'
            | '&'
            | '@'
            | '#'
            | '!'
            | '$'
            | '%'
            | '^'
            | '*'
            | '('
            | ')'
            | '~'
            | '\\'
    )
}

/// SQL operators, each of which may be what a probe sends alone to see whether the
/// query breaks.
const OPERATORS: &[&str] = &[
    "&&", "||", "<>", "!=", "<=", ">=", "==", "<=>", "<<", ">>", "->", "->>", "!<", "!>", ":=",
];

/// Names and structured values made of symbols only, and names with quotes: a
/// parameter name is an identifier and a structured value a word, a number or a code;
/// a lone operator, a run of quotes or a keyboard row of symbols in one is a probe for
/// how the query behind it breaks.
pub(super) fn symbols(target: &Target, out: &mut Findings) {
    if target.kind == TargetKind::Path {
        return;
    }
    let text = target.text.trim();
    if text.chars().any(char::is_alphanumeric) || text.chars().count() < 2 {
        return;
    }
    let mut specials = [false; 128];
    let mut distinct = 0;
    let mut count = 0;
    for c in text.chars().filter(|c| is_sql_special(*c)) {
        count += 1;
        let slot = &mut specials[c as usize & 127];
        if !*slot {
            *slot = true;
            distinct += 1;
        }
    }
    // Cookies are machine-written but hold more symbols (`==` padding, `%` escapes).
    // Emoticons (`;)`, `:'(`) are the symbols people type alone: a message may be
    // one, and a short value ending in a bracket reads as one.
    let emoticon = text.len() <= 3 && text.ends_with([')', '(']);
    let enough = match target.context {
        Context::Header => count >= 3,
        Context::Prose => count >= 4,
        Context::Data => !emoticon,
    };
    let junk = OPERATORS.contains(&text)
        || (distinct >= 2 && enough)
        || (distinct >= 1 && text.chars().count() >= 6)
        || text.starts_with("---")
        || (target.kind == TargetKind::Name && distinct >= 1);
    if junk && target.min_weight <= 4 {
        out.push(Family::Sqli, "sqli-symbol-value", target.location, text, 4);
    }
}

/// Names of database catalogs, system databases and procedures: a parameter named
/// after one is a probe even though it looks like a plain identifier.
pub(crate) fn is_catalog_name(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "information_schema",
        "tempdb",
        "msdb",
        "northwind",
        "schema_name",
        "msysobjects",
        "msysaccessobjects",
        "msysqueries",
        "sysobjects",
        "syscolumns",
        "sysdatabases",
        "sqlite_master",
        "sqlite_schema",
        "pg_catalog",
        "pg_shadow",
        "mysql.user",
        "mysql.db",
        "sp_executesql",
        "xp_cmdshell",
    ];
    name.len() >= 4 && name.len() <= 24 && NAMES.iter().any(|n| name.eq_ignore_ascii_case(n))
}

/// A SQL keyword cut in two by a comment (`DR/**/OP`, `SEL/*x*/ECT`): the comment
/// hides the keyword from a filter that reads it as a space, while a filter or
/// database that drops comments reads the keyword whole.
pub(super) fn split_keyword(text: &str) -> Option<&str> {
    const KEYWORDS: &[&str] = &[
        "select",
        "union",
        "insert",
        "update",
        "delete",
        "drop",
        "alter",
        "create",
        "where",
        "from",
        "having",
        "order",
        "group",
        "exec",
        "execute",
        "declare",
        "truncate",
        "table",
        "sleep",
        "benchmark",
        "waitfor",
        "concat",
    ];
    let mut from = 0;
    while let Some(pos) = text[from..].find("/*") {
        let start = from + pos;
        let end = text[start + 2..].find("*/").map(|e| start + 2 + e + 2)?;
        let left = text[..start]
            .rsplit(|c: char| !c.is_ascii_alphabetic())
            .next()
            .unwrap_or("");
        let right = text[end..]
            .split(|c: char| !c.is_ascii_alphabetic())
            .next()
            .unwrap_or("");
        if !left.is_empty() && !right.is_empty() {
            let joined = format!("{left}{right}");
            if KEYWORDS.contains(&joined.as_str()) {
                return Some(&text[start - left.len()..end + right.len()]);
            }
        }
        from = end;
    }
    None
}

/// A comparison of two literals that is always true (`1=1`, `'a' like 'a'`, `1 is not
/// 2`, `11!=1`): a structured value never holds one, a probe does to test a condition.
pub(super) fn literal_tautology(text: &str) -> Option<&str> {
    let re = COMPARISON.as_ref()?;
    for caps in re.captures_iter(text) {
        let (Some(whole), Some(a), Some(op), Some(b)) =
            (caps.get(0), caps.get(1), caps.get(2), caps.get(3))
        else {
            continue;
        };
        let strip = |s: &str| s.trim_matches(['\'', '"', '`']).to_string();
        let same = strip(a.as_str()) == strip(b.as_str());
        let op = op.as_str();
        let negated =
            op.starts_with('!') || op == "<>" || op.starts_with("not") || op.starts_with("is ");
        if same != negated {
            return Some(whole.as_str());
        }
    }
    None
}

/// Injection needs at least one of these; a value without any is skipped.
pub(super) fn is_sql_punct(b: u8) -> bool {
    matches!(
        b,
        b'\''
            | b'"'
            | b'`'
            | b'('
            | b')'
            | b';'
            | b'='
            | b'<'
            | b'>'
            | b'@'
            | b'|'
            | b'&'
            | b','
            | b'*'
            | b'#'
            | b'-'
            | b' '
            | b'\t'
            | b'\n'
            | b'\r'
            | b'+'
            | b'/'
            | b':'
            | b'$'
    )
}

/// Quote look-alikes that some database drivers and charsets turn into `'`.
pub(super) const TYPOGRAPHIC_QUOTES: [char; 5] =
    ['\u{2018}', '\u{2019}', '\u{b4}', '\u{2bc}', '\u{ff07}'];

/// The SQL view: typographic quotes read as `'`, `/* … */` comments become a space (MySQL's `/*! … */` keeps its
/// content, as MySQL runs it), then whitespace is squashed.
pub(super) fn view(text: &str) -> String {
    let folded;
    let text = if text.contains(TYPOGRAPHIC_QUOTES) {
        folded = text.replace(TYPOGRAPHIC_QUOTES, "'");
        folded.as_str()
    } else {
        text
    };
    if !text.contains("/*") {
        return squash_spaces(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        out.push(' ');
        let inner = &rest[start + 2..];
        match inner.find("*/") {
            Some(end) => {
                if let Some(versioned) = inner[..end].strip_prefix('!') {
                    out.push_str(versioned.trim_start_matches(|c: char| c.is_ascii_digit()));
                    out.push(' ');
                }
                rest = &inner[end + 2..];
            }
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    squash_spaces(&out)
}
