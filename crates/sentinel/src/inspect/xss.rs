//! Cross-site scripting: markup or script where a value was expected.
//!
//! `<` and `>` alone are common (blood pressure `<120`, "BP > 140"), so rules want a
//! tag that runs script (`<script`, `<iframe`, `<svg onload=`), an event handler in a
//! tag, a `javascript:` URL (also with whitespace or entities inside), or a call into
//! the browser's script sinks (`alert(1)`, `document.cookie`, `String.fromCharCode(`).

use std::sync::LazyLock;

use regex::Regex;

use super::rules::{Rule, RuleSet, rule};
use super::targets::{Context, Target, TargetKind};
use super::{Family, Findings};

/// DOM event handler attribute names (without the `on`).
macro_rules! events {
    () => {
        r"(?:abort|activate|afterprint|afterscriptexecute|animation\w+|auxclick|before\w+|begin|blur|bounce|canplay\w*|change|click|close|contextmenu|copy|cuechange|cut|dblclick|drag\w*|drop|durationchange|end|ended|error|finish|focus\w*|formdata|fullscreenchange|hashchange|help|input|invalid|key\w+|load\w*|message|mouse\w+|move\w*|page\w+|paste|pause|play\w*|pointer\w+|popstate|progress|propertychange|readystatechange|repeat|reset|resize|scroll\w*|search|seek\w+|select\w*|show|start|storage|submit|suspend|timeupdate|toggle|touch\w+|transition\w+|unload|volumechange|waiting|webkit\w+|wheel|zoom)"
    };
}

