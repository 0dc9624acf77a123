//! `telewarden serve` as an operator runs it: the banner, a full flow, SIGTERM, and the
//! logs, which must never hold a secret, a session id or personal data.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ServeProcess, client, run, text};

const PATIENT_NAME: &str = "Marigold Featherstonehaugh";
const EMAIL: &str = "marigold.f@clinic.example";
const PASSWORD: &str = "umbrella-crocodile-1947-tango";

async fn full_flow(server: &ServeProcess) -> Vec<String> {
    let http = client();
    let link = server
        .setup_link
        .clone()
        .expect("first start prints a setup link");
    let token = link.rsplit('/').next().unwrap().to_owned();
    let res = http
        .post(&link)
        .header("origin", &server.origin)
        .form(&[
            ("practice_name", "Featherstonehaugh Family Practice"),
            ("time_zone", "Australia/Sydney"),
            ("admin_name", PATIENT_NAME),
            ("email", EMAIL),
            ("password", PASSWORD),
            ("confirm", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let setup_cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let wrong = http
        .post(format!("{}/sign-in", server.origin))
        .header("origin", &server.origin)
        .form(&[("email", EMAIL), ("password", &format!("{PASSWORD}x"))])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let ok = http
        .post(format!("{}/sign-in", server.origin))
        .header("origin", &server.origin)
        .form(&[("email", EMAIL), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303);
    let cookie = ok.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let home = http
        .get(format!("{}/", server.origin))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(home.text().await.unwrap().contains(PATIENT_NAME));
    let session_values = [setup_cookie, cookie]
        .iter()
        .map(|c| c.split_once('=').unwrap().1.to_owned())
        .collect::<Vec<_>>();
    let mut secrets = vec![
        PATIENT_NAME.to_owned(),
        EMAIL.to_owned(),
        PASSWORD.to_owned(),
        token,
    ];
    secrets.extend(session_values);
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
        let secrets = full_flow(&server).await;
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
    let _ = full_flow(&server).await;
    assert_eq!(server.terminate().await.0, 0);
    let again = ServeProcess::start(dir.path(), &args, &[]).await;
    assert!(
        again.setup_link.is_none(),
        "{}",
        again.stdout.lock().unwrap()
    );
    assert_eq!(again.terminate().await.0, 0);
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
    let _ = full_flow(&server).await;
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
