//! The guards around identity: the policy on every route, progressive delays, equal
//! answers and timing for unknown accounts, refused passkey answers, self-registration.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use clock::Clock;
use common::identity::*;
use common::{
    ADMIN_EMAIL, CLINICIAN_EMAIL, CLINICIAN_NAME, CLINICIAN_PASSWORD, TestServer, ledger_actions,
};
use ledger::LedgerStore;

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
    let admin_id = db
        .user_by_email(&s.keyring(), ADMIN_EMAIL)
        .await
        .unwrap()
        .unwrap()
        .id;
    let clinician_id = db
        .user_by_email(&s.keyring(), CLINICIAN_EMAIL)
        .await
        .unwrap()
        .unwrap()
        .id;

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
    let officer_id = db
        .user_by_email(&s.keyring(), "sam@harbour.example")
        .await
        .unwrap()
        .unwrap()
        .id;
    db.close().await;
    let store = s.stop().await;
    // The officer's revoke is in the ledger, by them, of the clinician; the refused
    // role change is not recorded as a change.
    let revokes: Vec<_> = store
        .entries(1, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "account.sessions_revoked")
        .collect();
    assert_eq!(revokes.len(), 1, "{revokes:?}");
    assert_eq!(revokes[0].outcome.as_str(), "success");
    assert_eq!(revokes[0].actor, format!("user:{officer_id}"));
    assert_eq!(revokes[0].target, format!("user:{clinician_id}"));
    assert!(
        !ledger_actions(&store)
            .await
            .iter()
            .any(|(a, _, _)| a == "account.role_changed")
    );
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
    assert_eq!(
        entries_with(&store, "signin.passkey", "denied", "bad-request").await,
        1,
        "the unreadable answer is in the ledger too"
    );
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
        .user_by_email(&s.keyring(), "pat@patients.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pat.role, "patient");
    assert_eq!(
        store
            .user_by_email(&s.keyring(), ADMIN_EMAIL)
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

/// A same-origin POST of exactly `body` (what a broken or hostile client might send).
async fn post_raw(
    s: &TestServer,
    path: &str,
    content_type: &str,
    body: String,
    cookie: Option<&str>,
) -> reqwest::Response {
    let mut req = s
        .client
        .post(s.url(path))
        .header("origin", &s.running().origin)
        .header("accept", "application/json")
        .header("content-type", content_type)
        .body(body);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    req.send().await.unwrap()
}

/// How many ledger entries have this action and outcome and `"reason":"<reason>"`.
async fn entries_with(store: &store::Db, action: &str, outcome: &str, reason: &str) -> usize {
    let reason = format!("\"reason\":\"{reason}\"");
    store
        .entries(1, 10_000)
        .await
        .unwrap()
        .iter()
        .filter(|e| {
            e.action == action && e.outcome.as_str() == outcome && e.details.contains(&reason)
        })
        .count()
}

#[tokio::test]
async fn unreadable_bodies_and_oversized_fields_are_refused_and_audited() {
    for db in common::database_choices().await {
        let mut s = TestServer::start(db.clone()).await;
        let admin = s.admin().await;
        let (_, clinician, _) = enrolled_clinician(&s, &admin).await;
        let enrol = invite(&s, &admin, "Pat Patient", "pat@patients.example", "patient").await;
        const FORM: &str = "application/x-www-form-urlencoded";
        const JSON: &str = "application/json";
        // A form with a field twice cannot be read; "nope" is no JSON document.
        let twice = || {
            "email=a%40b.example&email=c%40d.example&password=x&password=y&code=1&code=2&confirm=z&confirm=w&name=n&name=m&return_to=%2F&return_to=%2F".to_owned()
        };
        let long_password = "correct horse battery staple ".repeat(60);
        assert!(long_password.len() > 1024);
        let long_form = |fields: &[&str]| {
            fields
                .iter()
                .map(|f| format!("{f}={}", long_password.replace(' ', "+")))
                .collect::<Vec<_>>()
                .join("&")
        };

        let enrol_password = format!("{enrol}/password");
        let enrol_passkey = format!("/api{enrol}/passkey/finish");
        // Sign-in: anonymous.
        let cases: Vec<(&str, &str, String, Option<&str>, u16)> = vec![
            ("/sign-in", FORM, twice(), None, 400),
            ("/sign-in/code", FORM, twice(), None, 400),
            ("/sign-in/recovery", FORM, twice(), None, 400),
            (
                "/api/sign-in/passkey/finish",
                JSON,
                "nope".into(),
                None,
                400,
            ),
            // Enrolment: the link is good, the body is not.
            (&enrol_password, FORM, twice(), None, 400),
            (&enrol_passkey, JSON, "nope".into(), None, 400),
            // The account security page and step-up, signed in.
            ("/account/password", FORM, twice(), Some(&clinician), 400),
            (
                "/account/passkeys/00000000000000000000000000000000/rename",
                FORM,
                twice(),
                Some(&clinician),
                400,
            ),
            (
                "/api/account/passkeys/finish",
                JSON,
                "nope".into(),
                Some(&clinician),
                400,
            ),
            ("/account/step-up", FORM, twice(), Some(&clinician), 400),
            (
                "/api/step-up/passkey/finish",
                JSON,
                "{\"ceremony_id\": 7}".into(),
                Some(&clinician),
                400,
            ),
        ];
        for (path, ct, body, cookie, status) in &cases {
            let res = post_raw(&s, path, ct, body.clone(), *cookie).await;
            assert_eq!(res.status(), *status, "{db:?} {path}");
            let err: proto::ErrorBody = res.json().await.unwrap();
            assert_eq!(err.code, proto::ErrorCode::BadRequest, "{db:?} {path}");
        }
        // Oversized fields in readable bodies: refused with the usual answers.
        let res = post_raw(
            &s,
            "/sign-in",
            FORM,
            format!(
                "email={}&{}",
                CLINICIAN_EMAIL.replace('@', "%40"),
                long_form(&["password"])
            ),
            None,
        )
        .await;
        assert_eq!(
            res.status(),
            401,
            "{db:?}: the same answer as a wrong password"
        );
        let res = post_raw(
            &s,
            &format!("{enrol}/password"),
            FORM,
            long_form(&["password", "confirm"]),
            None,
        )
        .await;
        assert_eq!(res.status(), 400);
        let res = post_raw(
            &s,
            "/account/password",
            FORM,
            long_form(&["password", "confirm"]),
            Some(&clinician),
        )
        .await;
        assert_eq!(res.status(), 400);
        let res = post_raw(
            &s,
            "/account/passkeys/00000000000000000000000000000000/rename",
            FORM,
            format!("name={}", "n".repeat(61)),
            Some(&clinician),
        )
        .await;
        assert_eq!(res.status(), 400);
        let res = post_raw(
            &s,
            "/account/step-up",
            FORM,
            format!("{}&code=123456", long_form(&["password"])),
            Some(&clinician),
        )
        .await;
        assert_eq!(res.status(), 403, "{db:?}: refused like a wrong password");
        // Nothing changed: the enrolment link still works, the password still signs in.
        assert_eq!(s.get(&enrol).await.status(), 200);
        let res = s.sign_in(CLINICIAN_EMAIL, CLINICIAN_PASSWORD).await;
        assert_eq!(res.status(), 303);

        let store = s.stop().await;
        for (action, outcome, reason, n) in [
            ("signin.password", "denied", "bad-request", 1),
            ("signin.code", "denied", "bad-request", 1),
            ("signin.recovery_code", "denied", "bad-request", 1),
            ("signin.passkey", "denied", "bad-request", 1),
            ("enrolment.password", "denied", "bad-request", 1),
            ("enrolment.passkey", "denied", "bad-request", 1),
            ("password.set", "denied", "bad-request", 1),
            ("passkey.renamed", "denied", "bad-request", 1),
            ("passkey.added", "denied", "bad-request", 1),
            ("stepup", "denied", "bad-request", 2),
            ("signin.password", "failure", "too_long", 1),
            ("enrolment.password", "denied", "too_long", 1),
            ("password.set", "denied", "too_long", 1),
            ("passkey.renamed", "denied", "invalid_name", 1),
            ("stepup", "failure", "too_long", 1),
        ] {
            assert_eq!(
                entries_with(&store, action, outcome, reason).await,
                n,
                "{db:?}: {action} {outcome} {reason}"
            );
        }
        // Nothing of what was sent is in the ledger.
        let entries = store.entries(1, 10_000).await.unwrap();
        assert!(entries.iter().all(|e| !e.details.contains("horse")
            && !e.details.contains("nope")
            && !e.details.contains("a@b.example")));
    }
}

#[tokio::test]
async fn patients_set_to_passkeys_only_are_offered_no_password_and_refused_one() {
    for db in common::database_choices().await {
        let mut s = TestServer::start(db.clone()).await;
        let admin = s.admin().await;
        // The default lets patients choose; the enrolment page offers a password.
        let before = invite(&s, &admin, "Pat Early", "early@patients.example", "patient").await;
        let page = s.get(&before).await.text().await.unwrap();
        assert!(
            page.contains(&format!(r#"action="{before}/password""#)),
            "{db:?}"
        );

        let res = s
            .post_form(
                "/settings",
                &[("patient_auth", "passkey_only")],
                Some(&admin),
            )
            .await;
        assert_eq!(res.status(), 303, "{db:?}");
        let enrol = invite(&s, &admin, "Pat Patient", "pat@patients.example", "patient").await;
        let page = s.get(&enrol).await;
        assert_eq!(page.status(), 200);
        let page = page.text().await.unwrap();
        assert!(
            !page.contains("/password\"") && !page.contains("use a password"),
            "{db:?}: no password is offered: {page}"
        );
        // The earlier link follows the practice's setting now too.
        assert!(
            !s.get(&before)
                .await
                .text()
                .await
                .unwrap()
                .contains("/password\"")
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
        assert_eq!(res.status(), 403, "{db:?}");
        assert!(res.text().await.unwrap().contains("passkeys only"));
        // Nothing changed: the link is still unused, the account has no password.
        assert_eq!(s.get(&enrol).await.status(), 200);
        // Staff are not affected: a clinician may still choose a password.
        let staff = invite(&s, &admin, CLINICIAN_NAME, CLINICIAN_EMAIL, "clinician").await;
        assert!(
            s.get(&staff)
                .await
                .text()
                .await
                .unwrap()
                .contains(&format!(r#"action="{staff}/password""#))
        );
        let store = s.stop().await;
        let pat = store
            .user_by_email(&s.keyring(), "pat@patients.example")
            .await
            .unwrap()
            .unwrap();
        assert!(pat.password_hash.is_none());
        assert_eq!(
            entries_with(&store, "enrolment.password", "denied", "passkeys_only").await,
            1,
            "{db:?}"
        );
        assert!(
            !ledger_actions(&store)
                .await
                .iter()
                .any(|(a, _, t)| a == "enrolment.completed" && t == &format!("user:{}", pat.id))
        );
    }
}

#[tokio::test]
async fn many_accounts_tried_from_one_address_slow_that_address_down() {
    let mut s = TestServer::start(None).await;
    let admin = s.admin().await;
    let (secret, _, _) = enrolled_clinician(&s, &admin).await;
    // One wrong password each for many different accounts: no account reaches its own
    // limit, but the address does (20 free failures).
    for i in 0..20 {
        let res = s
            .sign_in(
                &format!("person{i}@elsewhere.example"),
                "a wrong password here",
            )
            .await;
        assert_eq!(res.status(), 401, "attempt {i}");
    }
    let res = s
        .sign_in("person20@elsewhere.example", "a wrong password here")
        .await;
    assert_eq!(res.status(), 429, "the address is slowed");
    assert!(res.text().await.unwrap().contains("Please wait 1 seconds"));
    // The right password from that address waits too (the address, not the account)...
    let res = s.sign_in(CLINICIAN_EMAIL, CLINICIAN_PASSWORD).await;
    assert_eq!(res.status(), 429);
    // ...and so does starting a passkey sign-in.
    let res = s
        .client
        .post(s.url("/api/sign-in/passkey/start"))
        .header("origin", &s.running().origin)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    // Each further failure doubles the wait.
    s.clock.advance_ms(1_000);
    assert_eq!(
        s.sign_in("person21@elsewhere.example", "a wrong password here")
            .await
            .status(),
        401
    );
    let res = s
        .sign_in("person22@elsewhere.example", "a wrong password here")
        .await;
    assert_eq!(res.status(), 429);
    assert!(res.text().await.unwrap().contains("Please wait 2 seconds"));
    // Nothing is locked: once the wait is over, the right password works.
    s.clock.advance_ms(2_000);
    s.clock.advance_ms(30_000);
    let now = s.clock.now_ms() / 1000;
    let ok = sign_in_with_code(&s, CLINICIAN_PASSWORD, &totp_code(&secret, now)).await;
    assert_eq!(ok.status(), 303, "after the wait, the right password works");
    let _ = s.stop().await;
}
