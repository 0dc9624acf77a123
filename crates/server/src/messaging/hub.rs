//! Fan-out to connected devices: one broadcast channel; each device's socket keeps what
//! is addressed to it. Only ciphertext and sequence numbers pass through here. A socket
//! that falls behind is told to catch up over HTTP rather than being sent everything.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::broadcast;

/// Events queued for all sockets together before the slowest start missing some.
const CAPACITY: usize = 1024;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Event {
    /// A commit or application message was accepted.
    Message {
        conversation: String,
        seq: i64,
        kind: String,
        epoch: i64,
        sender_device: String,
        /// The MLS message, base64.
        body: String,
    },
    /// The device was added to a conversation: its Welcome is waiting.
    Welcome { conversation: String },
    /// Events were missed: read the conversations again.
    Resync,
}

/// An event and the devices it is for.
#[derive(Debug, Clone)]
pub struct Published {
    pub recipients: Vec<String>,
    pub event: Event,
}

#[derive(Debug, Clone)]
pub struct Hub {
    tx: broadcast::Sender<Arc<Published>>,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(CAPACITY).0,
        }
    }
}

impl Hub {
    /// Sends to whoever is connected; nobody connected is fine (they read later).
    pub fn publish(&self, published: Published) {
        let _ = self.tx.send(Arc::new(published));
    }

    pub fn subscribe(&self) -> Subscription {
        Subscription {
            rx: self.tx.subscribe(),
        }
    }
}

#[derive(Debug)]
pub struct Subscription {
    rx: broadcast::Receiver<Arc<Published>>,
}

impl Subscription {
    /// The next event for `device_id`; None when the hub is gone.
    pub async fn next_for(&mut self, device_id: &str) -> Option<Event> {
        loop {
            match self.rx.recv().await {
                Ok(p) if p.recipients.iter().any(|r| r == device_id) => {
                    return Some(p.event.clone());
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => return Some(Event::Resync),
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}
