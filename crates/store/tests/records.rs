//! Record storage on SQLite and PostgreSQL: versions are kept, updates move only from the
//! version the writer read, deletions are tombstones, search goes through blind-index
//! tokens — and the raw database holds no name, identifier or diagnosis in the clear,
//! nor any account's name or e-mail address.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use store::envelope::RecordAad;
use store::keyring::Keyring;
use store::records::{RecordVersion, RecordWrite, UpdateOutcome};
use store::{Backend, Db, testing};

const NAME: &str = "Wiremu Okonkwo-Lindqvist";
const IHI: &str = "8003608166690503";
const DIAGNOSIS: &str = "Contact dermatitis of the left forearm";
const EMAIL: &str = "wiremu.ol@patients.example";
const CLINICIAN: &str = "Dr Philomena Achterberg";
const CLINICIAN_EMAIL: &str = "p.achterberg@clinic.example";

async fn sealed_version(
    db: &Db,
    keyring: &Keyring,
    resource_type: &str,
    id: &str,
    version: i64,
    json: &str,
    deleted: bool,
) -> RecordVersion {
    let aad = RecordAad {
        resource_type,
        id,
        version,
    };
    RecordVersion {
        resource_type: resource_type.into(),
        id: id.into(),
        version,
        owner: "patient-1".into(),
        sealed: db
            .seal_record(keyring, "patient-1", aad, json.as_bytes(), 100)
            .await
            .unwrap(),
        deleted,
        author: "user:doc".into(),
        created_ms: 100 + version,
    }
}

