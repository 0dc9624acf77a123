//! Clinical records over real HTTP, on SQLite and PostgreSQL: every resource type of
//! the API attached to its patient and searched by patient, date and status; what each
//! role may do to them (a table); break-glass with step-up, an alert, a review and an
//! expiry; the patient's "who looked" list with proofs checked offline; exports with
//! step-up and a staff limit; the pages doing the same through the same functions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::consult::{OTHER_CLINICIAN_EMAIL, PATIENT_EMAIL, Practice, practice};
use common::fhir::{get, outcome, send};
use common::{TestServer, database_choices};
use reqwest::Method as M;
use serde_json::{Value, json};
use store::{Db, PoolSettings};

const DIAGNOSIS: &str = "Idiopathic pulmonary fibrosis";
const MEDICINE: &str = "Pirfenidone 267 mg tablet";

async fn db(s: &TestServer) -> Db {
    Db::connect(&s.db_url, &PoolSettings::default())
        .await
        .unwrap()
}

async fn create(s: &TestServer, cookie: &str, body: Value) -> (u16, Value) {
    let path = format!("/fhir/{}", body["resourceType"].as_str().unwrap());
    let (status, _, out) = send(s, M::POST, &path, cookie, Some(body.to_string()), None).await;
    (status, out)
}

/// One instance of every clinical type, for `patient`.
fn clinical(patient: &str) -> Vec<Value> {
    let subject = json!({ "reference": format!("Patient/{patient}") });
    vec![
        json!({"resourceType": "Condition", "subject": subject,
               "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
               "code": {"text": DIAGNOSIS}, "recordedDate": "2026-03-14"}),
        json!({"resourceType": "Observation", "status": "final", "subject": subject,
               "code": {"text": "Oxygen saturation"}, "effectiveDateTime": "2026-03-14T09:30:00+11:00",
               "valueQuantity": {"value": 91, "unit": "%"}}),
        json!({"resourceType": "AllergyIntolerance", "patient": subject, "code": {"text": "Penicillin"},
               "clinicalStatus": {"coding": [{"code": "active"}]}, "recordedDate": "2025-01-02"}),
        json!({"resourceType": "MedicationRequest", "status": "active", "intent": "order", "subject": subject,
               "medicationCodeableConcept": {"text": MEDICINE}, "authoredOn": "2026-03-14"}),
        json!({"resourceType": "CarePlan", "status": "active", "intent": "plan", "subject": subject,
               "title": "Pulmonary rehabilitation", "period": {"start": "2026-03-15"}}),
        json!({"resourceType": "Encounter", "status": "finished", "subject": subject,
               "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "VR"},
               "period": {"start": "2026-03-14T09:00:00+11:00", "end": "2026-03-14T09:40:00+11:00"}}),
        json!({"resourceType": "Appointment", "status": "booked", "start": "2026-04-01T10:00:00+11:00",
               "end": "2026-04-01T10:30:00+11:00",
               "participant": [{"actor": subject, "status": "accepted"}]}),
        json!({"resourceType": "Consent", "status": "active",
               "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
               "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
               "patient": subject, "dateTime": "2026-03-14",
               "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]}}),
        json!({"resourceType": "Binary", "contentType": "text/plain", "securityContext": subject,
               "data": "U3Bpcm9tZXRyeSByZXBvcnQ="}),
    ]
}

/// A registered patient with their account's id, cared for by `p.clinician` (booked).
async fn cared_for_patient(s: &TestServer, p: &Practice) -> String {
    let d = db(s).await;
    let id = d
        .user_by_email(&s.keyring(), PATIENT_EMAIL)
        .await
        .unwrap()
        .unwrap()
        .id;
    d.close().await;
    common::consult::booked(s, p).await;
    let body = json!({"resourceType": "Patient", "id": id, "name": [{"family": "Ngata-Fairweather", "given": ["Hinemoa"]}],
                      "birthDate": "1961-09-30", "telecom": [{"system": "phone", "value": "0400 000 001"}]});
    let (status, _, out) = send(
        s,
        M::PUT,
        &format!("/fhir/Patient/{id}"),
        &p.clinician,
        Some(body.to_string()),
        None,
    )
    .await;
    assert_eq!(status, 201, "{out}");
    id
}

#[tokio::test]
async fn clinical_resources_roles_break_glass_who_looked_and_export() {
    for database in database_choices().await {
        let mut s = TestServer::start(database).await;
        let p = practice(&s).await;
        let patient = cared_for_patient(&s, &p).await;
        let officer = {
            let email = "sec@harbour.example";
            common::identity::invite(&s, &p.admin, "Sello Mokoena", email, "security_officer")
                .await;
            s.session_for(email, 0).await
        };

        // Every clinical type, attached to the patient, read back and found.
        let mut created: Vec<(String, String)> = Vec::new();
        for body in clinical(&patient) {
            let (status, out) = create(&s, &p.clinician, body.clone()).await;
            assert_eq!(status, 201, "{body}: {out}");
            let kind = out["resourceType"].as_str().unwrap().to_owned();
            created.push((kind, out["id"].as_str().unwrap().to_owned()));
        }
        let (_, document) = create(&s, &p.clinician, json!({"resourceType": "DocumentReference", "status": "current",
            "subject": {"reference": format!("Patient/{patient}")}, "date": "2026-03-14T10:00:00+11:00",
            "description": "Spirometry report",
            "content": [{"attachment": {"contentType": "text/plain", "url": format!("Binary/{}", created.iter().find(|c| c.0 == "Binary").unwrap().1)}}]})).await;
        assert_eq!(document["resourceType"], "DocumentReference", "{document}");
        for (kind, id) in &created {
            let (status, out) = get(&s, &format!("/fhir/{kind}/{id}"), &p.clinician).await;
            assert_eq!(
                (status, out["resourceType"].as_str()),
                (200, Some(kind.as_str()))
            );
        }
        for (query, expected) in [
            (format!("Condition?patient=Patient/{patient}"), 1),
            (format!("Condition?subject={patient}&status=active"), 1),
            (format!("Condition?patient={patient}&status=resolved"), 0),
            ("Condition?date=2026-03".into(), 1),
            ("Condition?date=2026-03-14".into(), 1),
            ("Condition?date=2025".into(), 0),
            ("Observation?date=2026-03-14&status=final".into(), 1),
            (format!("MedicationRequest?patient={patient}"), 1),
            ("Appointment?date=2026-04-01".into(), 1),
            (format!("Binary?patient={patient}"), 1),
        ] {
            let (status, found) = get(&s, &format!("/fhir/{query}"), &p.clinician).await;
            assert_eq!(
                (status, found["total"].as_u64()),
                (200, Some(expected)),
                "{query}: {found}"
            );
        }

        // Consult appointments are Appointments too, read-only here.
        let (_, appointments) = get(
            &s,
            &format!("/fhir/Appointment?patient={patient}"),
            &p.clinician,
        )
        .await;
        assert_eq!(appointments["total"], 2, "{appointments}");
        let consult = appointments["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["resource"])
            .find(|r| r["serviceType"][0]["text"] == "Video consultation")
            .expect("the booked consult is listed")
            .clone();
        assert_eq!(consult["status"], "booked");
        let consult_path = format!("/fhir/Appointment/{}", consult["id"].as_str().unwrap());
        let (status, read) = get(&s, &consult_path, &p.patient).await;
        assert_eq!((status, &read["id"]), (200, &consult["id"]));
        let (status, _, out) = send(&s, M::DELETE, &consult_path, &p.clinician, None, None).await;
        assert_eq!((status, outcome(&out)), (409, "conflict"));
        let (status, _) = get(&s, &consult_path, &p.other_patient).await;
        assert_eq!(status, 403);
        let (_, mine) = get(&s, "/fhir/Appointment", &p.patient).await;
        assert_eq!(
            mine["total"], 2,
            "a patient's own appointments, consults included"
        );

        // Bad clinical input: refused, nothing stored.
        let subject = json!({"reference": format!("Patient/{patient}")});
        for (body, why) in [
            (
                json!({"resourceType": "Condition", "code": {"text": "x"}}),
                "must have subject",
            ),
            (
                json!({"resourceType": "Condition", "subject": {"reference": "Patient/nobody-here"}}),
                "no patient",
            ),
            (
                json!({"resourceType": "Condition", "subject": {"reference": "Group/1"}}),
                "Patient/<id>",
            ),
            (
                json!({"resourceType": "Observation", "status": "guessed", "code": {"text": "x"}, "subject": subject}),
                "status is one of",
            ),
            (
                json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"}, "subject": subject, "effectiveDateTime": "yesterday"}),
                "effectiveDateTime",
            ),
            (
                json!({"resourceType": "MedicationRequest", "status": "active", "intent": "order", "subject": subject}),
                "medicationCodeableConcept or medicationReference",
            ),
            (
                json!({"resourceType": "Binary", "contentType": "text/plain", "securityContext": subject, "data": "%%%"}),
                "base64",
            ),
            (
                json!({"resourceType": "Binary", "contentType": "text/plain", "securityContext": subject, "text": {"status": "generated"}}),
                "no element named text",
            ),
            (
                json!({"resourceType": "Appointment", "status": "booked", "participant": [{"actor": {"reference": "Practitioner/1"}, "status": "accepted"}]}),
                "participant whose actor is the patient",
            ),
        ] {
            let (status, out) = create(&s, &p.clinician, body.clone()).await;
            assert_eq!((status, outcome(&out)), (400, "invalid"), "{body}");
            let text = out["issue"][0]["details"]["text"].as_str().unwrap();
            assert!(text.contains(why), "{body}: {text}");
        }
        let (_, conditions) = get(
            &s,
            &format!("/fhir/Condition?patient={patient}"),
            &p.clinician,
        )
        .await;
        assert_eq!(conditions["total"], 1, "nothing stored by bad input");
        // A record cannot move to another patient.
        let condition_id = &created[0].1;
        let (_, other) = create(
            &s,
            &p.clinician,
            json!({"resourceType": "Patient", "name": [{"text": "Someone Else"}]}),
        )
        .await;
        let moved = json!({"resourceType": "Condition", "id": condition_id, "subject": {"reference": format!("Patient/{}", other["id"].as_str().unwrap())}});
        let (status, _, out) = send(
            &s,
            M::PUT,
            &format!("/fhir/Condition/{condition_id}"),
            &p.clinician,
            Some(moved.to_string()),
            None,
        )
        .await;
        assert_eq!((status, outcome(&out)), (400, "invalid"));

        // Who may do what, on the patient's Condition and on the directory.
        let condition = format!("/fhir/Condition/{condition_id}");
        let update = json!({"resourceType": "Condition", "id": condition_id, "subject": subject,
                            "code": {"text": DIAGNOSIS}, "recordedDate": "2026-03-14"})
        .to_string();
        let actors = [
            ("patient", &p.patient),
            ("other patient", &p.other_patient),
            ("clinician", &p.clinician),
            ("other clinician", &p.other_clinician),
            ("admin", &p.admin),
            ("security officer", &officer),
        ];
        // (operation, [patient, other patient, clinician, other clinician, admin, officer])
        let table: [(&str, [u16; 6]); 4] = [
            ("read", [200, 403, 200, 403, 403, 403]),
            ("update", [403, 403, 200, 403, 403, 403]),
            ("history", [200, 403, 200, 403, 403, 403]),
            ("search", [200, 200, 200, 200, 403, 403]),
        ];
        for (operation, expected) in table {
            for ((who, cookie), want) in actors.iter().zip(expected) {
                let (status, body) = match operation {
                    "read" => get(&s, &condition, cookie).await,
                    "update" => {
                        let (st, _, b) =
                            send(&s, M::PUT, &condition, cookie, Some(update.clone()), None).await;
                        (st, b)
                    }
                    "history" => get(&s, &format!("{condition}/_history"), cookie).await,
                    _ => get(&s, &format!("/fhir/Condition?patient={patient}"), cookie).await,
                };
                assert_eq!(status, want, "{who} {operation}: {body}");
                if operation == "search" && status == 200 {
                    let sees = who == &"patient" || who == &"clinician";
                    assert_eq!(body["total"], u64::from(sees), "{who} searches");
                }
            }
        }
        // The administrator puts the other clinician on the care team: they may read;
        // taken off again, they may not. The patient's list shows both.
        let d = db(&s).await;
        let other_id = d
            .user_by_email(&s.keyring(), OTHER_CLINICIAN_EMAIL)
            .await
            .unwrap()
            .unwrap()
            .id;
        d.close().await;
        let res = s
            .post_form(
                &format!("/people/{patient}/care-team"),
                &[("clinician", other_id.as_str())],
                Some(&p.clinician),
            )
            .await;
        assert_eq!(res.status(), 403, "only the administrator assigns care");
        let res = s
            .post_form(
                &format!("/people/{patient}/care-team"),
                &[("clinician", other_id.as_str())],
                Some(&p.admin),
            )
            .await;
        assert_eq!(res.status(), 303);
        let (status, _) = get(&s, &condition, &p.other_clinician).await;
        assert_eq!(status, 200, "on the care team");
        let page = s
            .get_with_cookie(&format!("/people/{patient}"), &p.admin)
            .await;
        let html = page.text().await.unwrap();
        assert!(
            html.contains("Care team") && html.contains("Take off the care team"),
            "{html}"
        );
        assert!(
            !html.contains(DIAGNOSIS),
            "the administrator sees no clinical content"
        );
        let res = s
            .post_form(
                &format!("/people/{patient}/care-team/{other_id}/remove"),
                &[],
                Some(&p.admin),
            )
            .await;
        assert_eq!(res.status(), 303);
        let (status, _) = get(&s, &condition, &p.other_clinician).await;
        assert_eq!(status, 403, "off the care team");
        let res = s
            .post_form(
                &format!("/people/{patient}/care-team"),
                &[("clinician", patient.as_str())],
                Some(&p.admin),
            )
            .await;
        assert_eq!(res.status(), 400, "only clinicians join a care team");

        let practitioner =
            json!({"resourceType": "Practitioner", "name": [{"text": "Dr Oluwaseun Tremblay"}]});
        for ((who, cookie), want) in actors.iter().zip([403, 403, 403, 403, 201, 403]) {
            let (status, out) = create(&s, cookie, practitioner.clone()).await;
            assert_eq!(status, want, "{who} writes the directory: {out}");
        }
        for (who, cookie) in actors {
            let (status, found) = get(&s, "/fhir/Practitioner?name=tremblay", cookie).await;
            assert_eq!(
                (status, found["total"].as_u64()),
                (200, Some(1)),
                "{who} reads the directory"
            );
        }

        // The patient changes their phone number, and nothing else.
        let own = format!("/fhir/Patient/{patient}");
        let (_, mine) = get(&s, &own, &p.patient).await;
        let mut phone = mine.clone();
        phone["telecom"] = json!([{"system": "phone", "value": "0400 000 002"}]);
        let (status, _, out) =
            send(&s, M::PUT, &own, &p.patient, Some(phone.to_string()), None).await;
        assert_eq!(status, 200, "{out}");
        let mut birthday = out.clone();
        birthday["birthDate"] = "1971-09-30".into();
        let (status, _, out) = send(
            &s,
            M::PUT,
            &own,
            &p.patient,
            Some(birthday.to_string()),
            None,
        )
        .await;
        assert_eq!((status, outcome(&out)), (403, "forbidden"));

        // Break-glass: refused without a reason and without a fresh step-up; then open
        // for an hour; the security officer is alerted and reviews it.
        let other_stale = s.session_for(OTHER_CLINICIAN_EMAIL, 60 * 60 * 1000).await;
        let glass = format!("/fhir/Patient/{patient}/$break-glass");
        let reason = |r: &str| {
            json!({"resourceType": "Parameters", "parameter": [{"name": "reason", "valueString": r}]}).to_string()
        };
        let (status, _, out) = send(
            &s,
            M::POST,
            &glass,
            &p.other_clinician,
            Some(reason("because")),
            None,
        )
        .await;
        assert_eq!((status, outcome(&out)), (400, "invalid"));
        let (status, _, out) = send(
            &s,
            M::POST,
            &glass,
            &other_stale,
            Some(reason("Unconscious in ED, needs allergy list")),
            None,
        )
        .await;
        assert_eq!(status, 403, "{out}");
        let (status, _, out) = send(
            &s,
            M::POST,
            &glass,
            &p.patient,
            Some(reason("Unconscious in ED, needs allergy list")),
            None,
        )
        .await;
        assert_eq!((status, outcome(&out)), (403, "forbidden"));
        let (status, _, out) = send(
            &s,
            M::POST,
            &glass,
            &p.other_clinician,
            Some(reason("Unconscious in ED, needs allergy list")),
            None,
        )
        .await;
        assert_eq!(status, 200, "{out}");
        let (status, _) = get(&s, &condition, &p.other_clinician).await;
        assert_eq!(status, 200, "break-glass opens the record");
        let page = s
            .get_with_cookie(&format!("/records/patients/{patient}"), &p.other_clinician)
            .await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("emergency access") && html.contains(DIAGNOSIS),
            "the chart shows the record and the warning"
        );
        let d = db(&s).await;
        let officer_id = d
            .user_by_email(&s.keyring(), "sec@harbour.example")
            .await
            .unwrap()
            .unwrap()
            .id;
        let notices = d.notices_of_user(&officer_id, 10).await.unwrap();
        assert!(
            notices.iter().any(|n| n.kind == "break_glass"),
            "the security officer is alerted"
        );
        let patient_notices = d.notices_of_user(&patient, 10).await.unwrap();
        assert!(
            patient_notices
                .iter()
                .any(|n| n.kind == "break_glass" && n.message.contains("Dr Wen Ng")),
            "the patient is told"
        );
        d.close().await;
        let queue = s.get_with_cookie("/security/break-glass", &officer).await;
        assert_eq!(queue.status(), 200);
        let html = queue.text().await.unwrap();
        assert!(
            html.contains("Unconscious in ED, needs allergy list") && html.contains("Dr Wen Ng")
        );
        let grant = common::identity::between(&html, "/security/break-glass/", "/review")
            .unwrap()
            .to_owned();
        let res = s
            .post_form(
                &format!("/security/break-glass/{grant}/review"),
                &[("note", "Confirmed with the ED roster")],
                Some(&p.clinician),
            )
            .await;
        assert_eq!(res.status(), 403, "only the security officer reviews");
        let res = s
            .post_form(
                &format!("/security/break-glass/{grant}/review"),
                &[("note", "Confirmed with the ED roster")],
                Some(&officer),
            )
            .await;
        assert_eq!(res.status(), 200);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("Confirmed with the ED roster")
        );
        s.clock.advance_ms(61 * 60 * 1000);
        let other_again = s.session_for(OTHER_CLINICIAN_EMAIL, 0).await;
        let (status, _) = get(&s, &condition, &other_again).await;
        assert_eq!(status, 403, "the grant expires");
        let page = s
            .get_with_cookie(&format!("/records/patients/{patient}"), &other_again)
            .await;
        assert_eq!(page.status(), 403);
        assert!(
            page.text().await.unwrap().contains("break the glass"),
            "the closed chart offers break-glass"
        );

        // Who looked: the patient sees every access, the break-glass reason included,
        // and each entry's proof checks against the ledger's key; nobody else's list.
        // (An hour went by: everyone signs in again.)
        let patient_now = s.session_for(PATIENT_EMAIL, 0).await;
        let clinician_now = s.session_for(common::CLINICIAN_EMAIL, 0).await;
        let officer = s.session_for("sec@harbour.example", 0).await;
        let other_patient = s.session_for(common::consult::OTHER_PATIENT_EMAIL, 0).await;
        let (status, events) = get(&s, "/fhir/AuditEvent", &patient_now).await;
        assert_eq!(status, 200, "{events}");
        let events = events["entry"].as_array().unwrap().clone();
        assert!(events.len() >= 10, "{}", events.len());
        let details: Vec<String> = events.iter().map(|e| e["resource"].to_string()).collect();
        assert!(
            details.iter().any(|d| d.contains("Unconscious in ED")),
            "the reason is shown"
        );
        let (status, _) = get(&s, "/fhir/AuditEvent?patient=someone-else", &patient_now).await;
        assert_eq!(status, 403);
        let (status, _) = get(
            &s,
            &format!("/fhir/AuditEvent?patient={patient}"),
            &clinician_now,
        )
        .await;
        assert_eq!(status, 403);
        let (status, listed) =
            get(&s, &format!("/fhir/AuditEvent?patient={patient}"), &officer).await;
        assert_eq!(
            (status, listed["total"].as_u64().unwrap() >= 10),
            (200, true)
        );
        let page = s.get_with_cookie("/records/access", &patient_now).await;
        let html = page.text().await.unwrap();
        assert!(
            html.contains("Dr Wen Ng (Clinician)")
                && html.contains("Emergency access: Unconscious in ED"),
            "{html}"
        );
        let seq = events[0]["resource"]["id"].as_str().unwrap();
        let res = s
            .get_with_cookie(&format!("/records/access/{seq}/proof"), &patient_now)
            .await;
        assert_eq!(res.status(), 200);
        let file: Value = res.json().await.unwrap();
        let proof: ledger::InclusionProof = serde_json::from_value(file.clone()).unwrap();
        assert_eq!(
            file["kind"], "inclusion",
            "the file telewarden audit check-proof reads"
        );
        proof
            .verify(&s.ledger_key())
            .expect("the proof checks against the ledger's key");
        let key = s.get("/ledger/public-key").await.text().await.unwrap();
        assert_eq!(key.trim(), hex::encode(s.ledger_key().as_bytes()));
        let res = s
            .get_with_cookie(&format!("/records/access/{seq}/proof"), &other_patient)
            .await;
        assert_eq!(
            res.status(),
            404,
            "another patient's entries do not exist for them: {:?}",
            res.headers()
        );

        // Export: the patient after step-up; staff within their hourly limit; each a
        // data transfer.
        let patient_stale = s.session_for(PATIENT_EMAIL, 60 * 60 * 1000).await;
        let everything = format!("/fhir/Patient/{patient}/$everything");
        let (status, out) = get(&s, &everything, &patient_stale).await;
        assert_eq!(status, 403, "{out}");
        let (status, bundle) = get(&s, &everything, &patient_now).await;
        assert_eq!(status, 200);
        let types: Vec<&str> = bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["resource"]["resourceType"].as_str().unwrap())
            .collect();
        for kind in [
            "Patient",
            "Condition",
            "Observation",
            "MedicationRequest",
            "DocumentReference",
            "Binary",
            "Consent",
            "Appointment",
        ] {
            assert!(types.contains(&kind), "{kind} in the export: {types:?}");
        }
        for n in 0..5 {
            let (status, _) = get(&s, &everything, &clinician_now).await;
            assert_eq!(status, 200, "staff export {n}");
        }
        let (status, out) = get(&s, &everything, &clinician_now).await;
        assert_eq!(status, 429, "{out}");
        let (status, _) = get(&s, &everything, &other_patient).await;
        assert_eq!(status, 403);
        let res = s
            .post_form(
                &format!("/records/patients/{patient}/export"),
                &[],
                Some(&patient_now),
            )
            .await;
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains("attachment")
        );
        let d = db(&s).await;
        let transfers = d.data_transfers(0).await.unwrap();
        assert_eq!(transfers.len(), 7, "every export is a data transfer");
        assert!(
            transfers
                .iter()
                .all(|t| t.patient_id == patient && t.resources >= 10 && t.bytes > 1000)
        );
        d.close().await;

        // The patient's own page shows their record through the same functions.
        let page = s
            .get_with_cookie(&format!("/records/patients/{patient}"), &patient_now)
            .await;
        let html = page.text().await.unwrap();
        assert!(
            html.contains("My health record") && html.contains(MEDICINE),
            "{html}"
        );

        // Nothing clinical readable in the raw database.
        let db = s.stop().await;
        let raw = common::fhir::raw_record_storage(&s, &db).await;
        assert!(raw.contains("Condition"), "the scan sees the records");
        for secret in [
            DIAGNOSIS,
            "fibrosis",
            MEDICINE,
            "Pirfenidone",
            "Penicillin",
            "Ngata-Fairweather",
            "1961-09-30",
            "0400 000 002",
        ] {
            assert!(!raw.contains(secret), "{secret} in the clear");
        }
        db.close().await;
    }
}
