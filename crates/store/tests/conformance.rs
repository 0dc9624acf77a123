//! The same behaviour on SQLite and PostgreSQL (when `TW_TEST_POSTGRES_URL` is set).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use store::Db;
use store::accounts::{PracticeRow, UserRow};
use store::ceremonies::{CeremonyRow, PendingSignInRow};
use store::credentials::{PasskeyRow, TotpRow};
use store::invitations::InvitationRow;
use store::notices::NoticeRow;
use store::sessions::SessionRow;
use store::setup::{CompleteSetup, SetupTokenRow};
use store::testing::{self, keyring};

fn token(id: &str, hash: &str, expires_ms: i64) -> SetupTokenRow {
    SetupTokenRow {
        id: id.into(),
        token_hash: hash.into(),
        created_ms: 1_000,
        expires_ms,
        used_ms: None,
    }
}

fn practice() -> PracticeRow {
    PracticeRow {
        id: "p1".into(),
        name: "Harbour Street Clinic".into(),
        time_zone: "Australia/Sydney".into(),
        created_ms: 2_000,
        patient_auth: "passkey_or_password_totp".into(),
        self_registration: false,
    }
}

fn user(id: &str, email: &str, role: &str) -> UserRow {
    UserRow {
        id: id.into(),
        email: email.into(),
        display_name: format!("Person {id}"),
        role: role.into(),
        password_hash: None,
        created_ms: 2_000,
        disabled_ms: None,
    }
}

fn invitation(
    id: &str,
    user_id: &str,
    hash: &str,
    created_ms: i64,
    expires_ms: i64,
) -> InvitationRow {
    InvitationRow {
        id: id.into(),
        token_hash: hash.into(),
        kind: "enrol".into(),
        user_id: user_id.into(),
        invited_by: None,
        created_ms,
        expires_ms,
        used_ms: None,
        revoked_ms: None,
    }
}

fn session(hash: &str, user_id: &str, now: i64) -> SessionRow {
    SessionRow {
        id_hash: hash.into(),
        user_id: user_id.into(),
        created_ms: now,
        last_seen_ms: now,
        expires_ms: now + 10_000,
        revoked_ms: None,
        authenticated_ms: now,
        method: "passkey".into(),
        idle_timeout_ms: 3_000,
        device_hash: "dev".into(),
        user_agent: "Firefox on Linux".into(),
        source: "127.0.0.1".into(),
        mfa_pending: false,
    }
}

/// A practice with an admin `u1`, set up through the setup link.
async fn set_up(db: &Db) {
    db.issue_setup_token(&token("t1", "h1", 10_000))
        .await
        .unwrap();
    let done = db
        .complete_setup(
            &keyring(),
            "t1",
            3_000,
            &practice(),
            &user("u1", "a@example.org", "practice_admin"),
            &invitation("i1", "u1", "ih1", 3_000, 9_000),
        )
        .await
        .unwrap();
    assert_eq!(done, CompleteSetup::Done);
}

#[tokio::test]
async fn migrations_are_current_and_idempotent() {
    for t in testing::backends().await {
        let status = t.db.migration_status().await.unwrap();
        assert!(status.is_current(), "{:?}: {status:?}", t.backend());
        assert!(status.expected >= 2);
        t.db.migrate().await.unwrap();
        assert!(t.db.migration_status().await.unwrap().is_current());
        t.db.ping().await.unwrap();
    }
}

#[tokio::test]
async fn setup_is_single_use_and_creates_admin_with_enrolment_link() {
    for t in testing::backends().await {
        let db = &t.db;
        assert_eq!(db.practice().await.unwrap(), None);
        db.issue_setup_token(&token("t1", "h1", 10_000))
            .await
            .unwrap();
        db.issue_setup_token(&token("t2", "h2", 10_000))
            .await
            .unwrap();
        assert!(
            db.setup_token("h1").await.unwrap().is_none(),
            "older link must die"
        );
        let admin = user("u1", "ada@example.org", "practice_admin");
        let inv = invitation("i1", "u1", "ih1", 3_000, 9_000);
        assert_eq!(
            db.complete_setup(&keyring(), "t2", 3_000, &practice(), &admin, &inv)
                .await
                .unwrap(),
            CompleteSetup::Done
        );
        assert_eq!(db.practice().await.unwrap(), Some(practice()));
        assert_eq!(
            db.user_by_email(&keyring(), "ada@example.org")
                .await
                .unwrap(),
            Some(admin)
        );
        assert_eq!(
            db.invitation_by_token_hash("ih1")
                .await
                .unwrap()
                .unwrap()
                .user_id,
            "u1"
        );
        // Second use: nothing written.
        let again = db
            .complete_setup(
                &keyring(),
                "t2",
                3_500,
                &practice(),
                &user("u2", "eve@example.org", "practice_admin"),
                &invitation("i2", "u2", "ih2", 3_500, 9_000),
            )
            .await
            .unwrap();
        assert_eq!(again, CompleteSetup::AlreadyUsed);
        assert_eq!(db.count_users().await.unwrap(), 1);
        assert!(db.invitation_by_token_hash("ih2").await.unwrap().is_none());
    }
}