async fn opened(db: &Db, keyring: &Keyring, v: &RecordVersion) -> String {
    let aad = RecordAad {
        resource_type: &v.resource_type,
        id: &v.id,
        version: v.version,
    };
    String::from_utf8(
        db.open_record(keyring, &v.owner, aad, &v.sealed)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap()
}

#[tokio::test]
async fn versions_conflicts_tombstones_and_search() {
    let keyring = Keyring::from_bytes([2; 32]);
    for t in testing::backends().await {
        let db = &t.db;
        let name_token = keyring.blind_index("Patient.name", &NAME.to_lowercase());
        let ihi_token = keyring.blind_index("Patient.identifier", IHI);
        let index = vec![
            ("name".to_owned(), name_token.clone()),
            ("identifier".to_owned(), ihi_token.clone()),
        ];
        let patient =
            format!(r#"{{"resourceType":"Patient","id":"p1","name":[{{"text":"{NAME}"}}]}}"#);
        let v1 = sealed_version(db, &keyring, "Patient", "p1", 1, &patient, false).await;
        db.create_record(&RecordWrite {
            version: &v1,
            index: &index,
            joins_care_team: None,
        })
        .await
        .unwrap();
        // The same id again: refused.
        assert!(matches!(
            db.create_record(&RecordWrite {
                version: &v1,
                index: &index,
                joins_care_team: None,
            })
            .await,
            Err(store::StoreError::Conflict(_))
        ));
        assert_eq!(db.record_head("Patient", "p1").await.unwrap().unwrap(), v1);
        assert_eq!(opened(db, &keyring, &v1).await, patient);
        assert_eq!(
            db.search_records("Patient", "identifier", &ihi_token, 10)
                .await
                .unwrap(),
            ["p1"]
        );

        // An update from version 1 works once; a second writer who also read version 1
        // is told it moved on, and nothing of theirs is written.
        let renamed = patient.replace("Wiremu", "Wiremu J.");
        let v2 = sealed_version(db, &keyring, "Patient", "p1", 2, &renamed, false).await;
        let only_ihi = vec![("identifier".to_owned(), ihi_token.clone())];
        let w2 = RecordWrite {
            version: &v2,
            index: &only_ihi,
            joins_care_team: None,
        };
        assert_eq!(
            db.update_record(&w2, 1).await.unwrap(),
            UpdateOutcome::Written
        );
        assert_eq!(
            db.update_record(&w2, 1).await.unwrap(),
            UpdateOutcome::VersionConflict
        );
        let stale = sealed_version(db, &keyring, "Patient", "p1", 2, "{}", false).await;
        assert_eq!(
            db.update_record(
                &RecordWrite {
                    version: &stale,
                    index: &[],
                    joins_care_team: None,
                },
                1
            )
            .await
            .unwrap(),
            UpdateOutcome::VersionConflict
        );
        assert_eq!(db.record_head("Patient", "p1").await.unwrap().unwrap(), v2);
        // The index follows the current version only.
        assert!(
            db.search_records("Patient", "name", &name_token, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let ghost = sealed_version(db, &keyring, "Patient", "nobody", 2, "{}", false).await;
        assert_eq!(
            db.update_record(
                &RecordWrite {
                    version: &ghost,
                    index: &[],
                    joins_care_team: None,
                },
                1
            )
            .await
            .unwrap(),
            UpdateOutcome::Missing
        );

        // A deletion is a version: the history keeps everything, search finds nothing.
        let v3 = sealed_version(db, &keyring, "Patient", "p1", 3, "", true).await;
        assert_eq!(
            db.update_record(
                &RecordWrite {
                    version: &v3,
                    index: &index,
                    joins_care_team: None,
                },
                2
            )
            .await
            .unwrap(),
            UpdateOutcome::Written
        );
        let history = db.record_history("Patient", "p1").await.unwrap();
        assert_eq!(
            history
                .iter()
                .map(|v| (v.version, v.deleted))
                .collect::<Vec<_>>(),
            [(3, true), (2, false), (1, false)]
        );
        assert_eq!(
            db.record_version("Patient", "p1", 1)
                .await
                .unwrap()
                .unwrap(),
            v1
        );
        assert!(
            db.search_records("Patient", "identifier", &ihi_token, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            db.records_of("patient-1", "Patient", 10)
                .await
                .unwrap()
                .is_empty()
        );

        // A condition in the same patient's compartment.
        let condition =
            format!(r#"{{"resourceType":"Condition","code":{{"text":"{DIAGNOSIS}"}}}}"#);
        let c1 = sealed_version(db, &keyring, "Condition", "c1", 1, &condition, false).await;
        db.create_record(&RecordWrite {
            version: &c1,
            index: &[],
            joins_care_team: None,
        })
        .await
        .unwrap();
        assert_eq!(
            db.records_of("patient-1", "Condition", 10).await.unwrap(),
            ["c1"]
        );
    }
}

/// Everything the database holds, as text: the SQLite files' bytes, or every row of the
/// record and key tables as PostgreSQL prints them.
async fn raw_contents(t: &testing::TestDb) -> String {
    match t.backend() {
        Backend::Sqlite => {
            let path = t.url.strip_prefix("sqlite://").unwrap();
            let mut bytes = Vec::new();
            for suffix in ["", "-wal"] {
                if let Ok(b) = std::fs::read(format!("{path}{suffix}")) {
                    bytes.extend(b);
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Backend::Postgres => {
            let mut all = String::new();
            for table in [
                "record_versions",
                "record_heads",
                "record_index",
                "users",
                "data_keys",
                "key_encryption_keys",
            ] {
                let rows = testing::texts(&t.db, &format!("SELECT CAST(t AS TEXT) FROM {table} t"))
                    .await
                    .unwrap();
                all.push_str(&rows.join("\n"));
            }
            all
        }
    }
}

#[tokio::test]
async fn the_raw_database_holds_no_name_identifier_or_diagnosis() {
    let keyring = Keyring::from_bytes([6; 32]);
    for t in testing::backends().await {
        let db = &t.db;
        let patient = format!(
            r#"{{"resourceType":"Patient","id":"p1","name":[{{"text":"{NAME}"}}],"identifier":[{{"value":"{IHI}"}}]}}"#
        );
        let index = vec![
            (
                "name".to_owned(),
                keyring.blind_index("Patient.name", &NAME.to_lowercase()),
            ),
            (
                "identifier".to_owned(),
                keyring.blind_index("Patient.identifier", IHI),
            ),
        ];
        let v1 = sealed_version(db, &keyring, "Patient", "p1", 1, &patient, false).await;
        db.create_record(&RecordWrite {
            version: &v1,
            index: &index,
            joins_care_team: None,
        })
        .await
        .unwrap();
        let condition =
            format!(r#"{{"resourceType":"Condition","code":{{"text":"{DIAGNOSIS}"}}}}"#);
        let c1 = sealed_version(db, &keyring, "Condition", "c1", 1, &condition, false).await;
        db.create_record(&RecordWrite {
            version: &c1,
            index: &[],
            joins_care_team: None,
        })
        .await
        .unwrap();

        // The patient's account and their clinician's, in the sealed directory.
        for (id, name, email, role) in [
            ("p1", NAME, EMAIL, "patient"),
            ("doc", CLINICIAN, CLINICIAN_EMAIL, "clinician"),
        ] {
            let user = store::accounts::UserRow {
                id: id.into(),
                email: email.into(),
                display_name: name.into(),
                role: role.into(),
                password_hash: None,
                created_ms: 100,
                disabled_ms: None,
            };
            let inv = store::invitations::InvitationRow {
                id: format!("i-{id}"),
                token_hash: format!("h-{id}"),
                kind: "enrol".into(),
                user_id: id.into(),
                invited_by: None,
                created_ms: 100,
                expires_ms: 200,
                used_ms: None,
                revoked_ms: None,
            };
            db.invite_user(&keyring, &user, &inv).await.unwrap();
        }
        assert_eq!(
            db.user_by_email(&keyring, EMAIL)
                .await
                .unwrap()
                .unwrap()
                .display_name,
            NAME
        );

        let raw = raw_contents(&t).await;
        assert!(
            raw.contains("Patient") && raw.contains("clinician"),
            "the scan reads the tables ({:?})",
            t.backend()
        );
        for secret in [
            NAME,
            "Okonkwo",
            IHI,
            DIAGNOSIS,
            "dermatitis",
            EMAIL,
            "wiremu",
            CLINICIAN,
            "Achterberg",
            CLINICIAN_EMAIL,
        ] {
            assert!(
                !raw.contains(secret),
                "{secret:?} in the clear on {:?}",
                t.backend()
            );
        }
    }
}
