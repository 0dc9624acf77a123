//! The guards around identity: the policy on every route, progressive delays, equal
//! answers and timing for unknown accounts, refused passkey answers, self-registration.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use clock::Clock;
use common::identity::*;
use common::{ADMIN_EMAIL, CLINICIAN_EMAIL, CLINICIAN_PASSWORD, TestServer, ledger_actions};
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
    db.close().await;
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
