//! `telewarden serve` as an operator runs it: the banner, a full flow, SIGTERM, and the
//! logs, which must never hold a secret, a session id or personal data.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ServeProcess, client, run, text};

const PATIENT_NAME: &str = "Marigold Featherstonehaugh";
const EMAIL: &str = "marigold.f@clinic.example";
const PASSWORD: &str = "umbrella-crocodile-1947-tango";

fn sqlite_of(dir: &std::path::Path) -> String {
    format!(
        "sqlite://{}",
        dir.join("telewarden-data/telewarden.db").display()
    )
}

fn cookie_of(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")) && !v.contains("Max-Age=0"))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("{start} not in page"))
        + start.len();
    let to = html[from..].find(end).unwrap() + from;
    &html[from..to]
}

/// An administrator session made directly in the database (passkey sign-in itself is
/// tested in the browser).
async fn admin_session(server: &ServeProcess, db_url: &str) -> String {
    let db = store::Db::connect(db_url, &store::PoolSettings::default())
        .await
        .unwrap();
    let keyring =
        store::keyring::Keyring::load_or_create(&server.data_dir.join("master.key")).unwrap();
    let now = clock::Clock::now_ms(&clock::SystemClock);
    let cookie =
        store::testing::session_cookie(&db, &keyring, "ada@clinic.example", now, now).await;
    db.close().await;
    cookie
}

fn totp_now(secret: &[u8]) -> String {
    let now = clock::Clock::now_ms(&clock::SystemClock) / 1000;
    totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_skew(0)
        .with_secret(totp_rs::Secret::from(secret.to_vec()))
        .build_noncompliant()
        .generate(now as u64)
        .to_string()
}

