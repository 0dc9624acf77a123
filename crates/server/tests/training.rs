//! Security training over HTTP, on SQLite and PostgreSQL: quizzes scored by lesson
//! version and recorded once, policy acknowledgements by version, the gate before a
//! clinician first opens patient records, escalating reminders on a controlled clock,
//! and the assurance check fed by completion.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::consult::{PATIENT_EMAIL, practice};
use common::{ADMIN_EMAIL, CLINICIAN_EMAIL, TestServer};
use reqwest::Method;
use store::{Db, PoolSettings};

const DAY_MS: i64 = 86_400_000;

async fn open_db(s: &TestServer) -> Db {
    Db::connect(&s.db_url, &PoolSettings::default())
        .await
        .unwrap()
}

/// The right answers to `lesson`'s quiz, as the form sends them.
fn right_answers(lesson: &training::Lesson) -> Vec<(String, String)> {
    let mut form = vec![("version".to_owned(), lesson.version.to_string())];
    for (i, q) in lesson.quiz.iter().enumerate() {
        form.push((format!("q{i}"), q.correct.to_string()));
    }
    form
}

async fn take(
    s: &TestServer,
    cookie: &str,
    lesson: &training::Lesson,
    form: &[(String, String)],
) -> (u16, String) {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let res = s
        .post_form(
            &format!("/training/lessons/{}", lesson.id),
            &pairs,
            Some(cookie),
        )
        .await;
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn pass_all(s: &TestServer, cookie: &str) {
    for l in training::staff_set() {
        let (status, page) = take(s, cookie, l, &right_answers(l)).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("Passed"), "{}", l.id);
    }
}

#[tokio::test]
async fn quizzes_acknowledgements_and_the_gate_before_patient_records() {
    for url in common::database_choices().await {
        let s = TestServer::start_with(url.clone(), |c| c.training.required_before_records = true)
            .await;
        let p = practice(&s).await;
        let lesson = training::staff_set()[0];

        // Bad input: another version, a missing answer, an option out of range, a patient's lesson.
        let mut stale = right_answers(lesson);
        stale[0].1 = (lesson.version + 1).to_string();
        assert_eq!(
            take(&s, &p.clinician, lesson, &stale).await.0,
            409,
            "{url:?}"
        );
        let mut short = right_answers(lesson);
        short.pop();
        assert_eq!(take(&s, &p.clinician, lesson, &short).await.0, 400);
        let mut wild = right_answers(lesson);
        wild[1].1 = "99".into();
        assert_eq!(take(&s, &p.clinician, lesson, &wild).await.0, 400);
        let patient_lesson = training::patient_set()[0];
        assert_eq!(
            take(
                &s,
                &p.clinician,
                patient_lesson,
                &right_answers(patient_lesson)
            )
            .await
            .0,
            404
        );
        // All wrong: scored, not passed, nothing recorded.
        let mut wrong = right_answers(lesson);
        for (i, q) in lesson.quiz.iter().enumerate() {
            wrong[i + 1].1 = ((q.correct + 1) % q.options.len()).to_string();
        }
        let (status, page) = take(&s, &p.clinician, lesson, &wrong).await;
        assert_eq!(status, 200);
        assert!(page.contains("you need 80%"), "{page}");
        let db = open_db(&s).await;
        assert!(db.completions(None).await.unwrap().is_empty());
        db.close().await;

        // Before training, a clinician cannot open a patient's record; the patient can.
        let patient_id = s.user_id(PATIENT_EMAIL).await;
        let appointment = common::consult::booked(&s, &p).await;
        // Before the consult, the patient is offered the lesson on checking a consult link.
        let page = s
            .get_with_cookie(&format!("/appointments/{appointment}"), &p.patient)
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Before your consult, if you like"), "{page}");
        let body = serde_json::json!({"resourceType": "Patient", "id": patient_id, "name": [{"family": "Okafor", "given": ["Marguerite"]}], "birthDate": "1970-02-03"});
        let put = |cookie: String| {
            let body = body.to_string();
            let path = format!("/fhir/Patient/{patient_id}");
            let s = &s;
            async move { common::fhir::send(s, Method::PUT, &path, &cookie, Some(body), None).await }
        };
        let (status, _, out) = put(p.clinician.clone()).await;
        assert_eq!(status, 403, "{out}");
        assert!(out.to_string().contains("security training"), "{out}");
        // Passing every staff lesson opens the way; a replayed pass is not recorded twice.
        pass_all(&s, &p.clinician).await;
        let (status, page) = take(&s, &p.clinician, lesson, &right_answers(lesson)).await;
        assert_eq!(status, 200);
        assert!(page.contains("nothing new was recorded"), "{page}");
        let db = open_db(&s).await;
        let clinician_id = s.user_id(CLINICIAN_EMAIL).await;
        let mine = db.completions(Some(&clinician_id)).await.unwrap();
        assert_eq!(mine.len(), training::staff_set().len());
        assert!(
            mine.iter().all(|c| c.digest.len() == 64),
            "the text read is identified"
        );
        db.close().await;
        let (status, _, out) = put(p.clinician.clone()).await;
        assert_eq!(status, 201, "{out}");

        // The policy, acknowledged by version, once.
        let version = training::policy().version.to_string();
        let res = s
            .post_form(
                "/training/policy",
                &[("version", "999")],
                Some(&p.clinician),
            )
            .await;
        assert_eq!(res.status(), 409);
        for _ in 0..2 {
            let res = s
                .post_form(
                    "/training/policy",
                    &[("version", &version)],
                    Some(&p.clinician),
                )
                .await;
            assert_eq!(res.status(), 303);
        }
        let db = open_db(&s).await;
        let acks = db.acknowledgements(Some(&clinician_id)).await.unwrap();
        assert_eq!(acks.len(), 1);
        assert_eq!(acks[0].version, i64::from(training::policy().version));
        let actions = common::ledger_actions(&db).await;
        assert!(
            actions
                .iter()
                .any(|(a, _, _)| a == "training.policy_acknowledged")
        );
        assert!(actions.iter().any(|(a, _, _)| a == "training.quiz_failed"));
        db.close().await;
        // Patients are offered lessons on the home page, never required.
        let home = s
            .get_with_cookie("/", &p.patient)
            .await
            .text()
            .await
            .unwrap();
        assert!(home.contains("if you like"), "{home}");
    }
}

