//! The sentinel in the real server, enforcing: a prober is blocked and alerted on (in
//! the database, the ledger, the security officer's e-mail and the webhook), the
//! security officer answers the alert and lifts or sets blocks, everyone else keeps
//! being served; guessing at an account's password makes its sessions prove who they
//! are again before anything sensitive, without locking its owner out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::routing::post;
use clock::Clock;
use common::identity::{enrolled_clinician, totp_code};
use common::{ADMIN_EMAIL, CLINICIAN_EMAIL, CLINICIAN_PASSWORD, TestServer, database_choices};
use reqwest::header::{ACCEPT, COOKIE};
use serde_json::Value;
use server::{Secret, SentinelMode};

const OFFICER_EMAIL: &str = "sec@harbour.example";

/// A client whose requests come from `ip` (any 127.x.y.z works on loopback).
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Waits (bounded) until `check` holds; the sentinel digests events on its own task.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..250 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("never happened: {what}");
}

/// A webhook receiver on loopback: every JSON body POSTed to it.
async fn webhook() -> (String, Arc<Mutex<Vec<Value>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |Json(v): Json<Value>| {
            let keep = keep.clone();
            async move {
                keep.lock().unwrap().push(v);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), seen)
}

async fn enforcing(database: Option<String>, hook: &str) -> TestServer {
    let hook = hook.to_owned();
    TestServer::start_with(database, move |c| {
        c.sentinel.mode = SentinelMode::Enforce;
        c.sentinel.webhook_url = Some(Secret::new(hook));
    })
    .await
}

async fn officer(s: &TestServer, admin: &str) -> String {
    common::identity::invite(s, admin, "Sello Mokoena", OFFICER_EMAIL, "security_officer").await;
    s.session_for(OFFICER_EMAIL, 0).await
}