/// Setup, an invited patient enrolling with a password and an authenticator app, a
/// wrong and a right sign-in. Returns every secret and personal detail that passed.
async fn full_flow(server: &ServeProcess, db_url: &str) -> Vec<String> {
    let http = client();
    let origin = &server.origin;
    let link = server
        .setup_link
        .clone()
        .expect("first start prints a setup link");
    let setup_token = link.rsplit('/').next().unwrap().to_owned();
    let res = http
        .post(&link)
        .header("origin", origin)
        .form(&[
            ("practice_name", "Featherstonehaugh Family Practice"),
            ("time_zone", "Australia/Sydney"),
            ("admin_name", "Ada Administrator"),
            ("email", "ada@clinic.example"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let admin_enrol = res.headers()["location"].to_str().unwrap().to_owned();
    let admin = admin_session(server, db_url).await;

    // The administrator invites a patient, who enrols with a password and an app.
    let res = http
        .post(format!("{origin}/people/invite"))
        .header("origin", origin)
        .header("cookie", &admin)
        .form(&[
            ("name", PATIENT_NAME),
            ("email", EMAIL),
            ("role", "patient"),
        ])
        .send()
        .await
        .unwrap();
    let html = res.text().await.unwrap();
    let invitation = between(&html, r#"<code class="link" data-copy>"#, "</code>").to_owned();
    let res = http
        .post(format!("{invitation}/password"))
        .header("origin", origin)
        .form(&[("password", PASSWORD), ("confirm", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let enrolling = cookie_of(&res, "tw_session").unwrap();
    let page = http
        .get(format!("{origin}/account/second-factor"))
        .header("cookie", &enrolling)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let secret_text: String = between(&page, r#"<code class="secret">"#, "</code>")
        .split_whitespace()
        .collect();
    let secret = totp_rs::Secret::try_from_base32(&secret_text)
        .unwrap()
        .as_bytes()
        .to_vec();
    let res = http
        .post(format!("{origin}/account/second-factor"))
        .header("origin", origin)
        .header("cookie", &enrolling)
        .form(&[("code", totp_now(&secret))])
        .send()
        .await
        .unwrap();
    let html = res.text().await.unwrap();
    let recovery: Vec<String> = html
        .split("<li><code>")
        .skip(1)
        .map(|p| p.split("</code>").next().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);

    let wrong = http
        .post(format!("{origin}/sign-in"))
        .header("origin", origin)
        .form(&[("email", EMAIL), ("password", &format!("{PASSWORD}x"))])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let ok = http
        .post(format!("{origin}/sign-in"))
        .header("origin", origin)
        .form(&[("email", EMAIL), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303);
    let pending = cookie_of(&ok, "tw_pending").unwrap();
    let done = http
        .post(format!("{origin}/sign-in/code"))
        .header("origin", origin)
        .header("cookie", &pending)
        .form(&[("kind", "recovery"), ("code", recovery[0].as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    let cookie = cookie_of(&done, "tw_session").unwrap();
    let home = http
        .get(format!("{origin}/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(home.text().await.unwrap().contains(PATIENT_NAME));

    let value = |c: &str| c.split_once('=').unwrap().1.to_owned();
    let mut secrets = vec![
        PATIENT_NAME.to_owned(),
        EMAIL.to_owned(),
        PASSWORD.to_owned(),
        setup_token,
    ];
    secrets.push(admin_enrol.rsplit('/').next().unwrap().to_owned());
    secrets.push(invitation.rsplit('/').next().unwrap().to_owned());
    secrets.push(secret_text);
    secrets.extend(recovery);
    secrets.extend([
        value(&admin),
        value(&enrolling),
        value(&pending),
        value(&cookie),
    ]);
    secrets
}

#[tokio::test]
async fn a_full_flow_leaves_no_secret_or_personal_data_in_the_logs() {
    for format in ["text", "json"] {
        let dir = tempfile::tempdir().unwrap();
        let server = ServeProcess::start(
            dir.path(),
            &[
                "--listen",
                "127.0.0.1:0",
                "--metrics-listen",
                "off",
                "--log-level",
                "debug",
                "--log-format",
                format,
            ],
            &[],
        )
        .await;
        let secrets = full_flow(&server, &sqlite_of(dir.path())).await;
        let (code, stdout, stderr) = server.terminate().await;
        assert_eq!(code, 0, "clean exit on SIGTERM; stderr: {stderr}");
        // The logs are real: they carry the access log and the lifecycle.
        assert!(stderr.contains("Telewarden is serving"), "{stderr}");
        assert!(stderr.contains("/sign-in"), "access log missing: {stderr}");
        assert!(stderr.contains("Telewarden stopped"), "{stderr}");
        if format == "json" {
            for line in stderr.lines().filter(|l| l.starts_with('{')) {
                serde_json::from_str::<serde_json::Value>(line)
                    .unwrap_or_else(|e| panic!("not JSON: {line}: {e}"));
            }
        }
        for secret in &secrets {
            assert!(
                !stderr.contains(secret.as_str()),
                "{format} log leaks {secret:?}"
            );
        }
        // The console shows the setup link (that is its job) and nothing personal.
        for secret in &secrets[..3] {
            assert!(
                !stdout.contains(secret.as_str()),
                "console leaks {secret:?}"
            );
        }

        // The ledger verifies, exports as FHIR and proves its entries offline.
        let data = dir.path().join("telewarden-data");
        let verify = run(dir.path(), &["audit", "verify"]).await;
        assert!(verify.status.success(), "{}", text(&verify.stderr));
        assert!(text(&verify.stdout).contains("intact"));
        let export = run(dir.path(), &["audit", "export"]).await;
        assert!(export.status.success());
        let events: Vec<serde_json::Value> = text(&export.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(events.len() >= 7, "{events:?}");
        assert!(events.iter().all(|e| e["resourceType"] == "AuditEvent"));
        assert!(
            events
                .iter()
                .any(|e| e["subtype"][0]["code"] == "signin.password" && e["outcome"] == "4")
        );
        let exported = text(&export.stdout);
        for secret in &secrets {
            assert!(
                !exported.contains(secret.as_str()),
                "export leaks {secret:?}"
            );
        }
        assert!(data.join("ledger.key").exists());
    }
}

#[tokio::test]
async fn the_second_start_prints_no_setup_link_once_set_up() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--listen", "127.0.0.1:0", "--metrics-listen", "off"];
    let server = ServeProcess::start(dir.path(), &args, &[]).await;
    let _ = full_flow(&server, &sqlite_of(dir.path())).await;
    assert_eq!(server.terminate().await.0, 0);
    let again = ServeProcess::start(dir.path(), &args, &[]).await;
    assert!(
        again.setup_link.is_none(),
        "{}",
        again.stdout.lock().unwrap()
    );
    assert_eq!(again.terminate().await.0, 0);
}

/// With TLS and no `redirect_listen`, nothing answers plain HTTP: the banner and
/// `config check` say so, and how to fix it.
#[tokio::test]
async fn the_banner_says_when_plain_http_is_not_redirected() {
    const NOTE: &str = "Plain HTTP is not redirected to HTTPS: set redirect_listen";
    let dir = tempfile::tempdir().unwrap();
    let base = ["--listen", "127.0.0.1:0", "--metrics-listen", "off"];
    let banner_of = |extra: &'static [&'static str]| {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let dir = dir.path().to_owned();
        async move {
            let server = ServeProcess::start(&dir, &args, &[]).await;
            let banner = server.stdout.lock().unwrap().clone();
            assert_eq!(server.terminate().await.0, 0);
            banner
        }
    };

    let tls_only = banner_of(&["--tls-self-signed"]).await;
    assert!(tls_only.contains(NOTE), "{tls_only}");
    assert!(tls_only.contains("--redirect-listen"), "{tls_only}");
    let redirected = banner_of(&["--tls-self-signed", "--redirect-listen", "127.0.0.1:0"]).await;
    assert!(
        redirected.contains("Redirecting plain HTTP on 127.0.0.1:"),
        "{redirected}"
    );
    assert!(!redirected.contains(NOTE), "{redirected}");
    let plain = banner_of(&[]).await;
    assert!(
        !plain.contains(NOTE),
        "no TLS, nothing to redirect: {plain}"
    );

    let check = run(dir.path(), &["config", "check", "--tls-self-signed"]).await;
    assert!(check.status.success(), "{}", text(&check.stderr));
    assert!(
        text(&check.stdout).contains(NOTE),
        "{}",
        text(&check.stdout)
    );
    let check = run(dir.path(), &["config", "check"]).await;
    assert!(!text(&check.stdout).contains(NOTE));
}

#[tokio::test]
async fn serves_on_postgresql_when_configured() {
    let Ok(base) = std::env::var(store::testing::POSTGRES_ENV) else {
        return;
    };
    if base.is_empty() {
        return;
    }
    let url = store::testing::fresh_postgres_database(&base).await;
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(
        dir.path(),
        &["--listen", "127.0.0.1:0", "--metrics-listen", "off"],
        &[("TW_DATABASE_URL", url.as_str())],
    )
    .await;
    let ready: serde_json::Value = client()
        .get(format!("{}/readyz", server.origin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["ready"], true);
    assert!(
        ready["checks"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("postgres")
    );
    let _ = full_flow(&server, &url).await;
    assert_eq!(server.terminate().await.0, 0);
    let verify = common::run_env(
        dir.path(),
        &["audit", "verify"],
        &[("TW_DATABASE_URL", url.as_str())],
    )
    .await;
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    assert!(
        !dir.path().join("telewarden-data/telewarden.db").exists(),
        "no SQLite file when on PostgreSQL"
    );
}
