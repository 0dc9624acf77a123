//! Encrypted device backups and the device list over HTTP, on SQLite and PostgreSQL:
//! a patient stores a backup of their device and reads it back; another account can do
//! neither; an older version never replaces a newer one (409); an oversized backup is
//! refused (413); reading the body back needs a fresh sign-in; the ledger records
//! storing and restoring without any of the backup; removing a device drops its backup.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine;
use common::consult::{OTHER_PATIENT_EMAIL, PATIENT_EMAIL, practice};
use common::messaging::{b64, device, get, post};
use common::{TestServer, files_under, ledger_actions};
use reqwest::header::{COOKIE, ORIGIN};
use serde_json::{Value, json};

/// Stands in for the client's ciphertext: the server must keep it byte for byte and
/// never write it anywhere else (the ledger, the log).
const CANARY: &[u8] = b"backup ciphertext canary 3d9f-Pangolin";

fn body_of(extra: usize) -> String {
    let mut bytes = CANARY.to_vec();
    bytes.resize(CANARY.len() + extra, 0x5a);
    b64(&bytes)
}

fn unlock() -> Value {
    json!([
        {"method": "prf", "credential_id": "Ww3psMbG-3R3vCaXBnj_utVNEMahkRgNlFx94MPtiIE",
         "salt": b64(&[7u8; 32]), "wrapped_key": b64(&[9u8; 60])},
        {"method": "phrase", "salt": b64(&[8u8; 32]), "wrapped_key": b64(&[10u8; 60])},
    ])
}

