//! The waiting room and call signalling over real WebSockets: who may reach a room,
//! admission, relaying between exactly two people, bad input and floods, a participant
//! who vanishes, guests with a single-use pass, and what the ledger records.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::consult::{
    PATIENT_EMAIL, PATIENT_NAME, Practice, appointment_ids, bookable, booked, closed, connect,
    drain, practice, publish, recv, recv_kind, send, send_raw,
};
use common::identity::between;
use common::{CLINICIAN_EMAIL, TestServer, database_choices};
use ledger::LedgerStore;
use serde_json::json;

/// Books a guest into the first free time as the clinician: `(link path, code)`.
async fn guest_booking(s: &TestServer, p: &Practice) -> (String, String) {
    let slot = bookable(s, &p.clinician).await[0].0.clone();
    let res = s
        .post_form(
            "/appointments/book",
            &[
                ("slot", slot.as_str()),
                ("guest_name", "Ngaio Tūhoe-Marsh"),
                ("guest_email", "ngaio@guests.example"),
            ],
            Some(&p.clinician),
        )
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let code = between(&html, r#"<p class="code-display" data-copy>"#, "</p>")
        .unwrap()
        .to_owned();
    let link = between(&html, r#"<code class="link" data-copy>"#, "</code>").unwrap();
    let path = link.strip_prefix(&s.running().origin).unwrap().to_owned();
    (path, code)
}

fn guest_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tw_guest="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_appointments_participants_reach_its_room() {
    for db in database_choices().await {
        let s = TestServer::start(db).await;
        let p = practice(&s).await;
        let id = booked(&s, &p).await;
        let room = format!("/ws/appointments/{id}");

        // Outsiders learn nothing: the room does not exist for them.
        assert_eq!(connect(&s, &room, None, None).await.err(), Some(404));
        assert_eq!(
            connect(&s, &room, Some(&p.other_patient), None).await.err(),
            Some(404)
        );
        assert_eq!(
            connect(&s, &room, Some(&p.other_clinician), None)
                .await
                .err(),
            Some(404)
        );
        assert_eq!(
            connect(&s, &room, Some(&p.admin), None).await.err(),
            Some(404)
        );
        assert_eq!(
            connect(&s, "/ws/appointments/nope", Some(&p.patient), None)
                .await
                .err(),
            Some(404)
        );
        assert_eq!(
            connect(&s, &room, Some("tw_session=forged"), None)
                .await
                .err(),
            Some(404)
        );
        // A page on another site cannot open it with the patient's cookies.
        let evil = Some("https://evil.example");
        assert_eq!(
            connect(&s, &room, Some(&p.patient), evil).await.err(),
            Some(403)
        );
        // Nor the clinician's queue.
        assert_eq!(
            connect(&s, "/ws/queue", Some(&p.clinician), evil)
                .await
                .err(),
            Some(403)
        );
        assert_eq!(
            connect(&s, "/ws/queue", Some(&p.patient), None).await.err(),
            Some(403)
        );
        assert_eq!(connect(&s, "/ws/queue", None, None).await.err(), Some(401));
        // The call page and connection settings likewise.
        let join = format!("/appointments/{id}/join");
        assert_eq!(
            s.get_with_cookie(&join, &p.other_patient).await.status(),
            404
        );
        assert_eq!(
            s.get(&join).await.status(),
            303,
            "signed out: sent to sign in"
        );
        let ice = format!("/api/appointments/{id}/ice");
        assert_eq!(
            s.get_with_cookie(&ice, &p.other_patient).await.status(),
            404
        );
        assert_eq!(s.get_with_cookie(&ice, &p.patient).await.status(), 200);

        // The patient gets in, and waits.
        let mut patient = connect(&s, &room, Some(&p.patient), None).await.unwrap();
        assert_eq!(
            recv(&mut patient).await,
            json!({"t": "state", "state": "waiting"})
        );
        assert!(
            s.get_with_cookie(&join, &p.patient)
                .await
                .text()
                .await
                .unwrap()
                .contains("data-call")
        );

        // A consult later in the day is not open yet; one long over is closed.
        assert_eq!(
            publish(&s, &p.clinician, "16:00", "16:30", "30")
                .await
                .status(),
            303
        );
        let later = bookable(&s, &p.other_patient).await;
        let later_slot = later
            .iter()
            .find(|(_, l)| l.contains("4:00 pm"))
            .unwrap()
            .0
            .clone();
        let res = s
            .post_form(
                "/appointments/book",
                &[("slot", &later_slot)],
                Some(&p.other_patient),
            )
            .await;
        assert_eq!(res.status(), 303);
        let later_id = appointment_ids(&s, &p.other_patient).await[0].clone();
        let res = connect(
            &s,
            &format!("/ws/appointments/{later_id}"),
            Some(&p.other_patient),
            None,
        )
        .await;
        assert_eq!(res.err(), Some(403));
        s.clock.advance_ms(3 * 3_600_000);
        let patient_now = s.session_for(PATIENT_EMAIL, 0).await;
        assert_eq!(
            connect(&s, &room, Some(&patient_now), None).await.err(),
            Some(403),
            "over"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clinician_admits_and_signalling_flows_between_the_two_only() {
    for db in database_choices().await {
        let mut s = TestServer::start(db).await;
        let p = practice(&s).await;
        let id = booked(&s, &p).await;
        let room = format!("/ws/appointments/{id}");

        let mut queue = connect(&s, "/ws/queue", Some(&p.clinician), None)
            .await
            .unwrap();
        assert_eq!(
            recv(&mut queue).await,
            json!({"t": "queue", "waiting": [], "in_call": []})
        );
        let mut other_queue = connect(&s, "/ws/queue", Some(&p.other_clinician), None)
            .await
            .unwrap();
        let _ = recv(&mut other_queue).await;

        let mut patient = connect(&s, &room, Some(&p.patient), None).await.unwrap();
        assert_eq!(recv(&mut patient).await["state"], "waiting");
        let q = recv_kind(&mut queue, "queue").await;
        assert_eq!(q["waiting"][0]["appointment"], id.as_str());
        assert_eq!(q["waiting"][0]["name"], PATIENT_NAME);
        assert!(q["waiting"][0]["since_ms"].as_i64().unwrap() > 0);
        // Another clinician's queue shows nothing of it.
        assert!(drain(&mut other_queue, 200).await.is_empty());

        // Waiting patients cannot signal, nor let themselves in.
        send(&mut patient, json!({"t": "signal", "data": {"x": 1}})).await;
        assert_eq!(recv(&mut patient).await["code"], "not-admitted");
        send(&mut patient, json!({"t": "admit"})).await;
        assert_eq!(recv(&mut patient).await["code"], "clinician-only");
        // Another clinician cannot admit them either.
        send(&mut other_queue, json!({"t": "admit", "appointment": id})).await;
        assert_eq!(recv(&mut other_queue).await["code"], "not-yours");

        // The clinician sends a message to the waiting patient, then admits them.
        send(
            &mut queue,
            json!({"t": "message", "appointment": id, "text": "Five minutes, sorry!"}),
        )
        .await;
        assert_eq!(
            recv(&mut patient).await,
            json!({"t": "message", "text": "Five minutes, sorry!"})
        );
        send(&mut queue, json!({"t": "admit", "appointment": id})).await;
        assert_eq!(recv(&mut patient).await["state"], "admitted");
        assert_eq!(
            recv(&mut patient).await,
            json!({"t": "peer", "present": false})
        );
        let q = recv_kind(&mut queue, "queue").await;
        assert_eq!(q, json!({"t": "queue", "waiting": [], "in_call": [id]}));

        let mut clinician = connect(&s, &room, Some(&p.clinician), None).await.unwrap();
        assert_eq!(recv(&mut clinician).await["state"], "in_call");
        assert_eq!(
            recv(&mut clinician).await,
            json!({"t": "peer", "present": true})
        );
        assert_eq!(
            recv(&mut patient).await,
            json!({"t": "peer", "present": true})
        );

        // Signalling goes to the other side, verbatim, and nowhere else.
        let offer =
            json!({"session": "a", "description": {"type": "offer", "sdp": "v=0 marker-offer"}});
        send(&mut patient, json!({"t": "signal", "data": offer})).await;
        assert_eq!(
            recv(&mut clinician).await,
            json!({"t": "signal", "data": offer})
        );
        let answer =
            json!({"session": "b", "description": {"type": "answer", "sdp": "v=0 marker-answer"}});
        send(&mut clinician, json!({"t": "signal", "data": answer})).await;
        assert_eq!(
            recv(&mut patient).await,
            json!({"t": "signal", "data": answer})
        );
        assert!(drain(&mut other_queue, 100).await.is_empty());

        // Bad input: an error to the sender only, and the call goes on.
        let bad = [
            "not json".to_owned(),
            r#"{"t":"signal"}"#.to_owned(),
            r#"{"t":"launch_missiles"}"#.to_owned(),
            json!({"t": "signal", "data": "x".repeat(70 * 1024)}).to_string(),
        ];
        for (text, code) in
            bad.into_iter()
                .zip(["malformed", "malformed", "malformed", "too-large"])
        {
            send_raw(&mut patient, text).await;
            assert_eq!(recv(&mut patient).await["code"], code);
        }
        send(
            &mut clinician,
            json!({"t": "admit", "appointment": "someone-elses"}),
        )
        .await;
        assert_eq!(recv(&mut clinician).await["code"], "other-room");
        assert!(
            drain(&mut clinician, 200).await.is_empty(),
            "the clinician saw none of it"
        );
        send(
            &mut patient,
            json!({"t": "signal", "data": {"candidate": "c1"}}),
        )
        .await;
        assert_eq!(recv(&mut clinician).await["data"]["candidate"], "c1");

        // The patient's connection drops mid-call: the clinician is told, and the
        // patient comes straight back into the call (no second admission).
        drop(patient);
        assert_eq!(recv_kind(&mut clinician, "peer").await["present"], false);
        let mut patient = connect(&s, &room, Some(&p.patient), None).await.unwrap();
        assert_eq!(recv(&mut patient).await["state"], "in_call");
        assert_eq!(recv_kind(&mut clinician, "peer").await["present"], true);

        // Only the clinician marks the call verified; both see it.
        send(&mut patient, json!({"t": "verified"})).await;
        assert_eq!(
            recv_kind(&mut patient, "error").await["code"],
            "clinician-only"
        );
        send(&mut clinician, json!({"t": "verified"})).await;
        assert_eq!(recv_kind(&mut patient, "verified").await["t"], "verified");
        assert_eq!(recv_kind(&mut clinician, "verified").await["t"], "verified");

        // A flood is refused and, when it goes on, that one socket is closed.
        for _ in 0..150 {
            send(&mut patient, json!({"t": "ping"})).await;
        }
        let flood = drain(&mut patient, 500).await;
        assert!(
            flood.iter().any(|m| m["code"] == "rate-limited"),
            "{flood:?}"
        );
        assert!(closed(&mut patient).await, "a flooding socket is closed");
        assert_eq!(recv_kind(&mut clinician, "peer").await["present"], false);
        send(&mut clinician, json!({"t": "ping"})).await;
        assert!(
            drain(&mut clinician, 200).await.is_empty(),
            "the clinician's socket is fine"
        );

        // The clinician ends the consult; everyone is told and the room closes.
        let mut patient = connect(&s, &room, Some(&p.patient), None).await.unwrap();
        assert_eq!(recv(&mut patient).await["state"], "in_call");
        s.clock.advance_ms(9 * 60_000);
        send(&mut clinician, json!({"t": "end"})).await;
        assert_eq!(recv_kind(&mut patient, "state").await["state"], "ended");
        assert_eq!(recv_kind(&mut clinician, "state").await["state"], "ended");
        assert!(closed(&mut patient).await && closed(&mut clinician).await);
        // The queue is empty again.
        let updates = drain(&mut queue, 300).await;
        assert_eq!(
            updates.last(),
            Some(&json!({"t": "queue", "waiting": [], "in_call": []})),
            "{updates:?}"
        );

        let db = s.stop().await;
        let entries = db.entries(1, 10_000).await.unwrap();
        let of = |action: &str| {
            entries
                .iter()
                .filter(|e| e.action == action)
                .collect::<Vec<_>>()
        };
        assert_eq!(of("consult.joined").len(), 4, "patient ×3, clinician ×1");
        assert_eq!(of("consult.left").len(), 4);
        assert_eq!(of("consult.admitted").len(), 1);
        assert_eq!(of("consult.verified").len(), 1);
        let ended = of("consult.ended");
        assert_eq!(ended.len(), 1);
        assert!(
            ended[0].details.contains(r#""duration_secs":540"#),
            "{}",
            ended[0].details
        );
        let a = db.appointment(&id).await.unwrap().unwrap();
        assert!(
            a.started_ms.is_some() && a.ended_ms.is_some() && a.verified_ms.is_some(),
            "{a:?}"
        );
        // Never content.
        for e in &entries {
            assert!(
                !e.details.contains("marker") && !e.details.contains("Five minutes"),
                "{e:?}"
            );
        }
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clinician_can_remove_a_participant() {
    for db in database_choices().await {
        let s = TestServer::start(db).await;
        let p = practice(&s).await;
        let id = booked(&s, &p).await;
        let room = format!("/ws/appointments/{id}");
        let mut patient = connect(&s, &room, Some(&p.patient), None).await.unwrap();
        let _ = recv(&mut patient).await;
        let mut queue = connect(&s, "/ws/queue", Some(&p.clinician), None)
            .await
            .unwrap();
        let _ = recv_kind(&mut queue, "queue").await;
        send(&mut queue, json!({"t": "remove", "appointment": id})).await;
        assert_eq!(recv(&mut patient).await["state"], "removed");
        assert!(closed(&mut patient).await);
        let q = recv_kind(&mut queue, "queue").await;
        assert_eq!(q["waiting"], json!([]));
        // Coming back puts them in the waiting room again, not in the call.
        let mut patient = connect(&s, &room, Some(&p.patient), None).await.unwrap();
        assert_eq!(recv(&mut patient).await["state"], "waiting");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clinician_already_in_the_call_page_is_told_and_lets_the_patient_in() {
    for db in database_choices().await {
        let s = TestServer::start(db).await;
        let p = practice(&s).await;
        let id = booked(&s, &p).await;
        let room = format!("/ws/appointments/{id}");
        // The clinician opens the consult first.
        let mut clinician = connect(&s, &room, Some(&p.clinician), None).await.unwrap();
        assert_eq!(recv(&mut clinician).await["state"], "in_call");
        assert_eq!(recv(&mut clinician).await["present"], false);
        // Their queue page lists the patient by the patient's name, not the clinician's.
        let mut queue = connect(&s, "/ws/queue", Some(&p.clinician), None)
            .await
            .unwrap();
        let _ = recv_kind(&mut queue, "queue").await;
        let mut patient = connect(&s, &room, Some(&p.patient), None).await.unwrap();
        assert_eq!(recv(&mut patient).await["state"], "waiting");
        let lobby = recv_kind(&mut clinician, "lobby").await;
        assert_eq!(lobby["waiting"], true);
        let q = recv_kind(&mut queue, "queue").await;
        assert_eq!(q["waiting"][0]["name"], PATIENT_NAME);
        // Nothing to check or remove before the call: refused, nothing recorded.
        send(&mut clinician, json!({"t": "verified"})).await;
        assert_eq!(
            recv_kind(&mut clinician, "error").await["code"],
            "not-in-call"
        );
        // The clinician lets them in from the call page.
        send(&mut clinician, json!({"t": "admit"})).await;
        assert_eq!(recv(&mut patient).await["state"], "admitted");
        assert_eq!(recv_kind(&mut clinician, "lobby").await["waiting"], false);
        assert_eq!(recv_kind(&mut clinician, "peer").await["present"], true);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_closes_the_room_and_an_empty_room_goes() {
    for db in database_choices().await {
        let s = TestServer::start(db).await;
        let p = practice(&s).await;
        let id = booked(&s, &p).await;
        let room = format!("/ws/appointments/{id}");
        let mut patient = connect(&s, &room, Some(&p.patient), None).await.unwrap();
        assert_eq!(recv(&mut patient).await["state"], "waiting");
        let mut queue = connect(&s, "/ws/queue", Some(&p.clinician), None)
            .await
            .unwrap();
        let _ = recv_kind(&mut queue, "queue").await;
        send(&mut queue, json!({"t": "admit", "appointment": id})).await;
        assert_eq!(recv(&mut patient).await["state"], "admitted");
        // Admitted, then everyone leaves: the room goes.
        drop(patient);
        for _ in 0..50 {
            if s.running().open_rooms() == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(s.running().open_rooms(), 0, "no room left behind");
        // Back in the waiting room; the practice cancels: told at once, socket closed.
        let mut patient = connect(&s, &room, Some(&p.patient), None).await.unwrap();
        assert_eq!(recv(&mut patient).await["state"], "waiting");
        let res = s
            .post_form(
                &format!("/appointments/{id}/cancel"),
                &[],
                Some(&p.clinician),
            )
            .await;
        assert_eq!(res.status(), 303);
        assert_eq!(recv(&mut patient).await["state"], "ended");
        assert!(closed(&mut patient).await);
        assert!(
            connect(&s, &room, Some(&p.patient), None).await.is_err(),
            "a cancelled consult cannot be joined"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_pass_works_once_for_its_appointment_only() {
    for db in database_choices().await {
        let mut s = TestServer::start(db).await;
        let p = practice(&s).await;
        let id = booked(&s, &p).await;
        let (link, code) = guest_booking(&s, &p).await;
        assert_eq!(code.len(), 6);
        let guest_id = appointment_ids(&s, &p.clinician)
            .await
            .into_iter()
            .find(|a| *a != id)
            .unwrap();
        // The guest was e-mailed the link, never the code.
        let mails: Vec<String> = std::fs::read_dir(s.dir.path().join("outbox"))
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .filter(|m| m.contains("ngaio@guests.example"))
            .collect();
        assert_eq!(mails.len(), 1);
        assert!(mails[0].contains(&link) && !mails[0].contains(&code));

        assert_eq!(s.get(&link).await.status(), 200);
        assert_eq!(s.get("/guest/not-a-real-token").await.status(), 404);
        // A wrong code is refused and nothing is granted.
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let res = s.post_form(&link, &[("code", wrong)], None).await;
        assert!(res.status().is_client_error());
        assert!(guest_cookie(&res).is_none());
        assert!(res.text().await.unwrap().contains("code is not right"));
        // The right code lets the guest in to this appointment's call (it opens an
        // hour before it starts).
        s.clock.advance_ms(30 * 60_000);
        let res = s.post_form(&link, &[("code", &code)], None).await;
        assert_eq!(res.status(), 303);
        assert_eq!(
            res.headers()["location"],
            format!("/appointments/{guest_id}/join").as_str()
        );
        let guest = guest_cookie(&res).unwrap();
        let page = s
            .get_with_cookie(&format!("/appointments/{guest_id}/join"), &guest)
            .await;
        assert_eq!(page.status(), 200);
        let mut ws = connect(
            &s,
            &format!("/ws/appointments/{guest_id}"),
            Some(&guest),
            None,
        )
        .await
        .unwrap();
        assert_eq!(recv(&mut ws).await["state"], "waiting");
        let clinician = s.session_for(CLINICIAN_EMAIL, 0).await;
        let mut queue = connect(&s, "/ws/queue", Some(&clinician), None)
            .await
            .unwrap();
        let q = recv_kind(&mut queue, "queue").await;
        assert_eq!(q["waiting"][0]["name"], "Ngaio Tūhoe-Marsh");
        // Used once: the link and code do not work again.
        let res = s.post_form(&link, &[("code", &code)], None).await;
        assert!(res.status().is_client_error());
        assert!(guest_cookie(&res).is_none());
        // The guest reaches nothing else: not the other appointment, nor any page.
        assert_eq!(
            connect(&s, &format!("/ws/appointments/{id}"), Some(&guest), None)
                .await
                .err(),
            Some(404)
        );
        assert_eq!(
            s.get_with_cookie(&format!("/appointments/{id}/join"), &guest)
                .await
                .status(),
            404
        );
        assert_eq!(
            s.get_with_cookie("/appointments", &guest).await.status(),
            303
        );
        // After the appointment, the guest session has expired with it.
        drop(ws);
        s.clock.advance_ms(3 * 3_600_000);
        let res = connect(
            &s,
            &format!("/ws/appointments/{guest_id}"),
            Some(&guest),
            None,
        )
        .await;
        assert_eq!(res.err(), Some(404));

        let db = s.stop().await;
        let entries = db.entries(1, 10_000).await.unwrap();
        let passes: Vec<_> = entries
            .iter()
            .filter(|e| e.action == "consult.guest_pass")
            .map(|e| e.outcome.as_str())
            .collect();
        assert_eq!(passes, ["failure", "success"]);
        for e in &entries {
            assert!(
                !e.details.contains("Ngaio") && !e.details.contains(&code),
                "{e:?}"
            );
        }
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_codes_end_a_guest_pass() {
    let s = TestServer::start(None).await;
    let p = practice(&s).await;
    let _ = booked(&s, &p).await;
    let (link, code) = guest_booking(&s, &p).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let res = s.post_form(&link, &[("code", wrong)], None).await;
        assert!(res.status().is_client_error());
    }
    let res = s.post_form(&link, &[("code", &code)], None).await;
    assert!(res.status().is_client_error(), "the pass is spent");
    assert!(guest_cookie(&res).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turn_credentials_are_short_lived_and_verifiable() {
    use base64::Engine;
    use hmac::{Hmac, KeyInit, Mac};
    let s = TestServer::start_with(None, |c| {
        c.turn.urls = vec!["turn:127.0.0.1:3478?transport=udp".into()];
        c.turn.secret = Some(server::Secret::new("coturn-shared-secret"));
        c.turn.ttl_secs = 300;
        c.turn.relay_only = true;
    })
    .await;
    let p = practice(&s).await;
    let id = booked(&s, &p).await;
    let ice: serde_json::Value = s
        .get_with_cookie(&format!("/api/appointments/{id}/ice"), &p.patient)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ice["iceTransportPolicy"], "relay");
    let server = &ice["iceServers"][0];
    assert_eq!(server["urls"], json!(["turn:127.0.0.1:3478?transport=udp"]));
    let username = server["username"].as_str().unwrap();
    let (expiry, who) = username.split_once(':').unwrap();
    use clock::Clock;
    assert_eq!(
        expiry.parse::<i64>().unwrap(),
        s.clock.now_ms() / 1000 + 300
    );
    assert!(!who.contains(&id), "the id given to coturn is opaque");
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(b"coturn-shared-secret").unwrap();
    mac.update(username.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(server["credential"], expected.as_str());
}
