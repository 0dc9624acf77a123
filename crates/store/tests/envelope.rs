//! Envelope encryption on SQLite and PostgreSQL: records open only where they were
//! sealed, data keys are made once per owner, and a key rotation re-wraps every data
//! key while every record stays readable.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use store::envelope::RecordAad;
use store::keyring::Keyring;
use store::testing;

const CONDITION: &[u8] = br#"{"resourceType":"Condition","code":{"text":"Contact dermatitis"}}"#;

fn aad<'a>(id: &'a str, version: i64) -> RecordAad<'a> {
    RecordAad {
        resource_type: "Condition",
        id,
        version,
    }
}

#[tokio::test]
async fn a_record_opens_only_where_it_was_sealed() {
    let keyring = Keyring::from_bytes([7; 32]);
    for t in testing::backends().await {
        let db = &t.db;
        let sealed = db
            .seal_record(&keyring, "patient-a", aad("c1", 1), CONDITION, 10)
            .await
            .unwrap();
        assert!(!sealed.contains("dermatitis"));
        assert_eq!(
            db.open_record(&keyring, "patient-a", aad("c1", 1), &sealed)
                .await
                .unwrap()
                .as_slice(),
            CONDITION
        );
        // Moved to another id, version, type or patient: refused.
        let elsewhere = [
            ("patient-a", aad("c2", 1)),
            ("patient-a", aad("c1", 2)),
            (
                "patient-a",
                RecordAad {
                    resource_type: "Observation",
                    id: "c1",
                    version: 1,
                },
            ),
        ];
        for (owner, place) in elsewhere {
            assert!(
                db.open_record(&keyring, owner, place, &sealed)
                    .await
                    .is_err(),
                "{place:?}"
            );
        }
        db.seal_record(&keyring, "patient-b", aad("other", 1), b"{}", 10)
            .await
            .unwrap();
        assert!(
            db.open_record(&keyring, "patient-b", aad("c1", 1), &sealed)
                .await
                .is_err(),
            "another patient's key"
        );
        // Altered by one character: refused.
        let mut altered = sealed.clone().into_bytes();
        let last = altered.len() - 1;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        assert!(
            db.open_record(&keyring, "patient-a", aad("c1", 1), &altered)
                .await
                .is_err()
        );
        // Another master key opens nothing.
        let stranger = Keyring::from_bytes([8; 32]);
        assert!(
            db.open_record(&stranger, "patient-a", aad("c1", 1), &sealed)
                .await
                .is_err()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_owner_gets_one_data_key_even_when_asked_at_once() {
    let keyring = std::sync::Arc::new(Keyring::from_bytes([1; 32]));
    for t in testing::backends().await {
        let asks: Vec<_> = (0..8)
            .map(|_| {
                let (db, keyring) = (t.db.clone(), keyring.clone());
                tokio::spawn(async move { db.data_key(&keyring, "patient-a", 5).await })
            })
            .collect();
        let mut keys = Vec::new();
        for ask in asks {
            keys.push(ask.await.unwrap().unwrap());
        }
        for k in &keys {
            assert_eq!(k.as_ref(), keys[0].as_ref(), "one key, whoever asked first");
        }
        let other = t.db.data_key(&keyring, "patient-b", 5).await.unwrap();
        assert_ne!(other.as_ref(), keys[0].as_ref());
        assert_eq!(t.db.kek_versions().await.unwrap(), vec![1]);
    }
}

#[tokio::test]
async fn rotation_rewraps_every_data_key_and_every_record_still_opens() {
    let keyring = Keyring::from_bytes([9; 32]);
    for t in testing::backends().await {
        let db = &t.db;
        let mut sealed = Vec::new();
        for p in 0..300 {
            let owner = format!("patient-{p}");
            let id = format!("c{p}");
            let s = db
                .seal_record(&keyring, &owner, aad(&id, 1), CONDITION, 10)
                .await
                .unwrap();
            sealed.push((owner, id, s));
        }
        let rotation = db.rotate_kek(&keyring, 20).await.unwrap();
        assert_eq!(rotation.kek_version, 2);
        assert_eq!(
            rotation.rewrapped, 300,
            "more than one batch, all re-wrapped"
        );
        assert_eq!(
            db.kek_versions().await.unwrap(),
            vec![2],
            "the old KEK is gone"
        );
        // Read every key afresh from the database, as a restarted server would.
        db.forget_unwrapped_keys();
        for (owner, id, s) in &sealed {
            assert_eq!(
                db.open_record(&keyring, owner, aad(id, 1), s)
                    .await
                    .unwrap()
                    .as_slice(),
                CONDITION
            );
        }
        // New owners get keys under the new KEK; a second rotation moves them all again.
        db.seal_record(&keyring, "patient-new", aad("n1", 1), CONDITION, 30)
            .await
            .unwrap();
        let again = db.rotate_kek(&keyring, 40).await.unwrap();
        assert_eq!((again.kek_version, again.rewrapped), (3, 301));
        assert_eq!(db.kek_versions().await.unwrap(), vec![3]);
        let (owner, id, s) = &sealed[123];
        db.forget_unwrapped_keys();
        assert!(db.open_record(&keyring, owner, aad(id, 1), s).await.is_ok());
        // Keys unwrapped under one master key are no use to another.
        let stranger = Keyring::from_bytes([10; 32]);
        assert!(
            db.open_record(&stranger, owner, aad(id, 1), s)
                .await
                .is_err()
        );
    }
}

#[test]
fn blind_indexes_match_equal_values_only_under_the_same_key() {
    let k = Keyring::from_bytes([4; 32]);
    let ihi = k.blind_index("Patient.identifier:ihi", "8003608166690503");
    assert_eq!(
        ihi,
        k.blind_index("Patient.identifier:ihi", "8003608166690503")
    );
    assert_eq!(ihi.len(), 64);
    assert!(!ihi.contains("800360"));
    assert_ne!(
        ihi,
        k.blind_index("Patient.identifier:ihi", "8003608000000570")
    );
    assert_ne!(
        ihi,
        k.blind_index("Patient.identifier:medicare", "8003608166690503"),
        "per field"
    );
    assert_ne!(
        ihi,
        Keyring::from_bytes([5; 32]).blind_index("Patient.identifier:ihi", "8003608166690503"),
        "per practice"
    );
}
