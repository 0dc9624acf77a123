//! Continuous risk assessment over HTTP, on SQLite and PostgreSQL: each automated check
//! fails when the system is made to fail it and passes when it is fixed; questionnaire,
//! register, reviews, incidents with their clocks, reports and the evidence pack, with
//! bad input refused and nothing changed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use clock::Clock;
use common::{TestServer, tls_client};
use reqwest::header::{ACCEPT, COOKIE, ORIGIN};
use serde_json::Value;
use store::{Db, PoolSettings};

const OFFICER_EMAIL: &str = "officer@clinic.example";
const HOUR_MS: i64 = 3_600_000;

/// Setup done; the administrator's and a security officer's sessions.
async fn officer(s: &TestServer) -> (String, String) {
    let admin = s.admin().await;
    common::identity::invite(
        s,
        &admin,
        "Sello Mokoena",
        OFFICER_EMAIL,
        "security_officer",
    )
    .await;
    (admin, s.session_for(OFFICER_EMAIL, 0).await)
}

async fn run_checks(s: &TestServer, cookie: &str, only: Option<&str>) -> reqwest::Response {
    let form: Vec<(&str, &str)> = only.map(|c| vec![("check", c)]).unwrap_or_default();
    s.post_form("/security/assurance/run", &form, Some(cookie))
        .await
}

