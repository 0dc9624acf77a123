//! The same behaviour on SQLite and PostgreSQL (when `TW_TEST_POSTGRES_URL` is set).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use store::accounts::{PracticeRow, UserRow};
use store::sessions::SessionRow;
use store::setup::{CompleteSetup, SetupTokenRow};
use store::testing;

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
    }
}

fn admin(id: &str, email: &str) -> UserRow {
    UserRow {
        id: id.into(),
        email: email.into(),
        display_name: "Ada Admin".into(),
        role: "practice_admin".into(),
        password_hash: Some("$argon2id$v=19$stub".into()),
        created_ms: 2_000,
        disabled_ms: None,
    }
}

#[tokio::test]
async fn migrations_are_current_and_idempotent() {
    for t in testing::backends().await {
        let status = t.db.migration_status().await.unwrap();
        assert!(status.is_current(), "{:?}: {status:?}", t.backend());
        assert!(status.expected >= 1);
        t.db.migrate().await.unwrap();
        assert!(t.db.migration_status().await.unwrap().is_current());
        t.db.ping().await.unwrap();
    }
}

#[tokio::test]
async fn setup_token_is_single_use_and_only_the_latest_works() {
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
        let t2 = db.setup_token("h2").await.unwrap().unwrap();
        assert_eq!(t2.expires_ms, 10_000);

        let done = db
            .complete_setup("t2", 3_000, &practice(), &admin("u1", "ada@example.org"))
            .await
            .unwrap();
        assert_eq!(done, CompleteSetup::Done);
        assert_eq!(db.practice().await.unwrap(), Some(practice()));
        assert_eq!(
            db.user_by_email("ada@example.org").await.unwrap(),
            Some(admin("u1", "ada@example.org"))
        );

        // Second use: nothing written.
        let again = db
            .complete_setup("t2", 3_500, &practice(), &admin("u2", "eve@example.org"))
            .await
            .unwrap();
        assert_eq!(again, CompleteSetup::AlreadyUsed);
        assert_eq!(db.count_users().await.unwrap(), 1);
        assert!(db.user_by_email("eve@example.org").await.unwrap().is_none());
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
            .complete_setup("t1", 5_000, &practice(), &admin("u1", "a@example.org"))
            .await
            .unwrap();
        assert_eq!(r, CompleteSetup::AlreadyUsed);
        assert_eq!(db.practice().await.unwrap(), None);
        assert_eq!(db.count_users().await.unwrap(), 0);
    }
}

#[tokio::test]
async fn sessions_expire_and_revoke() {
    for t in testing::backends().await {
        let db = &t.db;
        db.issue_setup_token(&token("t1", "h1", 10_000))
            .await
            .unwrap();
        db.complete_setup("t1", 3_000, &practice(), &admin("u1", "a@example.org"))
            .await
            .unwrap();
        let s = SessionRow {
            id_hash: "sh".into(),
            user_id: "u1".into(),
            created_ms: 4_000,
            last_seen_ms: 4_000,
            expires_ms: 9_000,
            revoked_ms: None,
        };
        db.insert_session(&s).await.unwrap();
        let (live, user) = db.live_session("sh", 5_000).await.unwrap().unwrap();
        assert_eq!(live, s);
        assert_eq!(user.id, "u1");
        assert!(
            db.live_session("sh", 9_000).await.unwrap().is_none(),
            "expired"
        );
        assert!(db.live_session("other", 5_000).await.unwrap().is_none());
        assert!(db.revoke_session("sh", 6_000).await.unwrap());
        assert!(!db.revoke_session("sh", 6_000).await.unwrap());
        assert!(
            db.live_session("sh", 5_000).await.unwrap().is_none(),
            "revoked"
        );
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

#[tokio::test]
async fn duplicate_email_is_a_conflict_not_a_crash() {
    for t in testing::backends().await {
        let db = &t.db;
        db.issue_setup_token(&token("t1", "h1", 10_000))
            .await
            .unwrap();
        db.complete_setup("t1", 3_000, &practice(), &admin("u1", "a@example.org"))
            .await
            .unwrap();
        let r = t
            .exec("INSERT INTO users (id, email, display_name, role, created_ms) VALUES ('u2', 'a@example.org', 'x', 'patient', 1)")
            .await;
        assert!(
            matches!(r, Err(store::StoreError::Conflict(_))),
            "{:?}: {r:?}",
            t.backend()
        );
    }
}