static RULES: &[Rule] = &[
    rule("xss-script-tag", 9, r"<\s*/?\s*(?:[\w-]+\s*:\s*)?script\b"),
    rule(
        "xss-event-handler-in-tag",
        9,
        r#"<\s*[a-z][\w:-]*\b[^>]*?[\s"'/]on[a-z]{3,}\s*="#,
    ),
    rule(
        "xss-event-handler",
        8,
        concat!(r#"(?:^|[\s"'/;>`])on"#, events!(), r"\s*="),
    ),
    rule(
        "xss-dangerous-tag",
        8,
        r"<\s*(?:iframe|frame|frameset|object|embed|applet|meta|base|link|svg|math|form|isindex|xss|import|animate|set|handler|listener|bgsound|layer|ilayer|style|template|portal|xml|marquee|noscript|[a-z]*:[a-z]+)\b|<\?\s*import\b|<\??\s*import\s*implementation\s*=",
    ),
    rule(
        "xss-tag-with-url",
        7,
        r#"<\s*(?:img|image|video|audio|source|input|body|table|td|div|a|p|span|details|button|textarea|select|keygen|object|embed)\b[^>]*?\b(?:src|href|action|formaction|background|dynsrc|lowsrc|poster|data|srcdoc)\s*=\s*['"]?\s*(?:javascript|vbscript|data|livescript):"#,
    ),
    rule(
        "xss-style-script",
        8,
        r#"\bexpression\s*\(|-moz-binding\s*:|\bbehaviou?r\s*:\s*url|\burl\s*\(\s*['"]?\s*(?:javascript|vbscript|data)\b|@import\b"#,
    ),
    rule(
        "xss-script-sink",
        8,
        r#"\b(?:alert|prompt|confirm|print)\s*(?:\(\s*(?:\d+|['"`][^'"`]*['"`]|document\.\w+|window\.\w+|/[^/]*/|\))|`)"#,
    ),
    rule(
        "xss-script-sink",
        8,
        r#"\beval\s*\(\s*(?:['"`]|atob|unescape|decodeuri|string\.fromcharcode|\w+\s*\()|\bdocument\s*\.\s*(?:cookie|domain|write(?:ln)?\s*\(|location|body\s*\.\s*appendchild|createelement)|\bwindow\s*\.\s*(?:location|open\s*\(|name)|\b(?:document|window|self|top|parent|globalthis|frames|content)\s*\[\s*['"`]|\.(?:innerhtml|outerhtml)\s*=|\bstring\s*\.\s*fromcharcode\s*\(|\bconstructor\s*\.\s*constructor\b|\bnew\s+function\s*\(|\bdocument\s*\.\s*(?:queryselector(?:all)?|getelementsby\w+|getelementbyid|forms|images|scripts)\b|\bbtoa\s*\(|\bset(?:timeout|interval)\s*\(\s*(?:['"`]|\w+\s*,)|\batob\s*\(|\.call\s*`|\$\{\s*(?:alert|prompt|confirm|eval)\s*\}|\breflect\s*\.\s*\w+\s*\.\s*call\b|\b(?:location|top|self)\s*\.\s*(?:href|hash|search)\s*=|\bimport\s*\(\s*['"`](?:https?:|data:|//)"#,
    ),
    rule(
        "xss-template-injection",
        7,
        r"\{\{.{0,80}?(?:constructor|\$on|\$eval|alert|window|document|tostring|prototype).{0,80}?\}\}",
    ),
    rule("xss-jsfuck", 8, r"(?:[()!+]+\[\]){2,}|\(!\[\]\+\[\]\)"),
    rule("xss-utf7", 8, r"\+ad[w4]-"),
    rule(
        "xss-attribute-breakout",
        7,
        r#"['"]\s*/?>\s*<\s*/?[a-z]|['"]\s*(?:on[a-z]{3,}|style|src|href|formaction|srcdoc)\s*=\s*(?:$|['"]?\s*[\w(])"#,
    ),
    rule("xss-spaced-tag", 7, r"<\s*[a-z](?:\s+[a-z]){3,}\b"),
    rule(
        "xss-entity-declaration",
        7,
        r"<?!\s*entity\s+%?\s*[\w.-]+\s+(?:system|public)\b",
    ),
    rule("xss-comment-breakout", 7, r"--!?>\s*<\s*[a-z!/?]"),
    rule(
        "xss-string-breakout",
        7,
        r#"['"]\s*(?:in|instanceof)\s+[a-z_$][\w$.]*\s*=(?:[^=]|$)"#,
    ),
    rule(
        "xss-meta-refresh",
        8,
        r#"http-equiv\s*=\s*['"]?\s*(?:refresh|set-cookie)"#,
    ),
    rule(
        "xss-data-uri",
        7,
        r"\bdata\s*:\s*(?:text/html|text/javascript|application/(?:x-)?(?:javascript|ecmascript)|image/svg\+xml|text/xml|application/xhtml)|\bdata\s*:\s*,",
    ),
];

/// Rules over the squeezed view (whitespace and control characters removed), which
/// browsers ignore inside a URL scheme: `java\tscript:` is `javascript:`.
static SQUEEZED_RULES: &[Rule] = &[
    rule(
        "xss-script-url",
        9,
        r"(?:java|vb|live|ecma|j)script:|\bmocha:",
    ),
    rule(
        "xss-script-sink",
        8,
        r#"\bdocument\)?\.(?:cookie|domain|write)|\(?\b(?:document|window|self|top|parent|globalthis|frames)\)?\[['"`]"#,
    ),
];

/// Rules for structured values and headers only (see [`Context`]).
static STRICT_RULES: &[Rule] = &[
    rule("xss-event-attribute", 7, r"\son[a-z]{3,30}\s*="),
    rule("xss-comment-breakout", 6, r"^\s*--!?>"),
    rule(
        "xss-string-breakout",
        6,
        r#"['"]\s*[a-z_$][\w$]*(?:\.[\w$]+)+\s*=(?:[^=]|$)"#,
    ),
    rule(
        "xss-tag-with-attribute",
        7,
        r#"<\s*(?:a|abbr|b|body|button|div|form|iframe|img|image|input|label|li|option|p|select|span|table|td|tr|textarea|video|audio|source|details|dialog|html|head|title|frame|object|embed|style|meta|link|base|svg|math|marquee|isindex|keygen|font|center|h[1-6]|ul|ol|section|article|nav|canvas|picture|track)\s+[^>]*?\b[\w:-]+\s*=\s*['"\w]"#,
    ),
];

static SET: LazyLock<Option<RuleSet>> = LazyLock::new(|| RuleSet::compile(Family::Xss, RULES));
static STRICT_SET: LazyLock<Option<RuleSet>> =
    LazyLock::new(|| RuleSet::compile(Family::Xss, STRICT_RULES));
static SQUEEZED_SET: LazyLock<Option<RuleSet>> =
    LazyLock::new(|| RuleSet::compile(Family::Xss, SQUEEZED_RULES));

/// Matches a target against the XSS rules.
pub(crate) fn inspect(target: &Target, out: &mut Findings) {
    let text = target.text.as_str();
    if target.context != Context::Prose
        && text.contains(['=', '>'])
        && let Some(set) = STRICT_SET.as_ref()
    {
        set.scan(target, text, out);
    }
    if !text.bytes().any(|b| {
        matches!(
            b,
            b'<' | b'(' | b'=' | b':' | b'[' | b'{' | b'`' | b'+' | b'.' | b'!' | b'>'
        )
    }) && !text.contains(['\u{bc}', '\u{be}'])
    {
        return;
    }
    // A path names a page (`/docs/document.cookie`); script in it needs a bracket, a
    // quote, an operator or markup.
    if target.kind == TargetKind::Path
        && !text.bytes().any(|b| {
            matches!(
                b,
                b'<' | b'(' | b'=' | b'`' | b'\'' | b'"' | b';' | b'{' | b'+' | b'\\'
            )
        })
    {
        return;
    }
    if let Some(set) = SET.as_ref() {
        set.scan(target, text, out);
    }
    if let Some(set) = SQUEEZED_SET.as_ref() {
        set.scan(target, &squeeze(text), out);
    }
    if is_jsfuck(text) {
        out.push(Family::Xss, "xss-jsfuck", target.location, text, 8);
    }
    // `¼script¾`: some charsets drop the high bit, turning `¼` into `<` and `¾` into `>`.
    if text.contains(['\u{bc}', '\u{be}'])
        && let Some(set) = SET.as_ref()
    {
        let seven_bit = seven_bit(text);
        let brackets = |t: &str| t.matches(['<', '>']).count();
        if brackets(&seven_bit) == brackets(text) {
            // Every `¼` and `¾` was part of another character: nothing hidden.
            return;
        }
        set.scan(target, &seven_bit, out);
        if let Some(markup) = CHARSET_MARKUP.as_ref().and_then(|re| re.find(&seven_bit))
            && target.min_weight <= 7
        {
            out.push(
                Family::Xss,
                "xss-charset-markup",
                target.location,
                markup.as_str(),
                7,
            );
        }
    }
}

/// An element with a closing tag, for the seven-bit view: nobody writes `¼b¾…¼/b¾`
/// but to pass markup through a charset that drops the high bit.
static CHARSET_MARKUP: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"<[a-z][\w:-]*[^<>]*>[^<]*</[a-z]").ok());

