//! Bounds on what secure messaging stores, over HTTP on SQLite and PostgreSQL: a
//! conversation's attachments stay within `messaging.max_conversation_bytes` (the blob
//! that would go over is refused and nothing of it is stored); a Welcome is deleted once
//! its device has joined and read, and when the device is removed from the group; an
//! account starts at most `messaging.max_new_conversations_per_day` conversations in
//! any 24 hours.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::consult::{PATIENT_EMAIL, practice};
use common::messaging::{Member, device, get, post};
use common::{ADMIN_EMAIL, CLINICIAN_EMAIL, TestServer};
use serde_json::json;
use store::{Db, PoolSettings};

/// The practice with the clinician on the patient's care team.
async fn with_care_team(s: &TestServer) {
    let p = practice(s).await;
    let patient = s.user_id(PATIENT_EMAIL).await;
    let clinician = s.user_id(CLINICIAN_EMAIL).await;
    let res = s
        .post_form(
            &format!("/people/{patient}/care-team"),
            &[("clinician", clinician.as_str())],
            Some(&p.admin),
        )
        .await;
    assert_eq!(res.status(), 303);
}

/// A second connection to the server's database, to see what it stores.
async fn raw_db(s: &TestServer) -> Db {
    Db::connect(&s.db_url, &PoolSettings::default())
        .await
        .unwrap()
}

async fn count(db: &Db, sql: &str) -> usize {
    store::testing::texts(db, sql).await.unwrap().len()
}

