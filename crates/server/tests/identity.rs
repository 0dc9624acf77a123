//! Identity through the real server: invitations and enrolment, password with an
//! authenticator code, recovery codes, forced second-factor enrolment, step-up,
//! sessions, progressive delays, equal timing for unknown accounts, the policy, and
//! security notifications. (Passkey ceremonies are tested in Chromium: `e2e/`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use clock::Clock;
use common::{
    ADMIN_EMAIL, CLINICIAN_EMAIL, CLINICIAN_NAME, CLINICIAN_PASSWORD, TestServer, ledger_actions,
    session_cookie,
};
use ledger::LedgerStore;
use totp_rs::{Algorithm, Builder, Secret};

/// The text between `start` and the next `end` in `html`.
fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = html.find(start)? + start.len();
    let to = html[from..].find(end)? + from;
    Some(&html[from..to])
}

fn totp_code(secret: &[u8], unix_secs: i64) -> String {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_skew(0)
        .with_secret(Secret::from(secret.to_vec()))
        .build_noncompliant()
        .generate(unix_secs as u64)
        .to_string()
}

/// The enrolment link in the newest outbox message that has one.
fn newest_enrol_link_in_outbox(s: &TestServer) -> String {
    let mut mails: Vec<_> = std::fs::read_dir(s.dir.path().join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                std::fs::metadata(&p).unwrap().modified().unwrap(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .filter(|(_, text)| text.contains("/enrol/"))
        .collect();
    mails.sort_by_key(|(when, _)| *when);
    let text = &mails.last().expect("an e-mail with a link").1;
    let start = text.find("http").unwrap();
    let link: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    link
}

/// Invites someone as the administrator; returns the enrolment path.
async fn invite(s: &TestServer, admin: &str, name: &str, email: &str, role: &str) -> String {
    let res = s
        .post_form(
            "/people/invite",
            &[("name", name), ("email", email), ("role", role)],
            Some(admin),
        )
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let link = between(&html, r#"<code class="link" data-copy>"#, "</code>")
        .expect("the link is shown to copy");
    link.strip_prefix(&s.running().origin).unwrap().to_owned()
}

/// A clinician enrolled with password and authenticator app: `(secret, full-session cookie, recovery codes)`.
async fn enrolled_clinician(s: &TestServer, admin: &str) -> (Vec<u8>, String, Vec<String>) {
    let enrol = invite(s, admin, CLINICIAN_NAME, CLINICIAN_EMAIL, "clinician").await;
    let page = s.get(&enrol).await.text().await.unwrap();
    assert!(
        page.contains("use a password and an authenticator app"),
        "clinicians may use passwords"
    );
    let res = s
        .post_form(
            &format!("{enrol}/password"),
            &[
                ("password", CLINICIAN_PASSWORD),
                ("confirm", CLINICIAN_PASSWORD),
            ],
            None,
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/account/second-factor");
    let pending = session_cookie(&res).unwrap();
    // With only a password, nothing but second-factor enrolment is reachable.
    let blocked = s.get_with_cookie("/account/security", &pending).await;
    assert_eq!(blocked.status(), 303);
    assert_eq!(blocked.headers()["location"], "/account/second-factor");
    let page = s
        .get_with_cookie("/account/second-factor", &pending)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<svg") && page.contains(r#"role="img""#),
        "a QR code is shown"
    );
    let secret_text: String = between(&page, r#"<code class="secret">"#, "</code>")
        .unwrap()
        .split_whitespace()
        .collect();
    let secret = Secret::try_from_base32(&secret_text)
        .unwrap()
        .as_bytes()
        .to_vec();
    let now = s.clock.now_ms() / 1000;
    let res = s
        .post_form(
            "/account/second-factor",
            &[("code", &totp_code(&secret, now))],
            Some(&pending),
        )
        .await;
    assert_eq!(res.status(), 200);
    let full = session_cookie(&res).expect("the session gets a new id as it becomes a full one");
    let html = res.text().await.unwrap();
    let codes: Vec<String> = html
        .split("<li><code>")
        .skip(1)
        .map(|part| part.split("</code>").next().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10, "recovery codes shown once: {html}");
    // The new id is a full session; the one that knew only the password is dead.
    assert_eq!(
        s.get_with_cookie("/account/security", &full).await.status(),
        200
    );
    assert_eq!(
        s.get_with_cookie("/account/security", &pending)
            .await
            .status(),
        303
    );
    (secret, full, codes)
}

/// Password then code; returns the response of the code step.
async fn sign_in_with_code(s: &TestServer, password: &str, code: &str) -> reqwest::Response {
    let res = s.sign_in(CLINICIAN_EMAIL, password).await;
    assert_eq!(
        res.status(),
        303,
        "{}",
        res.text().await.unwrap_or_default()
    );
    assert_eq!(res.headers()["location"], "/sign-in/code");
    let pending = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|v| {
            v.to_str()
                .ok()
                .filter(|v| v.starts_with("tw_pending="))
                .map(|v| v.split(';').next().unwrap().to_owned())
        })
        .unwrap();
    // A person takes a moment to read the code off their phone.
    s.clock.advance_ms(2_000);
    let kind = if code.contains('-') {
        "recovery"
    } else {
        "totp"
    };
    s.post_form(
        "/sign-in/code",
        &[("kind", kind), ("code", code)],
        Some(&pending),
    )
    .await
}

#[tokio::test]
async fn password_and_authenticator_code_each_code_once_and_recovery_codes_once() {
    for db in common::database_choices().await {
        let mut s = TestServer::start(db.clone()).await;
        let admin = s.admin().await;
        let (secret, _, codes) = enrolled_clinician(&s, &admin).await;

        // The code used at enrolment cannot be used again in the same 30 seconds.
        let now = s.clock.now_ms() / 1000;
        let replay = sign_in_with_code(&s, CLINICIAN_PASSWORD, &totp_code(&secret, now)).await;
        assert_eq!(replay.status(), 401, "{db:?}: a code works once");
        assert!(replay.text().await.unwrap().contains("was not accepted"));
        // The next code (clock moved on) works.
        s.clock.advance_ms(30_000);
        let ok = sign_in_with_code(&s, CLINICIAN_PASSWORD, &totp_code(&secret, now + 30)).await;
        assert_eq!(ok.status(), 303);
        assert_eq!(ok.headers()["location"], "/");
        let cookie = session_cookie(&ok).unwrap();
        assert!(
            s.get_with_cookie("/", &cookie)
                .await
                .text()
                .await
                .unwrap()
                .contains(CLINICIAN_NAME)
        );
        // Clock skew: a code from one step back or ahead is accepted, two steps is not.
        s.clock.advance_ms(60_000);
        let skewed =
            sign_in_with_code(&s, CLINICIAN_PASSWORD, &totp_code(&secret, now + 90 + 30)).await;
        assert_eq!(skewed.status(), 303, "one step ahead is accepted");
        s.clock.advance_ms(120_000);
        let stale =
            sign_in_with_code(&s, CLINICIAN_PASSWORD, &totp_code(&secret, now + 210 - 60)).await;
        assert_eq!(stale.status(), 401, "two steps behind is refused");

        // A recovery code instead of the app: once.
        let first = sign_in_with_code(&s, CLINICIAN_PASSWORD, &codes[0]).await;
        assert_eq!(first.status(), 303);
        assert_eq!(first.headers()["location"], "/account/security");
        let again = sign_in_with_code(&s, CLINICIAN_PASSWORD, &codes[0]).await;
        assert_eq!(again.status(), 401, "recovery codes are single use");

        // A right code after a wrong password gets nowhere.
        let wrong = s.sign_in(CLINICIAN_EMAIL, "definitely-not-it-123").await;
        assert_eq!(wrong.status(), 401);

        let store = s.stop().await;
        let actions = ledger_actions(&store).await;
        for (action, outcome) in [
            ("enrolment.completed", "success"),
            ("totp.enabled", "success"),
            ("recovery_codes.renewed", "success"),
            ("signin.totp", "success"),
            ("signin.totp", "failure"),
            ("signin.recovery_code", "success"),
            ("signin.recovery_code", "failure"),
        ] {
            assert!(
                actions.iter().any(|(a, o, _)| a == action && o == outcome),
                "{db:?}: no {action} {outcome}"
            );
        }
        // A notice and an e-mail told the clinician a recovery code was used.
        let clinician = store.user_by_email(CLINICIAN_EMAIL).await.unwrap().unwrap();
        let notices = store.notices_of_user(&clinician.id, 20).await.unwrap();
        assert!(notices.iter().any(|n| n.kind == "recovery_code_used"));
        let outbox = std::fs::read_dir(s.dir.path().join("outbox"))
            .unwrap()
            .count();
        assert!(outbox >= 2, "invitation and notices were e-mailed");
    }
}

#[tokio::test]
async fn invitation_links_work_once_and_expire() {
    let mut s = TestServer::start(None).await;
    let admin = s.admin().await;
    let enrol = invite(&s, &admin, CLINICIAN_NAME, CLINICIAN_EMAIL, "clinician").await;
    assert_eq!(s.get(&enrol).await.status(), 200);
    let weak = s
        .post_form(
            &format!("{enrol}/password"),
            &[("password", "password1234"), ("confirm", "password1234")],
            None,
        )
        .await;
    assert_eq!(weak.status(), 400, "a common password is refused");
    assert!(weak.text().await.unwrap().contains("common"));
    let mismatch = s
        .post_form(
            &format!("{enrol}/password"),
            &[
                ("password", CLINICIAN_PASSWORD),
                ("confirm", "something else"),
            ],
            None,
        )
        .await;
    assert_eq!(mismatch.status(), 400);
    let ok = s
        .post_form(
            &format!("{enrol}/password"),
            &[
                ("password", CLINICIAN_PASSWORD),
                ("confirm", CLINICIAN_PASSWORD),
            ],
            None,
        )
        .await;
    assert_eq!(ok.status(), 303);
    let reuse = s.get(&enrol).await;
    assert_eq!(reuse.status(), 404, "used");
    assert!(reuse.text().await.unwrap().contains("not valid"));

    // Another invitation, left until it expires.
    let late = invite(&s, &admin, "Pat Patient", "pat@patients.example", "patient").await;
    s.clock.advance_ms(8 * 24 * 3_600_000);
    assert_eq!(s.get(&late).await.status(), 404, "expired after 7 days");
    assert_eq!(s.get("/enrol/not-a-token").await.status(), 404);
    let store = s.stop().await;
    let denied: Vec<_> = ledger_actions(&store)
        .await
        .into_iter()
        .filter(|(a, o, _)| a == "enrolment.link" && o == "denied")
        .collect();
    assert_eq!(denied.len(), 3, "{denied:?}");
}

#[tokio::test]
async fn the_policy_is_enforced_on_every_route() {
    let mut s = TestServer::start(None).await;
    let admin = s.admin().await;
    let (_, clinician, _) = enrolled_clinician(&s, &admin).await;
    let _ = invite(
        &s,
        &admin,
        "Sam Security",
        "sam@harbour.example",
        "security_officer",
    )
    .await;
    let officer = s.session_for("sam@harbour.example", 0).await;
    let _ = invite(&s, &admin, "Pat Patient", "pat@patients.example", "patient").await;
    let patient = s.session_for("pat@patients.example", 0).await;
    let db = store::Db::connect(&s.db_url, &store::PoolSettings::default())
        .await
        .unwrap();
    let admin_id = db.user_by_email(ADMIN_EMAIL).await.unwrap().unwrap().id;
    let clinician_id = db.user_by_email(CLINICIAN_EMAIL).await.unwrap().unwrap().id;

    let get = |cookie: String, path: String| {
        let c = s
            .client
            .get(s.url(&path))
            .header("accept", "application/json")
            .header("cookie", cookie);
        async move { c.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(get(admin.clone(), "/people".into()).await, 200);
    assert_eq!(
        get(officer.clone(), "/people".into()).await,
        200,
        "the security officer reviews accounts"
    );
    assert_eq!(get(clinician.clone(), "/people".into()).await, 403);
    assert_eq!(get(patient.clone(), "/people".into()).await, 403);
    assert_eq!(
        get(clinician.clone(), "/people/invite".into()).await,
        200,
        "clinicians invite patients"
    );
    assert_eq!(get(patient.clone(), "/people/invite".into()).await, 403);
    assert_eq!(get(officer.clone(), "/settings".into()).await, 403);
    assert_eq!(get(admin.clone(), "/settings".into()).await, 200);
    assert_eq!(get(String::new(), "/people".into()).await, 401);

    // A clinician may invite a patient, not staff.
    let res = s
        .post_form(
            "/people/invite",
            &[
                ("name", "X"),
                ("email", "x@example.org"),
                ("role", "clinician"),
            ],
            Some(&clinician),
        )
        .await;
    assert_eq!(res.status(), 403);
    let res = s
        .post_form(
            "/people/invite",
            &[
                ("name", "Y"),
                ("email", "y@example.org"),
                ("role", "patient"),
            ],
            Some(&clinician),
        )
        .await;
    assert_eq!(res.status(), 200);
    // The officer ends sessions but changes no roles; nobody disables themselves.
    let res = s
        .post_form(
            &format!("/people/{clinician_id}/role"),
            &[("role", "practice_admin")],
            Some(&officer),
        )
        .await;
    assert_eq!(res.status(), 403);
    let res = s
        .post_form(&format!("/people/{admin_id}/disable"), &[], Some(&admin))
        .await;
    assert_eq!(res.status(), 403);
    let res = s
        .post_form(
            &format!("/people/{clinician_id}/revoke-sessions"),
            &[],
            Some(&officer),
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        get(clinician.clone(), "/account/security".into()).await,
        401,
        "signed out everywhere"
    );
    db.close().await;
    let _ = s.stop().await;
}

#[tokio::test]
async fn sensitive_actions_need_a_recent_sign_in_and_step_up_rotates_the_session() {
    for db in common::database_choices().await {
        let mut s = TestServer::start(db.clone()).await;
        let admin = s.admin().await;
        let (secret, cookie, _) = enrolled_clinician(&s, &admin).await;
        // Six minutes later, renewing recovery codes needs a step-up.
        s.clock.advance_ms(6 * 60_000);
        let res = s
            .client
            .post(s.url("/account/recovery-codes"))
            .header("origin", &s.running().origin)
            .header("accept", "application/json")
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        let err: proto::ErrorBody = res.json().await.unwrap();
        assert_eq!(err.code, proto::ErrorCode::StepUpRequired);
        // A browser is sent to the step-up page instead.
        let res = s
            .post_form("/account/recovery-codes", &[], Some(&cookie))
            .await;
        assert_eq!(res.status(), 303);
        assert!(
            res.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/account/step-up")
        );
        let status: serde_json::Value = s
            .client
            .get(s.url("/api/step-up/status"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            status,
            serde_json::json!({"recent": false, "passkey": false, "password": true})
        );

        let wrong = s
            .post_form(
                "/account/step-up",
                &[
                    ("password", CLINICIAN_PASSWORD),
                    ("code", "000000"),
                    ("return_to", "/account/security"),
                ],
                Some(&cookie),
            )
            .await;
        assert_eq!(wrong.status(), 401);
        let now = s.clock.now_ms() / 1000;
        let ok = s
            .post_form(
                "/account/step-up",
                &[
                    ("password", CLINICIAN_PASSWORD),
                    ("code", &totp_code(&secret, now)),
                    ("return_to", "/account/security"),
                ],
                Some(&cookie),
            )
            .await;
        assert_eq!(ok.status(), 303);
        assert_eq!(ok.headers()["location"], "/account/security");
        let rotated = session_cookie(&ok).expect("a new session id");
        assert_ne!(rotated, cookie);
        assert_eq!(
            s.get_with_cookie("/account/security", &cookie)
                .await
                .status(),
            303,
            "the old id is dead"
        );
        let res = s
            .post_form("/account/recovery-codes", &[], Some(&rotated))
            .await;
        assert_eq!(res.status(), 200);
        assert!(res.text().await.unwrap().contains("New recovery codes"));
        let store = s.stop().await;
        let actions = ledger_actions(&store).await;
        assert!(
            actions
                .iter()
                .any(|(a, o, _)| a == "stepup" && o == "failure")
        );
        assert!(
            actions
                .iter()
                .any(|(a, o, _)| a == "stepup" && o == "success")
        );
    }
}

#[tokio::test]
async fn sessions_time_out_and_can_be_listed_and_revoked() {
    let mut s = TestServer::start(None).await;
    let admin = s.admin().await;
    let (secret, first, _) = enrolled_clinician(&s, &admin).await;
    s.clock.advance_ms(31_000);
    let now = s.clock.now_ms() / 1000;
    let second =
        session_cookie(&sign_in_with_code(&s, CLINICIAN_PASSWORD, &totp_code(&secret, now)).await)
            .unwrap();
    let page = s
        .get_with_cookie("/account/security", &second)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        page.matches("/revoke\">").count(),
        1,
        "the other session can be signed out: {page}"
    );
    assert!(page.contains("this browser"));
    let handle = between(&page, r#"action="/account/sessions/"#, "/revoke")
        .unwrap()
        .to_owned();
    let res = s
        .post_form(
            &format!("/account/sessions/{handle}/revoke"),
            &[],
            Some(&second),
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        s.get_with_cookie("/account/security", &first)
            .await
            .status(),
        303,
        "revoked"
    );
    assert_eq!(
        s.get_with_cookie("/account/security", &second)
            .await
            .status(),
        200
    );
    // Staff idle timeout: 15 minutes.
    s.clock.advance_ms(16 * 60_000);
    assert_eq!(
        s.get_with_cookie("/account/security", &second)
            .await
            .status(),
        303,
        "idle too long"
    );
    // Absolute lifetime: 12 hours, however active.
    let admin2 = s.session_for(ADMIN_EMAIL, 0).await;
    for _ in 0..13 {
        s.clock.advance_ms(60 * 60_000);
        let _ = s.get_with_cookie("/", &admin2).await;
    }
    assert_eq!(
        s.get_with_cookie("/account/security", &admin2)
            .await
            .status(),
        303
    );
    let _ = s.stop().await;
}

#[tokio::test]
async fn guessing_is_slowed_per_account_never_locked_and_unknown_accounts_look_the_same() {
    let mut s = TestServer::start(None).await;
    let admin = s.admin().await;
    let (secret, _, _) = enrolled_clinician(&s, &admin).await;
    for _ in 0..5 {
        assert_eq!(
            s.sign_in(CLINICIAN_EMAIL, "wrong guess number one")
                .await
                .status(),
            401
        );
        assert_eq!(
            s.sign_in("ghost@nowhere.example", "wrong guess number one")
                .await
                .status(),
            401
        );
    }
    // The sixth attempt waits — the same for a known and an unknown account.
    let known = s.sign_in(CLINICIAN_EMAIL, CLINICIAN_PASSWORD).await;
    let unknown = s.sign_in("ghost@nowhere.example", "anything").await;
    assert_eq!(known.status(), 429);
    assert_eq!(unknown.status(), 429);
    let (k, u) = (known.text().await.unwrap(), unknown.text().await.unwrap());
    assert!(
        k.contains("Please wait 1 seconds") && u.contains("Please wait 1 seconds"),
        "{k}"
    );
    assert!(k.contains("Your account is not locked"));
    // After the wait, the right password works: there is no lockout.
    s.clock.advance_ms(1_000);
    s.clock.advance_ms(30_000);
    let now = s.clock.now_ms() / 1000;
    let ok = sign_in_with_code(&s, CLINICIAN_PASSWORD, &totp_code(&secret, now)).await;
    assert_eq!(ok.status(), 303);
    let store = s.stop().await;
    assert!(
        store
            .entries(1, 1000)
            .await
            .unwrap()
            .iter()
            .all(|e| !e.details.contains("ghost@"))
    );
}

#[tokio::test]
async fn unknown_and_known_accounts_take_the_same_time() {
    // Each request comes from its own address (through a trusted proxy), so the
    // per-source delays do not interfere with the measurement.
    let mut s = TestServer::start_with(None, |c| {
        c.behind_proxy = vec!["127.0.0.1/32".parse().unwrap()];
        c.public_url = Some("http://localhost".into());
    })
    .await;
    let link = s.running().setup_link.clone().unwrap();
    let setup = link.strip_prefix("http://localhost").unwrap();
    let res = s
        .client
        .post(s.url(setup))
        .header("origin", "http://localhost")
        .form(&[
            ("practice_name", "Timing Clinic"),
            ("time_zone", "UTC"),
            ("admin_name", "A"),
            ("email", ADMIN_EMAIL),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let admin = s.session_for(ADMIN_EMAIL, 0).await;
    // Known accounts with passwords: clinicians invited and enrolled by password.
    let mut known = Vec::new();
    for i in 0..12 {
        let email = format!("clinician{i}@timing.example");
        let res = s
            .client
            .post(s.url("/people/invite"))
            .header("origin", "http://localhost")
            .header("cookie", &admin)
            .form(&[
                ("name", format!("Clinician {i}")),
                ("email", email.clone()),
                ("role", "clinician".into()),
            ])
            .send()
            .await
            .unwrap();
        let html = res.text().await.unwrap();
        let path = between(&html, "http://localhost/enrol/", "</code>")
            .unwrap()
            .to_owned();
        let res = s
            .client
            .post(s.url(&format!("/enrol/{path}/password")))
            .header("origin", "http://localhost")
            .form(&[
                ("password", CLINICIAN_PASSWORD),
                ("confirm", CLINICIAN_PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        known.push(email);
    }
    let attempt = |email: String, n: usize| {
        let req = s
            .client
            .post(s.url("/sign-in"))
            .header("origin", "http://localhost")
            .header("x-forwarded-for", format!("198.51.100.{n}"))
            .form(&[
                ("email", email),
                ("password", "not the right password".into()),
            ]);
        async move {
            let started = Instant::now();
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), 401);
            let body = res.text().await.unwrap();
            (started.elapsed(), body)
        }
    };
    let (mut known_times, mut unknown_times) = (Vec::new(), Vec::new());
    let mut bodies = Vec::new();
    for (i, email) in known.iter().enumerate() {
        // Interleaved, so machine noise falls on both alike.
        let (t, b) = attempt(email.clone(), 2 * i + 1).await;
        known_times.push(t);
        bodies.push(b.replace(email.as_str(), "EMAIL"));
        let unknown = format!("nobody{i}@timing.example");
        let (t, b) = attempt(unknown.clone(), 2 * i + 2).await;
        unknown_times.push(t);
        bodies.push(b.replace(unknown.as_str(), "EMAIL"));
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (k, u) = (median(&mut known_times), median(&mut unknown_times));
    let ratio = k.as_secs_f64() / u.as_secs_f64();
    println!("median wrong-password time: known {k:?}, unknown {u:?}, ratio {ratio:.2}");
    // Both verify one Argon2id hash; without the decoy, unknown accounts would answer
    // in a fraction of the time (no hash at all).
    assert!((0.67..1.5).contains(&ratio), "known {k:?} vs unknown {u:?}");
    // And the answers are the same, byte for byte apart from the typed address.
    let strip = |b: &str| {
        b.lines()
            .filter(|l| !l.contains("Reference"))
            .collect::<String>()
    };
    let first = strip(&bodies[0]);
    assert!(bodies.iter().all(|b| strip(b) == first));
    let _ = s.stop().await;
}

#[tokio::test]
async fn administrator_reset_sends_a_new_link_and_tells_the_person() {
    for db in common::database_choices().await {
        let mut s = TestServer::start(db.clone()).await;
        let admin = s.admin().await;
        let (_, clinician, _) = enrolled_clinician(&s, &admin).await;
        let raw = store::Db::connect(&s.db_url, &store::PoolSettings::default())
            .await
            .unwrap();
        let id = raw
            .user_by_email(CLINICIAN_EMAIL)
            .await
            .unwrap()
            .unwrap()
            .id;
        // Needs a recent sign-in of the administrator.
        let stale_admin = s.session_for(ADMIN_EMAIL, 10 * 60_000).await;
        let res = s
            .post_form(&format!("/people/{id}/reset"), &[], Some(&stale_admin))
            .await;
        assert_eq!(res.status(), 303);
        assert!(
            res.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/account/step-up")
        );
        let res = s
            .post_form(&format!("/people/{id}/reset"), &[], Some(&admin))
            .await;
        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap();
        // The administrator never sees the new link (they could take the account over
        // with it); it went only to the person's own address.
        assert!(
            !html.contains("/enrol/") && html.contains("e-mailed"),
            "{html}"
        );
        let link = newest_enrol_link_in_outbox(&s);
        assert_eq!(
            s.get_with_cookie("/account/security", &clinician)
                .await
                .status(),
            303,
            "signed out"
        );
        assert_eq!(
            s.sign_in(CLINICIAN_EMAIL, CLINICIAN_PASSWORD)
                .await
                .status(),
            401,
            "password removed"
        );
        let path = link.strip_prefix(&s.running().origin).unwrap();
        assert_eq!(s.get(path).await.status(), 200, "the new link works");
        let user = raw.user_by_email(CLINICIAN_EMAIL).await.unwrap().unwrap();
        assert!(
            raw.notices_of_user(&user.id, 10)
                .await
                .unwrap()
                .iter()
                .any(|n| n.kind == "credentials_reset")
        );
        raw.close().await;
        let store = s.stop().await;
        assert!(
            ledger_actions(&store)
                .await
                .iter()
                .any(|(a, _, t)| a == "account.credentials_reset" && t == &format!("user:{id}"))
        );
    }
}

#[tokio::test]
async fn malformed_and_replayed_passkey_answers_are_refused_and_audited() {
    let mut s = TestServer::start(None).await;
    let _ = s.admin().await;
    let post = |path: &str, body: serde_json::Value| {
        s.client
            .post(s.url(path))
            .header("origin", &s.running().origin)
            .header("accept", "application/json")
            .json(&body)
            .send()
    };
    let start: serde_json::Value = post("/api/sign-in/passkey/start", serde_json::json!({}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let options = &start["options"]["publicKey"];
    assert_eq!(options["userVerification"], "required");
    assert_eq!(options["rpId"], "localhost");
    let ceremony = start["ceremony_id"].as_str().unwrap().to_owned();
    // Not a credential at all.
    let res = post(
        "/api/sign-in/passkey/finish",
        serde_json::json!({"ceremony_id": ceremony, "credential": "nope"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<proto::ErrorBody>().await.unwrap().code,
        proto::ErrorCode::BadRequest
    );
    // A well-formed but forged credential against an unknown ceremony.
    let forged = serde_json::json!({
        "id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": {"authenticatorData": "AAAA", "clientDataJSON": "AAAA", "signature": "AAAA", "userHandle": "AAAA"},
        "extensions": {}
    });
    let res = post(
        "/api/sign-in/passkey/finish",
        serde_json::json!({"ceremony_id": "0".repeat(32), "credential": forged}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<proto::ErrorBody>().await.unwrap().code,
        proto::ErrorCode::PasskeyRefused
    );
    // The real ceremony, answered with the forgery, then replayed: both refused.
    for _ in 0..2 {
        let res = post(
            "/api/sign-in/passkey/finish",
            serde_json::json!({"ceremony_id": ceremony, "credential": forged}),
        )
        .await
        .unwrap();
        assert_eq!(res.status(), 400);
    }
    // Oversized input is refused before it is read.
    let huge = "A".repeat(2 * 1024 * 1024);
    let res = post(
        "/api/sign-in/passkey/finish",
        serde_json::json!({"ceremony_id": huge}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 413);
    let store = s.stop().await;
    let failures = ledger_actions(&store)
        .await
        .into_iter()
        .filter(|(a, o, _)| a == "signin.passkey" && o == "failure")
        .count();
    assert_eq!(failures, 3, "each refused answer is in the ledger");
}

#[tokio::test]
async fn patient_self_registration_is_off_by_default_and_reveals_nothing() {
    let mut s = TestServer::start(None).await;
    let admin = s.admin().await;
    assert_eq!(s.get("/register").await.status(), 404);
    let res = s
        .post_form(
            "/settings",
            &[
                ("patient_auth", "passkey_only"),
                ("self_registration", "on"),
            ],
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(s.get("/register").await.status(), 200);
    let new = s
        .post_form(
            "/register",
            &[("name", "Pat Patient"), ("email", "pat@patients.example")],
            None,
        )
        .await;
    let existing = s
        .post_form(
            "/register",
            &[("name", "Someone"), ("email", ADMIN_EMAIL)],
            None,
        )
        .await;
    assert_eq!(new.status(), 200);
    assert_eq!(existing.status(), 200);
    assert!(
        new.text().await.unwrap().contains("on its way")
            && existing.text().await.unwrap().contains("on its way")
    );
    let store = s.stop().await;
    let pat = store
        .user_by_email("pat@patients.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pat.role, "patient");
    assert_eq!(
        store
            .user_by_email(ADMIN_EMAIL)
            .await
            .unwrap()
            .unwrap()
            .role,
        "practice_admin",
        "untouched"
    );
    // Passkeys only: the patient's enrolment offers no password.
    assert!(store.practice().await.unwrap().unwrap().patient_auth == "passkey_only");
}
