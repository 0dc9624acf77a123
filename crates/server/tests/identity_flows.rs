//! Enrolment and sign-in through the real server: invitations, password with an
//! authenticator code, recovery codes, forced second-factor enrolment, step-up,
//! sessions, administrator reset. (Passkey ceremonies are tested in Chromium: `e2e/`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use clock::Clock;
use common::identity::*;
use common::{
    ADMIN_EMAIL, CLINICIAN_EMAIL, CLINICIAN_NAME, CLINICIAN_PASSWORD, TestServer, ledger_actions,
    session_cookie,
};

#[tokio::test]
async fn password_and_authenticator_code_each_code_once_and_recovery_codes_once() {
    for db in common::database_choices().await {
        let mut s = TestServer::start(db.clone()).await;
        let admin = s.admin().await;
        let (secret, _, codes) = enrolled_clinician(&s, &admin).await;

        // The address is found (through its blind index) however it is typed.
        for typed in [
            CLINICIAN_EMAIL.to_uppercase(),
            format!("  {}  ", CLINICIAN_EMAIL.replacen('o', "O", 2)),
        ] {
            let res = s.sign_in(&typed, CLINICIAN_PASSWORD).await;
            assert_eq!(res.status(), 303, "{db:?}: {typed}");
            assert_eq!(res.headers()["location"], "/sign-in/code");
        }

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
        let clinician = store
            .user_by_email(&s.keyring(), CLINICIAN_EMAIL)
            .await
            .unwrap()
            .unwrap();
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
async fn administrator_reset_sends_a_new_link_and_tells_the_person() {
    for db in common::database_choices().await {
        let mut s = TestServer::start(db.clone()).await;
        let admin = s.admin().await;
        let (_, clinician, _) = enrolled_clinician(&s, &admin).await;
        let raw = store::Db::connect(&s.db_url, &store::PoolSettings::default())
            .await
            .unwrap();
        let id = raw
            .user_by_email(&s.keyring(), CLINICIAN_EMAIL)
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
        let before = outbox_files(&s);
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
        let link = enrol_link_in_new_mail(&s, &before);
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
        let user = raw
            .user_by_email(&s.keyring(), CLINICIAN_EMAIL)
            .await
            .unwrap()
            .unwrap();
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