/// The text as a charset that drops the high bit reads it: `¼` is `<`, `¾` is `>`,
/// `¢` is `"`. A Latin-1 reading of UTF-8 (`Â¼`, lowercased `â¼`) carries the same
/// character after its lead byte; another lead byte (`Ð¼` is the Cyrillic `м`) makes
/// another character, left alone.
fn seven_bit(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut prev: Option<char> = None;
    for c in text.chars() {
        if matches!(c, '\u{80}'..='\u{bf}') {
            match prev {
                Some('\u{c2}' | '\u{e2}') => {
                    out.pop();
                    out.push(char::from((c as u32 & 0x7f) as u8));
                }
                Some('\u{c0}'..='\u{ff}') => out.push(c),
                _ => out.push(char::from((c as u32 & 0x7f) as u8)),
            }
        } else {
            out.push(c);
        }
        prev = Some(c);
    }
    out
}

/// The squeezed view: JavaScript comments and all whitespace removed, as the parser
/// ignores them between tokens (`document /*x*/ . cookie`) and browsers ignore them
/// inside a URL scheme (`java\tscript:`).
fn squeeze(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("/*") {
        out.extend(
            rest[..start]
                .chars()
                .filter(|c| !c.is_whitespace() && !c.is_control()),
        );
        rest = rest[start + 2..]
            .find("*/")
            .map_or("", |end| &rest[start + 2 + end + 2..]);
    }
    out.extend(
        rest.chars()
            .filter(|c| !c.is_whitespace() && !c.is_control()),
    );
    out
}

/// JSFuck: script written with `[]()!+` only (spaces allowed, since a form body turns
/// an unencoded `+` into one).
fn is_jsfuck(text: &str) -> bool {
    let text = text.trim();
    text.len() >= 4
        && text.contains("[]")
        && (text.contains('!') || text.contains("+["))
        && text
            .chars()
            .all(|c| matches!(c, '[' | ']' | '(' | ')' | '!' | '+' | ' '))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::rules::assert_compiles;

    #[test]
    fn rules_compile() {
        assert_compiles(SET.as_ref(), RULES);
        assert_compiles(SQUEEZED_SET.as_ref(), SQUEEZED_RULES);
        assert_compiles(STRICT_SET.as_ref(), STRICT_RULES);
    }
}
