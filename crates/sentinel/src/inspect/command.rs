//! OS command injection: a shell command chained after a value.
//!
//! Notes say "cat", "rm", "find", "sleep" and use `;` and `&` all the time, so a command
//! name is a finding only with shell syntax around it: a separator before it (`;`,
//! `|`, `&&`, a backtick, `$(`, a newline) *and* shell-looking arguments after it, or
//! a name that is no English word (`whoami`, `ifconfig`, `powershell`). Other rules
//! look for syntax no prose has: `$(…)`, `/bin/sh`, `/dev/tcp/`, `${IFS}`, the
//! Shellshock prefix `() {`, SSI directives, Windows `cmd /c` and batch constructs.
//!
//! Matching runs on a shell view of the text, where quotes, backslashes and empty
//! expansions (`c''at`, `c\at`, `c$@at`, `c${x}at`) are removed the way the shell
//! removes them.

use std::sync::LazyLock;

use regex::Regex;

use super::rules::{Rule, RuleSet, rule};
use super::targets::{Context, Target};
use super::{Family, Findings};

/// Command names that are no English word or common name: seeing one after a shell
/// separator is enough.
macro_rules! unique_cmd {
    () => {
        r"(?:whoami|ifconfig|ipconfig|uname|netstat|nslookup|wget|curl|ncat|netcat|socat|busybox|python[23]?(?:\.\d+)?|perl|php|chmod|chown|chgrp|useradd|usermod|userdel|crontab|base64|base32|systemctl|nohup|mkfifo|mknod|xterm|tftp|xargs|egrep|fgrep|printenv|killall|pkill|traceroute|lsof|strace|ltrace|rmdir|mkdir|lsb_release|getent|iptables|tcpdump|tshark|certutil|bitsadmin|powershell|pwsh|wmic|regsvr32|rundll32|mshta|cscript|wscript|schtasks|tasklist|taskkill|systeminfo|netsh|icacls|cacls|findstr|tclsh|jrunscript|bzcat|zcat|xzcat|md5sum|sha\d+sum|ansible(?:-\w+)*|chef-\w+|cscli|visudo|rmt(?:-\w+)?|lastlog(?:in)?|htop|uconv|ssh-copy-id|pipx|pip\d|cpulimit|kubectl|aptitude|apt-get|dpkg|telnet|gcc|nmap|bash|zsh|ksh|csh|tcsh|sh|ls|pwd|nc|awk|gawk|sed|grep|uptime|sudo|ssh|scp|rsync|gzip|gunzip|iwr|iwmi|irm|iex|get-wmiobject|regedit|bcdboot|bcdedit|vssadmin|wevtutil|reg\s+(?:add|query|delete|save|export)|net\s+(?:user|localgroup|view|share|use))"
    };
}

/// Command names that are also words ("cat", "more", "find", "sleep"): they need
/// shell-looking arguments after them as well.
macro_rules! word_cmd {
    () => {
        r"(?:cat|tac|nl|more|less|head|tail|find|sleep|kill|echo|printf|rm|cp|mv|touch|tee|dd|sort|cut|tr|file|stat|which|whereis|locate|export|set|alias|history|eval|exec|source|time|timeout|top|free|df|du|mount|type|copy|del|start|vi|vim|nano|ed|ln|who|w|ps|node|ruby|lua|make|host|mail|strings|od|xxd|rev|diff|cmp|install|chattr|openssl|docker|apt|yum|rpm|pip|npm|gem|cd|ll|reboot|shutdown|halt|id|env|su|dir|ping|tar|dig|wc|hostname)"
    };
}

/// What may stand before a command: a shell separator, a command substitution, or a
/// newline; optionally an env assignment, `sudo`, or a directory prefix.
macro_rules! sep {
    () => {
        r"(?:[;|&`\n\r(]|\$\(|\{)\s*(?:\w+=\S*\s+)?(?:[\w.-]*/)*"
    };
}

