//! One device's delivery socket: what is accepted in its conversations is pushed as it
//! happens (ciphertext only). The device reads nothing here it could not read over HTTP.
//!
//! A socket lives no longer than what opened it: it closes at once when its device is
//! removed or its session ends ([`Revocation`]), and it re-checks both every
//! [`RECHECK`] anyway, so a session that expired, was revoked by an administrator or is
//! held by the sentinel stops receiving within that time.

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};

use super::hub::{Event, Revocation, SocketSlot};
use crate::state::AppState;

/// How often an open socket checks that its session and device are still good.
pub const RECHECK: Duration = Duration::from_secs(15);
/// A device that stops reading for this long is dropped, not waited for.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Silence from the device (no ping, nothing) after which the socket is closed.
const IDLE: Duration = Duration::from_secs(75);

/// Who a socket was opened by.
#[derive(Debug)]
pub struct Opened {
    pub device_id: String,
    pub user_id: String,
    pub session_hash: String,
    /// Counts against the account's socket cap until the socket closes (held only to be
    /// dropped with the socket).
    #[expect(dead_code, reason = "held for its Drop, which gives the slot back")]
    pub slot: SocketSlot,
}

/// Whether the session is still live (not revoked, expired, idle too long or held by
/// the sentinel) and the device still belongs to the account.
async fn still_allowed(state: &AppState, opened: &Opened) -> bool {
    let now = state.clock.now_ms();
    let session = state
        .db
        .live_session(&state.keyring, &opened.session_hash, now)
        .await;
    let live = matches!(session, Ok(Some((_, ref user))) if user.id == opened.user_id)
        && !state.sentinel.is_held(&opened.user_id);
    if !live {
        return false;
    }
    matches!(
        state.db.msg_device(&opened.device_id).await,
        Ok(Some(d)) if d.removed_ms.is_none() && d.user_id == opened.user_id
    )
}

fn ends(revocation: &Revocation, opened: &Opened) -> bool {
    match revocation {
        Revocation::Device(id) => *id == opened.device_id,
        Revocation::Session(hash) => *hash == opened.session_hash,
    }
}

/// Pushes events to the device until it goes away, stalls, or loses the right to them.
pub async fn serve(state: AppState, opened: Opened, socket: WebSocket) {
    // Subscribe before the first check, so a revocation in between is not missed.
    let mut events = state.messaging.subscribe();
    let mut revocations = state.messaging.revocations();
    let (mut sink, mut stream) = socket.split();
    let mut closing = state.rooms.closing();
    let mut recheck = tokio::time::interval(RECHECK);
    loop {
        tokio::select! {
            event = events.next_for(&opened.device_id) => {
                let Some(event) = event else { break };
                let Ok(text) = serde_json::to_string(&event) else { continue };
                let sent = tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Text(text.into()))).await;
                if !matches!(sent, Ok(Ok(()))) {
                    break;
                }
                if matches!(event, Event::Resync) {
                    events = state.messaging.subscribe();
                }
            }
            revoked = revocations.recv() => {
                match revoked {
                    Ok(r) if ends(&r, &opened) => break,
                    Ok(_) => {}
                    // Missed some: check the hard way.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        if !still_allowed(&state, &opened).await { break }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
            _ = recheck.tick() => {
                if !still_allowed(&state, &opened).await {
                    break;
                }
            }
            incoming = tokio::time::timeout(IDLE, stream.next()) => {
                match incoming {
                    // Pings and anything else from the device are only a sign of life.
                    Ok(Some(Ok(Message::Close(_)) | Err(_))) | Ok(None) | Err(_) => break,
                    Ok(Some(Ok(_))) => {}
                }
            }
            _ = closing.changed() => break,
        }
    }
    let _ = sink.close().await;
}
