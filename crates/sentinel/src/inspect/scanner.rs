//! Scanners and probes for sensitive paths: the tools' own user agents and headers, and
//! the paths that only an attacker mapping a server asks for (dotfiles such as `/.env`
//! and `/.git/`, admin panels of software this server is not, backups, logs, scripts
//! of languages an axum service does not run).

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::rules::{Rule, RuleSet, rule};
use super::targets::Target;
use super::{Family, Findings, Location, RequestParts};

/// Substrings of the user agents of attack and reconnaissance tools (lowercase).
/// Ordinary HTTP clients (curl, wget, python-requests, Go's client) are not here: they
/// are used for legitimate automation too.
const SCANNER_AGENTS: &[&str] = &[
    "sqlmap",
    "nikto",
    "nmap",
    "nessus",
    "openvas",
    "hydra",
    "wpscan",
    "nuclei",
    "gobuster",
    "dirbuster",
    "feroxbuster",
    "ffuf",
    "fuzz faster u fool",
    "wfuzz",
    "masscan",
    "zgrab",
    "zmap",
    "acunetix",
    "netsparker",
    "invicti",
    "appscan",
    "webinspect",
    "burpsuite",
    "burp suite",
    "burpcollaborator",
    "owasp zap",
    "zaproxy",
    "arachni",
    "w3af",
    "skipfish",
    "whatweb",
    "commix",
    "xsser",
    "joomscan",
    "droopescan",
    "havij",
    "pangolin",
    "jorgee",
    "zmeu",
    "morfeus",
    "dotdotpwn",
    "paros",
    "vega/",
    "grabber",
    "jaeles",
    "dalfox",
    "xsstrike",
    "tplmap",
    "nosqlmap",
    "metasploit",
    "brutus",
    "medusa/",
    "ncrack",
    "cgichk",
    "webshag",
    "uniscan",
    "wapiti",
    "golismero",
    "vulnscan",
    "httpx - open-source",
    "interactsh",
];

/// Header names that only scanners send.
const SCANNER_HEADERS: &[&str] = &["acunetix-", "x-wipp", "x-scanner", "netsparker", "x-burp"];

static AGENTS: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| {
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostFirst)
        .build(SCANNER_AGENTS)
        .ok()
});

static PATH_RULES: &[Rule] = &[
    rule(
        "path-admin-panel",
        6,
        r"/(?:wp-admin|wp-login\.php|wp-content|wp-includes|wp-json/wp/v2/users|xmlrpc\.php|wp-config|phpmyadmin\w*|pma|myadmin|adminer(?:\.php)?|mysqladmin|dbadmin|sqladmin|webadmin|cpanel|whm-server-status|plesk|server-status|server-info|jmx-console|web-console|manager/html|solr/admin|actuator|cgi-bin|boaform|hnap1|vendor/phpunit|telescope|_profiler|elmah\.axd|trace\.axd|owa/auth|autodiscover/autodiscover\.xml|remote/login|\+cscoe\+|fckeditor|ckfinder|kcfinder|filemanager|shell\.php|cmd\.php|c99\.php|r57\.php|webshell|eval-stdin\.php|invoker/jmxinvokerservlet|console/login|struts|axis2|geoserver|jenkins/script|_ignition|horde|roundcube|magento_version|laravel\.log|debug/default/view)(?:/|$|\?|\.)",
    ),
    rule(
        "path-config-file",
        8,
        r"(?:^|/)(?:web\.config|wp-config\.php|configuration\.php|config\.inc\.php|settings\.php|localsettings\.php|local\.xml|database\.yml|secrets\.ya?ml|credentials\.json|docker-compose\.ya?ml|dockerfile|composer\.(?:json|lock)|id_rsa|id_dsa|id_ecdsa|id_ed25519|authorized_keys|known_hosts|phpinfo\.php|info\.php|php\.ini|httpd\.conf|nginx\.conf|error_log|access_log|sftp-config\.json|appsettings\.json|application\.(?:properties|ya?ml)|terraform\.tfstate|\.?env\.(?:local|prod|production|dev|development|bak|backup|old|save))$",
    ),
    rule(
        "path-backup-file",
        7,
        r"\.(?:bak|backup|bck|bkp|old|orig|save|sav|swp|swo|tmp|temp|copy|dist)$|~\d*$|/(?:backup|backups|dump|db|database|site|www|wwwroot|htdocs|public_html|web|sql|data|archive)\.(?:zip|tar|tar\.gz|tgz|gz|rar|7z|sql|sql\.gz|bz2|xz)$|\.(?:sql|sqlite|sqlite3|mdb|dump)$",
    ),
    rule(
        "path-log-file",
        6,
        r"\.log(?:\.\d+)?$|/(?:logs?|debug)\.txt$",
    ),
    rule(
        "path-foreign-script",
        4,
        r"\.(?:php\d?|phtml|asp|aspx|ashx|asmx|jsp|jspx|cgi|pl|cfm|do|action)(?:$|/)",
    ),
];

static PATH_SET: LazyLock<Option<RuleSet>> =
    LazyLock::new(|| RuleSet::compile(Family::SensitivePath, PATH_RULES));

/// Looks at header names that only scanners send.
pub(crate) fn inspect_request(parts: &RequestParts<'_>, out: &mut Findings) {
    for (name, _) in parts.headers {
        let lower = name.to_ascii_lowercase();
        if let Some(h) = SCANNER_HEADERS.iter().find(|h| lower.starts_with(**h)) {
            out.push(Family::Scanner, "scanner-header", Location::Header, h, 9);
        }
    }
}

/// Looks for a scanner's name in a user agent.
pub(crate) fn inspect_user_agent(target: &Target, out: &mut Findings) {
    let Some(ac) = AGENTS.as_ref() else { return };
    if let Some(m) = ac.find(&target.text) {
        let evidence = &target.text[m.start()..m.end()];
        out.push(
            Family::Scanner,
            "scanner-user-agent",
            target.location,
            evidence,
            9,
        );
    }
}

/// Looks for sensitive files and directories in a (decoded) path.
pub(crate) fn inspect_path(target: &Target, out: &mut Findings) {
    let path = target.text.as_str();
    if let Some(segment) = hidden_segment(path) {
        out.push(
            Family::SensitivePath,
            "path-dotfile",
            target.location,
            segment,
            8,
        );
    }
    if let Some(set) = PATH_SET.as_ref() {
        set.scan(target, path, out);
    }
}

/// The first path segment naming a hidden file or directory (`.env`, `.git`,
/// `.aws`, …): no web application serves dotfiles, except `/.well-known/`.
fn hidden_segment(path: &str) -> Option<&str> {
    path.split(['/', '\\']).find(|seg| {
        seg.len() > 1 && seg.starts_with('.') && !seg.starts_with("..") && *seg != ".well-known"
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::rules::assert_compiles;

    #[test]
    fn rules_and_lists_compile() {
        assert_compiles(PATH_SET.as_ref(), PATH_RULES);
        assert!(AGENTS.is_some());
    }

    #[test]
    fn hidden_segments() {
        assert_eq!(hidden_segment("/.env"), Some(".env"));
        assert_eq!(hidden_segment("/app/.git/config"), Some(".git"));
        assert_eq!(hidden_segment("/.well-known/openid-configuration"), None);
        assert_eq!(hidden_segment("/a/../b"), None);
        assert_eq!(hidden_segment("/assets/app.js"), None);
    }
}
