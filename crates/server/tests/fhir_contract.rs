//! The FHIR API keeps the contract its OpenAPI document states: schemathesis (an
//! outside, property-based API tester) fuzzes every operation of `/fhir/openapi.json`
//! as a signed-in clinician, on SQLite and PostgreSQL, and checks that no request makes
//! a server error and that every response's status, content type and body are the ones
//! documented.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use common::consult::practice;
use common::fhir::{capture, send};
use common::{TestServer, database_choices};

/// The schemathesis the test command installs; its CLI flags changed between majors.
const SCHEMATHESIS: &str = "schemathesis==4.32.5";
const SCHEMATHESIS_MAJOR: &str = "4.";
/// Test cases of the fuzzing phase, shared out among the operations (10 to 150 each) so
/// the run stays within a few minutes per database on a busy 2-core machine as resource
/// types are added. The coverage and stateful phases come on top.
const EXAMPLES_BUDGET: usize = 800;
/// Fixed, so a failure reproduces; `TW_SCHEMATHESIS_SEED` tries another.
const DEFAULT_SEED: &str = "20261128";
/// The FHIR resources schemathesis receives go to `TW_FHIR_CAPTURE_DIR` as well, for the
/// test command's FHIR validator, unless this is `0`.
const FUZZED_ENV: &str = "TW_FHIR_CAPTURE_FUZZED";

fn install_hint() -> String {
    format!(
        "the schemathesis CLI is needed for the FHIR contract test: install it with \
         `python3 -m pip install '{SCHEMATHESIS}'` (./scripts/test does this) and make sure \
         `schemathesis` is on PATH"
    )
}

