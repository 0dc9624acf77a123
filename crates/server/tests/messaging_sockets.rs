//! The messaging delivery socket lives no longer than what opened it: signing out, or
//! removing the device, closes it at once; one account holds a bounded number of them.
//! Real server over WebSocket, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::consult::{PATIENT_EMAIL, Ws, connect, practice};
use common::messaging::{device, post};
use common::{TestServer, database_choices};
use futures_util::StreamExt;
use serde_json::json;

/// Well below the socket's periodic re-check (15 s): closing must come from the
/// revocation itself.
const PROMPTLY: Duration = Duration::from_secs(5);

/// Waits for the server to end the socket; panics if it is still open after `within`.
async fn closed_within(ws: &mut Ws, within: Duration, what: &str) {
    let closed = tokio::time::timeout(within, async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) => return,
                Some(Ok(m)) if m.is_close() => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "{what}: the socket is still open");
}

/// The socket stays open: nothing ends it within `for_`.
async fn open_for(ws: &mut Ws, for_: Duration) {
    let waited = tokio::time::timeout(for_, ws.next()).await;
    assert!(
        waited.is_err(),
        "the socket ended or sent something: {waited:?}"
    );
}

#[tokio::test]
async fn signing_out_or_removing_the_device_closes_its_sockets_and_an_account_has_a_cap() {
    for db in database_choices().await {
        let s = TestServer::start(db).await;
        practice(&s).await;
        let phone = device(&s, PATIENT_EMAIL, "Phone", "member").await;
        let path = format!("/ws/messaging?device={}", phone.device_id);

        // A socket of another session of the same account survives this one's sign-out.
        let other_cookie = s.session_for(PATIENT_EMAIL, 0).await;
        let mut mine = connect(&s, &path, Some(&phone.cookie), None).await.unwrap();
        let mut other = connect(&s, &path, Some(&other_cookie), None).await.unwrap();
        open_for(&mut mine, Duration::from_millis(300)).await;
        let out = s.post_form("/sign-out", &[], Some(&phone.cookie)).await;
        assert_eq!(out.status(), 303);
        closed_within(&mut mine, PROMPTLY, "after signing out").await;
        open_for(&mut other, Duration::from_millis(500)).await;
        assert!(
            connect(&s, &path, Some(&phone.cookie), None).await.is_err(),
            "a signed-out session opens no socket"
        );

        // The cap (32 per account): the other session's socket counts, so 31 more fit
        // and no more.
        let mut held = Vec::new();
        for _ in 1..32 {
            held.push(connect(&s, &path, Some(&other_cookie), None).await.unwrap());
        }
        let refused = connect(&s, &path, Some(&other_cookie), None).await;
        assert_eq!(refused.err(), Some(429), "the 33rd socket of one account");
        drop(held.pop());
        // The server notices the closed socket when it next reads it.
        let mut reopened = None;
        for _ in 0..50 {
            if let Ok(ws) = connect(&s, &path, Some(&other_cookie), None).await {
                reopened = Some(ws);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(reopened.is_some(), "a closed socket gives its slot back");
        held.extend(reopened);

        // Removing the device ends every socket opened for it.
        let (status, body) = post(
            &s,
            &other_cookie,
            &format!("/api/messaging/devices/{}/remove", phone.device_id),
            &json!({}),
        )
        .await;
        assert_eq!(status, 204, "{body}");
        closed_within(&mut other, PROMPTLY, "after removing the device").await;
        for ws in &mut held {
            closed_within(ws, PROMPTLY, "after removing the device").await;
        }
        assert!(
            connect(&s, &path, Some(&other_cookie), None).await.is_err(),
            "a removed device opens no socket"
        );
    }
}