static RULES: &[Rule] = &[
    rule(
        "cmd-chained-command",
        9,
        concat!(sep!(), unique_cmd!(), r"[\d.]*(?:\s|$|[;|&<>`)}/])"),
    ),
    rule(
        "cmd-chained-word-command",
        8,
        concat!(
            sep!(),
            word_cmd!(),
            r"(?:\s+(?:-{1,2}[a-z]|/|~|\$|\.{1,2}/|<|>|%\w+%)|\s*[;|&<>`])"
        ),
    ),
    rule(
        "cmd-leading-command",
        7,
        concat!(
            r"^\s*(?:[\w.-]*/)*(?:",
            unique_cmd!(),
            "|",
            word_cmd!(),
            r")\s+(?:-{1,2}[a-z][\w-]*|/[\w.]|~/|\$\(|`)"
        ),
    ),
    rule(
        "cmd-substitution",
        9,
        concat!(
            r"\$\(\s*(?:[\w.-]*/)*(?:",
            unique_cmd!(),
            "|",
            word_cmd!(),
            r")\b|`\s*(?:[\w.-]*/)*(?:",
            unique_cmd!(),
            "|",
            word_cmd!(),
            r")\b[^`]*`"
        ),
    ),
    rule(
        "cmd-brace-expansion",
        9,
        concat!(r"\{\s*(?:", unique_cmd!(), "|", word_cmd!(), r"),[^}\s]*\}"),
    ),
    rule(
        "cmd-shell-path",
        8,
        r"(?:^|[^\w.])/(?:usr/)?(?:local/)?s?bin/[\w?*\[\]-]+",
    ),
    rule(
        "cmd-shellshock",
        10,
        r"\(\s*\)\s*\{\s*(?::|\w+)?\s*;?\s*\}\s*;|^\s*\(\s*\)\s*\{",
    ),
    rule(
        "cmd-reverse-shell",
        10,
        r"/dev/(?:tcp|udp)/|\bnc\b.{0,30}\s-[a-z]*[ec]\b|\b(?:ba)?sh\s+-[ic]\b|\bmkfifo\b|\bsocat\b.{0,40}\bexec\b|\bpython\d?\s+-c\b|\bperl\s+-e\b|\bphp\s+-r\b|\bruby\s+-e\b",
    ),
    rule(
        "cmd-redirection",
        7,
        r"(?:^|[\s;|&])\d?>>?\s*/(?:dev|tmp|etc|var|root)/|\b2>&1\b|<<<|<\s*/(?:etc|proc)/|<\(\s*\w",
    ),
    rule(
        "cmd-pipe-to-shell",
        9,
        r"\|\s*(?:ba|z|k|da)?sh\b|\|\s*(?:python\d*|perl|ruby|php|node)\s*(?:$|-)",
    ),
    rule(
        "cmd-file-read",
        9,
        r"\b(?:cat|tac|head|tail|more|less|nl|strings|od|xxd|vi|vim|grep|awk|sed|base64|tee|bzcat|zcat|cp|mv|rm|dd|ls|ll)(?:\s|\+)+(?:-{1,2}[\w=]+\s+)*(?:if=)?[^\s]*/(?:etc|proc|var|root|home|tmp|dev|sys|usr|bin|opt|boot)/",
    ),
    rule(
        "cmd-windows",
        8,
        r"\bcmd(?:\.exe)?\s*/[ckr]\b|%(?:comspec|systemroot|systemdrive|windir|programfiles|userprofile|appdata|homepath|temp|username|computername)%|\bpowershell(?:\.exe)?\s+-\w|\b(?:iex|invoke-expression|invoke-webrequest|invoke-restmethod|start-process|downloadstring|downloadfile)\b|\bnew-object\s+(?:system\.)?net\.webclient",
    ),
    rule(
        "cmd-batch",
        7,
        r"\bfor\s+(?:/[fldr]\s+(?:\S+\s+)?)?%%?~?\w+\s+in\s*\(|\bif\s+(?:/i\s+)?(?:not\s+)?(?:exist|defined|errorlevel)\s+\S+\s*(?:\(|(?:echo|del|goto|set|call|cmd|start|copy|type|exit)\b)|\bif\s+(?:/i\s+)?(?:not\s+)?\S+\s*==\s*\S+\s+(?:\(|echo|del|goto|set|call|cmd|start|copy|type|exit|do\b)|\bif\s+(?:/i\s+)?(?:not\s+)?\S+\s*==\s*\S+\s*(?:\(|$)",
    ),
    rule(
        "cmd-ssi",
        9,
        r"<!--\s*#\s*(?:exec|include|echo|set|config|fsize|flastmod|printenv)\b",
    ),
    rule(
        "cmd-mail-protocol",
        7,
        r"[\r\n]\s*(?:(?:retr|dele|list|top|stor|appe)\s+\d|\w{1,10}\s+(?:store|fetch|copy|uid\s+\w+)\s+[\d:*]|(?:mail\s+from|rcpt\s+to)\s*:|(?:ehlo|helo|vrfy|expn)\s+[\w.@-]+|(?:data|quit|rset|noop)\s*(?:[\r\n]|$)|(?:auth|apop)\s+\w+\s+\S+|[a-z]\d{1,4}\s+(?:authenticate|status|append|examine|list|search|login|logout|select|create|delete|rename|store|fetch|capability|noop|quit)\b)",
    ),
    rule("cmd-variable-substring", 8, r"\$\{\w+:[-~]?\d+(?::\d+)?\}"),
    rule(
        "cmd-glob-path",
        8,
        r"(?:/[\w.\[\]-]*[?*][\w.?*\[\]-]*){2,}|(?:^|\s)/(?:\?{3}|\*{1,3})/",
    ),
    rule(
        "cmd-function-definition",
        9,
        r"[\w:.]+\s*\(\s*\)\s*\{[^}]*[|&;][^}]*\}",
    ),
    rule(
        "cmd-brace-list",
        6,
        r"\{,?[\w./?*$-]*[a-z][\w./?*$-]*,[\w./?*$,#-]*\}",
    ),
    rule(
        "cmd-command-prefix",
        7,
        concat!(
            r"^\s*(?:time|nohup|strace|ltrace|sudo|nice|timeout\s+\d+|xargs|exec|busybox|stdbuf|setsid|flock(?:\s+-\w+)*\s+\S+|cpulimit(?:\s+-\w+\s+\S+)*)\s+(?:",
            unique_cmd!(),
            r"|who|w|id|ls|bsdtar|tar)\b"
        ),
    ),
    rule(
        "cmd-shell-escape",
        8,
        concat!(
            r"(?:^|\s|[:+])!\s*(?:",
            unique_cmd!(),
            r"|id)\b|-wrapper\s+(?:ba)?sh,|\$\{?(?:shell|bash)\}?\s+-c\b"
        ),
    ),
    rule(
        "cmd-alias-definition",
        7,
        r"\balias\s+[\w'\x22-]+\s*=\s*['\x22]?[\w.-]+['\x22]?\s*(?:[;&|\n]|$)|\balias\s+(?:[+-]\w+\s+)*[^\s=]+=[\w.~/-]+\s+-",
    ),
    rule(
        "cmd-alias-definition",
        7,
        r"(?:^|[;&|\n`]\s*)alias\s+(?:[-+]\S*\s+)*[^\s=]+=\S",
    ),
    rule(
        "cmd-leading-command",
        8,
        concat!(
            r"^\s*(?:whoami|ifconfig|ipconfig|uname|netstat|nslookup|printenv|systeminfo|tasklist|lsb_release|getent)\s*[;|&]",
            r"|^\s*[;|`]+\s*(?:",
            unique_cmd!(),
            "|",
            word_cmd!(),
            r")(?:\s|$|[;|&])"
        ),
    ),
    rule("cmd-at-schedule", 7, r"[;&|]\s*at\s+\d{1,2}:\d{2}\b"),
    rule(
        "cmd-batch-control",
        8,
        r#"\bfor\s+(?:/\w\s+)*(?:"[^"]*"\s+)?%%?\S*\s+in\s*\(.*?\)\s*do\b|\bfor\s+/[a-z]\s+(?:[^%\s]+\s+)*%%?~?\w*\s+in\s*\(.*?\)\s*do\b|\bif\b.{0,60}?\s(?:equ|neq|lss|leq|gtr|geq)\s|\bif\s+(?:not\s+)?(?:errorlevel|cmdextversion)\s+\d|\bif\s*(?:/i\s*)?(?:not\s+)?\S*\s*==\s*\S+"#,
    ),
    rule(
        "cmd-variable-assembly",
        7,
        r"\b\w+=[^\s;&|]*\s*(?:;|&&|\|\|).*\$\{?[a-z_]\w*|[;|&]\s*\$[a-z_]\w*\s+\w",
    ),
    rule("cmd-mail-protocol", 7, r"^[\r\n]+\s*help\s+\w+\s*$"),
    rule(
        "cmd-sqlite-dot-command",
        8,
        r"(?:^|[;\n])\s*(?:n\s*)?\.(?:shell|system|sh|databases|tables|dump|import|output|once|read|load|schema)\b",
    ),
    rule("cmd-brace-list", 6, r"\{,\s*[a-z][\w./-]*\}"),
];

