//! First-run setup and sign-in through the real server, on SQLite and PostgreSQL, with
//! the ledger entries each step must leave.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ADMIN_EMAIL, ADMIN_NAME, PRACTICE, TestServer, ledger_actions, session_cookie};
use ledger::LedgerStore;

fn triple(a: &str, o: &str, t: &str) -> (String, String, String) {
    (a.into(), o.into(), t.into())
}

#[tokio::test]
async fn setup_creates_the_practice_and_admin_once_and_the_link_dies() {
    for db in common::database_choices().await {
        let mut s = TestServer::start(db.clone()).await;
        let setup = s.setup_path();
        assert!(
            s.get("/")
                .await
                .text()
                .await
                .unwrap()
                .contains("almost ready")
        );

        let form = s.get(&setup).await;
        assert_eq!(form.status(), 200, "{db:?}");
        let html = form.text().await.unwrap();
        for label in [
            r#"<label for="practice_name">"#,
            r#"<label for="email">"#,
            r#"<label for="admin_name">"#,
        ] {
            assert!(html.contains(label), "unlabelled field: {label}");
        }

        // Setup leads straight into the administrator's enrolment (a passkey).
        let enrol = s.complete_setup().await;
        let page = s.get(&enrol).await;
        assert_eq!(page.status(), 200);
        let page = page.text().await.unwrap();
        assert!(page.contains(&format!("Welcome, {ADMIN_NAME}")), "{page}");
        assert!(page.contains("Practice administrator") && page.contains(PRACTICE));
        assert!(page.contains("data-passkey-enrol"));
        assert!(
            !page.contains("use a password"),
            "administrators use passkeys only"
        );

        // The setup link is dead: a GET and a second submission both refuse.
        let again = s.get(&setup).await;
        assert_eq!(again.status(), 409);
        assert!(again.text().await.unwrap().contains("already set up"));
        let replay = s
            .post_form(
                &setup,
                &[
                    ("practice_name", "Evil"),
                    ("time_zone", "UTC"),
                    ("admin_name", "Eve"),
                    ("email", "eve@evil.example"),
                ],
                None,
            )
            .await;
        assert_eq!(replay.status(), 409);

        let store = s.stop().await;
        assert_eq!(store.count_users().await.unwrap(), 1);
        assert_eq!(store.practice().await.unwrap().unwrap().name, PRACTICE);
        let admin = store
            .user_by_email(&s.keyring(), ADMIN_EMAIL)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(admin.role, "practice_admin");
        assert_eq!(admin.password_hash, None);
        let actions = ledger_actions(&store).await;
        let user = format!("user:{}", admin.id);
        for expected in [
            triple("server.started", "success", "server"),
            triple("config.changed", "success", "config"),
            triple("setup.link_issued", "success", "setup"),
            triple("setup.completed", "success", &user),
            triple("server.stopped", "success", "server"),
        ] {
            assert!(
                actions.contains(&expected),
                "{db:?}: missing {expected:?} in {actions:?}"
            );
        }
        let report = ledger::verify(&store, &s.ledger_key()).await.unwrap();
        assert!(report.is_intact(), "{report:?}");
        let head = store.latest_checkpoint().await.unwrap().unwrap();
        assert_eq!(head.sth.head.size, report.entries);
    }
}

#[tokio::test]
async fn invalid_setup_input_is_explained_and_changes_nothing() {
    for db in common::database_choices().await {
        let mut s = TestServer::start(db.clone()).await;
        let setup = s.setup_path();
        let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
            (
                vec![("practice_name", " ".into())],
                "Please enter the practice",
            ),
            (
                vec![("email", "not an address".into())],
                "e-mail address like",
            ),
            (vec![("time_zone", "Moon/Tranquility".into())], "time zone"),
            (vec![("admin_name", "n".repeat(500))], "120 characters"),
        ];
        for (changes, expected) in cases {
            let mut form: Vec<(&str, String)> = vec![
                ("practice_name", PRACTICE.into()),
                ("time_zone", "Australia/Sydney".into()),
                ("admin_name", ADMIN_NAME.into()),
                ("email", ADMIN_EMAIL.into()),
            ];
            for (k, v) in changes {
                form.iter_mut().find(|(fk, _)| *fk == k).unwrap().1 = v;
            }
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let res = s.post_form(&setup, &pairs, None).await;
            assert_eq!(res.status(), 400, "{expected}");
            assert!(session_cookie(&res).is_none());
            let html = res.text().await.unwrap();
            assert!(html.contains(expected), "{expected}: {html}");
            assert!(html.contains(r#"aria-invalid="true""#));
        }
        // Missing every field, and a garbage token: clear errors too.
        assert_eq!(s.post_form(&setup, &[], None).await.status(), 400);
        assert_eq!(s.get("/setup/not-a-real-token").await.status(), 404);
        let store = s.stop().await;
        assert!(store.practice().await.unwrap().is_none(), "{db:?}");
        assert_eq!(store.count_users().await.unwrap(), 0);
        let denied = ledger_actions(&store)
            .await
            .into_iter()
            .filter(|(a, o, _)| a == "setup.link" && o == "denied")
            .count();
        assert_eq!(denied, 1, "the garbage token is audited");
    }
}

#[tokio::test]
async fn the_setup_link_expires() {
    let s = TestServer::start_with(None, |c| c.setup_link_minutes = 30).await;
    let setup = s.setup_path();
    assert_eq!(s.get(&setup).await.status(), 200);
    s.clock.advance_ms(30 * 60 * 1000 + 1);
    let res = s.get(&setup).await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("expired"));
}

