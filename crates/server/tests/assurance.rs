//! Continuous risk assessment over HTTP, on SQLite and PostgreSQL: each automated check
//! fails when the system is made to fail it and passes when it is fixed; questionnaire,
//! register, reviews, incidents with their clocks, reports and the evidence pack, with
//! bad input refused and nothing changed.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use clock::Clock;
use common::TestServer;
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
            ("training_completion", "cannot_run"),
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
            db.record_backup(&store::backup::BackupRecord {
                time_ms: s.clock.now_ms(),
                size: 10,
                digest: "ab".into(),
            })
            .await
            .unwrap();
            db.record_restore(&store::backup::RestoreRecord {
                time_ms: s.clock.now_ms(),
                backup_time_ms: s.clock.now_ms(),
                digest: "ab".into(),
            })
            .await
            .unwrap();
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

fn tls_client(cert_pem: &[u8]) -> reqwest::Client {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(cert_pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
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