/// Command names that may stand alone as a whole structured value or header: no
/// identifier, code or name looks like them.
macro_rules! bare_cmd {
    () => {
        r"(?:whoami|ifconfig|ipconfig|uname|netstat|nslookup|visudo|cscli(?:\s+\w+)*|htop|printenv|systeminfo|tasklist|busybox|crontab|ansible(?:-\w+)*|chef-\w+)"
    };
}

/// Rules for structured values and headers only (see [`Context`]): a command line
/// as the whole value, or a bare command after a separator.
static STRICT_RULES: &[Rule] = &[
    rule(
        "cmd-command-value",
        7,
        concat!(
            r"^\s*\\?(?:[\w.-]*/)*(?:",
            unique_cmd!(),
            r"|chef|pip|perf|rc|aa-\w+|env)[\d.]*\s+[-/~.$\w]|^\s*\\?(?:[\w.-]*/)*",
            word_cmd!(),
            r"\s+(?:-{1,2}[a-z0-9]|/|~|\$|\d+\.\d+\.\d+\.\d+|[\w-]+\.[a-z]{1,4}\b)|^\s*['\x22]?",
            bare_cmd!(),
            r"['\x22]?\s*$|^\s*\w+=",
            bare_cmd!(),
            r"\s*$"
        ),
    ),
    rule(
        "cmd-leading-command",
        7,
        concat!(
            r"^\s*[;|&`]+\s*(?:",
            unique_cmd!(),
            "|",
            word_cmd!(),
            r")(?:\s|$|[;|&(])"
        ),
    ),
    rule(
        "cmd-bare-after-separator",
        7,
        concat!(
            r"[;|&`\n]\s*['\x22]?(?:",
            unique_cmd!(),
            "|",
            word_cmd!(),
            r"|htop|lastlog|who|env|set|ps|id|top)['\x22]?\s*$|[;|&`]\s*[a-z][\w.-]*\s+--?[a-z][\w-]*(?:\s|$)"
        ),
    ),
    rule(
        "cmd-shell-fragment",
        6,
        r"^\s*~[+-]\d*\s*$|^\s*!(?:!|-?\d+)(?:!-?\d+)*\s*$|^(?:usr/)?s?bin/\w|\$\{\w+\}",
    ),
];