#[tokio::test]
async fn failed_password_attempts_look_alike_and_are_audited() {
    for db in common::database_choices().await {
        let mut s = TestServer::start(db.clone()).await;
        let _ = s.complete_setup().await;
        // The administrator has no password (passkeys only): like an unknown account.
        let admin = s.sign_in(ADMIN_EMAIL, "not the password at all").await;
        assert_eq!(admin.status(), 401);
        assert!(session_cookie(&admin).is_none());
        let admin_text = admin.text().await.unwrap();
        let unknown = s
            .sign_in("nobody@harbour.example", "not the password at all")
            .await;
        assert_eq!(unknown.status(), 401);
        let unknown_text = unknown.text().await.unwrap();
        let message = "That e-mail address and password do not match an account.";
        assert!(admin_text.contains(message) && unknown_text.contains(message));

        let store = s.stop().await;
        let admin = store
            .user_by_email(&s.keyring(), ADMIN_EMAIL)
            .await
            .unwrap()
            .unwrap();
        let actions = ledger_actions(&store).await;
        for expected in [
            triple("signin.password", "failure", &format!("user:{}", admin.id)),
            triple("signin.password", "failure", "account:unknown"),
        ] {
            assert!(actions.contains(&expected), "{db:?}: missing {expected:?}");
        }
        // The typed address of an unknown account is not kept.
        let all = store.entries(1, 1000).await.unwrap();
        assert!(
            all.iter()
                .all(|e| !e.details.contains("nobody@") && !e.target.contains("nobody@"))
        );
    }
}

#[tokio::test]
async fn sign_out_ends_the_session_on_the_server() {
    let mut s = TestServer::start(None).await;
    let cookie = s.admin().await;
    assert!(
        s.get_with_cookie("/", &cookie)
            .await
            .text()
            .await
            .unwrap()
            .contains("Welcome")
    );
    let out = s.post_form("/sign-out", &[], Some(&cookie)).await;
    assert_eq!(out.status(), 303);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert!(
        !s.get_with_cookie("/", &cookie)
            .await
            .text()
            .await
            .unwrap()
            .contains("Welcome")
    );
    let store = s.stop().await;
    assert!(
        ledger_actions(&store)
            .await
            .iter()
            .any(|(a, o, _)| a == "signout" && o == "success")
    );
}

#[tokio::test]
async fn when_the_audit_write_fails_the_action_does_not_happen() {
    for db in common::database_choices().await {
        let mut s = TestServer::start(db.clone()).await;
        let cookie = s.admin().await;
        // Break the ledger table underneath the running server.
        let raw = store::Db::connect(&s.db_url, &store::PoolSettings::default())
            .await
            .unwrap();
        store::testing::exec(
            &raw,
            "ALTER TABLE ledger_entries RENAME TO ledger_entries_gone",
        )
        .await
        .unwrap();

        let invite = |accept: &'static str| {
            s.client
                .post(s.url("/people/invite"))
                .header("origin", &s.running().origin)
                .header("accept", accept)
                .header("cookie", &cookie)
                .form(&[
                    ("name", "Dr Who"),
                    ("email", "who@harbour.example"),
                    ("role", "clinician"),
                ])
                .send()
        };
        let res = invite("application/json").await.unwrap();
        assert_eq!(res.status(), 503, "{db:?}");
        let body = res.text().await.unwrap();
        common::assert_no_internals(&body, "the JSON 503");
        let err: proto::ErrorBody = serde_json::from_str(&body).unwrap();
        assert_eq!(err.code, proto::ErrorCode::AuditUnavailable);
        // The browser's page for the same failure shows no more.
        let res = invite("text/html").await.unwrap();
        assert_eq!(res.status(), 503, "{db:?}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let page = res.text().await.unwrap();
        assert!(page.contains(err.code.as_str()), "{page}");
        common::assert_no_internals(&page, "the HTML 503");
        store::testing::exec(
            &raw,
            "ALTER TABLE ledger_entries_gone RENAME TO ledger_entries",
        )
        .await
        .unwrap();
        raw.close().await;
        let store = s.stop().await;
        assert!(
            store
                .user_by_email(&s.keyring(), "who@harbour.example")
                .await
                .unwrap()
                .is_none(),
            "{db:?}: no account without an audit entry"
        );
        assert!(
            ledger::verify(&store, &s.ledger_key())
                .await
                .unwrap()
                .is_intact()
        );
    }
}

