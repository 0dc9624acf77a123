//! Fan-out to connected devices: one broadcast channel; each device's socket keeps what
//! is addressed to it. Only ciphertext and sequence numbers pass through here. A socket
//! that falls behind is told to catch up over HTTP rather than being sent everything.
//!
//! The hub also counts each account's open sockets (a cap, so one account cannot hold
//! the server's memory with thousands of idle sockets) and carries revocations: when a
//! device is removed or a session ends, the sockets opened with it close at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::broadcast;

/// Events queued for all sockets together before the slowest start missing some.
const CAPACITY: usize = 1024;
/// Delivery sockets one account may hold open at once: a few devices with a few tabs
/// each, and a practice's archive devices (one account) with room to spare.
pub const MAX_SOCKETS_PER_ACCOUNT: usize = 32;

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

/// What ends sockets before their next check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// The device was removed from its account.
    Device(String),
    /// The session (by its id hash) ended.
    Session(String),
}

#[derive(Debug, Clone)]
pub struct Hub {
    tx: broadcast::Sender<Arc<Published>>,
    revoked: broadcast::Sender<Revocation>,
    open: Arc<Mutex<HashMap<String, usize>>>,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(CAPACITY).0,
            revoked: broadcast::channel(64).0,
            open: Arc::default(),
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

    /// Closes the sockets of a removed device or an ended session.
    pub fn revoke(&self, revocation: Revocation) {
        let _ = self.revoked.send(revocation);
    }

    /// Revocations from now on.
    pub fn revocations(&self) -> broadcast::Receiver<Revocation> {
        self.revoked.subscribe()
    }

    /// A slot for one more socket of `account`, or `None` when it holds
    /// [`MAX_SOCKETS_PER_ACCOUNT`] already. The slot is given back when dropped.
    pub fn open_socket(&self, account: &str) -> Option<SocketSlot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(account.to_owned()).or_default();
        if *n >= MAX_SOCKETS_PER_ACCOUNT {
            return None;
        }
        *n += 1;
        Some(SocketSlot {
            open: Arc::clone(&self.open),
            account: account.to_owned(),
        })
    }
}

/// One open socket of an account, counted until dropped.
#[derive(Debug)]
pub struct SocketSlot {
    open: Arc<Mutex<HashMap<String, usize>>>,
    account: String,
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.account) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.account);
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_holds_at_most_the_cap_of_sockets_and_gets_slots_back() {
        let hub = Hub::default();
        let slots: Vec<_> = (0..MAX_SOCKETS_PER_ACCOUNT)
            .map(|_| hub.open_socket("a").expect("under the cap"))
            .collect();
        assert!(hub.open_socket("a").is_none(), "over the cap");
        assert!(
            hub.open_socket("b").is_some(),
            "other accounts are not affected"
        );
        drop(slots);
        assert!(
            hub.open_socket("a").is_some(),
            "slots come back when sockets close"
        );
    }
}
