//! Consult steps shared by the consult tests: a practice with a clinician and patients,
//! published times, bookings, and WebSocket clients of the waiting room and the call.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::identity::{between, invite};
use super::{ADMIN_EMAIL, CLINICIAN_EMAIL, CLINICIAN_NAME, TestServer};

pub const PATIENT_NAME: &str = "Marguerite Okonkwo-Lindqvist";
pub const PATIENT_EMAIL: &str = "marguerite@patients.example";
pub const OTHER_PATIENT_EMAIL: &str = "bartholomew@patients.example";
pub const OTHER_CLINICIAN_EMAIL: &str = "dr.ng@harbour.example";

/// Everyone a consult test needs, signed in.
pub struct Practice {
    pub admin: String,
    pub clinician: String,
    pub other_clinician: String,
    pub patient: String,
    pub other_patient: String,
}

pub async fn practice(s: &TestServer) -> Practice {
    let admin = s.admin().await;
    invite(s, &admin, CLINICIAN_NAME, CLINICIAN_EMAIL, "clinician").await;
    invite(s, &admin, "Dr Wen Ng", OTHER_CLINICIAN_EMAIL, "clinician").await;
    invite(s, &admin, PATIENT_NAME, PATIENT_EMAIL, "patient").await;
    invite(
        s,
        &admin,
        "Bartholomew Ferreira",
        OTHER_PATIENT_EMAIL,
        "patient",
    )
    .await;
    assert!(!ADMIN_EMAIL.is_empty());
    Practice {
        clinician: s.session_for(CLINICIAN_EMAIL, 0).await,
        other_clinician: s.session_for(OTHER_CLINICIAN_EMAIL, 0).await,
        patient: s.session_for(PATIENT_EMAIL, 0).await,
        other_patient: s.session_for(OTHER_PATIENT_EMAIL, 0).await,
        admin,
    }
}

/// Publishes `from`–`until` on 1 January 2026 (Sydney time, where the practice is;
/// the test clock starts at 11:00 that day) in slots of `minutes`.
pub async fn publish(
    s: &TestServer,
    clinician: &str,
    from: &str,
    until: &str,
    minutes: &str,
) -> reqwest::Response {
    s.post_form(
        "/appointments/slots",
        &[
            ("date", "2026-01-01"),
            ("from", from),
            ("until", until),
            ("minutes", minutes),
        ],
        Some(clinician),
    )
    .await
}

/// The `(slot id, label)` pairs offered in the booking form of `cookie`'s page.
pub async fn bookable(s: &TestServer, cookie: &str) -> Vec<(String, String)> {
    let html = s
        .get_with_cookie("/appointments", cookie)
        .await
        .text()
        .await
        .unwrap();
    let Some(select) = between(
        &html,
        r#"<select id="slot" name="slot" required>"#,
        "</select>",
    ) else {
        return Vec::new();
    };
    select
        .split("<option value=\"")
        .skip(1)
        .map(|o| {
            let (id, rest) = o.split_once("\">").unwrap();
            (
                id.to_owned(),
                rest.split("</option>").next().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Ids of the appointments listed on `cookie`'s appointments page, soonest first.
pub async fn appointment_ids(s: &TestServer, cookie: &str) -> Vec<String> {
    let html = s
        .get_with_cookie("/appointments", cookie)
        .await
        .text()
        .await
        .unwrap();
    html.split(r#"<a href="/appointments/"#)
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .filter(|id| !id.contains('/'))
        .collect()
}

/// Publishes two 30-minute times and books the first for the patient: the appointment id.
pub async fn booked(s: &TestServer, p: &Practice) -> String {
    assert_eq!(
        publish(s, &p.clinician, "12:00", "13:00", "30")
            .await
            .status(),
        303
    );
    let slot = bookable(s, &p.patient).await[0].0.clone();
    let res = s
        .post_form("/appointments/book", &[("slot", &slot)], Some(&p.patient))
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    appointment_ids(s, &p.patient).await[0].clone()
}

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens `path` as a WebSocket with `cookie`, from our own origin unless `origin` says.
pub async fn connect(
    s: &TestServer,
    path: &str,
    cookie: Option<&str>,
    origin: Option<&str>,
) -> Result<Ws, u16> {
    let url = format!("ws://{}{path}", s.running().addr);
    let mut req = url.into_client_request().unwrap();
    let origin = origin.unwrap_or(&s.running().origin).to_owned();
    req.headers_mut()
        .insert("origin", HeaderValue::from_str(&origin).unwrap());
    if let Some(c) = cookie {
        req.headers_mut()
            .insert("cookie", HeaderValue::from_str(c).unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(WsError::Http(res)) => Err(res.status().as_u16()),
        Err(e) => panic!("websocket: {e}"),
    }
}

/// The next JSON message (within 5 seconds); panics on close or silence.
pub async fn recv(ws: &mut Ws) -> Value {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a message within 5 seconds");
        match next {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(t.as_str()).unwrap(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

/// The next message whose `t` is `kind`, skipping others.
pub async fn recv_kind(ws: &mut Ws, kind: &str) -> Value {
    for _ in 0..50 {
        let m = recv(ws).await;
        if m["t"] == kind {
            return m;
        }
    }
    panic!("no {kind} message");
}

/// What arrives within `ms` (messages only; a close ends it).
pub async fn drain(ws: &mut Ws, ms: u64) -> Vec<Value> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
    while let Ok(Some(Ok(m))) = tokio::time::timeout_at(deadline, ws.next()).await {
        if let Message::Text(t) = m {
            out.push(serde_json::from_str(t.as_str()).unwrap());
        }
    }
    out
}

/// Whether the server closed the socket within 5 seconds.
pub async fn closed(ws: &mut Ws) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return false,
            Ok(None | Some(Err(_) | Ok(Message::Close(_)))) => return true,
            Ok(Some(Ok(_))) => {}
        }
    }
}

pub async fn send(ws: &mut Ws, message: Value) {
    ws.send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
}

pub async fn send_raw(ws: &mut Ws, text: String) {
    ws.send(Message::Text(text.into())).await.unwrap();
}
