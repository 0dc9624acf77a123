//! Path traversal and local file inclusion: climbing out of a directory (`../`, also
//! encoded, overlong, backslashed or padded with `./` and NULs) or naming a file that
//! only an attacker wants (`/etc/passwd`, `win.ini`, `.ssh/id_rsa`).

use std::sync::LazyLock;

use super::rules::{Rule, RuleSet, rule};
use super::targets::Target;
use super::{Family, Findings};

static RULES: &[Rule] = &[
    rule(
        "traversal-dot-dot-repeated",
        9,
        r"(?:\.{2,}[/\\;]+[/\\.;]*){2,}",
    ),
    rule(
        "traversal-dot-dot",
        7,
        r#"(?:^|[/\\=:;,|\s'"(<>])\.{2,}[/\\;]"#,
    ),
    rule(
        "lfi-unix-system-file",
        9,
        r"/(?:etc/[\w.-]+|proc/(?:self|\d+|version|cpuinfo|meminfo|net|sys|cmdline|environ|mounts|interrupts|kcore|config\.gz|partitions|modules|loadavg|stat|uptime|devices|filesystems|kallsyms|sched_debug)|sys/(?:class|kernel|devices|block|bus|firmware|fs|module|power)\b|var/(?:log|run|spool|mail|lib/(?:mysql|php|docker))/|root/|home/[\w.-]+/\.|usr/local/(?:etc|apache\w*|nginx|lib/php)|dev/(?:shm|mem|kmem|fd|stdin))",
    ),
    rule(
        "lfi-windows-system-file",
        9,
        r"(?:[a-z]:)?[/\\](?:windows|winnt)[/\\]|\b(?:boot|win|system)\.ini\b|[/\\]system32[/\\]|\b(?:inetpub|wwwroot)[/\\]|\bautoexec\.bat\b",
    ),
    rule(
        "lfi-config-file",
        8,
        r"(?:^|[/\\])(?:httpd|apache2|nginx|lighttpd|proftpd|vsftpd|sshd_config|my|php|wp-config|web|configuration|local|settings|database)\.(?:conf|cnf|ini|config|php|xml|yml)\b",
    ),
    rule(
        "lfi-secret-file",
        8,
        r"(?:^|[/\\=\s~])\.(?:ssh|aws|docker|kube|gnupg|git|svn|hg|env|htpasswd|htaccess|bash_history|zsh_history|history|npmrc|pypirc|pgpass|netrc|git-credentials|mysql_history|viminfo|boto|s3cfg|dockercfg)(?:[/\\]|$|\b)|\bid_(?:rsa|dsa|ecdsa|ed25519)\b|\bauthorized_keys\b",
    ),
    rule(
        "lfi-backup-archive",
        6,
        r"^[\w./-]*\b(?:backup|backups|dump|db|database|site|www|wwwroot|htdocs|sql|data)\.(?:sql|zip|tar|tgz|gz|rar|7z|bz2|bak)(?:\.\w+)?$",
    ),
    rule("lfi-file-url", 8, r"\bfile:/{1,3}[\w.~%/\\]"),
];

static SET: LazyLock<Option<RuleSet>> =
    LazyLock::new(|| RuleSet::compile(Family::Traversal, RULES));

/// Matches a target against the traversal rules.
pub(crate) fn inspect(target: &Target, out: &mut Findings) {
    let text = target.text.as_str();
    if !text
        .bytes()
        .any(|b| matches!(b, b'.' | b'/' | b'\\' | b':'))
    {
        return;
    }
    let Some(set) = SET.as_ref() else { return };
    set.scan(target, &view(text), out);
}

/// The traversal view: `0x2e`-style hex spellings of `.`, `/` and `\` read as the
/// character (some decoders accept them), and `/./` runs fold to `/`.
fn view(text: &str) -> String {
    let mut s = if text.contains("0x") {
        text.replace("0x2e", ".")
            .replace("0x2f", "/")
            .replace("0x5c", "\\")
    } else {
        text.to_string()
    };
    while s.contains("/./") {
        s = s.replace("/./", "/");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::rules::assert_compiles;

    #[test]
    fn rules_compile() {
        assert_compiles(SET.as_ref(), RULES);
    }

    #[test]
    fn hex_dots_fold() {
        assert_eq!(view("0x2e0x2e0x2f"), "../");
        assert_eq!(view("/a/././b"), "/a/b");
    }
}