#[tokio::test]
async fn expired_setup_token_writes_nothing() {
    for t in testing::backends().await {
        let db = &t.db;
        db.issue_setup_token(&token("t1", "h1", 5_000))
            .await
            .unwrap();
        let r = db
            .complete_setup(
                &keyring(),
                "t1",
                5_000,
                &practice(),
                &user("u1", "a@example.org", "practice_admin"),
                &invitation("i1", "u1", "ih1", 5_000, 9_000),
            )
            .await
            .unwrap();
        assert_eq!(r, CompleteSetup::AlreadyUsed);
        assert_eq!(db.practice().await.unwrap(), None);
        assert_eq!(db.count_users().await.unwrap(), 0);
    }
}

#[tokio::test]
async fn invitations_are_single_use_expire_and_are_replaced_by_newer_ones() {
    for t in testing::backends().await {
        let db = &t.db;
        set_up(db).await;
        db.invite_user(
            &keyring(),
            &user("u2", "c@example.org", "clinician"),
            &invitation("i2", "u2", "a", 4_000, 8_000),
        )
        .await
        .unwrap();
        db.reissue_invitation(&invitation("i3", "u2", "b", 5_000, 9_000))
            .await
            .unwrap();
        assert!(
            db.invitation_by_token_hash("a")
                .await
                .unwrap()
                .unwrap()
                .revoked_ms
                .is_some(),
            "replaced"
        );
        assert!(
            !db.use_invitation("i2", 5_500).await.unwrap(),
            "a replaced link does not work"
        );
        assert!(!db.use_invitation("i3", 9_000).await.unwrap(), "expired");
        assert!(db.use_invitation("i3", 6_000).await.unwrap());
        assert!(!db.use_invitation("i3", 6_001).await.unwrap(), "single use");
        assert_eq!(
            db.latest_invitation_of_user("u2")
                .await
                .unwrap()
                .unwrap()
                .id,
            "i3"
        );
        // The same address cannot be invited twice.
        let dup = db
            .invite_user(
                &keyring(),
                &user("u3", "c@example.org", "patient"),
                &invitation("i4", "u3", "c", 7_000, 9_000),
            )
            .await;
        assert!(
            matches!(dup, Err(store::StoreError::Conflict(_))),
            "{:?}",
            t.backend()
        );
        assert!(
            db.user_by_id(&keyring(), "u3").await.unwrap().is_none(),
            "nothing half-written"
        );
    }
}

#[tokio::test]
async fn sessions_expire_idle_out_rotate_and_revoke() {
    for t in testing::backends().await {
        let db = &t.db;
        set_up(db).await;
        db.insert_session(&session("s1", "u1", 4_000))
            .await
            .unwrap();
        db.insert_session(&session("s2", "u1", 4_000))
            .await
            .unwrap();
        let (live, u) = db
            .live_session(&keyring(), "s1", 5_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(live, session("s1", "u1", 4_000));
        assert_eq!(u.id, "u1");
        assert!(
            db.live_session(&keyring(), "s1", 7_000)
                .await
                .unwrap()
                .is_none(),
            "idle for 3 s"
        );
        db.touch_session("s1", 6_500).await.unwrap();
        assert!(
            db.live_session(&keyring(), "s1", 7_000)
                .await
                .unwrap()
                .is_some(),
            "activity keeps it alive"
        );
        assert!(
            db.live_session(&keyring(), "s1", 14_000)
                .await
                .unwrap()
                .is_none(),
            "absolute end"
        );
        db.reauthenticate_session("s1", 7_000, "password+totp")
            .await
            .unwrap();
        assert!(db.rotate_session("s1", "s1b").await.unwrap());
        assert!(
            db.live_session(&keyring(), "s1", 7_100)
                .await
                .unwrap()
                .is_none(),
            "the old id is worthless"
        );
        let (rotated, _) = db
            .live_session(&keyring(), "s1b", 7_100)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (rotated.authenticated_ms, rotated.method.as_str()),
            (7_000, "password+totp")
        );
        assert!(
            !db.revoke_session_of_user("u2", "s1b", 7_200).await.unwrap(),
            "only the owner's"
        );
        assert_eq!(
            db.revoke_sessions_of_user("u1", Some("s1b"), 7_200)
                .await
                .unwrap(),
            1
        );
        assert!(
            db.live_session(&keyring(), "s2", 7_200)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            db.live_session(&keyring(), "s1b", 7_200)
                .await
                .unwrap()
                .is_some(),
            "the kept one survives"
        );
        assert!(db.revoke_session("s1b", 7_300).await.unwrap());
        assert!(!db.revoke_session("s1b", 7_300).await.unwrap());
        assert_eq!(db.sessions_of_user("u1").await.unwrap().len(), 2);
    }
}

