//! The socket side of a consult: each WebSocket is kept small (thousands wait at once),
//! every message from a browser is size- and rate-limited and parsed before the room
//! hub sees it, and replies reach the browser before its socket closes.

use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use tokio::sync::{mpsc, watch};

use crate::consult::room::{In, Out};

/// Largest message accepted from a browser (an SDP offer is a few KiB).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Past this a frame is not read at all: the socket closes.
const HARD_LIMIT_BYTES: usize = 1024 * 1024;
/// A socket silent this long is closed (browsers send a ping every 25 seconds).
const IDLE: Duration = Duration::from_secs(75);
/// Messages per second a connection may send on average, and in a burst.
const RATE_PER_SEC: f64 = 20.0;
const BURST: f64 = 60.0;
/// Over-limit or malformed messages tolerated before the connection is closed.
const STRIKES: u32 = 20;
/// Messages queued for a slow browser before further ones are dropped.
const OUTBOX: usize = 64;

/// A token bucket per connection.
#[derive(Debug)]
pub struct Limiter {
    tokens: f64,
    last: Instant,
    pub strikes: u32,
}

impl Default for Limiter {
    fn default() -> Self {
        Self {
            tokens: BURST,
            last: Instant::now(),
            strikes: 0,
        }
    }
}

impl Limiter {
    /// Whether one more message may pass now.
    pub fn allow(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.last).as_secs_f64() * RATE_PER_SEC).min(BURST);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Counts a bad or excess message; true when the connection should be closed.
    pub fn strike(&mut self) -> bool {
        self.strikes += 1;
        self.strikes >= STRIKES
    }
}

/// Sockets stay small: thousands wait at once, each with a few KiB of buffers. A
/// frame past the hard limit closes the socket (no browser of ours sends one); one
/// past [`MAX_MESSAGE_BYTES`] gets an error and is dropped.
pub fn configure(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(HARD_LIMIT_BYTES)
        .max_frame_size(HARD_LIMIT_BYTES)
}

/// Who is at the other end of a socket, for the sentinel's message-rate watch.
#[derive(Debug, Clone)]
pub struct Watched {
    pub sentinel: sentinel::Sentinel,
    pub source: std::net::IpAddr,
    pub session: sentinel::SessionKey,
}

/// How often a socket's message count goes to the sentinel.
const REPORT_EVERY: Duration = Duration::from_secs(10);

impl Watched {
    fn report(&self, count: &mut u32) {
        if *count == 0 {
            return;
        }
        self.sentinel.record(sentinel::Event::SocketMessages(
            sentinel::SocketMessagesEvent {
                at_ms: self.sentinel.now_ms(),
                source: self.source,
                session: self.session,
                count: *count,
            },
        ));
        *count = 0;
    }
}

/// Runs a socket: messages from `rx` go to the browser; what the browser sends is
/// parsed, limited, and passed to `on_message` (and counted for the sentinel). Returns
/// when either side closes, the browser is silent for [`IDLE`], or the server stops.
pub async fn pump<F>(
    socket: WebSocket,
    watched: Watched,
    mut rx: mpsc::Receiver<Out>,
    mut closing: watch::Receiver<bool>,
    mut on_message: F,
) where
    F: FnMut(Result<In, &'static str>) -> Option<Out> + Send,
{
    use futures_util::{SinkExt, StreamExt};
    let (mut sink, mut stream) = socket.split();
    let (reply_tx, mut reply_rx) = mpsc::channel::<Out>(OUTBOX);
    let (done_tx, mut done_rx) = tokio::sync::oneshot::channel::<()>();
    let mut writer = tokio::spawn(async move {
        loop {
            // Replies first, so an error reaches the browser before its socket closes.
            let out = tokio::select! {
                biased;
                Some(o) = reply_rx.recv() => o,
                Some(o) = rx.recv() => o,
                _ = &mut done_rx => break,
                else => break,
            };
            let last = matches!(
                out,
                Out::State {
                    state: "removed" | "replaced" | "ended"
                }
            );
            let Ok(text) = serde_json::to_string(&out) else {
                continue;
            };
            if sink.send(Message::Text(text.into())).await.is_err() || last {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let mut limiter = Limiter::default();
    let mut received = 0u32;
    let mut reported = tokio::time::Instant::now();
    loop {
        if reported.elapsed() >= REPORT_EVERY {
            watched.report(&mut received);
            reported = tokio::time::Instant::now();
        }
        let frame = tokio::select! {
            frame = tokio::time::timeout(IDLE, stream.next()) => frame,
            _ = &mut writer => return,
            _ = closing.wait_for(|stop| *stop) => break,
        };
        let parsed = match frame {
            Ok(Some(Ok(Message::Text(text)))) => {
                if text.len() > MAX_MESSAGE_BYTES {
                    Err("too-large")
                } else if !limiter.allow() {
                    Err("rate-limited")
                } else {
                    serde_json::from_str::<In>(text.as_str()).map_err(|_| "malformed")
                }
            }
            Ok(Some(Ok(Message::Binary(_)))) => Err("malformed"),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            // Closed, broken, or silent too long.
            Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) | Err(_) => break,
        };
        received = received.saturating_add(1);
        let bad = parsed.is_err();
        if let Some(reply) = on_message(parsed) {
            let _ = reply_tx.try_send(reply);
        }
        if bad && limiter.strike() {
            break;
        }
    }
    watched.report(&mut received);
    drop(reply_tx);
    let _ = done_tx.send(());
    // Give the writer a moment to flush the last replies and close politely.
    if tokio::time::timeout(Duration::from_secs(2), &mut writer)
        .await
        .is_err()
    {
        writer.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_allows_a_burst_then_refuses() {
        let mut l = Limiter::default();
        let allowed = (0..100).filter(|_| l.allow()).count();
        assert!((60..=62).contains(&allowed), "{allowed}");
    }
}