async fn put(s: &TestServer, cookie: &str, device: &str, body: &Value) -> (u16, Value) {
    let res = s
        .client
        .put(s.url(&format!("/api/messaging/devices/{device}/backup")))
        .header(ORIGIN, &s.running().origin)
        .header(COOKIE, cookie)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn backup(version: i64, body: String) -> Value {
    json!({"version": version, "unlock": unlock(), "body": body})
}

#[tokio::test]
async fn a_patient_backs_up_a_device_and_restores_it_only_with_a_fresh_sign_in() {
    for db in common::database_choices().await {
        let mut s = TestServer::start(db).await;
        practice(&s).await;
        let phone = device(&s, PATIENT_EMAIL, "Phone", "member").await;
        let laptop = device(&s, PATIENT_EMAIL, "Laptop", "member").await;
        let dev = phone.device_id.clone();

        // Stored, then listed (without the body) and in the device list.
        let (status, stored) = put(&s, &phone.cookie, &dev, &backup(1, body_of(100))).await;
        assert_eq!(status, 200, "{stored}");
        assert_eq!(stored["version"], 1);
        assert_eq!(stored["unlock"][0]["method"], "prf");
        assert!(stored.get("body").is_none());
        let (status, list) = get(&s, &phone.cookie, "/api/messaging/backups").await;
        assert_eq!(status, 200);
        assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
        assert_eq!(list[0]["device_id"], dev.as_str());
        assert_eq!(list[0]["size"], CANARY.len() + 100);
        assert!(list[0].get("body").is_none());
        assert_eq!(list[0]["unlock"][1]["method"], "phrase");

        let (status, devices) = get(&s, &phone.cookie, "/api/messaging/devices").await;
        assert_eq!(status, 200);
        let devices = devices.as_array().unwrap().clone();
        assert_eq!(devices.len(), 2);
        let by_id = |id: &str| devices.iter().find(|d| d["id"] == id).unwrap().clone();
        assert_eq!(by_id(&dev)["has_backup"], true);
        assert_eq!(by_id(&dev)["label"], "Phone");
        assert_eq!(by_id(&dev)["kind"], "member");
        assert_eq!(by_id(&laptop.device_id)["has_backup"], false);

        // A newer version replaces it; the same or an older one does not (409).
        let (status, _) = put(&s, &phone.cookie, &dev, &backup(5, body_of(200))).await;
        assert_eq!(status, 200);
        for stale in [5, 4, 1] {
            let (status, body) = put(&s, &phone.cookie, &dev, &backup(stale, body_of(1))).await;
            assert_eq!(status, 409, "version {stale}: {body}");
            assert_eq!(body["code"], "conflict");
        }

        // Reading the body back needs a fresh sign-in …
        let stale_session = s.session_for(PATIENT_EMAIL, 3_600_000).await;
        let path = format!("/api/messaging/devices/{dev}/backup");
        let (status, body) = get(&s, &stale_session, &path).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["code"], "step-up-required");
        assert!(body.get("body").is_none());
        // … and gives the newest backup, byte for byte.
        let fresh = s.session_for(PATIENT_EMAIL, 0).await;
        let (status, restored) = get(&s, &fresh, &path).await;
        assert_eq!(status, 200, "{restored}");
        assert_eq!(restored["version"], 5);
        assert_eq!(restored["body"], body_of(200));
        assert_eq!(restored["unlock"], unlock());

        // The stale session may still list (metadata only).
        let (status, _) = get(&s, &stale_session, "/api/messaging/backups").await;
        assert_eq!(status, 200);

        // Removing the device drops its backup: it cannot come back.
        let (status, _) = post(
            &s,
            &laptop.cookie,
            &format!("/api/messaging/devices/{dev}/remove"),
            &json!({}),
        )
        .await;
        assert_eq!(status, 204);
        let (_, list) = get(&s, &phone.cookie, "/api/messaging/backups").await;
        assert_eq!(list, json!([]));
        let (_, devices) = get(&s, &laptop.cookie, "/api/messaging/devices").await;
        let removed = devices
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == dev.as_str())
            .unwrap();
        assert!(removed["removed_ms"].is_i64());
        assert_eq!(removed["has_backup"], false);
        let (status, _) = put(&s, &phone.cookie, &dev, &backup(6, body_of(1))).await;
        assert_eq!(status, 403);

        // The ledger: stored (twice) and restored once, with no backup bytes anywhere.
        let db = s.stop().await;
        let actions = ledger_actions(&db).await;
        let count = |a: &str, o: &str| {
            actions
                .iter()
                .filter(|(x, y, t)| x == a && y == o && *t == format!("device:{dev}"))
                .count()
        };
        assert_eq!(
            count("messaging.backup_stored", "success"),
            2,
            "{actions:?}"
        );
        assert_eq!(count("messaging.backup_restored", "success"), 1);
        use ledger::LedgerStore;
        let entries = db.entries(1, 10_000).await.unwrap();
        let ledger_text = format!("{entries:?}");
        let encoded = base64::engine::general_purpose::STANDARD.encode(CANARY);
        for needle in [&encoded[..20], "Pangolin"] {
            assert!(!ledger_text.contains(needle), "the ledger holds {needle}");
        }
        let stored = entries
            .iter()
            .find(|e| e.action == "messaging.backup_stored")
            .unwrap();
        let details = format!("{:?}", stored.details);
        assert!(
            details.contains("version") && details.contains("size"),
            "{details}"
        );
        // Outside the database (ledger files, logs, outbox), the ciphertext is nowhere.
        for path in files_under(s.dir.path()) {
            let name = path.display().to_string();
            if name.contains("telewarden.db") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap_or_default();
            assert!(
                !bytes.windows(CANARY.len()).any(|w| w == CANARY),
                "{name} holds the backup"
            );
        }
        db.close().await;
    }
}

