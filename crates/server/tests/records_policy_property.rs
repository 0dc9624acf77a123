//! Random actors against random records, over real HTTP on SQLite and PostgreSQL: every
//! answer must match what the care relationships of the fixture say, whoever asks, for
//! whichever record, by whichever operation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::consult::{PATIENT_EMAIL, practice};
use common::fhir::{get, send};
use common::{TestServer, database_choices};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::Method as M;
use serde_json::{Value, json};

/// The actors: who they are, and what the fixture made them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actor {
    /// The account patient "A".
    Patient,
    /// Another patient, with no record.
    OtherPatient,
    /// Cares for A (an appointment) and B (registered them).
    Clinician,
    /// Cares for C (registered them).
    OtherClinician,
    Admin,
    Officer,
}

const ACTORS: [Actor; 6] = [
    Actor::Patient,
    Actor::OtherPatient,
    Actor::Clinician,
    Actor::OtherClinician,
    Actor::Admin,
    Actor::Officer,
];

#[derive(Debug, Clone, Copy)]
enum Operation {
    Read,
    Update,
    History,
    Search,
}

const OPERATIONS: [Operation; 4] = [
    Operation::Read,
    Operation::Update,
    Operation::History,
    Operation::Search,
];

/// One record of the fixture: its address, its body, and whose it is (0 = A, 1 = B, 2 = C).
#[derive(Debug, Clone)]
struct Record {
    path: String,
    body: Value,
    patient: usize,
    patient_id: String,
}

/// Does the fixture's care say `actor` may read (or write) patient `p`'s record?
fn may(actor: Actor, p: usize, write: bool, record_is_patient: bool) -> bool {
    match actor {
        Actor::Patient => p == 0 && (!write || record_is_patient),
        Actor::Clinician => p == 0 || p == 1,
        Actor::OtherClinician => p == 2,
        Actor::OtherPatient | Actor::Admin | Actor::Officer => false,
    }
}

#[test]
fn random_actors_against_random_records() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for database in rt.block_on(database_choices()) {
        let (server, cookies, records) = rt.block_on(fixture(database));
        let mut runner = TestRunner::new(Config {
            cases: 64,
            failure_persistence: None,
            ..Config::default()
        });
        let strategy = (0..ACTORS.len(), 0..records.len(), 0..OPERATIONS.len());
        runner
            .run(&strategy, |(a, r, o)| {
                let (actor, record, operation) = (ACTORS[a], &records[r], OPERATIONS[o]);
                let cookie = &cookies[a];
                let is_patient = record.body["resourceType"] == "Patient";
                let (status, body) = rt.block_on(act(&server, cookie, record, operation));
                let expected = match operation {
                    Operation::Read | Operation::History => {
                        if may(actor, record.patient, false, is_patient) {
                            200
                        } else {
                            403
                        }
                    }
                    Operation::Update => {
                        if may(actor, record.patient, true, is_patient) {
                            200
                        } else {
                            403
                        }
                    }
                    Operation::Search => match actor {
                        Actor::Admin | Actor::Officer => 403,
                        _ => 200,
                    },
                };
                prop_assert_eq!(
                    status,
                    expected,
                    "{:?} {:?} {}: {}",
                    actor,
                    operation,
                    record.path,
                    body
                );
                if matches!(operation, Operation::Search) && status == 200 {
                    let sees = may(actor, record.patient, false, is_patient);
                    prop_assert_eq!(
                        body["total"].as_u64(),
                        Some(u64::from(sees)),
                        "{:?} searches {}: {}",
                        actor,
                        record.path,
                        body
                    );
                }
                Ok(())
            })
            .unwrap();
        drop(server);
    }
}

async fn act(s: &TestServer, cookie: &str, record: &Record, operation: Operation) -> (u16, Value) {
    match operation {
        Operation::Read => get(s, &record.path, cookie).await,
        Operation::History => get(s, &format!("{}/_history", record.path), cookie).await,
        Operation::Update => {
            let (status, _, body) = send(
                s,
                M::PUT,
                &record.path,
                cookie,
                Some(record.body.to_string()),
                None,
            )
            .await;
            (status, body)
        }
        Operation::Search => {
            let kind = record.body["resourceType"].as_str().unwrap();
            let query = if kind == "Patient" {
                format!(
                    "/fhir/Patient?identifier={}",
                    record.body["identifier"][0]["value"].as_str().unwrap()
                )
            } else {
                format!("/fhir/{kind}?patient={}", record.patient_id)
            };
            get(s, &query, cookie).await
        }
    }
}

/// Patients A (an account, in the clinician's care through an appointment), B
/// (registered by the clinician) and C (registered by the other clinician), each with a
/// Condition; cookies in the order of [`ACTORS`].
async fn fixture(database: Option<String>) -> (TestServer, Vec<String>, Vec<Record>) {
    let s = TestServer::start(database).await;
    let p = practice(&s).await;
    let officer_email = "officer@harbour.example";
    common::identity::invite(
        &s,
        &p.admin,
        "Ilse Varga",
        officer_email,
        "security_officer",
    )
    .await;
    let officer = s.session_for(officer_email, 0).await;
    common::consult::booked(&s, &p).await;
    let db = store::Db::connect(&s.db_url, &store::PoolSettings::default())
        .await
        .unwrap();
    let a = db
        .user_by_email(&s.keyring(), PATIENT_EMAIL)
        .await
        .unwrap()
        .unwrap()
        .id;
    db.close().await;

    // Distinct valid IHIs, so each Patient is found by its own.
    let ihis = ["8003608166690503", "8003608833357361", "8003601234567890"];
    let mut records = Vec::new();
    let mut ids = Vec::new();
    for (n, (author, ihi)) in [
        (&p.clinician, ihis[0]),
        (&p.clinician, ihis[1]),
        (&p.other_clinician, ihis[2]),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = json!({"resourceType": "Patient", "name": [{"text": format!("Patient {n}")}],
                              "identifier": [{"system": "urn:example:mrn", "value": ihi}]});
        let (status, _, created) = if n == 0 {
            body["id"] = a.clone().into();
            send(
                &s,
                M::PUT,
                &format!("/fhir/Patient/{a}"),
                author,
                Some(body.to_string()),
                None,
            )
            .await
        } else {
            send(
                &s,
                M::POST,
                "/fhir/Patient",
                author,
                Some(body.to_string()),
                None,
            )
            .await
        };
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        body["id"] = id.clone().into();
        records.push(Record {
            path: format!("/fhir/Patient/{id}"),
            body,
            patient: n,
            patient_id: id.clone(),
        });
        ids.push((author.clone(), id));
    }
    for (n, (author, id)) in ids.iter().enumerate() {
        let body = json!({"resourceType": "Condition", "subject": {"reference": format!("Patient/{id}")},
                          "code": {"text": format!("Condition {n}")}});
        let (status, _, created) = send(
            &s,
            M::POST,
            "/fhir/Condition",
            author,
            Some(body.to_string()),
            None,
        )
        .await;
        assert_eq!(status, 201, "{created}");
        let cid = created["id"].as_str().unwrap().to_owned();
        let mut body = body;
        body["id"] = cid.clone().into();
        records.push(Record {
            path: format!("/fhir/Condition/{cid}"),
            body,
            patient: n,
            patient_id: id.clone(),
        });
    }
    let cookies = vec![
        p.patient.clone(),
        p.other_patient.clone(),
        p.clinician.clone(),
        p.other_clinician.clone(),
        p.admin.clone(),
        officer,
    ];
    (s, cookies, records)
}