async fn page(s: &TestServer, path: &str, cookie: &str) -> (u16, String) {
    let res = s.get_with_cookie(path, cookie).await;
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn a_prober_is_blocked_alerted_on_and_answered() {
    for database in database_choices().await {
        let (hook, hooked) = webhook().await;
        let mut s = enforcing(database, &hook).await;
        let admin = s.admin().await;
        let officer = officer(&s, &admin).await;

        // Injection probes from 127.0.0.9, as a scanner sends them.
        let prober = client_from("127.0.0.9");
        let probes = [
            "/fhir/Patient?name=%27%20UNION%20SELECT%20password%20FROM%20users--",
            "/.env",
            "/records?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
            "/static/..%2f..%2f..%2fetc%2fpasswd",
            "/fhir/Patient?identifier=1%3Bcat%20%2Fetc%2Fpasswd",
        ];
        let mut refused = None;
        for i in 0..40 {
            let res = prober
                .get(s.url(probes[i % probes.len()]))
                .header("user-agent", "sqlmap/1.7.2#stable (https://sqlmap.org)")
                .send()
                .await
                .unwrap();
            if res.status() == 403 {
                refused = Some(i);
                break;
            }
            // Give the sentinel's task a moment between probes, as a network would.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let refused = refused.expect("the prober is blocked");
        let body = prober
            .get(s.url("/sign-in"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            body.contains("paused for a while because of unusual activity"),
            "{body}"
        );
        assert!(refused < 20, "blocked after {refused} probes");
        // Everyone else is still served.
        assert_eq!(s.get("/sign-in").await.status(), 200);

        // The alert: stored, on the dashboard, e-mailed to the officer, and webhooked.
        eventually("the alert is on the dashboard", || async {
            let (_, html) = page(&s, "/security", &officer).await;
            html.contains("probe") && html.contains("127.0.0.9")
        })
        .await;
        eventually("the webhook hears of it", || async {
            hooked.lock().unwrap().iter().any(|v| {
                v["kind"] == "probe"
                    && v["subject"]["value"] == "127.0.0.9"
                    && v["source"] == "telewarden"
            })
        })
        .await;
        let outbox = s.dir.path().join("outbox");
        eventually("the security officer is e-mailed", || async {
            std::fs::read_dir(&outbox).is_ok_and(|dir| {
                dir.filter_map(Result::ok).any(|e| {
                    std::fs::read_to_string(e.path()).is_ok_and(|t| {
                        t.contains("Telewarden security alert") && t.contains(OFFICER_EMAIL)
                    })
                })
            })
        })
        .await;
        let (status, html) = page(&s, "/security", &officer).await;
        assert_eq!(status, 200);
        assert!(
            html.contains("Blocked addresses") && html.contains("Unblock"),
            "{html}"
        );
        assert!(html.contains("<polyline"), "charts are drawn");
        let alert_id = html
            .split("data-alert=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_owned();

        // Only the security officer sees and answers alerts.
        assert_eq!(page(&s, "/security", &admin).await.0, 403);
        let res = s
            .post_form(
                &format!("/security/alerts/{alert_id}/acknowledge"),
                &[],
                Some(&admin),
            )
            .await;
        assert_eq!(res.status(), 403);
        let res = s
            .post_form(
                &format!("/security/alerts/{alert_id}/acknowledge"),
                &[],
                Some(&officer),
            )
            .await;
        assert_eq!(res.status(), 200);
        assert!(res.text().await.unwrap().contains("Alert acknowledged."));
        // Resolving asks what was found; a note closes it.
        let res = s
            .post_form(
                &format!("/security/alerts/{alert_id}/resolve"),
                &[("note", " ")],
                Some(&officer),
            )
            .await;
        assert!(res.text().await.unwrap().contains("Say what you found"));
        let res = s
            .post_form(
                &format!("/security/alerts/{alert_id}/resolve"),
                &[(
                    "note",
                    "Scanner from a test address; blocked by the sentinel.",
                )],
                Some(&officer),
            )
            .await;
        assert!(res.text().await.unwrap().contains("Alert resolved."));

        // The officer lifts the block; the address is served again.
        let res = s
            .post_form(
                "/security/unblock",
                &[("source", "127.0.0.9")],
                Some(&officer),
            )
            .await;
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("127.0.0.9 is no longer blocked.")
        );
        let res = prober.get(s.url("/sign-in")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        // …and blocks another by hand (not their own address).
        let res = s
            .post_form(
                "/security/block",
                &[
                    ("source", "127.0.0.10"),
                    ("minutes", "30"),
                    ("reason", "seen in the firewall log"),
                ],
                Some(&officer),
            )
            .await;
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("127.0.0.10 is blocked for 30 minutes.")
        );
        // Its connections are closed as they open.
        let refused = client_from("127.0.0.10")
            .get(s.url("/sign-in"))
            .send()
            .await;
        assert!(refused.is_err(), "{refused:?}");
        let res = s
            .post_form(
                "/security/block",
                &[
                    ("source", "127.0.0.1"),
                    ("minutes", "30"),
                    ("reason", "oops"),
                ],
                Some(&officer),
            )
            .await;
        let text = res.text().await.unwrap();
        assert!(text.contains("would lock you out"), "{text}");
        let res = s
            .post_form(
                "/security/block",
                &[
                    ("source", "not an address"),
                    ("minutes", "30"),
                    ("reason", "x"),
                ],
                Some(&officer),
            )
            .await;
        assert!(res.text().await.unwrap().contains("not an IP address"));

        // Health: the page and its JSON figures.
        let (status, html) = page(&s, "/security/health", &officer).await;
        assert_eq!(status, 200);
        assert!(html.contains("Security health: attention"), "{html}");
        let figures: Value = s
            .client
            .get(s.url("/security/dashboard.json"))
            .header(COOKIE, &officer)
            .header(ACCEPT, "application/json")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(figures["charts"].as_array().unwrap().len(), 4);
        assert!(
            figures["charts"][0]["peak"].as_u64().unwrap() > 0,
            "{figures}"
        );

        // Everything above is in the ledger.
        let db = s.stop().await;
        let actions = common::ledger_actions(&db).await;
        for wanted in [
            "security.alert",
            "security.alert.acknowledge",
            "security.alert.resolve",
            "security.unblock",
            "security.block",
        ] {
            assert!(
                actions.iter().any(|(a, _, _)| a == wanted),
                "{wanted} in the ledger"
            );
        }
        db.close().await;
    }
}

#[tokio::test]
async fn guessing_a_password_asks_for_a_fresh_second_step_but_locks_no_one_out() {
    for database in database_choices().await {
        let (hook, _) = webhook().await;
        let s = enforcing(database, &hook).await;
        let admin = s.admin().await;
        let (secret, _, _) = enrolled_clinician(&s, &admin).await;
        let recent = |cookie: String| {
            let s = &s;
            async move {
                let v: Value = s
                    .client
                    .get(s.url("/api/step-up/status"))
                    .header(COOKIE, cookie)
                    .header(ACCEPT, "application/json")
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                v["recent"].as_bool().unwrap()
            }
        };
        // Two minutes after proving who they are, nothing asks them again.
        assert!(recent(s.session_for(CLINICIAN_EMAIL, 120_000).await).await);

        // Someone at 127.0.0.11 guesses at the clinician's password.
        let guesser = client_from("127.0.0.11");
        for i in 0..12 {
            let res = guesser
                .post(s.url("/sign-in"))
                .header("origin", &s.running().origin)
                .form(&[
                    ("email", CLINICIAN_EMAIL),
                    ("password", &format!("guess number {i}")),
                ])
                .send()
                .await
                .unwrap();
            assert_ne!(res.status(), 303, "a guess never signs in");
            // Past the progressive delay before the next guess.
            s.clock.advance_ms(45_000);
        }
        // Now the clinician's sessions must prove who they are again before anything
        // sensitive, unless they just did.
        eventually("the account's risk asks for a second step", || async {
            !recent(s.session_for(CLINICIAN_EMAIL, 120_000).await).await
        })
        .await;
        assert!(recent(s.session_for(CLINICIAN_EMAIL, 10_000).await).await);
        // Others are not affected.
        assert!(recent(s.session_for(ADMIN_EMAIL, 120_000).await).await);

        // The clinician still signs in, from their own address: the password, then
        // (past the last progressive delay the guesses left) the code.
        s.clock.advance_ms(61_000);
        let res = s.sign_in(CLINICIAN_EMAIL, CLINICIAN_PASSWORD).await;
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/sign-in/code");
        let pending = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("tw_pending="))
            .map(|v| v.split(';').next().unwrap().to_owned())
            .unwrap();
        s.clock.advance_ms(61_000);
        let code = totp_code(&secret, s.clock.now_ms() / 1000);
        let res = s
            .post_form(
                "/sign-in/code",
                &[("kind", "totp"), ("code", &code)],
                Some(&pending),
            )
            .await;
        let status = res.status();
        assert_eq!(
            status,
            303,
            "not locked out: {}",
            res.text().await.unwrap_or_default()
        );
        drop(s);
    }
}
