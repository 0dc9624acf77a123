//! Key-transparency consistency: a client that remembered an earlier signed tree head
//! asks `GET /api/messaging/key-log/consistency?from=N` and checks, with the ledger's
//! public key alone, that the current head extends the one it remembered. A proof that
//! has been altered in any way fails; bad sizes are refused with 400. SQLite and
//! PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::consult::{PATIENT_EMAIL, practice};
use common::messaging::{device, get};
use common::{CLINICIAN_EMAIL, TestServer};

#[tokio::test]
async fn a_later_tree_head_is_proved_to_extend_the_remembered_one() {
    for db in common::database_choices().await {
        let s = TestServer::start(db).await;
        practice(&s).await;
        let key = s.ledger_key();

        // The tree head a client remembers after checking the phone's key.
        let phone = device(&s, PATIENT_EMAIL, "Phone", "member").await;
        let (status, proof) = get(
            &s,
            &phone.cookie,
            &format!("/api/messaging/devices/{}/key-proof", phone.device_id),
        )
        .await;
        assert_eq!(status, 200, "{proof}");
        let proof: ledger::InclusionProof = serde_json::from_value(proof).unwrap();
        proof.verify(&key).unwrap();
        let remembered = proof.sth.clone();

        // More keys are published; the next key proof has a larger head.
        let desk = device(&s, CLINICIAN_EMAIL, "Clinic desktop", "member").await;
        device(&s, PATIENT_EMAIL, "Tablet", "member").await;
        let (status, later) = get(
            &s,
            &phone.cookie,
            &format!("/api/messaging/devices/{}/key-proof", desk.device_id),
        )
        .await;
        assert_eq!(status, 200, "{later}");
        let later: ledger::InclusionProof = serde_json::from_value(later).unwrap();
        later.verify(&key).unwrap();
        assert!(later.sth.head.size > remembered.head.size);

        let (status, body) = get(
            &s,
            &phone.cookie,
            &format!(
                "/api/messaging/key-log/consistency?from={}",
                remembered.head.size
            ),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let consistency: ledger::ConsistencyProof = serde_json::from_value(body).unwrap();
        consistency.verify(&key).unwrap();
        assert_eq!(
            consistency.old, remembered,
            "the proof starts from the head the client remembered"
        );
        assert!(consistency.new.head.size >= later.sth.head.size);
        assert!(!consistency.path.is_empty());

        // Altered proofs fail: a different old root (a split view), a changed path
        // hash, a path cut short, a new head of another size.
        let mut other_old = consistency.clone();
        other_old.old.head.root[0] ^= 1;
        assert!(other_old.verify(&key).is_err(), "old root altered");
        let mut other_path = consistency.clone();
        other_path.path[0][0] ^= 1;
        assert!(other_path.verify(&key).is_err(), "path altered");
        let mut short = consistency.clone();
        short.path.pop();
        assert!(short.verify(&key).is_err(), "path cut short");
        let mut resized = consistency.clone();
        resized.new.head.size += 1;
        assert!(resized.verify(&key).is_err(), "new size altered");
        // Bad sizes: 400 with a message that says what is wrong.
        let size = consistency.new.head.size;
        for from in [
            "0".to_string(),
            (size + 1).to_string(),
            "ten".to_string(),
            "-1".to_string(),
            String::new(),
        ] {
            let (status, body) = get(
                &s,
                &phone.cookie,
                &format!("/api/messaging/key-log/consistency?from={from}"),
            )
            .await;
            assert_eq!(status, 400, "from={from}: {body}");
            assert!(
                body.to_string().contains("tree size"),
                "from={from}: {body}"
            );
        }
        let (status, _) = get(&s, &phone.cookie, "/api/messaging/key-log/consistency").await;
        assert_eq!(status, 400, "from missing");

        // Signed-in users only.
        let (status, _) = get(
            &s,
            "",
            &format!(
                "/api/messaging/key-log/consistency?from={}",
                remembered.head.size
            ),
        )
        .await;
        assert!(status == 401 || status == 403 || status == 303, "{status}");
    }
}
