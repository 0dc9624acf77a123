//! The FHIR API for Patient over real HTTP, on SQLite and PostgreSQL: create, read,
//! versioned update with If-Match, history, search through blind indexes, delete as a
//! tombstone; who may read what; bad input answered with an OperationOutcome and
//! nothing stored; every read and change in the ledger; nothing readable in the raw
//! database (records, and the names and addresses of the accounts).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::consult::{
    OTHER_CLINICIAN_EMAIL, OTHER_PATIENT_EMAIL, PATIENT_EMAIL, PATIENT_NAME, practice,
};
use common::fhir::{get, outcome, send};
use common::{
    ADMIN_EMAIL, ADMIN_NAME, CLINICIAN_EMAIL, CLINICIAN_NAME, TestServer, database_choices,
    ledger_actions,
};
use reqwest::header::{ETAG, LOCATION};
use serde_json::{Value, json};

const IHI_SYSTEM: &str = "http://ns.electronichealth.net.au/id/hi/ihi/1.0";
const IHI: &str = "8003608166690503";
const FAMILY: &str = "Tautahi-Brennan";

fn patient_body(id: Option<&str>, given: &str) -> Value {
    let mut body = json!({
        "resourceType": "Patient",
        "name": [{ "family": FAMILY, "given": [given] }],
        "gender": "female",
        "birthDate": "1948-07-02",
        "identifier": [{ "system": IHI_SYSTEM, "value": IHI }],
    });
    if let Some(id) = id {
        body["id"] = id.into();
    }
    body
}