/// Rules over the text before the shell view removes its tricks.
static RAW_RULES: &[Rule] = &[
    rule("cmd-bracket-glob", 8, r"/[\w.-]*\[!?[a-z/-]+\][\w.-]+"),
    rule("cmd-ifs", 8, r"\$\{?ifs\b"),
    rule(
        "cmd-expansion-syntax",
        7,
        r"\$\(|\$\{\w+[#%/^,:]|\$\[|[<>]\(\s*[\w$]|\$\{?(?:shell|bash)\}?\s+-c\b",
    ),
    rule(
        "cmd-trap",
        8,
        r#"(?:^|[;&|\n`]\s*)trap\s+(?:--\s+)?['"][^'"]*['"]\s+(?:sig)?(?:exit|int|term|hup|err|debug|return|quit|kill|usr[12]|\d+)\b"#,
    ),
    rule(
        "cmd-escaped-command",
        7,
        concat!(r"^\s*\\(?:", unique_cmd!(), "|", word_cmd!(), r")\s*$"),
    ),
    rule(
        "cmd-quote-splitting",
        7,
        r#"(?:^|[;|&`\s])(?:\w*['"]{1,2}\w*){2,}['"]*\s*(?:-\w|/)"#,
    ),
];

/// Raw-text rules for structured values and headers only.
static RAW_STRICT_RULES: &[Rule] = &[rule("cmd-shell-fragment", 6, r"\$\{[a-z_]\w*\}")];

