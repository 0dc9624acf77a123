//! End-to-end encrypted messaging over HTTP, on SQLite and PostgreSQL, with the native
//! Rust client (`mls-client`) on every side: a patient's two devices, a clinician and
//! the practice archive in one conversation, exchanging messages and a file; the server
//! and its database never hold plaintext; commits are ordered one per epoch; a removed
//! device reads nothing sent after; clients refuse tampered and replayed ciphertext;
//! bad input of every kind is refused and nothing is stored; device keys are in the
//! key-transparency log.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::consult::{OTHER_PATIENT_EMAIL, PATIENT_EMAIL, Practice, practice};
use common::identity::{mails_since, outbox_files};
use common::messaging::{Member, b64, device, get, new_device_id, post};
use common::{ADMIN_EMAIL, CLINICIAN_EMAIL, TestServer, files_under, ledger_actions};
use mls_client::{AttachmentRef, Device, DeviceIdentity, Payload, Received, attachment};
use serde_json::json;

const SECRET_TEXT: &str = "Biopsy result: benign naevus, canary 7f3e-Quokka";
const SECRET_FILE: &[u8] = b"%PDF-1.4 lab report canary 91c2-Wombat";

/// The practice with the clinician on the patient's care team.
async fn with_care_team(s: &TestServer) -> Practice {
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
    p
}

/// The clinician, the patient's phone and the practice archive in one conversation.
struct Conversation {
    id: String,
    clinician: Member,
    phone: Member,
    archive: Member,
}

async fn conversation(s: &TestServer) -> Conversation {
    let mut clinician = device(s, CLINICIAN_EMAIL, "Clinic desktop", "member").await;
    let mut phone = device(s, PATIENT_EMAIL, "Phone", "member").await;
    let mut archive = device(s, ADMIN_EMAIL, "Practice archive", "archive").await;
    let patient_id = phone.user_id.clone();
    let id = clinician.start(s, &patient_id).await;
    assert_eq!(clinician.add(s, &id, &[&patient_id, "archive"]).await, 200);
    phone.join(s).await;
    archive.join(s).await;
    Conversation {
        id,
        clinician,
        phone,
        archive,
    }
}

/// Byte strings found in any file under the server's data directory (SQLite database
/// and WAL, ledger, outbox), and for PostgreSQL in the messaging tables and ledger.
async fn plaintext_anywhere(s: &TestServer, db: &store::Db, needles: &[&[u8]]) -> Vec<String> {
    let mut found = Vec::new();
    for path in files_under(s.dir.path()) {
        let bytes = std::fs::read(&path).unwrap_or_default();
        for n in needles {
            if bytes.windows(n.len()).any(|w| w == *n) {
                found.push(path.display().to_string());
            }
        }
    }
    for sql in [
        "SELECT body FROM msg_messages",
        "SELECT body FROM msg_welcomes",
        "SELECT body FROM msg_blobs",
        "SELECT body FROM msg_key_packages",
        "SELECT details FROM ledger_entries",
        "SELECT message FROM notices",
    ] {
        for text in store::testing::texts(db, sql).await.unwrap() {
            let decoded = base64_or_raw(&text);
            for n in needles {
                if decoded.windows(n.len()).any(|w| w == *n) {
                    found.push(sql.to_owned());
                }
            }
        }
    }
    found
}

fn base64_or_raw(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap_or_else(|_| text.as_bytes().to_vec())
}