async fn schemathesis_version() -> String {
    let out = tokio::process::Command::new("schemathesis")
        .arg("--version")
        .output()
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", install_hint()));
    assert!(
        out.status.success(),
        "`schemathesis --version` failed ({}): {}",
        install_hint(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    // "schemathesis, version 4.32.5"
    let version = text.rsplit(' ').next().unwrap_or_default().to_owned();
    assert!(
        version.starts_with(SCHEMATHESIS_MAJOR),
        "schemathesis {version} is installed, but this test uses the CLI of {SCHEMATHESIS}: {}",
        install_hint()
    );
    version
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fhir_api_keeps_its_openapi_contract() {
    let version = schemathesis_version().await;
    let seed = std::env::var("TW_SCHEMATHESIS_SEED").unwrap_or_else(|_| DEFAULT_SEED.into());
    for database in database_choices().await {
        let which = if database.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        };
        let started = Instant::now();
        let s = TestServer::start(database).await;
        let p = practice(&s).await;

        // The document is public and names every operation it will be tested on.
        let res = s
            .client
            .get(s.url("/fhir/openapi.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let mut doc: Value = res.json().await.unwrap();
        let operations: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|p| p.as_object().unwrap().len())
            .sum();
        // One fixture: the clinician's own patient, whom the generated resources are
        // about (any other patient's would be refused, and little would be stored).
        let (status, _, patient) = send(
            &s,
            reqwest::Method::POST,
            "/fhir/Patient",
            &p.clinician,
            Some(
                json!({ "resourceType": "Patient", "name": [{ "family": "Fixture" }] }).to_string(),
            ),
            None,
        )
        .await;
        assert_eq!(status, 201, "{patient}");
        let patient = patient["id"].as_str().unwrap().to_owned();
        point_at_patient(&mut doc, &patient);
        let examples = (EXAMPLES_BUDGET / operations).clamp(10, 150);

        // Run where it cannot write into the repository (reports, caches).
        let work = tempfile::tempdir().unwrap();
        let har = work.path().join("responses.har");
        let schema = work.path().join("openapi.json");
        std::fs::write(&schema, doc.to_string()).unwrap();
        let args: Vec<String> = vec![
            "run".into(),
            schema.display().to_string(),
            "--url".into(),
            s.base.clone(),
            "--checks".into(),
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance".into(),
            "--phases".into(),
            "examples,coverage,fuzzing,stateful".into(),
            "--mode".into(),
            "all".into(),
            "--max-examples".into(),
            examples.to_string(),
            "--seed".into(),
            seed.clone(),
            // One worker: hypothesis's code inspection is not thread-safe on every Python
            // ("SystemError: AST constructor recursion depth mismatch" on 3.11).
            "--workers".into(),
            "1".into(),
            "--generation-database".into(),
            "none".into(),
            // The session is ours: schemathesis must not replace the cookie.
            "--generation-with-security-parameters".into(),
            "false".into(),
            "--request-timeout".into(),
            "10".into(),
            "--suppress-health-check".into(),
            "all".into(),
            "--no-color".into(),
            // Every exchange, so the responses can go to the FHIR validator too.
            "--report".into(),
            "har".into(),
            "--report-har-path".into(),
            har.display().to_string(),
            "--output-truncate".into(),
            "false".into(),
            "--header".into(),
            format!("Cookie: {}", p.clinician),
            "--header".into(),
            format!("Origin: {}", s.running().origin),
        ];
        let child = tokio::process::Command::new("schemathesis")
            .args(&args)
            .current_dir(work.path())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", install_hint()));
        // A bound, not a measurement: about 3 minutes on a quiet machine, 12 in CI beside
        // the other tests, and past 15 once on a 2-core machine busy compiling.
        let out = tokio::time::timeout(Duration::from_secs(1800), child.wait_with_output())
            .await
            .expect("schemathesis finishes within 30 minutes")
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let shown = args
            .iter()
            .map(|a| {
                if a.starts_with("Cookie:") {
                    "Cookie: tw_session=…".to_owned()
                } else {
                    a.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            out.status.success(),
            "schemathesis {version} found the FHIR API breaking its contract on {which} \
             (exit {:?}).\ncommand: schemathesis {shown}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
            out.status.code()
        );
        let fhir_responses = fhir_responses(&har, &s.base);
        assert!(
            !fhir_responses.is_empty(),
            "schemathesis received no FHIR response"
        );
        let captured = fhir_responses.len();
        // The responses to fuzzed requests go to the FHIR validator too: the server checks
        // every element's datatype, so whatever fuzzed body it stores and returns must be
        // valid FHIR (`TW_FHIR_CAPTURE_FUZZED=0` leaves them out).
        if std::env::var(FUZZED_ENV).as_deref() != Ok("0") {
            for (request, body) in &fhir_responses {
                capture(request, body);
            }
        }
        eprintln!(
            "{which}: schemathesis {version} passed ({operations} operations, {examples} examples each, seed {seed}, {captured} FHIR responses) in {:.0?}\n{}",
            started.elapsed(),
            stdout
                .lines()
                .filter(|l| !l.trim().is_empty())
                .rev()
                .take(12)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// Every FHIR resource schemathesis received (from its HAR report), with its request.
fn fhir_responses(har: &std::path::Path, base: &str) -> Vec<(String, Value)> {
    let text = std::fs::read_to_string(har)
        .unwrap_or_else(|e| panic!("schemathesis wrote no HAR report at {}: {e}", har.display()));
    let har: Value = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    for entry in har["log"]["entries"].as_array().unwrap() {
        let Some(body) = entry["response"]["content"]["text"].as_str() else {
            continue;
        };
        let Ok(body) = serde_json::from_str::<Value>(body) else {
            continue;
        };
        if body.get("resourceType").is_none() {
            continue;
        }
        let url = entry["request"]["url"].as_str().unwrap_or_default();
        let method = entry["request"]["method"].as_str().unwrap_or_default();
        out.push((
            format!("{method} {}", url.strip_prefix(base).unwrap_or(url)),
            body,
        ));
    }
    out
}

/// The document as the test uses it: every patient reference a request body may carry,
/// and every `patient`/`subject` search, names the fixture patient.
fn point_at_patient(doc: &mut Value, patient: &str) {
    let reference = &mut doc["components"]["schemas"]["PatientReference"];
    assert!(
        reference.is_object(),
        "the document has a PatientReference schema"
    );
    reference["properties"]["reference"] =
        json!({ "type": "string", "enum": [format!("Patient/{patient}")] });
    for path in doc["paths"].as_object_mut().unwrap().values_mut() {
        for op in path.as_object_mut().unwrap().values_mut() {
            let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
                continue;
            };
            for param in params {
                if param["in"] == "query"
                    && matches!(param["name"].as_str(), Some("patient" | "subject"))
                {
                    param["schema"] = json!({ "type": "string", "enum": [patient, format!("Patient/{patient}")] });
                }
            }
        }
    }
}
