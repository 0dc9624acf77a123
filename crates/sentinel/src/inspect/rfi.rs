//! Remote file inclusion and server-side request forgery: a value that makes the
//! server fetch something. A URL in a parameter is normal (FHIR system URIs, return
//! addresses), so the rules want what a normal URL lacks: an IP literal (also hex,
//! octal or integer spelled), a cloud metadata or loopback host, a scheme no web form
//! uses (`gopher://`, `dict://`, `phar://`), userinfo tricks, or an XML external entity.

use std::sync::LazyLock;

use super::rules::{Rule, RuleSet, rule};
use super::targets::Target;
use super::{Family, Findings};

static RULES: &[Rule] = &[
    rule(
        "rfi-ip-url",
        7,
        r"\b(?:https?|ftps?|gopher|dict|ldap|tftp|smb|rsync)://(?:[^/@\s]*@)?(?:(?:\d{1,3}\.){3}\d{1,3}\b|\[[0-9a-f:.%\w]*\]|0x[0-9a-f]+\b|\d{8,10}\b|0\d+\.)",
    ),
    rule(
        "rfi-unusual-scheme",
        8,
        r"\b(?:gopher|dict|ldaps?|tftp|jar|expect|phar|glob|ssh2|ogg|rar|zlib|netdoc|local_file|smb|sftp)://|\bjar:(?:file|https?):|\burl:(?:file|https?):",
    ),
    rule(
        "ssrf-metadata-host",
        9,
        r"169\.254\.169\.254|\bmetadata\.google\.internal\b|100\.100\.100\.200|fd00:ec2::254|169\.254\.170\.2\b|\bmetadata\.azure\.com\b|192\.0\.0\.192",
    ),
    rule(
        "ssrf-internal-host",
        7,
        // A URL to an internal host; or a value that starts with one and goes on to a
        // port or path. A bare address alone (a form field naming an address, say) is
        // not a request for the server to fetch anything.
        r"(?:://|@)(?:localhost\d?|localtest\.me|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|0\.0\.0\.0|\[::1?\]|\[(?:0+:){5,7}[0-9a-f:.]*\]|host\.docker\.internal|gateway\.docker\.internal|kubernetes\.default(?:\.svc)?|localhost\d?\.localdomain\d?)(?:[:/?#]|$)|^(?:localhost\d?|localtest\.me|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|0\.0\.0\.0|\[::1?\]|\[(?:0+:){5,7}[0-9a-f:.]*\]|host\.docker\.internal|gateway\.docker\.internal|kubernetes\.default(?:\.svc)?|localhost\d?\.localdomain\d?)[:/?#]",
    ),
    rule(
        "rfi-userinfo-trick",
        6,
        r"^(?:https?|ftps?)://[^\s/?#]*/?[^\s/?#]*@",
    ),
    rule(
        "xxe-external-entity",
        9,
        r#"<!entity\s+(?:%\s*)?[\w.-]+\s+(?:system|public)\b|<!doctype\s+[\w:.-]+\s+(?:system|public)\s+['"]|<!doctype\s+[\w:.-]+\s*\[\s*<!entity"#,
    ),
    rule(
        "xxe-xinclude",
        8,
        r#"<\s*xi:include\b|xmlns:xi\s*=|xsi:schemalocation\s*=\s*['"][^'"]*https?://"#,
    ),
];

static SET: LazyLock<Option<RuleSet>> =
    LazyLock::new(|| RuleSet::compile(Family::RemoteInclusion, RULES));

/// Matches a target against the remote inclusion rules.
pub(crate) fn inspect(target: &Target, out: &mut Findings) {
    let text = target.text.as_str();
    if !text.bytes().any(|b| matches!(b, b':' | b'<' | b'.')) {
        return;
    }
    if let Some(set) = SET.as_ref() {
        set.scan(target, text, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::rules::assert_compiles;

    #[test]
    fn rules_compile() {
        assert_compiles(SET.as_ref(), RULES);
    }
}