async fn dashboard(s: &TestServer, cookie: &str) -> Value {
    let res = s.get_with_cookie("/security/assurance.json", cookie).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// The latest outcome of each check, after a fresh run.
async fn outcomes(s: &TestServer, cookie: &str) -> BTreeMap<String, String> {
    assert_eq!(run_checks(s, cookie, None).await.status(), 303);
    dashboard(s, cookie).await["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["check"].as_str().unwrap().to_owned(),
                r["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn open_db(s: &TestServer) -> Db {
    Db::connect(&s.db_url, &PoolSettings::default())
        .await
        .unwrap()
}

/// A backup written now and restored and verified now, as `telewarden backup` and
/// `telewarden restore` record them.
async fn backed_up_and_restored(db: &Db, now_ms: i64) {
    db.record_backup(&store::backup::BackupRecord {
        time_ms: now_ms,
        size: 10,
        digest: "ab".into(),
    })
    .await
    .unwrap();
    db.record_restore(&store::backup::RestoreRecord {
        time_ms: now_ms,
        backup_time_ms: now_ms,
        digest: "ab".into(),
    })
    .await
    .unwrap();
}

/// An advisory database with one advisory about `tar` (a library of this build), dated
/// `date`, patched from `patched`.
fn advisory_db(dir: &std::path::Path, date: &str, patched: &str) {
    let crate_dir = dir.join("crates/tar");
    std::fs::create_dir_all(&crate_dir).unwrap();
    std::fs::write(
        crate_dir.join("RUSTSEC-2026-9001.md"),
        format!(
            "```toml\n[advisory]\nid = \"RUSTSEC-2026-9001\"\npackage = \"tar\"\ndate = \"{date}\"\nurl = \"https://example.org/9001\"\n\n[versions]\npatched = [\"{patched}\"]\n```\n\n# Path traversal in unpacking\n\nTest advisory.\n"
        ),
    )
    .unwrap();
}

#[tokio::test]
async fn each_check_fails_when_the_system_fails_it_and_passes_when_fixed() {
    for url in common::database_choices().await {
        let advisories = tempfile::tempdir().unwrap();
        // The test clock stands at 2026-01-01.
        advisory_db(advisories.path(), "2025-12-20", ">= 99.0.0");
        let adv = advisories.path().to_path_buf();
        let mut s = TestServer::start_with(url.clone(), move |c| {
            c.sessions.staff_idle_minutes = 30;
            c.assurance.advisory_db = Some(adv);
        })
        .await;
        let (admin, cookie) = officer(&s).await;
        let o = outcomes(&s, &cookie).await;
        assert_eq!(o.len(), 17, "{o:?}");
        // Nobody has a second factor yet; no backup, no restore; TLS off; idle logoff 30 min.
        for (check, want) in [
            ("staff_mfa", "fail"),
            ("admin_phishing_resistant_mfa", "fail"),
            ("backup_age", "fail"),
            ("restore_tested", "fail"),
            ("tls", "fail"),
            ("hsts", "fail"),
            ("idle_logoff", "fail"),
            ("dependency_advisories", "fail"),
            ("training_completion", "fail"),
            ("ledger_chain", "pass"),
            ("encryption_at_rest", "pass"),
            ("alerts_overdue", "pass"),
            ("break_glass_reviewed", "pass"),
            ("stale_admin_accounts", "pass"),
            ("shared_accounts", "pass"),
        ] {
            assert_eq!(o[check], want, "{check} on {url:?}: {o:?}");
        }
        let evidence = dashboard(&s, &cookie).await;
        let advisory = evidence["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["check"] == "dependency_advisories")
            .unwrap();
        assert!(
            advisory["evidence"]
                .to_string()
                .contains("RUSTSEC-2026-9001"),
            "{advisory}"
        );

        // The advisory fixed upstream and the build not affected: passes.
        advisory_db(advisories.path(), "2025-12-20", ">= 0.1.0");
        // MFA: the officer and the administrator disabled or enrolled. A clinician who
        // enrolled with an authenticator app has MFA; an account disabled no longer counts.
        let officer_id = s.user_id(OFFICER_EMAIL).await;
        let admin_id = s.user_id(common::ADMIN_EMAIL).await;
        let _ = common::identity::enrolled_clinician(&s, &admin).await;
        {
            let db = open_db(&s).await;
            for id in [&officer_id, &admin_id] {
                db.put_totp(&store::credentials::TotpRow {
                    user_id: id.clone(),
                    secret_sealed: "v1.fixture".into(),
                    created_ms: s.clock.now_ms(),
                    confirmed_ms: Some(s.clock.now_ms()),
                    last_step: None,
                })
                .await
                .unwrap();
            }
            // A backup written now, and a verified restore.
            backed_up_and_restored(&db, s.clock.now_ms()).await;
            db.close().await;
        }
        let o = outcomes(&s, &cookie).await;
        for check in [
            "staff_mfa",
            "backup_age",
            "restore_tested",
            "dependency_advisories",
        ] {
            assert_eq!(o[check], "pass", "{check} on {url:?}: {o:?}");
        }
        // Administrators with only an authenticator app are not phishing-resistant.
        assert_eq!(o["admin_phishing_resistant_mfa"], "fail");

        // A day passes: the backup is too old; the restore is still recent.
        s.clock.advance_ms(25 * HOUR_MS);
        let cookie = s.session_for(OFFICER_EMAIL, 0).await;
        let o = outcomes(&s, &cookie).await;
        assert_eq!(o["backup_age"], "fail");
        assert_eq!(o["restore_tested"], "pass");

        // A tampered ledger row fails the chain check; put back, it passes.
        let db = open_db(&s).await;
        let original =
            store::testing::texts(&db, "SELECT target FROM ledger_entries WHERE seq = 3")
                .await
                .unwrap()
                .remove(0);
        assert!(
            original
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ":_-.".contains(c)),
            "{original}"
        );
        store::testing::exec(
            &db,
            "UPDATE ledger_entries SET target = 'forged' WHERE seq = 3",
        )
        .await
        .unwrap();
        let o = outcomes(&s, &cookie).await;
        assert_eq!(o["ledger_chain"], "fail", "{o:?}");
        let failure = dashboard(&s, &cookie).await["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["check"] == "ledger_chain")
            .unwrap()
            .clone();
        assert!(
            failure["summary"].as_str().unwrap().contains("seq 3"),
            "{failure}"
        );
        store::testing::exec(
            &db,
            &format!("UPDATE ledger_entries SET target = '{original}' WHERE seq = 3"),
        )
        .await
        .unwrap();
        db.close().await;
        let o = outcomes(&s, &cookie).await;
        assert_eq!(o["ledger_chain"], "pass");

        // One check on demand; an unknown check is refused by name and nothing runs.
        let runs_before = db_runs(&s).await;
        assert_eq!(
            run_checks(&s, &cookie, Some("backup_age")).await.status(),
            303
        );
        let res = run_checks(&s, &cookie, Some("no_such_check")).await;
        assert_eq!(res.status(), 404);
        assert!(res.text().await.unwrap().contains("no_such_check"));
        assert_eq!(db_runs(&s).await, runs_before + 1);
        // Every run is in the ledger.
        let db = open_db(&s).await;
        let runs = common::ledger_actions(&db)
            .await
            .into_iter()
            .filter(|(a, _, _)| a == "assurance.checks_run")
            .count();
        assert!(runs >= 6, "{runs}");
        db.close().await;
        // Only the security officer runs checks.
        let admin = s.session_for(common::ADMIN_EMAIL, 0).await;
        assert_eq!(run_checks(&s, &admin, None).await.status(), 403);
        s.stop().await;

        // Default idle logoff (15 minutes) passes (a configuration fact: SQLite suffices).
        let s = TestServer::start(None).await;
        let (_, cookie) = officer(&s).await;
        assert_eq!(outcomes(&s, &cookie).await["idle_logoff"], "pass");
    }
}

async fn db_runs(s: &TestServer) -> usize {
    let db = open_db(s).await;
    let n = db.check_runs(1000).await.unwrap().len();
    db.close().await;
    n
}

/// A certificate for localhost valid until `y-m-d`.
fn certificate_until(y: i32, m: u8, d: u8) -> String {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(y, m, d);
    let key = rcgen::KeyPair::generate().unwrap();
    params.self_signed(&key).unwrap().pem()
}

#[tokio::test]
async fn the_tls_check_reads_the_certificate_in_use_and_hsts_is_sent() {
    let s = TestServer::start_with(None, |c| c.tls_self_signed = true).await;
    let origin = s.running().origin.clone();
    let cert_path = s.dir.path().join("tls/self-signed-cert.pem");
    let pem = std::fs::read(&cert_path).unwrap();
    let client = tls_client(&pem);
    // Setup and the officer's session, through HTTPS.
    let res = client
        .post(format!("{origin}{}", s.setup_path()))
        .header(ORIGIN, &origin)
        .form(&[
            ("practice_name", "Harbour Clinic"),
            ("time_zone", "Australia/Sydney"),
            ("admin_name", "Ada"),
            ("email", common::ADMIN_EMAIL),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    // Over HTTPS the session cookie carries the __Host- prefix.
    let secure = |c: String| c.replacen("tw_session=", "__Host-tw_session=", 1);
    let admin = secure(s.session_for(common::ADMIN_EMAIL, 0).await);
    let res = client
        .post(format!("{origin}/people/invite"))
        .header(ORIGIN, &origin)
        .header(COOKIE, &admin)
        .form(&[
            ("name", "Sello"),
            ("email", OFFICER_EMAIL),
            ("role", "security_officer"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = secure(s.session_for(OFFICER_EMAIL, 0).await);
    let check = |cert: Option<String>| {
        let client = client.clone();
        let origin = origin.clone();
        let cookie = cookie.clone();
        let cert_path = cert_path.clone();
        async move {
            if let Some(c) = cert {
                std::fs::write(&cert_path, c).unwrap();
            }
            let res = client
                .post(format!("{origin}/security/assurance/run"))
                .header(ORIGIN, &origin)
                .header(COOKIE, &cookie)
                .header(ACCEPT, "text/html")
                .form(&[("check", "")])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 303);
            let res = client
                .get(format!("{origin}/security/assurance.json"))
                .header(COOKIE, &cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(
                res.headers()["strict-transport-security"],
                "max-age=63072000; includeSubDomains"
            );
            let v: Value = res.json().await.unwrap();
            let r = |k: &str| {
                v["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|r| r["check"] == k)
                    .unwrap()
                    .clone()
            };
            (r("tls"), r("hsts"))
        }
    };
    let (tls, hsts) = check(None).await;
    assert_eq!(tls["outcome"], "pass", "{tls}");
    assert_eq!(hsts["outcome"], "pass", "{hsts}");
    // Expired (the test clock stands at 2026-01-01), then about to expire: both fail.
    let (tls, _) = check(Some(certificate_until(2025, 12, 1))).await;
    assert_eq!(tls["outcome"], "fail");
    assert!(
        tls["summary"].as_str().unwrap().contains("expired"),
        "{tls}"
    );
    let (tls, _) = check(Some(certificate_until(2026, 1, 15))).await;
    assert_eq!(tls["outcome"], "fail");
    assert!(
        tls["summary"]
            .as_str()
            .unwrap()
            .contains("expires in 13 days")
            || tls["summary"]
                .as_str()
                .unwrap()
                .contains("expires in 14 days"),
        "{tls}"
    );
    // Renewed for a year: passes.
    let (tls, _) = check(Some(certificate_until(2027, 1, 1))).await;
    assert_eq!(tls["outcome"], "pass", "{tls}");
}

fn risk<'a>(v: &'a Value, scenario: &str) -> &'a Value {
    v["risks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["scenario"] == scenario)
        .unwrap()
}

#[tokio::test]
async fn questionnaire_register_incidents_and_reports_work_and_refuse_bad_input() {
    for url in common::database_choices().await {
        let s = TestServer::start(url.clone()).await;
        let (admin, cookie) = officer(&s).await;
        assert_eq!(run_checks(&s, &cookie, None).await.status(), 303);

        // Questionnaire: an answer out of range and an unknown question change nothing.
        let res = s
            .post_form(
                "/assessment/questions/office_macros/answer",
                &[("answer", "maybe")],
                Some(&cookie),
            )
            .await;
        assert_eq!(res.status(), 400, "{url:?}");
        let res = s
            .post_form(
                "/assessment/questions/no_such_question/answer",
                &[("answer", "yes")],
                Some(&cookie),
            )
            .await;
        assert_eq!(res.status(), 404);
        let db = open_db(&s).await;
        assert!(db.answers().await.unwrap().is_empty());
        db.close().await;
        // Delegated to the administrator, who answers it from their own page.
        let admin_id = s.user_id(common::ADMIN_EMAIL).await;
        let first = assurance::questionnaire::questions()[0].id;
        let res = s
            .post_form(
                &format!("/security/assurance/questions/{first}/delegate"),
                &[("user", &admin_id)],
                Some(&cookie),
            )
            .await;
        assert_eq!(res.status(), 303);
        let mine = s
            .get_with_cookie("/assessment", &admin)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            mine.contains(assurance::questionnaire::questions()[0].text),
            "the delegate sees the question"
        );
        let second = assurance::questionnaire::questions()[1].id;
        let res = s
            .post_form(
                &format!("/assessment/questions/{second}/answer"),
                &[("answer", "yes")],
                Some(&admin),
            )
            .await;
        assert_eq!(res.status(), 403, "a question not delegated to them");
        let res = s
            .post_form(
                &format!("/assessment/questions/{first}/answer"),
                &[
                    ("answer", "dont_know"),
                    ("note", "ask IT"),
                    ("back", "mine"),
                ],
                Some(&admin),
            )
            .await;
        assert_eq!(res.status(), 303);

        // Register: acceptance without an approver, a due date in the wrong order, a
        // level out of range: refused, nothing changed.
        let v = dashboard(&s, &cookie).await;
        let backup = risk(&v, "backup_failure").clone();
        let id = backup["id"].as_str().unwrap().to_owned();
        // No backup yet: the failing checks raised its likelihood above the catalogue's 2.
        assert!(backup["likelihood"].as_i64().unwrap() > 2, "{backup}");
        for form in [
            vec![
                ("likelihood", "3"),
                ("impact", "5"),
                ("treatment", "accept"),
                ("accept_until", "2027-01-01"),
            ],
            vec![
                ("likelihood", "3"),
                ("impact", "5"),
                ("treatment", "mitigate"),
                ("owner", "Sam"),
                ("due", "2025-01-01"),
            ],
            vec![("likelihood", "9"), ("impact", "5"), ("treatment", "avoid")],
            vec![
                ("likelihood", "3"),
                ("impact", "5"),
                ("treatment", "ignore"),
            ],
        ] {
            let res = s
                .post_form(
                    &format!("/security/assurance/risks/{id}/treatment"),
                    &form,
                    Some(&cookie),
                )
                .await;
            assert_eq!(res.status(), 400, "{form:?}");
        }
        assert_eq!(
            risk(&dashboard(&s, &cookie).await, "backup_failure")["status"],
            "open"
        );
        // Mitigate: verified only once its linked checks pass.
        let res = s
            .post_form(
                &format!("/security/assurance/risks/{id}/treatment"),
                &[
                    ("likelihood", "3"),
                    ("impact", "5"),
                    ("treatment", "mitigate"),
                    ("owner", "Sam"),
                    ("due", "2026-03-01"),
                ],
                Some(&cookie),
            )
            .await;
        assert_eq!(res.status(), 303);
        assert_eq!(
            risk(&dashboard(&s, &cookie).await, "backup_failure")["status"],
            "treating"
        );
        let db = open_db(&s).await;
        backed_up_and_restored(&db, s.clock.now_ms()).await;
        db.close().await;
        assert_eq!(run_checks(&s, &cookie, None).await.status(), 303);
        let r = risk(&dashboard(&s, &cookie).await, "backup_failure").clone();
        assert_eq!(r["status"], "verified", "{r}");
        assert!(
            r["verified_by"].as_str().unwrap().contains("backup_age"),
            "{r}"
        );
        let page = s
            .get_with_cookie(&format!("/security/assurance/risks/{id}"), &cookie)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("treatment set") || page.contains("checks run"),
            "the history is shown"
        );

        // Incidents: dates in the wrong order refused; then opened, assessed, notified.
        let res = s
            .post_form(
                "/security/incidents",
                &[
                    ("title", "Laptop stolen"),
                    ("occurred", "2026-01-05T10:00"),
                    ("aware_suspected", "2026-01-02T09:00"),
                ],
                Some(&cookie),
            )
            .await;
        assert_eq!(res.status(), 400);
        let db = open_db(&s).await;
        assert!(db.incidents().await.unwrap().is_empty());
        db.close().await;
        let res = s
            .post_form(
                "/security/incidents",
                &[
                    ("title", "Laptop stolen"),
                    ("description", "A practice laptop was stolen from a car."),
                    ("kinds", "names\nappointment times"),
                    ("aware_suspected", "2025-12-20T09:00"),
                    ("discovered", "2025-12-20T09:00"),
                    ("affected_total", "620"),
                    ("affected_by_state", "CA=510"),
                ],
                Some(&cookie),
            )
            .await;
        assert_eq!(res.status(), 303);
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        let page = s
            .get_with_cookie(&location, &cookie)
            .await
            .text()
            .await
            .unwrap();
        // Aware 20 Dec 2025 in Sydney: the NDB assessment is due at the end of 19 January 2026.
        assert!(page.contains("19 January 2026, 23:59"), "{page}");
        // HIPAA: 60 days from discovery, HHS at once (≥ 500) and the media (> 500 in CA).
        assert!(page.contains("18 February 2026, 23:59"), "HIPAA 60 days");
        assert!(page.to_lowercase().contains("media"), "media notice for CA");
        // The sealed record holds no plain text.
        let db = open_db(&s).await;
        let rows = db.incidents().await.unwrap();
        assert!(!rows[0].record.contains("Laptop"), "sealed at rest");
        db.close().await;
        let version = rows[0].updated_ms.to_string();
        let res = s
            .post_form(
                &format!("{location}/ndb"),
                &[
                    ("version", &version),
                    ("likely_serious_harm", "yes"),
                    (
                        "rationale",
                        "Names with appointment times of a sexual health clinic.",
                    ),
                ],
                Some(&cookie),
            )
            .await;
        assert_eq!(res.status(), 303);
        // The same stale version again: refused, the first change kept.
        let res = s
            .post_form(
                &format!("{location}/containment"),
                &[("version", &version), ("text", "Remote wipe sent")],
                Some(&cookie),
            )
            .await;
        assert_eq!(res.status(), 409);
        // A hostile version number is a stale one, not a crash.
        let res = s
            .post_form(
                &format!("{location}/containment"),
                &[("version", "9223372036854775807"), ("text", "x")],
                Some(&cookie),
            )
            .await;
        assert_eq!(res.status(), 409);
        // The current version: clearing the date that starts the NDB clock, or moving
        // discovery into the future, is refused; correcting it is allowed and in the ledger.
        let db = open_db(&s).await;
        let current = db.incidents().await.unwrap()[0].updated_ms.to_string();
        db.close().await;
        let facts = |aware: &'static str, discovered: &'static str| {
            vec![
                ("version", current.clone()),
                ("title", "Laptop stolen".to_owned()),
                ("aware_suspected", aware.to_owned()),
                ("discovered", discovered.to_owned()),
                ("affected_total", "620".to_owned()),
                ("affected_by_state", "CA=510".to_owned()),
            ]
        };
        for (form, why) in [
            (facts("", "2025-12-20T09:00"), "cannot be removed"),
            (facts("2025-12-20T09:00", "2027-01-01T09:00"), "future"),
        ] {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let res = s
                .post_form(&format!("{location}/facts"), &pairs, Some(&cookie))
                .await;
            assert_eq!(res.status(), 400);
            assert!(res.text().await.unwrap().contains(why), "{why}");
        }
        let form = facts("2025-12-19T09:00", "2025-12-20T09:00");
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            s.post_form(&format!("{location}/facts"), &pairs, Some(&cookie))
                .await
                .status(),
            303
        );
        let db = open_db(&s).await;
        let changes = store::testing::texts(
            &db,
            "SELECT details FROM ledger_entries WHERE action = 'assurance.incident_changed'",
        )
        .await
        .unwrap();
        assert!(
            changes
                .iter()
                .any(|d| d.contains("aware of a suspected breach changed")),
            "{changes:?}"
        );
        assert!(
            !changes.iter().any(|d| d.contains("Laptop")),
            "no content in the ledger"
        );
        db.close().await;
        let page = s
            .get_with_cookie(&location, &cookie)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("Dear [name]") || page.contains("[name]"),
            "drafts are pre-filled, placeholders visible"
        );
        assert!(
            page.contains("Names with appointment times"),
            "the reasoning is kept"
        );

        // Reports: the PDF renders with its sections; the evidence pack verifies and its
        // hash is in the ledger.
        let res = s
            .get_with_cookie("/security/reports/risk-assessment/pdf", &cookie)
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "application/pdf");
        let pdf = res.bytes().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.pdf");
        std::fs::write(&path, &pdf).unwrap();
        let render = std::process::Command::new("pdftoppm")
            .arg("-png")
            .arg("-r")
            .arg("30")
            .arg(&path)
            .arg(dir.path().join("page"))
            .status()
            .expect("pdftoppm (poppler-utils) is needed: apt-get install poppler-utils");
        assert!(render.success());
        let text = std::process::Command::new("pdftotext")
            .arg(&path)
            .arg("-")
            .output()
            .expect("pdftotext (poppler-utils)");
        let text = String::from_utf8_lossy(&text.stdout);
        for section in [
            "Security risk assessment",
            "Scope and method",
            "Automated checks",
            "Risk register",
            "Reviews",
        ] {
            assert!(text.contains(section), "{section} missing from the PDF");
        }
        for kind in ["essential-eight", "hipaa-checklist", "incident-log"] {
            let res = s
                .get_with_cookie(&format!("/security/reports/{kind}"), &cookie)
                .await;
            assert_eq!(res.status(), 200, "{kind}");
        }
        let log = s
            .get_with_cookie("/security/reports/incident-log", &cookie)
            .await
            .text()
            .await
            .unwrap();
        assert!(log.contains("Laptop stolen"));
        assert_eq!(
            s.get_with_cookie("/security/reports/nope/pdf", &cookie)
                .await
                .status(),
            404
        );
        let res = s
            .post_form("/security/reports/evidence-pack", &[], Some(&cookie))
            .await;
        assert_eq!(res.status(), 200);
        let sha = res.headers()["x-evidence-pack-sha256"]
            .to_str()
            .unwrap()
            .to_owned();
        let archive = res.bytes().await.unwrap();
        let names = reports::verify_pack(&archive).unwrap();
        assert!(
            names.iter().any(|n| n == "reports/risk-assessment.pdf"),
            "{names:?}"
        );
        assert!(names.iter().any(|n| n == "data/incidents.json"));
        let db = open_db(&s).await;
        let entries = store::testing::texts(
            &db,
            "SELECT details FROM ledger_entries WHERE action = 'assurance.evidence_pack_exported'",
        )
        .await
        .unwrap();
        assert!(entries.iter().any(|d| d.contains(&sha)), "{entries:?}");
        let viewed = store::testing::texts(&db, "SELECT action FROM ledger_entries WHERE action IN ('assurance.incident_viewed', 'assurance.report_viewed')").await.unwrap();
        assert!(
            viewed.iter().any(|a| a == "assurance.incident_viewed")
                && viewed.iter().any(|a| a == "assurance.report_viewed"),
            "{viewed:?}"
        );
        db.close().await;
        // Only the security officer exports.
        assert_eq!(
            s.post_form("/security/reports/evidence-pack", &[], Some(&admin))
                .await
                .status(),
            403
        );
    }
}