#[tokio::test]
async fn trusted_proxy_addresses_are_believed_and_others_are_not() {
    // Behind a proxy on 127.0.0.1: its X-Forwarded-For is the client.
    let mut s = TestServer::start_with(None, |c| {
        c.behind_proxy = vec!["127.0.0.1/32".parse().unwrap()];
        c.public_url = Some("https://tele.example.org".into());
    })
    .await;
    let _ = s.complete_setup_via_proxy().await;
    let res = s
        .client
        .post(s.url("/sign-in"))
        .header("origin", "https://tele.example.org")
        .header("x-forwarded-for", "198.51.100.1, 203.0.113.50")
        .header("x-forwarded-proto", "https")
        .form(&[("email", ADMIN_EMAIL), ("password", "wrong password here")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(
        res.headers().contains_key("strict-transport-security"),
        "HTTPS at the proxy gets HSTS"
    );
    let store = s.stop().await;
    let last = store.last_entry_before_stop().await;
    assert_eq!(last.source, "203.0.113.50");

    // Not behind a proxy: the header is the client's claim and is ignored.
    let mut s = TestServer::start(None).await;
    let res = s
        .client
        .post(s.url("/sign-in"))
        .header("origin", &s.running().origin)
        .header("x-forwarded-for", "203.0.113.50")
        .form(&[("email", ADMIN_EMAIL), ("password", "wrong password here")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let store = s.stop().await;
    assert_eq!(store.last_entry_before_stop().await.source, "127.0.0.1");
}

trait LastEntry {
    async fn last_entry_before_stop(&self) -> ledger::StoredEntry;
}

impl LastEntry for store::Db {
    /// The entry written just before `server.stopped`.
    async fn last_entry_before_stop(&self) -> ledger::StoredEntry {
        let all = self.entries(1, 10_000).await.unwrap();
        all.into_iter()
            .rev()
            .find(|e| e.action != "server.stopped")
            .unwrap()
    }
}

trait ProxySetup {
    async fn complete_setup_via_proxy(&self) -> String;
}

impl ProxySetup for TestServer {
    async fn complete_setup_via_proxy(&self) -> String {
        let link = self.running().setup_link.clone().unwrap();
        let path = link.strip_prefix("https://tele.example.org").unwrap();
        let res = self
            .client
            .post(self.url(path))
            .header("origin", "https://tele.example.org")
            .form(&[
                ("practice_name", PRACTICE),
                ("time_zone", "UTC"),
                ("admin_name", ADMIN_NAME),
                ("email", ADMIN_EMAIL),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        res.headers()["location"].to_str().unwrap().to_owned()
    }
}

#[tokio::test]
async fn accounts_written_before_the_directory_was_sealed_are_sealed_at_start() {
    for db in common::database_choices().await {
        let mut s = TestServer::start(db.clone()).await;
        let _ = s.complete_setup().await;
        let store = s.stop().await;
        // An account as an older Telewarden wrote it: name and address in the clear.
        store::testing::exec(
            &store,
            "INSERT INTO users (id, email, display_name, role, password_hash, created_ms, disabled_ms) \
             VALUES ('old-patient', 'juniper.old@patients.example', 'Juniper Oldcastle', 'patient', NULL, 1, NULL)",
        )
        .await
        .unwrap();
        store.close().await;

        // The next start seals it before serving.
        let running = server::start(
            common::test_config(s.dir.path(), db.clone()),
            s.clock.clone(),
        )
        .await
        .unwrap();
        running.shutdown().await.unwrap();
        let store = store::Db::connect(&s.db_url, &store::PoolSettings::default())
            .await
            .unwrap();
        let old = store
            .user_by_email(&s.keyring(), "Juniper.Old@patients.example")
            .await
            .unwrap()
            .expect("the old account, sealed and found by its address");
        assert_eq!(
            (old.id.as_str(), old.display_name.as_str()),
            ("old-patient", "Juniper Oldcastle")
        );
        let admin = store
            .user_by_email(&s.keyring(), ADMIN_EMAIL)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(admin.display_name, ADMIN_NAME, "{db:?}");
        let raw = common::fhir::raw_record_storage(&s, &store).await;
        for secret in [
            "Juniper",
            "Oldcastle",
            "juniper.old@",
            ADMIN_NAME,
            ADMIN_EMAIL,
        ] {
            assert!(!raw.contains(secret), "{db:?}: {secret} in the clear");
        }
        store.close().await;
    }
}