/// Uploads `bytes` as an attachment: the status and the answer's text.
async fn upload(s: &TestServer, m: &Member, conversation: &str, bytes: Vec<u8>) -> (u16, String) {
    let res = s
        .client
        .post(s.url(&format!(
            "/api/messaging/conversations/{conversation}/blobs?device={}",
            m.device_id
        )))
        .header("origin", &s.running().origin)
        .header("cookie", &m.cookie)
        .body(bytes)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Starts a conversation without the helper's assertion: the status and the answer.
async fn try_start(s: &TestServer, m: &mut Member, patient_id: &str) -> (u16, serde_json::Value) {
    let group = m.device.create_group().unwrap();
    post(
        s,
        &m.cookie,
        "/api/messaging/conversations",
        &json!({"device_id": m.device_id, "patient_id": patient_id, "group_id": hex::encode(&group)}),
    )
    .await
}

#[tokio::test]
async fn a_conversations_attachments_stay_within_its_quota() {
    for db in common::database_choices().await {
        let mut s = TestServer::start_with(db, |c| {
            c.messaging.max_attachment_bytes = 4096;
            c.messaging.max_conversation_bytes = 10_000;
        })
        .await;
        with_care_team(&s).await;
        let mut clinician = device(&s, CLINICIAN_EMAIL, "Clinic desktop", "member").await;
        let patient_id = s.user_id(PATIENT_EMAIL).await;
        let id = clinician.start(&s, &patient_id).await;
        let raw = raw_db(&s).await;

        assert_eq!(upload(&s, &clinician, &id, vec![1; 4000]).await.0, 201);
        assert_eq!(upload(&s, &clinician, &id, vec![2; 4000]).await.0, 201);
        // 8000 held: 4000 more would make 12000.
        let (status, answer) = upload(&s, &clinician, &id, vec![3; 4000]).await;
        assert_eq!(status, 413, "{answer}");
        assert!(answer.contains("10000"), "names the limit: {answer}");
        assert!(answer.contains("max_conversation_bytes"), "{answer}");
        assert_eq!(raw.conversation_blob_bytes(&id).await.unwrap(), 8000);
        assert_eq!(count(&raw, "SELECT id FROM msg_blobs").await, 2);
        // Exactly up to the quota is allowed; one byte more is not.
        assert_eq!(upload(&s, &clinician, &id, vec![4; 2000]).await.0, 201);
        let (status, answer) = upload(&s, &clinician, &id, vec![5; 1]).await;
        assert_eq!(status, 413, "{answer}");
        assert_eq!(raw.conversation_blob_bytes(&id).await.unwrap(), 10_000);
        assert_eq!(count(&raw, "SELECT id FROM msg_blobs").await, 3);
        // The quota is per conversation: another one starts empty.
        let other = clinician.start(&s, &patient_id).await;
        assert_eq!(upload(&s, &clinician, &other, vec![6; 4000]).await.0, 201);
        assert_eq!(raw.conversation_blob_bytes(&other).await.unwrap(), 4000);
        assert_eq!(raw.conversation_blob_bytes(&id).await.unwrap(), 10_000);
        raw.close().await;
        s.stop().await.close().await;
    }
}

#[tokio::test]
async fn a_welcome_is_deleted_once_its_device_joins_and_reads_or_is_removed() {
    for db in common::database_choices().await {
        let mut s = TestServer::start(db).await;
        with_care_team(&s).await;
        let mut clinician = device(&s, CLINICIAN_EMAIL, "Clinic desktop", "member").await;
        let mut phone = device(&s, PATIENT_EMAIL, "Phone", "member").await;
        let mut archive = device(&s, ADMIN_EMAIL, "Practice archive", "archive").await;
        let patient_id = phone.user_id.clone();
        let id = clinician.start(&s, &patient_id).await;
        assert_eq!(clinician.add(&s, &id, &[&patient_id, "archive"]).await, 200);
        let raw = raw_db(&s).await;
        let welcomes_of =
            |device: &str| format!("SELECT id FROM msg_welcomes WHERE device_id = '{device}'");
        assert_eq!(count(&raw, &welcomes_of(&phone.device_id)).await, 1);
        assert_eq!(count(&raw, &welcomes_of(&archive.device_id)).await, 1);

        // Fetching the Welcome, or reading from before the join, proves nothing yet.
        phone.join(&s).await;
        let (status, _) = phone.fetch(&s, &id, 0).await;
        assert_eq!(status, 200);
        assert_eq!(count(&raw, &welcomes_of(&phone.device_id)).await, 1);
        // Reading from its join on (which needs the group the Welcome gave) does.
        assert_eq!(clinician.send_text(&s, &id, "hello").await, 200);
        assert_eq!(phone.texts(&s, &id).await, vec!["hello".to_owned()]);
        assert_eq!(count(&raw, &welcomes_of(&phone.device_id)).await, 0);
        // The archive has not joined: its Welcome is still there and still handed out.
        assert_eq!(count(&raw, &welcomes_of(&archive.device_id)).await, 1);
        let (status, waiting) = get(
            &s,
            &archive.cookie,
            &format!("/api/messaging/welcomes?device={}", archive.device_id),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(waiting.as_array().unwrap().len(), 1, "{waiting}");
        archive.join(&s).await;
        archive.sync(&s, &id).await;
        assert_eq!(count(&raw, &welcomes_of(&archive.device_id)).await, 0);

        // A second device of the patient is added, never joins, and is removed: its
        // Welcome goes with the membership.
        let laptop = device(&s, PATIENT_EMAIL, "Laptop", "member").await;
        assert_eq!(clinician.add(&s, &id, &[&patient_id]).await, 200);
        assert_eq!(count(&raw, &welcomes_of(&laptop.device_id)).await, 1);
        phone.sync(&s, &id).await;
        assert_eq!(
            phone
                .remove(&s, &id, &[(&patient_id, &laptop.device_id)])
                .await,
            200
        );
        assert_eq!(count(&raw, &welcomes_of(&laptop.device_id)).await, 0);
        let (status, waiting) = get(
            &s,
            &laptop.cookie,
            &format!("/api/messaging/welcomes?device={}", laptop.device_id),
        )
        .await;
        assert_eq!(status, 200);
        assert!(waiting.as_array().unwrap().is_empty(), "{waiting}");
        assert_eq!(count(&raw, "SELECT id FROM msg_welcomes").await, 0);
        raw.close().await;
        s.stop().await.close().await;
    }
}

#[tokio::test]
async fn an_account_starts_only_so_many_conversations_a_day() {
    for db in common::database_choices().await {
        let mut s =
            TestServer::start_with(db, |c| c.messaging.max_new_conversations_per_day = 2).await;
        with_care_team(&s).await;
        let mut clinician = device(&s, CLINICIAN_EMAIL, "Clinic desktop", "member").await;
        let mut phone = device(&s, PATIENT_EMAIL, "Phone", "member").await;
        let patient_id = phone.user_id.clone();
        clinician.start(&s, &patient_id).await;
        // Sessions idle out over the hours this test skips: fresh ones after each jump.
        s.clock.advance_ms(60 * 60 * 1000);
        clinician.cookie = s.session_for(CLINICIAN_EMAIL, 0).await;
        phone.cookie = s.session_for(PATIENT_EMAIL, 0).await;
        clinician.start(&s, &patient_id).await;
        let (status, answer) = try_start(&s, &mut clinician, &patient_id).await;
        assert_eq!(status, 429, "{answer}");
        let text = answer.to_string();
        assert!(text.contains("max_new_conversations_per_day"), "{text}");
        assert!(
            text.contains("2 conversations in the last 24 hours"),
            "{text}"
        );
        let raw = raw_db(&s).await;
        let mine = format!(
            "SELECT id FROM msg_conversations WHERE created_by = '{}'",
            clinician.user_id
        );
        assert_eq!(count(&raw, &mine).await, 2, "the refused one is not stored");
        // The limit is per account: the patient may still start one.
        phone.start(&s, &patient_id).await;
        // 24 hours after the first, one may be started again, not two.
        s.clock.advance_ms(23 * 60 * 60 * 1000 + 1);
        clinician.cookie = s.session_for(CLINICIAN_EMAIL, 0).await;
        clinician.start(&s, &patient_id).await;
        let (status, answer) = try_start(&s, &mut clinician, &patient_id).await;
        assert_eq!(status, 429, "{answer}");
        assert_eq!(count(&raw, &mine).await, 3);
        raw.close().await;
        s.stop().await.close().await;
    }
}