#[tokio::test]
async fn passkeys_totp_and_recovery_codes() {
    for t in testing::backends().await {
        let db = &t.db;
        set_up(db).await;
        let pk = PasskeyRow {
            id: "pk1".into(),
            user_id: "u1".into(),
            name: "Phone".into(),
            credential_id: "cred".into(),
            passkey_json: "{}".into(),
            created_ms: 1,
            last_used_ms: None,
        };
        db.insert_passkey(&pk).await.unwrap();
        assert!(matches!(
            db.insert_passkey(&PasskeyRow {
                id: "pk2".into(),
                ..pk.clone()
            })
            .await,
            Err(store::StoreError::Conflict(_))
        ));
        assert_eq!(
            db.passkey_by_credential_id("cred").await.unwrap(),
            Some(pk.clone())
        );
        assert!(db.rename_passkey("u1", "pk1", "Old phone").await.unwrap());
        assert!(
            !db.rename_passkey("u2", "pk1", "Mine now").await.unwrap(),
            "only the owner's"
        );
        db.passkey_used("pk1", "{\"n\":1}", 50).await.unwrap();
        let stored = &db.passkeys_of_user("u1").await.unwrap()[0];
        assert_eq!(
            (stored.name.as_str(), stored.last_used_ms),
            ("Old phone", Some(50))
        );

        db.put_totp(&TotpRow {
            user_id: "u1".into(),
            secret_sealed: "sealed".into(),
            created_ms: 1,
            confirmed_ms: None,
            last_step: None,
        })
        .await
        .unwrap();
        assert!(db.accept_totp_step("u1", 100, 60).await.unwrap());
        assert!(
            !db.accept_totp_step("u1", 100, 61).await.unwrap(),
            "a code works once"
        );
        assert!(
            !db.accept_totp_step("u1", 99, 62).await.unwrap(),
            "and never an older one"
        );
        assert!(db.accept_totp_step("u1", 101, 63).await.unwrap());
        assert_eq!(
            db.totp_of_user("u1").await.unwrap().unwrap().confirmed_ms,
            Some(60)
        );

        db.replace_recovery_codes("u1", &["r1".into(), "r2".into()], 70)
            .await
            .unwrap();
        assert!(db.use_recovery_code("u1", "r1", 71).await.unwrap());
        assert!(
            !db.use_recovery_code("u1", "r1", 72).await.unwrap(),
            "single use"
        );
        assert!(
            !db.use_recovery_code("u2", "r2", 72).await.unwrap(),
            "only the owner's"
        );
        assert_eq!(db.recovery_codes_left("u1").await.unwrap(), 1);

        db.set_password_hash("u1", Some("$argon2id$x"))
            .await
            .unwrap();
        db.insert_session(&session("s1", "u1", 80)).await.unwrap();
        db.clear_credentials("u1", 90).await.unwrap();
        assert!(db.passkeys_of_user("u1").await.unwrap().is_empty());
        assert!(db.totp_of_user("u1").await.unwrap().is_none());
        assert_eq!(db.recovery_codes_left("u1").await.unwrap(), 0);
        assert_eq!(
            db.user_by_id(&keyring(), "u1")
                .await
                .unwrap()
                .unwrap()
                .password_hash,
            None
        );
        assert!(
            db.live_session(&keyring(), "s1", 91)
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn ceremonies_and_pending_sign_ins_are_single_use_and_expire() {
    for t in testing::backends().await {
        let db = &t.db;
        set_up(db).await;
        let c = CeremonyRow {
            id: "c1".into(),
            kind: "register".into(),
            user_id: Some("u1".into()),
            state_json: "{}".into(),
            created_ms: 100,
            expires_ms: 200,
        };
        db.insert_ceremony(&c).await.unwrap();
        assert_eq!(
            db.take_ceremony("c1", "register", 150).await.unwrap(),
            Some(c.clone())
        );
        assert_eq!(
            db.take_ceremony("c1", "register", 150).await.unwrap(),
            None,
            "single use"
        );
        db.insert_ceremony(&CeremonyRow {
            id: "c2".into(),
            ..c.clone()
        })
        .await
        .unwrap();
        assert_eq!(
            db.take_ceremony("c2", "authenticate", 150).await.unwrap(),
            None,
            "wrong kind burns it"
        );
        db.insert_ceremony(&CeremonyRow {
            id: "c3".into(),
            ..c.clone()
        })
        .await
        .unwrap();
        assert_eq!(
            db.take_ceremony("c3", "register", 200).await.unwrap(),
            None,
            "expired"
        );

        let p = PendingSignInRow {
            id_hash: "p1".into(),
            user_id: "u1".into(),
            created_ms: 100,
            expires_ms: 200,
            failures: 0,
        };
        db.insert_pending_signin(&p).await.unwrap();
        assert_eq!(db.pending_signin("p1", 150).await.unwrap(), Some(p.clone()));
        assert!(db.pending_signin_attempt("p1", 2, 150).await.unwrap());
        assert!(db.pending_signin_attempt("p1", 2, 150).await.unwrap());
        assert!(
            !db.pending_signin_attempt("p1", 2, 150).await.unwrap(),
            "no more tries"
        );
        assert_eq!(
            db.pending_signin("p1", 150)
                .await
                .unwrap()
                .unwrap()
                .failures,
            2
        );
        assert!(
            db.pending_signin("p1", 200).await.unwrap().is_none(),
            "expired"
        );
        assert!(db.take_pending_signin("p1").await.unwrap());
        assert!(!db.take_pending_signin("p1").await.unwrap());
    }
}

#[tokio::test]
async fn devices_notices_roles_and_disabling() {
    for t in testing::backends().await {
        let db = &t.db;
        set_up(db).await;
        assert!(!db.has_known_devices("u1").await.unwrap());
        assert!(db.see_device("u1", "d1", 10).await.unwrap());
        assert!(!db.see_device("u1", "d1", 11).await.unwrap(), "seen before");
        assert!(db.see_device("u1", "d2", 12).await.unwrap());
        assert!(db.has_known_devices("u1").await.unwrap());

        for (i, when) in [(1, 20), (2, 30)] {
            db.insert_notice(&NoticeRow {
                id: format!("n{i}"),
                user_id: "u1".into(),
                created_ms: when,
                kind: "new_device".into(),
                message: "m".into(),
                read_ms: None,
            })
            .await
            .unwrap();
        }
        let notices = db.notices_of_user("u1", 10).await.unwrap();
        assert_eq!(
            notices.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(),
            ["n2", "n1"]
        );
        db.mark_notices_read("u1", 40).await.unwrap();
        assert!(
            db.notices_of_user("u1", 10)
                .await
                .unwrap()
                .iter()
                .all(|n| n.read_ms == Some(40))
        );

        assert_eq!(
            db.count_enabled_with_role("practice_admin").await.unwrap(),
            1
        );
        db.invite_user(
            &keyring(),
            &user("u2", "b@example.org", "clinician"),
            &invitation("i2", "u2", "x", 1, 99),
        )
        .await
        .unwrap();
        assert!(db.set_user_role("u2", "practice_admin").await.unwrap());
        assert_eq!(
            db.count_enabled_with_role("practice_admin").await.unwrap(),
            2
        );
        db.insert_session(&session("s2", "u2", 50)).await.unwrap();
        assert!(db.set_user_disabled("u2", Some(55)).await.unwrap());
        assert!(
            db.live_session(&keyring(), "s2", 56)
                .await
                .unwrap()
                .is_none(),
            "disabling ends sessions"
        );
        assert_eq!(
            db.count_enabled_with_role("practice_admin").await.unwrap(),
            1
        );
        assert!(db.set_user_disabled("u2", None).await.unwrap());
        db.set_practice_policy("passkey_only", true).await.unwrap();
        let p = db.practice().await.unwrap().unwrap();
        assert_eq!(
            (p.patient_auth.as_str(), p.self_registration),
            ("passkey_only", true)
        );
        let names: Vec<String> = db
            .list_users(&keyring())
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.id)
            .collect();
        assert_eq!(names, ["u1", "u2"]);
    }
}

#[tokio::test]
async fn server_state_upserts() {
    for t in testing::backends().await {
        let db = &t.db;
        assert_eq!(db.server_state("k").await.unwrap(), None);
        db.set_server_state("k", "v1").await.unwrap();
        db.set_server_state("k", "v2").await.unwrap();
        assert_eq!(db.server_state("k").await.unwrap().as_deref(), Some("v2"));
    }
}
