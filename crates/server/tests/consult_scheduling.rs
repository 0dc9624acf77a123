//! Scheduling over HTTP: publishing times, booking (for oneself, for a patient, for a
//! guest), moving, cancelling, reminders, notes and kept files — with every change in the
//! ledger and nothing personal in e-mailed links.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::consult::{
    OTHER_PATIENT_EMAIL, PATIENT_NAME, appointment_ids, bookable, booked, practice, publish,
};
use common::identity::between;
use common::{CLINICIAN_NAME, TestServer, database_choices, ledger_actions};
use reqwest::header::{ACCEPT, CONTENT_TYPE, COOKIE, ORIGIN};

fn outbox(s: &TestServer) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(s.dir.path().join("outbox")) else {
        return Vec::new();
    };
    dir.map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect()
}

/// Waits for `n` appointment e-mails (sent in the background), then returns them.
async fn appointment_mails(s: &TestServer, n: usize) -> Vec<String> {
    for _ in 0..100 {
        let mails: Vec<String> = outbox(s)
            .into_iter()
            .filter(|m| m.contains("video appointment"))
            .collect();
        if mails.len() >= n {
            return mails;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} e-mails arrived");
}

/// The status a file upload announcing 10 MB + 1 byte gets, its body never sent.
async fn oversized_upload(s: &TestServer, id: &str, cookie: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(s.running().addr)
        .await
        .unwrap();
    let head = format!(
        "POST /api/appointments/{id}/files?name=huge.bin HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\n\
         Cookie: {cookie}\r\nContent-Type: application/octet-stream\r\nContent-Length: {len}\r\n\r\n",
        host = s.running().addr,
        origin = s.running().origin,
        len = 10 * 1024 * 1024 + 1,
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut buf = [0u8; 64];
    let n = tcp.read(&mut buf).await.unwrap();
    let line = String::from_utf8_lossy(&buf[..n]).into_owned();
    line.split(' ').nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clinicians_publish_and_patients_book_move_and_cancel() {
    for db in database_choices().await {
        let mut s = TestServer::start(db).await;
        let p = practice(&s).await;

        // Bad input is refused with a reason, and publishes nothing.
        for (from, until, minutes, why) in [
            ("10:00", "10:30", "30", "has passed"),
            ("13:00", "12:00", "30", "must be after the start"),
            ("25:00", "26:00", "30", "like 2026-12-01"),
            ("12:00", "13:00", "7", "how long"),
            ("12:00", "12:10", "30", "shorter than one appointment"),
        ] {
            let res = publish(&s, &p.clinician, from, until, minutes).await;
            assert_eq!(res.status(), 400, "{from}-{until}/{minutes}");
            assert!(res.text().await.unwrap().contains(why), "{why}");
        }
        assert!(bookable(&s, &p.patient).await.is_empty());
        // Only clinicians publish.
        assert_eq!(
            publish(&s, &p.patient, "12:00", "13:00", "30")
                .await
                .status(),
            403
        );

        assert_eq!(
            publish(&s, &p.clinician, "12:00", "13:00", "30")
                .await
                .status(),
            303
        );
        let slots = bookable(&s, &p.patient).await;
        assert_eq!(slots.len(), 2, "{slots:?}");
        assert!(
            slots[0].1.contains("12:00 pm") && slots[0].1.contains(CLINICIAN_NAME),
            "{slots:?}"
        );
        assert!(slots[1].1.contains("12:30 pm"), "{slots:?}");

        // The patient books the first time.
        let res = s
            .post_form(
                "/appointments/book",
                &[("slot", &slots[0].0)],
                Some(&p.patient),
            )
            .await;
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/appointments?done=booked");
        let ids = appointment_ids(&s, &p.patient).await;
        assert_eq!(ids.len(), 1);
        let id = ids[0].clone();

        // Nobody else can have that time, and it is no longer offered.
        let res = s
            .post_form(
                "/appointments/book",
                &[("slot", &slots[0].0)],
                Some(&p.other_patient),
            )
            .await;
        assert_eq!(res.status(), 409);
        assert!(res.text().await.unwrap().contains("just been taken"));
        assert_eq!(bookable(&s, &p.other_patient).await.len(), 1);
        // A slot id that does not exist is the same clear refusal.
        let res = s
            .post_form(
                "/appointments/book",
                &[("slot", "no-such-slot")],
                Some(&p.patient),
            )
            .await;
        assert_eq!(res.status(), 409);

        // Another patient cannot see it, or change it; it is as if it did not exist.
        assert_eq!(
            s.get_with_cookie(&format!("/appointments/{id}"), &p.other_patient)
                .await
                .status(),
            404
        );
        let res = s
            .post_form(
                &format!("/appointments/{id}/cancel"),
                &[],
                Some(&p.other_patient),
            )
            .await;
        assert_eq!(res.status(), 404);
        // Another clinician cannot either.
        assert_eq!(
            s.get_with_cookie(&format!("/appointments/{id}"), &p.other_clinician)
                .await
                .status(),
            404
        );

        // Its clinician sees who it is with.
        let page = s
            .get_with_cookie(&format!("/appointments/{id}"), &p.clinician)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(PATIENT_NAME),
            "the clinician sees the patient"
        );
        assert!(
            page.contains("data-zone=\"Australia/Sydney\""),
            "times carry the practice zone"
        );

        // The patient moves it to the second time; the first is free again.
        let res = s
            .post_form(
                &format!("/appointments/{id}/move"),
                &[("slot", &slots[1].0)],
                Some(&p.patient),
            )
            .await;
        assert_eq!(res.status(), 303);
        let page = s
            .get_with_cookie(&format!("/appointments/{id}"), &p.patient)
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("12:30 pm"), "moved");
        assert_eq!(bookable(&s, &p.other_patient).await[0].0, slots[0].0);

        // Staff book for a patient by e-mail address; an unknown address is refused.
        let res = s
            .post_form(
                "/appointments/book",
                &[("slot", &slots[0].0), ("patient_email", "nobody@x.example")],
                Some(&p.admin),
            )
            .await;
        assert_eq!(res.status(), 400);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("No patient has that e-mail address")
        );
        let res = s
            .post_form(
                "/appointments/book",
                &[
                    ("slot", &slots[0].0),
                    ("patient_email", OTHER_PATIENT_EMAIL),
                ],
                Some(&p.admin),
            )
            .await;
        assert_eq!(res.status(), 303);
        assert_eq!(appointment_ids(&s, &p.other_patient).await.len(), 1);

        // The patient cancels; the time is offered again.
        let res = s
            .post_form(&format!("/appointments/{id}/cancel"), &[], Some(&p.patient))
            .await;
        assert_eq!(res.status(), 303);
        assert!(appointment_ids(&s, &p.patient).await.is_empty());
        assert_eq!(bookable(&s, &p.patient).await.len(), 1);
        // Cancelling twice changes nothing.
        let res = s
            .post_form(&format!("/appointments/{id}/cancel"), &[], Some(&p.patient))
            .await;
        assert_eq!(res.status(), 400);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("cannot be cancelled any more")
        );

        // E-mails went out (booked, moved, booked, cancelled), and their links are the
        // plain appointments page: nothing about the patient or the appointment.
        let mails = appointment_mails(&s, 4).await;
        for mail in &mails {
            assert!(!mail.contains(&id), "an e-mail names the appointment");
            for link in mail.split("http").skip(1) {
                let link: String = link.chars().take_while(|c| !c.is_whitespace()).collect();
                assert!(link.ends_with("/appointments"), "{link}");
            }
        }

        // Booked within the day: the confirmation was the reminder, no second e-mail.
        assert_eq!(s.running().send_due_reminders().await.unwrap(), 0);
        // Booked two days ahead: one reminder when the day before comes, once.
        let before: Vec<String> = bookable(&s, &p.patient)
            .await
            .into_iter()
            .map(|(slot, _)| slot)
            .collect();
        let res = s
            .post_form(
                "/appointments/slots",
                &[
                    ("date", "2026-01-03"),
                    ("from", "12:00"),
                    ("until", "12:30"),
                    ("minutes", "30"),
                ],
                Some(&p.clinician),
            )
            .await;
        assert_eq!(res.status(), 303);
        let later = bookable(&s, &p.patient)
            .await
            .into_iter()
            .map(|(slot, _)| slot)
            .find(|slot| !before.contains(slot))
            .unwrap();
        let res = s
            .post_form("/appointments/book", &[("slot", &later)], Some(&p.patient))
            .await;
        assert_eq!(res.status(), 303);
        assert_eq!(
            s.running().send_due_reminders().await.unwrap(),
            0,
            "not yet"
        );
        s.clock.advance_ms(26 * 3_600_000);
        assert_eq!(s.running().send_due_reminders().await.unwrap(), 1);
        assert_eq!(s.running().send_due_reminders().await.unwrap(), 0);

        let db = s.stop().await;
        let actions: Vec<String> = ledger_actions(&db)
            .await
            .into_iter()
            .map(|(a, _, _)| a)
            .collect();
        for wanted in [
            "schedule.published",
            "appointment.booked",
            "appointment.rescheduled",
            "appointment.cancelled",
        ] {
            assert!(
                actions.iter().any(|a| a == wanted),
                "{wanted} missing from {actions:?}"
            );
        }
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clinicians_withdraw_free_times_only() {
    for db in database_choices().await {
        let s = TestServer::start(db).await;
        let p = practice(&s).await;
        let id = booked(&s, &p).await;
        let slots = bookable(&s, &p.patient).await;
        assert_eq!(slots.len(), 1);
        // Another clinician cannot withdraw it.
        let res = s
            .post_form(
                &format!("/appointments/slots/{}/withdraw", slots[0].0),
                &[],
                Some(&p.other_clinician),
            )
            .await;
        assert_eq!(res.status(), 400);
        let res = s
            .post_form(
                &format!("/appointments/slots/{}/withdraw", slots[0].0),
                &[],
                Some(&p.clinician),
            )
            .await;
        assert_eq!(res.status(), 303);
        assert!(bookable(&s, &p.patient).await.is_empty());
        // The booked appointment is untouched.
        assert_eq!(appointment_ids(&s, &p.patient).await, [id]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_and_kept_files_are_sealed_in_the_record() {
    for db in database_choices().await {
        let mut s = TestServer::start(db).await;
        let p = practice(&s).await;
        let id = booked(&s, &p).await;
        let note = "Reports intermittent chest tightness after exercise; ECG requested.";

        // Patients do not write consult notes (nor see that they exist).
        let res = s
            .post_form(
                &format!("/appointments/{id}/notes"),
                &[("notes", note)],
                Some(&p.patient),
            )
            .await;
        assert_eq!(res.status(), 404);
        let res = s
            .post_form(
                &format!("/appointments/{id}/notes"),
                &[("notes", note)],
                Some(&p.clinician),
            )
            .await;
        assert_eq!(res.status(), 303);
        let page = s
            .get_with_cookie(&format!("/appointments/{id}"), &p.clinician)
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains(note));
        let page = s
            .get_with_cookie(&format!("/appointments/{id}"), &p.patient)
            .await
            .text()
            .await
            .unwrap();
        assert!(!page.contains(note) && !page.contains("Consult notes"));
        // Too long is refused; the saved note stays.
        let long = "x".repeat(70_000);
        let res = s
            .post_form(
                &format!("/appointments/{id}/notes"),
                &[("notes", &long)],
                Some(&p.clinician),
            )
            .await;
        assert!(
            res.status() == 400 || res.status() == 413,
            "{}",
            res.status()
        );
        let page = s
            .get_with_cookie(&format!("/appointments/{id}"), &p.clinician)
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains(note));

        // A file shared in the call is kept (the browser posts its bytes).
        let scan = b"%PDF-1.4 fake scan of a referral letter".to_vec();
        let keep = |cookie: &str, body: Vec<u8>, name: &str| {
            s.client
                .post(s.url(&format!("/api/appointments/{id}/files?name={name}")))
                .header(ORIGIN, &s.running().origin)
                .header(COOKIE, cookie)
                .header(ACCEPT, "application/json")
                .header(CONTENT_TYPE, "application/pdf")
                .body(body)
                .send()
        };
        assert_eq!(
            keep(&p.patient, scan.clone(), "referral.pdf")
                .await
                .unwrap()
                .status(),
            404
        );
        assert_eq!(
            keep(&p.clinician, Vec::new(), "referral.pdf")
                .await
                .unwrap()
                .status(),
            400
        );
        assert_eq!(
            keep(&p.clinician, scan.clone(), "").await.unwrap().status(),
            400
        );
        // Past 10 MB the server answers before reading the body.
        assert_eq!(oversized_upload(&s, &id, &p.clinician).await, 413);
        // A 3 MB file (larger than any form) is fine.
        assert_eq!(
            keep(&p.clinician, vec![7u8; 3 * 1024 * 1024], "xray.png")
                .await
                .unwrap()
                .status(),
            201
        );
        assert_eq!(
            keep(&p.clinician, scan.clone(), "referral.pdf")
                .await
                .unwrap()
                .status(),
            201
        );
        let page = s
            .get_with_cookie(&format!("/appointments/{id}"), &p.clinician)
            .await
            .text()
            .await
            .unwrap();
        let files = between(&page, "Files kept from the call", "</ul>").unwrap();
        assert!(
            files.contains("referral.pdf (1 KB)") && files.contains("xray.png (3072 KB)"),
            "{files}"
        );

        // At rest, neither the note, the file, nor its name is readable.
        let db = s.stop().await;
        let (sealed_note, _) = db.note(&id).await.unwrap().unwrap();
        assert!(
            !sealed_note.contains("chest tightness"),
            "the note is sealed"
        );
        let kept = db.consult_files(&id).await.unwrap();
        assert_eq!(kept.len(), 2);
        for f in &kept {
            assert!(
                !f.name_sealed.contains("referral") && !f.name_sealed.contains("xray"),
                "names are sealed"
            );
            assert!(!f.sealed.contains("fake scan"), "files are sealed");
        }
        let actions: Vec<String> = ledger_actions(&db)
            .await
            .into_iter()
            .map(|(a, _, _)| a)
            .collect();
        assert_eq!(
            actions
                .iter()
                .filter(|a| *a == "consult.notes_saved")
                .count(),
            1
        );
        assert_eq!(
            actions.iter().filter(|a| *a == "consult.file_kept").count(),
            2
        );
        db.close().await;
    }
}