#[tokio::test]
async fn patient_records_through_the_fhir_api() {
    for database in database_choices().await {
        let mut s = TestServer::start(database).await;
        let p = practice(&s).await;
        use reqwest::Method as M;

        // The metadata says what the server does.
        let (status, meta) = get(&s, "/fhir/metadata", &p.clinician).await;
        assert_eq!(status, 200);
        assert_eq!(meta["resourceType"], "CapabilityStatement");
        assert_eq!(meta["fhirVersion"], "4.0.1");

        // A clinician registers a patient.
        let (status, headers, created) = send(
            &s,
            M::POST,
            "/fhir/Patient",
            &p.clinician,
            Some(patient_body(Some("ignored"), "Aroha").to_string()),
            None,
        )
        .await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        assert_ne!(id, "ignored", "the server chooses the id of a create");
        assert_eq!(created["meta"]["versionId"], "1");
        assert_eq!(headers[ETAG], "W/\"1\"");
        assert!(
            headers[LOCATION]
                .to_str()
                .unwrap()
                .ends_with(&format!("/fhir/Patient/{id}/_history/1"))
        );
        let path = format!("/fhir/Patient/{id}");
        let (status, read) = get(&s, &path, &p.clinician).await;
        assert_eq!(status, 200);
        assert_eq!(read["name"][0]["given"][0], "Aroha");

        // Nobody else reads it: another clinician (no care relationship), the
        // administrator, a patient.
        for cookie in [&p.other_clinician, &p.admin, &p.patient] {
            let (status, body) = get(&s, &path, cookie).await;
            assert_eq!((status, outcome(&body)), (403, "forbidden"));
        }
        let (status, _, body) = send(&s, M::GET, &path, "tw_session=nobody", None, None).await;
        assert_eq!((status, outcome(&body)), (401, "login"));

        // Versioned update: If-Match on the version read; a stale writer is refused.
        let (status, headers, v2) = send(
            &s,
            M::PUT,
            &path,
            &p.clinician,
            Some(patient_body(Some(&id), "Aroha Mere").to_string()),
            Some("W/\"1\""),
        )
        .await;
        assert_eq!(status, 200, "{v2}");
        assert_eq!(headers[ETAG], "W/\"2\"");
        let (status, _, stale) = send(
            &s,
            M::PUT,
            &path,
            &p.clinician,
            Some(patient_body(Some(&id), "Stale").to_string()),
            Some("W/\"1\""),
        )
        .await;
        assert_eq!((status, outcome(&stale)), (412, "conflict"));
        let (_, v1) = get(&s, &format!("{path}/_history/1"), &p.clinician).await;
        assert_eq!(v1["name"][0]["given"][0], "Aroha");
        let (_, history) = get(&s, &format!("{path}/_history"), &p.clinician).await;
        assert_eq!(
            (history["type"].as_str(), history["total"].as_u64()),
            (Some("history"), Some(2))
        );

        // Search by identifier (as typed, with spaces), by a word of the name, by
        // birth date; the other clinician finds nothing of it.
        for query in [
            "identifier=8003 6081 6669 0503",
            "name=TAUTAHI-BRENNAN",
            "name=mere",
            "birthdate=1948-07-02",
            "name=aroha&birthdate=1948-07-02",
        ] {
            let (status, found) = get(&s, &format!("/fhir/Patient?{query}"), &p.clinician).await;
            assert_eq!(status, 200, "{query}: {found}");
            assert_eq!(found["total"], 1, "{query}");
            assert_eq!(found["entry"][0]["resource"]["id"], id.as_str());
        }
        let (_, none) = get(
            &s,
            "/fhir/Patient?identifier=8003608166690503",
            &p.other_clinician,
        )
        .await;
        assert_eq!(none["total"], 0);

        // A patient with an account: their Patient has their account's id. A clinician
        // without a care relationship cannot write it (nor join the care team so);
        // with an appointment they can. The patient reads their own record, and only
        // that; here they may change only their contact details.
        let patient_id = s.user_id(PATIENT_EMAIL).await;
        let own = format!("/fhir/Patient/{patient_id}");
        let (status, _, refused) = send(
            &s,
            M::PUT,
            &own,
            &p.clinician,
            Some(json!({"resourceType": "Patient", "id": patient_id}).to_string()),
            None,
        )
        .await;
        assert_eq!((status, outcome(&refused)), (403, "forbidden"));
        common::consult::booked(&s, &p).await;
        let (status, _, linked) = send(&s, M::PUT, &own, &p.clinician, Some(json!({"resourceType": "Patient", "id": patient_id, "name": [{"text": "Marguerite Okonkwo"}]}).to_string()), None).await;
        assert_eq!(status, 201, "{linked}");
        let (status, mine) = get(&s, &own, &p.patient).await;
        assert_eq!(
            (status, mine["id"].as_str()),
            (200, Some(patient_id.as_str()))
        );
        let (_, listed) = get(&s, "/fhir/Patient", &p.patient).await;
        assert_eq!(listed["total"], 1);
        let (status, theirs) = get(&s, &own, &p.other_patient).await;
        assert_eq!((status, outcome(&theirs)), (403, "forbidden"));
        let (status, _, refused) = send(
            &s,
            M::PUT,
            &own,
            &p.patient,
            Some(json!({"resourceType": "Patient", "id": patient_id}).to_string()),
            None,
        )
        .await;
        assert_eq!((status, outcome(&refused)), (403, "forbidden"));
        assert!(!s.user_id(OTHER_PATIENT_EMAIL).await.is_empty());

        // Bad input of every kind: an OperationOutcome, and nothing stored.
        let bad = [
            ("{not json", 400),
            ("[]", 400),
            (r#"{"resourceType":"Observation"}"#, 400),
            (r#"{"resourceType":"Patient","id":"someone-else"}"#, 400),
            (
                r#"{"resourceType":"Patient","id":"ID","hairColour":"red"}"#,
                400,
            ),
            (
                r#"{"resourceType":"Patient","identifier":[{"system":"http://ns.electronichealth.net.au/id/hi/ihi/1.0","value":"8003608166690504"}]}"#,
                400,
            ),
        ];
        for (body, expected) in bad {
            let body = body.replace("\"ID\"", &format!("\"{id}\""));
            let (status, _, out) =
                send(&s, M::PUT, &path, &p.clinician, Some(body.clone()), None).await;
            assert_eq!((status, outcome(&out)), (expected, "invalid"), "{body}");
        }
        let huge = json!({"resourceType": "Patient", "id": id, "name": [{"text": "x".repeat(2 * 1024 * 1024)}]}).to_string();
        let (status, _, out) = send(&s, M::PUT, &path, &p.clinician, Some(huge), None).await;
        assert_eq!((status, outcome(&out)), (413, "too-long"));
        for query in [
            "name=%27%20OR%201%3D1%20--",
            "identifier=%3Cscript%3E",
            "name=a%00b",
        ] {
            let (status, found) = get(&s, &format!("/fhir/Patient?{query}"), &p.clinician).await;
            assert_eq!((status, found["total"].as_u64()), (200, Some(0)), "{query}");
        }
        let (status, out) = get(&s, "/fhir/Patient?colour=red", &p.clinician).await;
        assert_eq!((status, outcome(&out)), (400, "invalid"));
        let (status, out) = get(&s, "/fhir/Spaceship/1", &p.clinician).await;
        assert_eq!((status, outcome(&out)), (404, "not-found"));
        let (status, out) = get(&s, "/fhir/Patient/..%2F..%2Fetc", &p.clinician).await;
        assert_eq!((status, outcome(&out)), (404, "not-found"));
        let (_, history) = get(&s, &format!("{path}/_history"), &p.clinician).await;
        assert_eq!(history["total"], 2, "nothing stored by bad input");

        // Delete: a tombstone; the history keeps the rest.
        let (status, _, _) = send(&s, M::DELETE, &path, &p.clinician, None, None).await;
        assert_eq!(status, 204);
        let (status, gone) = get(&s, &path, &p.clinician).await;
        assert_eq!((status, outcome(&gone)), (410, "not-found"));
        let (_, history) = get(&s, &format!("{path}/_history"), &p.clinician).await;
        assert_eq!(history["total"], 3);
        let (_, found) = get(
            &s,
            "/fhir/Patient?identifier=8003608166690503",
            &p.clinician,
        )
        .await;
        assert_eq!(found["total"], 0);

        // The ledger has every read and change; the raw database no name or IHI.
        let db = s.stop().await;
        let actions: Vec<(String, String)> = ledger_actions(&db)
            .await
            .into_iter()
            .map(|(a, _, t)| (a, t))
            .collect();
        for action in [
            "record.created",
            "record.read",
            "record.updated",
            "record.history_read",
            "record.searched",
            "record.deleted",
        ] {
            assert!(
                actions.iter().any(|(a, _)| a == action),
                "{action} in the ledger"
            );
        }
        assert!(actions.contains(&("record.read".into(), format!("Patient/{patient_id}"))));
        let raw = common::fhir::raw_record_storage(&s, &db).await;
        assert!(raw.contains("Patient"), "the scan sees the records");
        for secret in [FAMILY, "Tautahi", IHI, "Aroha", "1948-07-02"] {
            assert!(!raw.contains(secret), "{secret} in the clear");
        }
        // Nor anyone's name or e-mail address, patient or staff: the directory is sealed.
        assert!(raw.contains("practice_admin"), "the scan sees the accounts");
        for person in [
            ADMIN_NAME,
            ADMIN_EMAIL,
            CLINICIAN_NAME,
            CLINICIAN_EMAIL,
            "Dr Wen Ng",
            OTHER_CLINICIAN_EMAIL,
            PATIENT_NAME,
            "Okonkwo-Lindqvist",
            PATIENT_EMAIL,
            "Bartholomew Ferreira",
            OTHER_PATIENT_EMAIL,
        ] {
            assert!(!raw.contains(person), "{person} in the clear");
        }
        db.close().await;
    }
}