#[tokio::test]
async fn backups_are_refused_to_other_accounts_and_when_stale_or_malformed_or_too_large() {
    for db in common::database_choices().await {
        let s = TestServer::start(db).await;
        practice(&s).await;
        let phone = device(&s, PATIENT_EMAIL, "Phone", "member").await;
        let other = device(&s, OTHER_PATIENT_EMAIL, "Other phone", "member").await;
        let dev = phone.device_id.clone();
        let (status, _) = put(&s, &phone.cookie, &dev, &backup(1, body_of(10))).await;
        assert_eq!(status, 200);

        // Another account can neither store nor read this device's backup, nor see it.
        let (status, body) = put(&s, &other.cookie, &dev, &backup(9, body_of(10))).await;
        assert_eq!(status, 403, "{body}");
        let (status, body) = get(
            &s,
            &other.cookie,
            &format!("/api/messaging/devices/{dev}/backup"),
        )
        .await;
        assert_eq!(status, 403, "{body}");
        assert!(body.get("body").is_none());
        let (_, list) = get(&s, &other.cookie, "/api/messaging/backups").await;
        assert_eq!(list, json!([]));
        let (_, devices) = get(&s, &other.cookie, "/api/messaging/devices").await;
        assert_eq!(devices.as_array().unwrap().len(), 1);
        assert_eq!(devices[0]["id"], other.device_id.as_str());
        // A device without a backup: 404.
        let (status, _) = get(
            &s,
            &other.cookie,
            &format!("/api/messaging/devices/{}/backup", other.device_id),
        )
        .await;
        assert_eq!(status, 404);

        // Too large: 413, decoded over 4 MiB and a request over the route's limit alike.
        let max = 4 * 1024 * 1024;
        let (status, body) = put(
            &s,
            &phone.cookie,
            &dev,
            &backup(2, body_of(max - CANARY.len() + 1)),
        )
        .await;
        assert_eq!(status, 413, "{body}");
        let (status, _) = put(&s, &phone.cookie, &dev, &backup(2, body_of(max * 2))).await;
        assert_eq!(status, 413);

        // Malformed: each refused with 400, nothing stored.
        let bad = [
            json!({"version": 0, "unlock": unlock(), "body": body_of(1)}),
            json!({"version": 2, "unlock": [], "body": body_of(1)}),
            json!({"version": 2, "unlock": unlock(), "body": "not base64!"}),
            json!({"version": 2, "unlock": unlock(), "body": ""}),
            json!({"version": 2, "unlock": [{"method": "prf", "salt": b64(&[1; 32]), "wrapped_key": b64(&[1; 60])}], "body": body_of(1)}),
            json!({"version": 2, "unlock": [{"method": "phrase", "credential_id": "abc", "salt": b64(&[1; 32]), "wrapped_key": b64(&[1; 60])}], "body": body_of(1)}),
            json!({"version": 2, "unlock": [{"method": "pin", "salt": b64(&[1; 32]), "wrapped_key": b64(&[1; 60])}], "body": body_of(1)}),
            json!({"version": 2, "unlock": [{"method": "phrase", "salt": b64(&[1; 32]), "wrapped_key": b64(&[1; 600])}], "body": body_of(1)}),
        ];
        for b in &bad {
            let (status, answer) = put(&s, &phone.cookie, &dev, b).await;
            assert!(status == 400 || status == 422, "{b}: {status} {answer}");
        }
        // A device id that is not one: refused before anything else.
        let (status, _) = put(&s, &phone.cookie, "nope", &backup(2, body_of(1))).await;
        assert_eq!(status, 400);
        let (_, list) = get(&s, &phone.cookie, "/api/messaging/backups").await;
        assert_eq!(list[0]["version"], 1);
    }
}

#[tokio::test]
async fn concurrent_backups_keep_the_newest() {
    for db in common::database_choices().await {
        let s = TestServer::start(db).await;
        practice(&s).await;
        let phone = device(&s, PATIENT_EMAIL, "Phone", "member").await;
        let dev = phone.device_id.clone();
        // Two tabs race with versions 3 and 2: whatever the order, 3 is what stays.
        let b3 = backup(3, body_of(3));
        let b2 = backup(2, body_of(2));
        let (a, b) = tokio::join!(
            put(&s, &phone.cookie, &dev, &b3),
            put(&s, &phone.cookie, &dev, &b2)
        );
        assert_eq!(a.0, 200, "{a:?}");
        assert!(b.0 == 200 || b.0 == 409, "{b:?}");
        let fresh = s.session_for(PATIENT_EMAIL, 0).await;
        let (_, got) = get(&s, &fresh, &format!("/api/messaging/devices/{dev}/backup")).await;
        assert_eq!(got["version"], 3);
        assert_eq!(got["body"], body_of(3));
    }
}