#[tokio::test]
async fn overdue_reminders_escalate_once_per_level_and_feed_the_assurance_check() {
    for url in common::database_choices().await {
        let s = TestServer::start(url.clone()).await;
        let admin = s.admin().await;
        common::identity::invite(
            &s,
            &admin,
            "Sello Mokoena",
            "officer@clinic.example",
            "security_officer",
        )
        .await;
        common::identity::invite(
            &s,
            &admin,
            "Dr Olive Tremblay",
            CLINICIAN_EMAIL,
            "clinician",
        )
        .await;
        let officer = s.session_for("officer@clinic.example", 0).await;
        let clinician = s.session_for(CLINICIAN_EMAIL, 0).await;
        let remind = |cookie: String| {
            let s = &s;
            async move {
                let res = s
                    .post_form("/training/staff/remind", &[], Some(&cookie))
                    .await;
                assert_eq!(res.status(), 200);
                let page = res.text().await.unwrap();
                let n: usize = common::identity::between(
                    &page,
                    "<p class=\"notice\" role=\"status\">",
                    " reminders sent",
                )
                .unwrap()
                .parse()
                .unwrap();
                n
            }
        };
        // Due now: each of the three staff is reminded once, and only once.
        assert_eq!(
            remind(s.session_for(ADMIN_EMAIL, 0).await).await,
            3,
            "{url:?}"
        );
        assert_eq!(
            remind(s.session_for(ADMIN_EMAIL, 0).await).await,
            0,
            "nothing sent twice"
        );
        // Patients and clinicians do not manage training.
        let res = s
            .post_form("/training/staff/remind", &[], Some(&clinician))
            .await;
        assert_eq!(res.status(), 403);
        // The officer and the administrator complete theirs; the clinician does not.
        pass_all(&s, &officer).await;
        pass_all(&s, &s.session_for(ADMIN_EMAIL, 0).await).await;
        // A week overdue: the administrator is told about the clinician.
        s.clock.advance_ms(8 * DAY_MS);
        let before = common::identity::outbox_files(&s);
        assert_eq!(remind(s.session_for(ADMIN_EMAIL, 0).await).await, 1);
        let mails = common::identity::mails_since(&s, &before, 1).await;
        assert!(
            mails[0].contains(ADMIN_EMAIL) && mails[0].contains("8 days overdue"),
            "{mails:?}"
        );
        // Two weeks: the security officer too.
        s.clock.advance_ms(7 * DAY_MS);
        let before = common::identity::outbox_files(&s);
        assert_eq!(remind(s.session_for(ADMIN_EMAIL, 0).await).await, 1);
        let mails = common::identity::mails_since(&s, &before, 1).await;
        assert!(mails[0].contains("officer@clinic.example"), "{mails:?}");
        let page = s
            .get_with_cookie("/training/staff", &s.session_for(ADMIN_EMAIL, 0).await)
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("15 days overdue"), "{page}");
        assert!(
            page.contains("2 of 3"),
            "completion shown with its count: {page}"
        );

        // The assurance check: fails at 2 of 3, passes once everyone is trained.
        let officer = s.session_for("officer@clinic.example", 0).await;
        let outcome = |cookie: String| {
            let s = &s;
            async move {
                assert_eq!(
                    s.post_form(
                        "/security/assurance/run",
                        &[("check", "training_completion")],
                        Some(&cookie)
                    )
                    .await
                    .status(),
                    303
                );
                let v: serde_json::Value = s
                    .get_with_cookie("/security/assurance.json", &cookie)
                    .await
                    .json()
                    .await
                    .unwrap();
                v["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|r| r["check"] == "training_completion")
                    .unwrap()["outcome"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            }
        };
        assert_eq!(outcome(officer.clone()).await, "fail");
        pass_all(&s, &s.session_for(CLINICIAN_EMAIL, 0).await).await;
        assert_eq!(outcome(officer).await, "pass");
    }
}
