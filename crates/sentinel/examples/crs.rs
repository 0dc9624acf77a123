//! Measures the probe inspector (`sentinel::inspect`) against the OWASP Core Rule Set
//! regression requests, per attack family.
//!
//! ```text
//! cargo run --release -p sentinel --example crs -- [DATA_DIR] [--show PREFIX]
//! ```
//!
//! `DATA_DIR` (default `../shared/testdata/owasp-crs` as laid out on the project's
//! machines, `/work/shared/testdata/owasp-crs`) holds the go-ftw YAML tests under
//! `tests/regression/tests/<RULE-FILE>/<rule_id>.yaml`. A test stage whose
//! `output.log.expect_ids` names the file's rule is an **attack**; one whose
//! `no_expect_ids` names it is a **near-miss**, a request that must not be flagged for
//! that rule. Each stage's input (method, uri, headers, data, or a base64
//! `encoded_request`) becomes a `RequestParts`, and the table reports per family:
//! the share of attacks with any finding (and with a finding of the family's own
//! kind), and the share of near-misses with any finding (and of the own kind). Then
//! the throughput of `inspect` over all requests.
//!
//! `--show 942` prints the missed attacks and flagged near-misses of the files whose
//! rule ids start with 942, for working on the rules. `TW_BENCH_QUICK=1` times one
//! pass instead of five.
//!
//! Exit status: 0 when measured, 2 when the data directory is missing.

// A measurement tool: its output on stdout is the point.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use base64::Engine as _;
use sentinel::inspect::{Family, Finding, RequestParts, inspect};
use yaml_rust2::{Yaml, YamlLoader};

const DEFAULT_DATA: &str = "/work/shared/testdata/owasp-crs";

/// The families measured, by CRS rule-file prefix: (prefix, label, own families).
const GROUPS: &[(&str, &str, &[Family])] = &[
    ("913", "Scanner (913)", &[Family::Scanner]),
    ("920", "Protocol enforcement (920)", &[Family::Protocol]),
    ("921", "Protocol attack (921)", &[Family::Protocol]),
    (
        "930",
        "LFI / traversal (930)",
        &[Family::Traversal, Family::SensitivePath],
    ),
    ("931", "RFI (931)", &[Family::RemoteInclusion]),
    (
        "932",
        "RCE / command injection (932)",
        &[Family::CommandInjection],
    ),
    ("933", "PHP injection (933)", &[Family::PhpInjection]),
    ("934", "Generic (934)", &[]),
    ("941", "XSS (941)", &[Family::Xss]),
    ("942", "SQLi (942)", &[Family::Sqli]),
    ("943", "Session fixation (943)", &[]),
    ("944", "Java (944)", &[Family::JavaInjection]),
];

/// The families with a target: ≥ 95 % of attacks detected, ≤ 5 % of near-misses.
const TARGETED: &[&str] = &["930", "932", "941", "942"];

/// One request built from a test stage.
#[derive(Debug)]
struct Case {
    group: &'static str,
    id: String,
    attack: bool,
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, Vec<u8>)>,
    body: Option<Vec<u8>>,
}

#[derive(Debug, Default)]
struct Tally {
    attacks: usize,
    detected: usize,
    detected_own: usize,
    near: usize,
    flagged: usize,
    flagged_own: usize,
}