/// A whole word that names a command, for [`quote_split_command`].
static COMMAND_WORD: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(concat!(r"^(?:", unique_cmd!(), "|", word_cmd!(), r"|ip)$")).ok());

static RAW_STRICT_SET: LazyLock<Option<RuleSet>> =
    LazyLock::new(|| RuleSet::compile(Family::CommandInjection, RAW_STRICT_RULES));
static SET: LazyLock<Option<RuleSet>> =
    LazyLock::new(|| RuleSet::compile(Family::CommandInjection, RULES));
static STRICT_SET: LazyLock<Option<RuleSet>> =
    LazyLock::new(|| RuleSet::compile(Family::CommandInjection, STRICT_RULES));
static RAW_SET: LazyLock<Option<RuleSet>> =
    LazyLock::new(|| RuleSet::compile(Family::CommandInjection, RAW_RULES));

/// Matches a target against the command injection rules.
pub(crate) fn inspect(target: &Target, out: &mut Findings) {
    let text = target.text.as_str();
    if let Some(set) = RAW_SET.as_ref()
        && text
            .bytes()
            .any(|b| matches!(b, b'$' | b'\'' | b'"' | b'<' | b'>' | b'[' | b'\\'))
    {
        set.scan(target, text, out);
    }
    if target.context != Context::Prose
        && text.contains("${")
        && let Some(set) = RAW_STRICT_SET.as_ref()
    {
        set.scan(target, text, out);
    }
    if text.contains(['\'', '"'])
        && let Some(evidence) = quote_split_command(text)
        && target.min_weight <= 7
    {
        out.push(
            Family::CommandInjection,
            "cmd-quote-splitting",
            target.location,
            evidence,
            7,
        );
    }
    let view = view(text);
    if let Some(set) = SET.as_ref() {
        set.scan(target, &view, out);
    }
    if target.context != Context::Prose
        && let Some(set) = STRICT_SET.as_ref()
    {
        set.scan(target, &view, out);
    }
    // `id` is a field name everywhere, but a header whose whole value is `id` is a
    // probe for command execution, and so is a quoted `'id'` in a structured value.
    let quoted_id = matches!(text.trim(), "'id'" | "\"id\"");
    if (target.context == Context::Header && view.trim() == "id")
        || (target.context != Context::Prose && quoted_id)
    {
        out.push(
            Family::CommandInjection,
            "cmd-command-value",
            target.location,
            &view,
            7,
        );
    }
}

/// A command name split by quotes where a command stands (`'i'p a`, `;c""at /x`): the
/// shell joins the pieces, a filter looking for the name does not. Apostrophes in
/// words (`O'Keefe's`) join into no command.
fn quote_split_command(text: &str) -> Option<&str> {
    let re = COMMAND_WORD.as_ref()?;
    let mut command_position = true;
    for token in text.split_inclusive(|c: char| c.is_whitespace() || matches!(c, ';' | '|' | '&')) {
        let word =
            token.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ';' | '|' | '&'));
        if command_position && word.contains(['\'', '"']) {
            let inner = word.trim_matches(['\'', '"']);
            if inner.contains(['\'', '"']) {
                let joined: String = inner.chars().filter(|c| !matches!(c, '\'' | '"')).collect();
                if re.is_match(&joined) {
                    return Some(word);
                }
            }
        }
        let ends_command = token.ends_with([';', '|', '&']);
        command_position = ends_command || (command_position && word.is_empty());
    }
    None
}