#[tokio::test]
async fn patient_clinician_and_archive_exchange_messages_and_a_file_end_to_end() {
    for db in common::database_choices().await {
        let mut s = TestServer::start(db).await;
        with_care_team(&s).await;
        let Conversation {
            id,
            mut clinician,
            mut phone,
            mut archive,
        } = conversation(&s).await;
        // A second device of the patient joins later, added by the phone.
        let mut laptop = device(&s, PATIENT_EMAIL, "Laptop", "member").await;
        assert!(phone.sync(&s, &id).await.is_empty());
        let patient_id = phone.user_id.clone();
        assert_eq!(phone.add(&s, &id, &[&patient_id]).await, 200);
        laptop.join(&s).await;
        for m in [&mut clinician, &mut archive] {
            let got = m.sync(&s, &id).await;
            assert!(
                matches!(&got[..], [Ok(Received::Commit { added, .. })] if added.len() == 1),
                "{got:?}"
            );
        }

        let mark = outbox_files(&s);
        assert_eq!(clinician.send_text(&s, &id, SECRET_TEXT).await, 200);
        // Everyone else reads it; the sender is the clinician's device.
        for m in [&mut phone, &mut laptop, &mut archive] {
            let got = m.sync(&s, &id).await;
            match &got[..] {
                [
                    Ok(Received::Message {
                        sender, payload, ..
                    }),
                ] => {
                    assert_eq!(sender, &clinician.identity());
                    assert_eq!(payload.text, SECRET_TEXT);
                }
                other => panic!("{other:?}"),
            }
        }

        // The patient sends a file: sealed with its own key, uploaded as an opaque blob,
        // the key inside the MLS message.
        let sealed = attachment::seal(SECRET_FILE).unwrap();
        let res = s
            .client
            .post(s.url(&format!(
                "/api/messaging/conversations/{id}/blobs?device={}",
                laptop.device_id
            )))
            .header("origin", &s.running().origin)
            .header("cookie", &laptop.cookie)
            .body(sealed.ciphertext.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let blob_id = res.json::<serde_json::Value>().await.unwrap()["blob_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let payload = Payload {
            text: "Here is the report".into(),
            attachments: vec![AttachmentRef {
                blob_id: blob_id.clone(),
                name: "report.pdf".into(),
                media_type: "application/pdf".into(),
                size: SECRET_FILE.len() as u64,
                key: sealed.key,
                sha256: sealed.sha256,
            }],
        };
        assert_eq!(laptop.send(&s, &id, &payload).await.0, 200);
        for m in [&mut clinician, &mut phone, &mut archive] {
            let got = m.sync(&s, &id).await;
            let [Ok(Received::Message { payload, .. })] = &got[..] else {
                panic!("{got:?}");
            };
            let a = &payload.attachments[0];
            let res = s
                .client
                .get(s.url(&format!(
                    "/api/messaging/blobs/{}?device={}",
                    a.blob_id, m.device_id
                )))
                .header("cookie", &m.cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            let blob = res.bytes().await.unwrap();
            assert_eq!(
                attachment::open(&blob, &a.key, &a.sha256).unwrap(),
                SECRET_FILE
            );
        }
        // Someone outside the conversation gets neither the blob nor the messages.
        let outsider = device(&s, OTHER_PATIENT_EMAIL, "Phone", "member").await;
        let (status, _) = get(
            &s,
            &outsider.cookie,
            &format!(
                "/api/messaging/blobs/{blob_id}?device={}",
                outsider.device_id
            ),
        )
        .await;
        assert_eq!(status, 403);
        assert_eq!(outsider.fetch(&s, &id, 0).await.0, 403);

        // The patient is told there is a new message, and nothing else.
        let mails = mails_since(&s, &mark, 1).await;
        assert!(!mails.is_empty());
        for m in &mails {
            assert!(m.contains("You have a new message"), "{m}");
            assert!(!m.contains("canary") && !m.contains("Biopsy"), "{m}");
        }

        // The ledger has deliveries, membership and device changes — and no content.
        let db = s.stop().await;
        let actions: Vec<String> = ledger_actions(&db).await.into_iter().map(|a| a.0).collect();
        for want in [
            "messaging.device_added",
            "messaging.conversation_started",
            "messaging.membership_changed",
            "messaging.delivered",
            "messaging.attachment_stored",
        ] {
            assert!(actions.iter().any(|a| a == want), "{want} in {actions:?}");
        }
        let found =
            plaintext_anywhere(&s, &db, &[SECRET_TEXT.as_bytes(), SECRET_FILE, b"canary"]).await;
        assert!(found.is_empty(), "plaintext found in {found:?}");
        db.close().await;
    }
}

#[tokio::test]
async fn the_server_accepts_one_commit_per_epoch() {
    for db in common::database_choices().await {
        let s = TestServer::start(db).await;
        with_care_team(&s).await;
        let Conversation {
            id,
            mut clinician,
            mut phone,
            ..
        } = conversation(&s).await;
        phone.sync(&s, &id).await;
        // Both make a commit (a key update) for the same epoch and send it at the same
        // moment: exactly one is accepted (the store's conditional update decides when
        // both pass the first check), the other is refused.
        let group_c = clinician.group(&id);
        let group_p = phone.group(&id);
        let c1 = clinician.device.update(&group_c).unwrap();
        let c2 = phone.device.update(&group_p).unwrap();
        assert_eq!(c1.epoch, c2.epoch);
        let (a, b) = tokio::join!(
            clinician.submit(&s, &id, &c1, &[], &[]),
            phone.submit(&s, &id, &c2, &[], &[])
        );
        let mut statuses = [a, b];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "one commit per epoch");
        // The loser processes the winner and retries in the new epoch.
        let (winner, loser) = if a == 200 {
            (&mut clinician, &mut phone)
        } else {
            (&mut phone, &mut clinician)
        };
        let got = loser.sync(&s, &id).await;
        assert!(matches!(&got[..], [Ok(Received::Commit { .. })]), "{got:?}");
        let group = loser.group(&id);
        let retry = loser.device.update(&group).unwrap();
        assert_eq!(retry.epoch, c1.epoch + 1);
        assert_eq!(loser.submit(&s, &id, &retry, &[], &[]).await, 200);
        // The winner catches up; a message in the current epoch flows.
        winner.sync(&s, &id).await;
        assert_eq!(winner.send_text(&s, &id, "still here").await, 200);
        assert_eq!(loser.texts(&s, &id).await, vec!["still here".to_owned()]);
        // A commit made for an epoch that has since passed is refused.
        let group = winner.group(&id);
        let stale = winner.device.update(&group).unwrap();
        let group = loser.group(&id);
        let fresh = loser.device.update(&group).unwrap();
        assert_eq!(loser.submit(&s, &id, &fresh, &[], &[]).await, 200);
        assert_eq!(winner.submit(&s, &id, &stale, &[], &[]).await, 409);
    }
}

/// The newest message of the conversation as `reader` receives it.
async fn last_message(s: &TestServer, reader: &Member, id: &str) -> Vec<u8> {
    let (status, messages) = reader.fetch(s, id, 0).await;
    assert_eq!(status, 200);
    let last = messages.as_array().unwrap().last().unwrap();
    common::messaging::unb64(last["body"].as_str().unwrap())
}

#[tokio::test]
async fn a_removed_device_or_a_clinician_off_the_care_team_reads_nothing_after() {
    for db in common::database_choices().await {
        let s = TestServer::start(db).await;
        let p = with_care_team(&s).await;
        let Conversation {
            id,
            mut clinician,
            mut phone,
            mut archive,
        } = conversation(&s).await;
        let mut laptop = device(&s, PATIENT_EMAIL, "Laptop", "member").await;
        let patient_id = phone.user_id.clone();
        assert_eq!(phone.add(&s, &id, &[&patient_id]).await, 200);
        laptop.join(&s).await;
        clinician.sync(&s, &id).await;
        archive.sync(&s, &id).await;

        // The patient removes the laptop (lost): nobody may send until it is out.
        let (status, _) = post(
            &s,
            &phone.cookie,
            &format!("/api/messaging/devices/{}/remove", laptop.device_id),
            &json!({}),
        )
        .await;
        assert_eq!(status, 204);
        assert_eq!(
            laptop.fetch(&s, &id, 0).await.0,
            403,
            "the server stops delivering at once"
        );
        let (status, view) = get(
            &s,
            &clinician.cookie,
            &format!(
                "/api/messaging/conversations/{id}?device={}",
                clinician.device_id
            ),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(view["pending_removals"], json!([laptop.device_id]));
        assert_eq!(clinician.send_text(&s, &id, "blocked").await, 409);
        // Any member commits the removal; then messages flow again. Even given the
        // removal commit, the laptop learns only that it was removed.
        let laptop_id = laptop.device_id.clone();
        assert_eq!(
            clinician
                .remove(&s, &id, &[(&patient_id, &laptop_id)])
                .await,
            200
        );
        let removal = last_message(&s, &phone, &id).await;
        assert!(
            matches!(
                laptop.device.process(&removal),
                Ok(Received::RemovedSelf { .. })
            ),
            "the laptop processes its removal"
        );
        phone.sync(&s, &id).await;
        archive.sync(&s, &id).await;
        let after = clinician.encrypt(&id, &Payload::text("after removal"));
        assert_eq!(clinician.send_raw(&s, &id, &after).await.0, 200);
        assert_eq!(phone.texts(&s, &id).await, vec!["after removal".to_owned()]);
        // Even handed the ciphertext, the removed device cannot read it.
        assert!(laptop.device.process(&after).is_err());

        // The clinician is taken off the care team: they must leave too, even with an
        // appointment booked with the patient (an appointment alone is no care-team place).
        common::consult::booked(&s, &p).await;
        let clinician_id = clinician.user_id.clone();
        let res = s
            .post_form(
                &format!("/people/{patient_id}/care-team/{clinician_id}/remove"),
                &[],
                Some(&p.admin),
            )
            .await;
        assert_eq!(res.status(), 303);
        assert_eq!(clinician.fetch(&s, &id, 0).await.0, 403);
        assert_eq!(phone.send_text(&s, &id, "blocked").await, 409);
        let clinician_device = clinician.device_id.clone();
        assert_eq!(
            phone
                .remove(&s, &id, &[(&clinician_id, &clinician_device)])
                .await,
            200
        );
        let removal = last_message(&s, &archive, &id).await;
        assert!(matches!(
            clinician.device.process(&removal),
            Ok(Received::RemovedSelf { .. })
        ));
        archive.sync(&s, &id).await;
        let later = phone.encrypt(&id, &Payload::text("just us now"));
        assert_eq!(phone.send_raw(&s, &id, &later).await.0, 200);
        assert_eq!(archive.texts(&s, &id).await, vec!["just us now".to_owned()]);
        assert!(clinician.device.process(&later).is_err());
    }
}

#[tokio::test]
async fn clients_refuse_tampered_and_replayed_ciphertext() {
    let s = TestServer::start(None).await;
    with_care_team(&s).await;
    let Conversation {
        id,
        mut clinician,
        mut phone,
        ..
    } = conversation(&s).await;
    phone.sync(&s, &id).await;
    let message = clinician.encrypt(&id, &Payload::text("original"));
    let mut tampered = message.clone();
    let last = tampered.len() - 20;
    tampered[last] ^= 0x40;
    // The server cannot tell (it has no key); both reach the patient's device.
    assert_eq!(clinician.send_raw(&s, &id, &tampered).await.0, 200);
    assert_eq!(clinician.send_raw(&s, &id, &message).await.0, 200);
    assert_eq!(
        clinician.send_raw(&s, &id, &message).await.0,
        200,
        "a replay"
    );
    let got = phone.sync(&s, &id).await;
    assert_eq!(got.len(), 3);
    assert!(got[0].is_err(), "tampered: {:?}", got[0]);
    assert!(matches!(&got[1], Ok(Received::Message { payload, .. }) if payload.text == "original"));
    assert!(got[2].is_err(), "replayed: {:?}", got[2]);
}

#[tokio::test]
async fn bad_input_is_refused_and_nothing_is_stored() {
    for db in common::database_choices().await {
        let mut s = TestServer::start_with(db, |c| c.messaging.max_attachment_bytes = 4096).await;
        with_care_team(&s).await;
        let Conversation {
            id,
            mut clinician,
            mut phone,
            ..
        } = conversation(&s).await;
        phone.sync(&s, &id).await;
        let path = format!("/api/messaging/conversations/{id}/messages");
        let send = |m: &Member, body: serde_json::Value| {
            let cookie = m.cookie.clone();
            let s = &s;
            let path = path.clone();
            async move { post(s, &cookie, &path, &body).await }
        };
        let dev = clinician.device_id.clone();
        let valid = clinician.encrypt(&id, &Payload::text("valid"));
        // A second conversation's message, and a commit made for nobody.
        let key_package = clinician.device.key_packages(1).unwrap().remove(0);
        for (body, code) in [
            (json!({"device_id": dev, "message": "%%% not base64"}), 400),
            (json!({"device_id": dev, "message": ""}), 400),
            (
                json!({"device_id": dev, "message": b64(b"garbage that is not MLS")}),
                400,
            ),
            (
                json!({"device_id": dev, "message": b64(&valid[..valid.len() / 2])}),
                400,
            ),
            (
                json!({"device_id": dev, "message": b64(&[valid.clone(), vec![0]].concat())}),
                400,
            ),
            (json!({"device_id": dev, "message": b64(&key_package)}), 400),
            (
                json!({"device_id": dev, "message": b64(&vec![7u8; 300 * 1024])}),
                400,
            ),
            (
                json!({"device_id": "not-a-device", "message": b64(&valid)}),
                400,
            ),
            (
                json!({"device_id": phone.device_id, "message": b64(&valid)}),
                403,
            ),
            (json!({"message": b64(&valid)}), 400),
        ] {
            let (status, answer) = send(&clinician, body.clone()).await;
            assert_eq!(status, code, "{body:.80} → {answer}");
            assert!(
                answer["message"].is_string() || answer["error"].is_object() || !answer.is_null(),
                "{answer}"
            );
        }
        // A message for another group.
        let mut stranger = device(&s, OTHER_PATIENT_EMAIL, "Phone", "member").await;
        let stranger_id = stranger.user_id.clone();
        let other_group_id = stranger.start(&s, &stranger_id).await;
        let foreign = stranger.encrypt(&other_group_id, &Payload::text("elsewhere"));
        let (status, _) = send(
            &clinician,
            json!({"device_id": dev, "message": b64(&foreign)}),
        )
        .await;
        assert_eq!(status, 400, "a message of another group");
        // The sender is not in this group.
        let (status, _) = send(
            &stranger,
            json!({"device_id": stranger.device_id, "message": b64(&valid)}),
        )
        .await;
        assert_eq!(status, 403, "a device outside the conversation");
        // Wrong epoch: a message of the current epoch after the group moved on.
        let group = clinician.group(&id);
        let update = clinician.device.update(&group).unwrap();
        assert_eq!(clinician.submit(&s, &id, &update, &[], &[]).await, 200);
        let (status, answer) = send(
            &clinician,
            json!({"device_id": dev, "message": b64(&valid)}),
        )
        .await;
        assert_eq!(status, 409, "an old epoch: {answer}");
        // A commit that says it adds someone it does not, without a Welcome.
        let stale = clinician.device.update(&group).unwrap();
        let (status, _) = post(
            &s,
            &clinician.cookie,
            &format!("/api/messaging/conversations/{id}/commits"),
            &json!({"device_id": dev, "commit": b64(&stale.commit), "added": [stranger.device_id]}),
        )
        .await;
        assert_eq!(status, 403, "the other patient may not be added");
        clinician.device.discard_pending(&group).unwrap();
        // Oversized attachment.
        let res = s
            .client
            .post(s.url(&format!(
                "/api/messaging/conversations/{id}/blobs?device={dev}"
            )))
            .header("origin", &s.running().origin)
            .header("cookie", &clinician.cookie)
            .body(vec![1u8; 5000])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 413);
        // Devices: a key package of someone else, a malformed id, an archive by a
        // clinician, no fresh sign-in.
        let user = clinician.user_id.clone();
        let register = |cookie: String, body: serde_json::Value| {
            let s = &s;
            async move { post(s, &cookie, "/api/messaging/devices", &body).await }
        };
        let new_id = new_device_id();
        let other =
            Device::create(DeviceIdentity::new(&stranger.user_id, &new_id).unwrap()).unwrap();
        let mut other = other;
        let foreign_kp = b64(&other.key_packages(1).unwrap()[0]);
        let (status, answer) = register(
            clinician.cookie.clone(),
            json!({"device_id": new_id, "label": "x", "signature_key": hex::encode(other.signature_key()), "key_packages": [foreign_kp]}),
        )
        .await;
        assert_eq!(status, 400, "{answer}");
        let mut mine = Device::create(DeviceIdentity::new(&user, &new_id).unwrap()).unwrap();
        let kp = b64(&mine.key_packages(1).unwrap()[0]);
        let key = hex::encode(mine.signature_key());
        let (status, _) = register(
            clinician.cookie.clone(),
            json!({"device_id": "ABC", "label": "x", "signature_key": key, "key_packages": [kp]}),
        )
        .await;
        assert_eq!(status, 400);
        let (status, _) = register(
            clinician.cookie.clone(),
            json!({"device_id": new_id, "label": "x", "kind": "archive", "signature_key": key, "key_packages": [kp]}),
        )
        .await;
        assert_eq!(status, 403, "only the administrator adds archive devices");
        let stale_session = s.session_for(CLINICIAN_EMAIL, 3_600_000).await;
        let (status, _) = register(
            stale_session.clone(),
            json!({"device_id": new_id, "label": "x", "signature_key": key, "key_packages": [kp]}),
        )
        .await;
        assert_eq!(
            status, 403,
            "a new device needs a fresh sign-in or an approval"
        );
        // …or an approval signed by an existing device: a forged one is refused.
        let (status, _) = register(
            stale_session.clone(),
            json!({"device_id": new_id, "label": "x", "signature_key": key, "key_packages": [kp],
                   "approval": {"device_id": dev, "signature": "00".repeat(64)}}),
        )
        .await;
        assert_eq!(status, 403);

        // Claims cannot drain a device's key packages: the same conversation asking
        // again for the same device gets the same one; people outside are refused.
        let laptop = device(&s, PATIENT_EMAIL, "Laptop", "member").await;
        let claim_path = format!("/api/messaging/conversations/{id}/claim");
        let patient_id = phone.user_id.clone();
        let body = json!({"device_id": dev, "user_ids": [patient_id, patient_id]});
        let (status, first) = post(&s, &clinician.cookie, &claim_path, &body).await;
        assert_eq!(status, 200, "{first}");
        let (_, second) = post(&s, &clinician.cookie, &claim_path, &body).await;
        assert_eq!(first.as_array().unwrap().len(), 1, "{first}");
        assert_eq!(first[0]["device_id"], json!(laptop.device_id));
        assert_eq!(first, second);
        let (status, _) = post(
            &s,
            &clinician.cookie,
            &claim_path,
            &json!({"device_id": dev, "user_ids": [stranger_id]}),
        )
        .await;
        assert_eq!(status, 403, "another patient is not in this conversation");

        let db = s.stop().await;
        let stored = store::testing::texts(&db, "SELECT body FROM msg_messages")
            .await
            .unwrap();
        // The group's first commit, the update, and nothing from the refused requests.
        assert_eq!(stored.len(), 2, "only the accepted commits are stored");
        let devices = store::testing::texts(&db, "SELECT id FROM msg_devices")
            .await
            .unwrap();
        assert!(!devices.contains(&new_id));
        let welcomes = store::testing::texts(&db, "SELECT id FROM msg_welcomes")
            .await
            .unwrap();
        // The phone's Welcome went when it read from its join; the archive never read.
        assert_eq!(
            welcomes.len(),
            1,
            "the archive's Welcome, nothing from the refused requests"
        );
        let blobs = store::testing::texts(&db, "SELECT id FROM msg_blobs")
            .await
            .unwrap();
        assert!(blobs.is_empty());
        db.close().await;
    }
}

#[tokio::test]
async fn device_keys_are_published_in_the_transparency_log() {
    let s = TestServer::start(None).await;
    with_care_team(&s).await;
    let phone = device(&s, PATIENT_EMAIL, "Phone", "member").await;
    let (status, proof) = get(
        &s,
        &phone.cookie,
        &format!("/api/messaging/devices/{}/key-proof", phone.device_id),
    )
    .await;
    assert_eq!(status, 200, "{proof}");
    let proof: ledger::InclusionProof = serde_json::from_value(proof).unwrap();
    proof.verify(&s.ledger_key()).unwrap();
    let details = proof.entry.details_map().unwrap();
    assert_eq!(
        details["signature_key"].as_str().unwrap(),
        hex::encode(phone.device.signature_key()),
        "the logged key is the device's"
    );
    assert_eq!(proof.entry.target, format!("device:{}", phone.device_id));
    // A proof for another key does not verify.
    let mut forged = proof.clone();
    forged.entry.details = forged
        .entry
        .details
        .replace(&hex::encode(phone.device.signature_key()), &"ab".repeat(32));
    assert!(forged.verify(&s.ledger_key()).is_err());

    // A second device approved by the first, with a stale session: accepted.
    let stale = s.session_for(PATIENT_EMAIL, 3_600_000).await;
    let new_id = new_device_id();
    let mut second = Device::create(DeviceIdentity::new(&phone.user_id, &new_id).unwrap()).unwrap();
    let key = hex::encode(second.signature_key());
    let approval = phone.device.sign_approval(&new_id, &key).unwrap();
    let (status, answer) = post(
        &s,
        &stale,
        "/api/messaging/devices",
        &json!({"device_id": new_id, "label": "Tablet", "signature_key": key,
                "key_packages": [b64(&second.key_packages(1).unwrap()[0])],
                "approval": {"device_id": phone.device_id, "signature": hex::encode(approval)}}),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
}

/// The conversation as `m` sees it.
async fn view_of(s: &TestServer, m: &Member, id: &str) -> serde_json::Value {
    let (status, view) = get(
        s,
        &m.cookie,
        &format!("/api/messaging/conversations/{id}?device={}", m.device_id),
    )
    .await;
    assert_eq!(status, 200, "{view}");
    view
}

/// Posts `commit` as `by`'s device with the declared lists; the status and answer.
async fn post_commit(
    s: &TestServer,
    by: &Member,
    id: &str,
    commit: &mls_client::Commit,
    added: &[&str],
    removed: &[&str],
) -> (u16, serde_json::Value) {
    post(
        s,
        &by.cookie,
        &format!("/api/messaging/conversations/{id}/commits"),
        &json!({
            "device_id": by.device_id,
            "commit": b64(&commit.commit),
            "welcome": commit.welcome.as_deref().map(b64),
            "added": added,
            "removed": removed,
        }),
    )
    .await
}

#[tokio::test]
async fn the_server_checks_what_each_commit_adds_and_removes() {
    for db in common::database_choices().await {
        let s = TestServer::start(db).await;
        with_care_team(&s).await;
        // Leaves: clinician 0, then the phone and the archive (1 and 2, in the order
        // the server handed out their key packages).
        let Conversation {
            id,
            mut clinician,
            mut phone,
            mut archive,
        } = conversation(&s).await;
        phone.sync(&s, &id).await;
        archive.sync(&s, &id).await;
        let patient_id = phone.user_id.clone();
        let mut tablet = device(&s, PATIENT_EMAIL, "Tablet", "member").await;
        let view = view_of(&s, &clinician, &id).await;
        assert_eq!(view["missing_devices"], json!([tablet.device_id]));
        assert_eq!(view["epoch"], 1);
        let group = clinician.group(&id);
        let refused = |status: u16, body: &serde_json::Value, words: &str| {
            assert_eq!(status, 400, "{body}");
            let text = body.to_string();
            assert!(text.contains(words), "{text}");
        };

        // A key package the server did not hand out (one the tablet made but never
        // uploaded, and one forged under the tablet's name with another key).
        let unclaimed = tablet.device.key_packages(1).unwrap();
        let mut forger = Device::create(tablet.identity()).unwrap();
        let forged = forger.key_packages(1).unwrap();
        for kp in [unclaimed, forged] {
            let c = clinician.device.add_members(&group, &kp).unwrap();
            let (status, body) =
                post_commit(&s, &clinician, &id, &c, &[&tablet.device_id], &[]).await;
            refused(status, &body, "did not hand out");
            clinician.device.discard_pending(&group).unwrap();
        }

        // Removing the archive without declaring it, and declaring another device
        // than the one removed.
        let c = clinician
            .device
            .remove_members(&group, &[archive.identity()])
            .unwrap();
        let (status, body) = post_commit(&s, &clinician, &id, &c, &[], &[]).await;
        refused(status, &body, "removes other devices");
        let (status, body) =
            post_commit(&s, &clinician, &id, &c, &[], &[&clinician.device_id]).await;
        refused(status, &body, "removes other devices");
        clinician.device.discard_pending(&group).unwrap();

        // The phone's commit sent as the clinician's device.
        let phone_group = phone.group(&id);
        let c = phone.device.update(&phone_group).unwrap();
        let phone_leaf = mls_client::frame::inspect_commit(&c.commit)
            .unwrap()
            .sender_leaf;
        assert!(phone_leaf == 1 || phone_leaf == 2, "added with the archive");
        let (status, body) = post_commit(&s, &clinician, &id, &c, &[], &[]).await;
        refused(status, &body, "another member");
        phone.device.discard_pending(&phone_group).unwrap();

        // Well-formed MLS, framed as a commit, but with a proposal by reference.
        let c = clinician.device.update(&group).unwrap();
        let mut forged = c.clone();
        forged.commit = with_proposal_reference(&c.commit);
        assert_eq!(
            mls_client::frame::inspect(&forged.commit).unwrap().kind,
            mls_client::frame::FrameKind::Commit
        );
        let (status, body) = post_commit(&s, &clinician, &id, &forged, &[], &[]).await;
        refused(status, &body, "by reference");
        clinician.device.discard_pending(&group).unwrap();
        assert_eq!(
            view_of(&s, &clinician, &id).await["epoch"],
            1,
            "nothing moved"
        );

        // Leaves through several rounds: the tablet takes leaf 3; the tablet removes
        // the retired phone; a new laptop takes the phone's freed leaf, which the
        // server knows: the laptop's own commit is accepted, and everyone follows.
        assert_eq!(clinician.add(&s, &id, &[&patient_id]).await, 200);
        assert_eq!(
            view_of(&s, &clinician, &id).await["missing_devices"],
            json!([])
        );
        tablet.join(&s).await;
        for m in [&mut phone, &mut archive] {
            assert!(m.sync(&s, &id).await.iter().all(|r| r.is_ok()));
        }
        // The patient retires the phone; the tablet commits its removal.
        let (status, _) = post(
            &s,
            &phone.cookie,
            &format!("/api/messaging/devices/{}/remove", phone.device_id),
            &json!({}),
        )
        .await;
        assert_eq!(status, 204);
        let phone_id = phone.device_id.clone();
        assert_eq!(
            tablet.remove(&s, &id, &[(&patient_id, &phone_id)]).await,
            200
        );
        let mut laptop = device(&s, PATIENT_EMAIL, "Laptop", "member").await;
        clinician.sync(&s, &id).await;
        assert_eq!(
            view_of(&s, &clinician, &id).await["missing_devices"],
            json!([laptop.device_id])
        );
        assert_eq!(clinician.add(&s, &id, &[&patient_id]).await, 200);
        laptop.join(&s).await;
        for m in [&mut tablet, &mut archive] {
            assert!(m.sync(&s, &id).await.iter().all(|r| r.is_ok()));
        }
        let laptop_group = laptop.group(&id);
        let c = laptop.device.update(&laptop_group).unwrap();
        let info = mls_client::frame::inspect_commit(&c.commit).unwrap();
        assert_eq!(
            info.sender_leaf, phone_leaf,
            "OpenMLS put the laptop in the phone's freed leaf"
        );
        assert_eq!(laptop.submit(&s, &id, &c, &[], &[]).await, 200);
        for m in [&mut tablet, &mut archive, &mut clinician] {
            assert!(m.sync(&s, &id).await.iter().all(|r| r.is_ok()));
        }
        assert_eq!(laptop.send_text(&s, &id, "from the laptop").await, 200);
        assert_eq!(
            archive.texts(&s, &id).await,
            vec!["from the laptop".to_owned()]
        );
        assert_eq!(
            clinician.texts(&s, &id).await,
            vec!["from the laptop".to_owned()]
        );

        // The laptop leaves and is added again: it is given a fresh key package (its
        // first one is used up), so it can join again.
        tablet.sync(&s, &id).await;
        let laptop_id = laptop.device_id.clone();
        assert_eq!(
            tablet.remove(&s, &id, &[(&patient_id, &laptop_id)]).await,
            200
        );
        // (The server no longer serves it the conversation; the tablet hands it over.)
        let removal = last_message(&s, &tablet, &id).await;
        assert!(matches!(
            laptop.device.process(&removal),
            Ok(Received::RemovedSelf { .. })
        ));
        clinician.sync(&s, &id).await;
        assert_eq!(
            view_of(&s, &clinician, &id).await["missing_devices"],
            json!([laptop.device_id])
        );
        assert_eq!(clinician.add(&s, &id, &[&patient_id]).await, 200);
        laptop.groups.remove(&id);
        laptop.join(&s).await;
        tablet.sync(&s, &id).await;
        assert_eq!(laptop.send_text(&s, &id, "back again").await, 200);
        assert_eq!(tablet.texts(&s, &id).await, vec!["back again".to_owned()]);
    }
}

/// An update commit (no proposals) with a proposal by reference put in: well-formed
/// MLS, but nothing a Telewarden client sends.
fn with_proposal_reference(update_commit: &[u8]) -> Vec<u8> {
    // version, wire format, group id <V> (16 bytes), epoch, sender (type and leaf),
    // authenticated data <V> (empty), content type, then the empty proposals vector.
    let gid_len = usize::from(update_commit[4]);
    let at = 4 + 1 + gid_len + 8 + 5 + 1 + 1;
    assert_eq!(update_commit[at - 1], 3, "a commit");
    assert_eq!(update_commit[at], 0, "no proposals");
    let mut forged = update_commit[..at].to_vec();
    forged.extend([34, 2, 32]);
    forged.extend([7u8; 32]);
    forged.extend(&update_commit[at + 1..]);
    forged
}