fn main() -> ExitCode {
    let mut data = PathBuf::from(DEFAULT_DATA);
    let mut show: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--show" {
            show = args.next();
        } else {
            data = PathBuf::from(arg);
        }
    }
    let tests_dir = data.join("tests/regression/tests");
    if !tests_dir.is_dir() {
        eprintln!(
            "crs: no CRS regression tests at {} (expected <DATA_DIR>/tests/regression/tests/<RULE-FILE>/*.yaml); \
             pass the owasp-crs test-data directory as the first argument",
            tests_dir.display()
        );
        return ExitCode::from(2);
    }
    let cases = match load(&tests_dir) {
        Ok(cases) => cases,
        Err(e) => {
            eprintln!("crs: reading {}: {e}", tests_dir.display());
            return ExitCode::from(2);
        }
    };
    if cases.is_empty() {
        eprintln!("crs: no test stages found under {}", tests_dir.display());
        return ExitCode::from(2);
    }

    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    for case in &cases {
        let findings = run(case);
        let own = GROUPS
            .iter()
            .find(|g| g.0 == case.group)
            .map_or(&[][..], |g| g.2);
        let any = !findings.is_empty();
        let own_hit = findings.iter().any(|f| own.contains(&f.family));
        let t = tallies.entry(case.group).or_default();
        if case.attack {
            t.attacks += 1;
            t.detected += usize::from(any);
            t.detected_own += usize::from(own_hit);
        } else {
            t.near += 1;
            t.flagged += usize::from(any);
            t.flagged_own += usize::from(own_hit);
        }
        if show.as_deref().is_some_and(|p| case.id.starts_with(p)) && (case.attack != any) {
            print_case(case, &findings);
        }
    }

    let passes = if std::env::var_os("TW_BENCH_QUICK").is_some() {
        1
    } else {
        5
    };
    let started = Instant::now();
    let mut total_findings = 0usize;
    for _ in 0..passes {
        for case in &cases {
            total_findings += run(case).len();
        }
    }
    let elapsed = started.elapsed();
    let inspected = cases.len() * passes;
    let per_second = inspected as f64 / elapsed.as_secs_f64().max(1e-9);

    print_table(&tallies);
    println!();
    println!(
        "Throughput: {inspected} requests inspected in {:.3} s: {:.0} requests/s, {:.1} µs per request \
         on one core ({total_findings} findings).",
        elapsed.as_secs_f64(),
        per_second,
        1e6 / per_second
    );
    ExitCode::SUCCESS
}

fn pct(n: usize, of: usize) -> String {
    if of == 0 {
        "–".to_string()
    } else {
        format!("{:.1} %", 100.0 * n as f64 / of as f64)
    }
}

fn print_table(tallies: &BTreeMap<&str, Tally>) {
    println!(
        "| CRS family | Attacks | Detected (any finding) | Detected (own family) | Near-misses | Flagged (any finding) | Flagged (own family) | Target met |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|:---:|");
    for (prefix, label, _) in GROUPS {
        let Some(t) = tallies.get(prefix) else {
            continue;
        };
        let target = if TARGETED.contains(prefix) {
            let det_ok = t.detected * 100 >= t.attacks * 95;
            let fp_ok = t.flagged * 100 <= t.near * 5;
            match (det_ok, fp_ok) {
                (true, true) => "yes",
                (true, false) => "no (near-misses)",
                (false, true) => "no (detection)",
                (false, false) => "no",
            }
        } else {
            "–"
        };
        println!(
            "| {label} | {} | {} | {} | {} | {} | {} | {target} |",
            t.attacks,
            pct(t.detected, t.attacks),
            pct(t.detected_own, t.attacks),
            t.near,
            pct(t.flagged, t.near),
            pct(t.flagged_own, t.near),
        );
    }
}

fn print_case(case: &Case, findings: &[Finding]) {
    let kind = if case.attack { "MISSED" } else { "FLAGGED" };
    let body = case
        .body
        .as_deref()
        .map(|b| String::from_utf8_lossy(&b[..b.len().min(200)]).into_owned());
    let headers: Vec<String> = case
        .headers
        .iter()
        .filter(|(n, _)| !matches!(n.to_ascii_lowercase().as_str(), "host" | "accept"))
        .map(|(n, v)| format!("{n}: {}", String::from_utf8_lossy(&v[..v.len().min(120)])))
        .collect();
    println!(
        "{kind} {} {} {}{} body={body:?} headers={headers:?}",
        case.id,
        case.method,
        case.path,
        case.query
            .as_deref()
            .map(|q| format!("?{q}"))
            .unwrap_or_default()
    );
    for f in findings {
        println!("    -> {} {} {:?}", f.family, f.rule, f.evidence);
    }
}