/// The shell view: quotes and backslashes removed, `$@`/`$*` and short or braced
/// variable expansions dropped, `${IFS}` read as a space, `[x]` globs read as `x`.
fn view(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &text[i..];
        let b = bytes[i];
        if matches!(b, b'\'' | b'"' | b'\\') {
            i += 1;
            continue;
        }
        if b == b'$' {
            if rest.starts_with("${ifs}") {
                out.push(' ');
                i += 6;
                continue;
            }
            if rest.starts_with("$ifs") {
                out.push(' ');
                i += 4;
                continue;
            }
            // Special parameters (`$@`, `$*`, `$!`, …) expand to nothing useful here.
            if matches!(
                bytes.get(i + 1),
                Some(b'@' | b'*' | b'!' | b'?' | b'-' | b'_' | b'$' | b'#' | b'0')
            ) {
                i += 2;
                continue;
            }
            if bytes.get(i + 1) == Some(&b'{') {
                let name = rest[2..]
                    .bytes()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                    .count();
                if rest.as_bytes().get(2 + name) == Some(&b'}') {
                    i += 3 + name;
                    continue;
                }
            }
            // `cat$u`, `sh$xx`: a short unset variable glued to a word expands to
            // nothing.
            let name = rest[1..]
                .bytes()
                .take_while(|c| c.is_ascii_alphanumeric())
                .count();
            let after_word =
                i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'/');
            if after_word && (1..=3).contains(&name) {
                i += 1 + name;
                continue;
            }
        }
        if rest.starts_with("``") {
            i += 2;
            continue;
        }
        // Empty substitutions (`$()`, `<()`, `>()`) expand to nothing.
        if rest.starts_with("$()") || rest.starts_with("<()") || rest.starts_with(">()") {
            i += 3;
            continue;
        }
        if b == b'['
            && bytes.get(i + 2) == Some(&b']')
            && matches!(bytes.get(i + 1), Some(c) if c.is_ascii_alphanumeric())
        {
            out.push(char::from(bytes[i + 1]));
            i += 3;
            continue;
        }
        match rest.chars().next() {
            Some(c) => {
                out.push(c);
                i += c.len_utf8();
            }
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::rules::assert_compiles;

    #[test]
    fn rules_compile() {
        assert_compiles(SET.as_ref(), RULES);
        assert_compiles(RAW_SET.as_ref(), RAW_RULES);
        assert_compiles(STRICT_SET.as_ref(), STRICT_RULES);
        assert_compiles(RAW_STRICT_SET.as_ref(), RAW_STRICT_RULES);
        assert!(COMMAND_WORD.is_some());
    }

    #[test]
    fn quote_split_commands_are_joined() {
        assert_eq!(quote_split_command("'i'p a"), Some("'i'p"));
        assert_eq!(quote_split_command("x; c\"\"at /etc"), Some("c\"\"at"));
        assert_eq!(quote_split_command("o'keefe's"), None);
        assert_eq!(quote_split_command("that's two \"o\"s in goose"), None);
        assert_eq!(quote_split_command("'cat'"), None);
    }

    #[test]
    fn shell_view_removes_tricks() {
        assert_eq!(view("c'a't /e\"t\"c/pas$@swd"), "cat /etc/passwd");
        assert_eq!(view("cat${ifs}/etc/[p]asswd"), "cat /etc/passwd");
        assert_eq!(view("c${kk}url"), "curl");
        assert_eq!(view("cat$u /etc$u/passwd"), "cat /etc/passwd");
    }
}
