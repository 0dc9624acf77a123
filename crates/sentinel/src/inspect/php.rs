//! PHP code injection: PHP tags, superglobals, serialized objects, stream wrappers,
//! dangerous functions called the way payloads call them, and uploads of PHP files.

use std::sync::LazyLock;

use super::rules::{Rule, RuleSet, rule};
use super::targets::Target;
use super::{Family, Findings};

/// Functions that run code or commands, or decode a hidden payload.
macro_rules! php_fn {
    () => {
        r"(?:eval|assert|system|exec|shell_exec|passthru|popen|proc_open|pcntl_exec|base64_decode|gzinflate|gzuncompress|gzdecode|str_rot13|create_function|call_user_func(?:_array)?|preg_replace|file_get_contents|file_put_contents|fopen|fwrite|include|include_once|require|require_once|phpinfo|unserialize|array_map|array_filter|usort|uasort|hex2bin|highlight_file|show_source|php_uname|getenv|putenv|ini_set|dl|mail|move_uploaded_file|chr|ord|zlib_decode|convert_uuencode|get_defined_functions|get_defined_vars|posix_\w+|readfile|file|glob|scandir|opendir|symlink|unlink)"
    };
}

static RULES: &[Rule] = &[
    rule(
        "php-open-tag",
        9,
        r"<\?(?:php\b|=|\s)|\[php\]|<script\s+language\s*=\s*['\x22]?php",
    ),
    rule(
        "php-superglobal",
        8,
        r"\$_(?:get|post|cookie|request|server|files|env|session)\b|\$globals\b|\$http_raw_post_data\b",
    ),
    rule(
        "php-serialized-object",
        9,
        r#"\b[oc]:\d+:"[\w\\]+":\d+:\{|\ba:\d+:\{(?:[sibd]:\d+[:;])"#,
    ),
    rule(
        "php-stream-wrapper",
        9,
        r"\bphp://(?:input|filter|memory|temp|fd|stdin)|\b(?:phar|zip|expect|glob|data)://|\bdata:(?:text/plain|application/x-httpd-php)[;,]",
    ),
    rule(
        "php-function-call",
        8,
        concat!(
            r#"\b"#,
            php_fn!(),
            r#"\s*\(\s*(?:\$|['"`]|\)|\w+\s*\(|\$_)"#
        ),
    ),
    rule(
        "php-variable-function",
        9,
        r#"\(\s*['"]?\s*(?:system|exec|shell_exec|passthru|assert|eval|popen)\s*['"]?\s*\)\s*\(|\$\{?\w*\}?\s*\(\s*['"](?:system|exec|assert|id|ls|whoami|uname)|\[\s*['"]?(?:sys|system)['"]?\s*(?:\.\s*['"]?\w+['"]?\s*)*\]\s*\[\s*\d+\s*\]"#,
    ),
    rule(
        "php-config-directive",
        8,
        r"\b(?:allow_url_include|allow_url_fopen|auto_prepend_file|auto_append_file|disable_functions|open_basedir|safe_mode|suhosin\.\w+|mbstring\.\w+)\s*=",
    ),
    rule("php-backtick-exec", 7, r"\$\w+\s*=\s*`[^`]+`"),
    rule(
        "php-variable-variable",
        7,
        r"\$\{\s*['\x22]\w*['\x22]\s*\}\s*\(|\$\$+\w+\s*\(|\$_+\[\s*_*\s*\]",
    ),
];

/// Rules for uploaded file names.
static FILE_RULES: &[Rule] = &[rule(
    "php-upload",
    8,
    r"\.(?:php\d?|phtml|phar|pht|phps|inc)\s*\.*\s*$|\.(?:php\d?|phtml|phar)\.|^\.(?:htaccess|user\.ini)$",
)];

static SET: LazyLock<Option<RuleSet>> =
    LazyLock::new(|| RuleSet::compile(Family::PhpInjection, RULES));
static FILE_SET: LazyLock<Option<RuleSet>> =
    LazyLock::new(|| RuleSet::compile(Family::PhpInjection, FILE_RULES));

/// Matches a target against the PHP injection rules.
pub(crate) fn inspect(target: &Target, out: &mut Findings) {
    let text = target.text.as_str();
    if !text
        .bytes()
        .any(|b| matches!(b, b'<' | b'$' | b'(' | b':' | b'=' | b'[' | b'`'))
    {
        return;
    }
    if let Some(set) = SET.as_ref() {
        // PHP ignores comments between a function name and its parenthesis.
        if text.contains("/*") || text.contains('#') {
            set.scan(target, &strip_comments(text), out);
        } else {
            set.scan(target, text, out);
        }
    }
}

/// Matches an uploaded file's name (or a header naming one) against the upload rules.
pub(crate) fn inspect_file_name(target: &Target, out: &mut Findings) {
    if let Some(set) = FILE_SET.as_ref() {
        set.scan(target, target.text.as_str(), out);
    }
}

/// Removes `/* … */` and `# …` line comments, as the PHP lexer does.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let block = rest.find("/*");
        let line = rest.find('#');
        match (block, line) {
            (Some(b), l) if l.is_none_or(|l| b < l) => {
                out.push_str(&rest[..b]);
                rest = rest[b + 2..]
                    .find("*/")
                    .map_or("", |e| &rest[b + 2 + e + 2..]);
            }
            (_, Some(l)) => {
                out.push_str(&rest[..l]);
                rest = rest[l..].find('\n').map_or("", |e| &rest[l + e + 1..]);
            }
            _ => {
                out.push_str(rest);
                return out;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::rules::assert_compiles;

    #[test]
    fn rules_compile() {
        assert_compiles(SET.as_ref(), RULES);
        assert_compiles(FILE_SET.as_ref(), FILE_RULES);
    }

    #[test]
    fn comments_strip() {
        assert_eq!(strip_comments("exec/*x*/(1)"), "exec(1)");
        assert_eq!(strip_comments("exec#a\n(1)"), "exec(1)");
    }
}