fn run(case: &Case) -> Vec<Finding> {
    let headers: Vec<(&str, &[u8])> = case
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    let content_type = case
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .and_then(|(_, v)| std::str::from_utf8(v).ok());
    let parts = RequestParts {
        method: &case.method,
        path: &case.path,
        query: case.query.as_deref(),
        headers: &headers,
        body: case.body.as_deref(),
        content_type,
    };
    inspect(&parts)
}

/// Reads every YAML test under `tests_dir` whose file prefix is measured.
fn load(tests_dir: &Path) -> std::io::Result<Vec<Case>> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(tests_dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut cases = Vec::new();
    for dir in dirs {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(group) = name
            .strip_prefix("REQUEST-")
            .and_then(|rest| GROUPS.iter().find(|g| rest.starts_with(g.0)))
            .map(|g| g.0)
        else {
            continue;
        };
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        for file in files {
            let text = fs::read_to_string(&file)?;
            let Ok(docs) = YamlLoader::load_from_str(&text) else {
                eprintln!("crs: skipping unparsable {}", file.display());
                continue;
            };
            for doc in docs {
                cases_of(group, &doc, &mut cases);
            }
        }
    }
    Ok(cases)
}

fn cases_of(group: &'static str, doc: &Yaml, out: &mut Vec<Case>) {
    let rule_id = doc["rule_id"].as_i64();
    let Some(tests) = doc["tests"].as_vec() else {
        return;
    };
    for test in tests {
        let test_id = yaml_string(&test["test_id"]).unwrap_or_default();
        let Some(stages) = test["stages"].as_vec() else {
            continue;
        };
        for stage in stages {
            let log = &stage["output"]["log"];
            let names_rule = |key: &str| {
                log[key]
                    .as_vec()
                    .is_some_and(|ids| ids.iter().any(|id| id.as_i64() == rule_id))
            };
            let attack = names_rule("expect_ids");
            if !attack && !names_rule("no_expect_ids") {
                continue;
            }
            let id = format!("{}-{test_id}", rule_id.unwrap_or(0));
            if let Some(case) = case_of(group, id, attack, &stage["input"]) {
                out.push(case);
            }
        }
    }
}

/// A scalar as text (go-ftw files quote most but not all scalars).
fn yaml_string(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn case_of(group: &'static str, id: String, attack: bool, input: &Yaml) -> Option<Case> {
    if let Some(encoded) = input["encoded_request"].as_str() {
        let cleaned: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(cleaned)
            .ok()?;
        return raw_request(group, id, attack, &raw);
    }
    let method = yaml_string(&input["method"]).unwrap_or_else(|| "GET".to_string());
    let uri = yaml_string(&input["uri"]).unwrap_or_else(|| "/".to_string());
    let mut headers = Vec::new();
    if let Some(map) = input["headers"].as_hash() {
        for (k, v) in map {
            if let (Some(k), Some(v)) = (yaml_string(k), yaml_string(v)) {
                headers.push((k, v.into_bytes()));
            }
        }
    }
    let body = yaml_string(&input["data"]).map(String::into_bytes);
    let (path, query) = split_uri(&uri);
    Some(Case {
        group,
        id,
        attack,
        method,
        path,
        query,
        headers,
        body,
    })
}

fn split_uri(uri: &str) -> (String, Option<String>) {
    match uri.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (uri.to_string(), None),
    }
}

/// Parses a raw HTTP/1 request (request line, headers, blank line, body).
fn raw_request(group: &'static str, id: String, attack: bool, raw: &[u8]) -> Option<Case> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, i + 4))
        .or_else(|| {
            raw.windows(2)
                .position(|w| w == b"\n\n")
                .map(|i| (i, i + 2))
        });
    let (head, body) = match split {
        Some((end, start)) => (&raw[..end], Some(raw[start..].to_vec())),
        None => (raw, None),
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.lines();
    let request_line = lines.next()?;
    let mut words = request_line.split_whitespace();
    let method = words.next()?.to_string();
    let uri = words.next().unwrap_or("/");
    let (path, query) = split_uri(uri);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().as_bytes().to_vec()))
        .collect();
    Some(Case {
        group,
        id,
        attack,
        method,
        path,
        query,
        headers,
        body: body.filter(|b| !b.is_empty()),
    })
}
