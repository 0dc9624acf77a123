//! The waiting room and call signalling, over authenticated WebSockets.
//!
//! One room per appointment, in memory. Its patient waits until the clinician admits
//! them; then the server relays WebRTC signalling (offers, answers, ICE candidates)
//! between exactly those two connections and nothing else — media, chat and files go
//! peer to peer. Every message is size- and rate-limited per connection ([`crate::consult::socket`]); a bad message
//! gets an error back to its sender only, and everyone else's call goes on. A dropped
//! connection may come back: an admitted patient goes straight back into the call.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{mpsc, watch};

/// Which side of the appointment a connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Clinician,
    Patient,
}

/// What the server tells a browser.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Out {
    /// `waiting`, `admitted`, `in_call`, `removed`, `replaced`, `ended`.
    State {
        state: &'static str,
    },
    /// Whether the other participant is connected (and admitted).
    Peer {
        present: bool,
    },
    /// To the clinician's call page: whether the patient is waiting to be let in.
    Lobby {
        waiting: bool,
    },
    Signal {
        data: Value,
    },
    /// From the clinician to a waiting patient.
    Message {
        text: String,
    },
    Verified,
    /// The clinician's waiting-room queue.
    Queue {
        waiting: Vec<Waiting>,
        in_call: Vec<String>,
    },
    Error {
        code: &'static str,
        message: &'static str,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Waiting {
    pub appointment: String,
    pub name: String,
    pub since_ms: i64,
    pub starts_ms: i64,
}

/// What a browser may send.
#[derive(Debug, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case", deny_unknown_fields)]
pub enum In {
    Signal {
        data: Value,
    },
    Admit {
        appointment: Option<String>,
    },
    Message {
        appointment: Option<String>,
        text: String,
    },
    Remove {
        appointment: Option<String>,
    },
    Verified,
    End,
    Ping,
}

#[derive(Debug, Clone)]
struct Peer {
    conn: u64,
    tx: mpsc::Sender<Out>,
}

#[derive(Debug)]
struct Room {
    clinician_id: String,
    label: String,
    starts_ms: i64,
    clinician: Option<Peer>,
    patient: Option<Peer>,
    waiting_since: Option<i64>,
    admitted: bool,
}

/// Every open room and every clinician's queue watchers.
#[derive(Debug)]
pub struct Rooms {
    rooms: Mutex<HashMap<String, Room>>,
    queues: Mutex<HashMap<String, Vec<Peer>>>,
    next: AtomicU64,
    /// Turns true when the server stops: every socket closes.
    closing: watch::Sender<bool>,
}

impl Default for Rooms {
    fn default() -> Self {
        Self {
            rooms: Mutex::default(),
            queues: Mutex::default(),
            next: AtomicU64::new(0),
            closing: watch::Sender::new(false),
        }
    }
}

/// What a handler must do after a room event (writes to the ledger and database
/// happen outside the lock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    None,
    Admitted,
    Removed,
    Verified,
    Ended,
}

fn send(peer: &Option<Peer>, out: Out) {
    if let Some(p) = peer {
        // A full outbox means a stuck browser: drop rather than block everyone.
        let _ = p.tx.try_send(out);
    }
}

impl Rooms {
    /// Closes every socket (the server is stopping).
    pub fn close_all(&self) {
        self.closing.send_replace(true);
    }

    /// A signal that turns true when the server stops.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    pub fn connection_id(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Room>> {
        self.rooms
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Opens (or re-opens) `side`'s connection to the room of `appointment`.
    #[allow(clippy::too_many_arguments)]
    pub fn join(
        &self,
        appointment: &str,
        clinician_id: &str,
        label: &str,
        starts_ms: i64,
        side: Side,
        conn: u64,
        tx: mpsc::Sender<Out>,
        now_ms: i64,
    ) {
        let clinician_id_for_queue;
        {
            let mut rooms = self.lock();
            let room = rooms.entry(appointment.to_owned()).or_insert_with(|| Room {
                clinician_id: clinician_id.to_owned(),
                label: label.to_owned(),
                starts_ms,
                clinician: None,
                patient: None,
                waiting_since: None,
                admitted: false,
            });
            let peer = Some(Peer { conn, tx });
            match side {
                Side::Patient => {
                    send(&room.patient, Out::State { state: "replaced" });
                    room.patient = peer;
                    if room.admitted {
                        send(&room.patient, Out::State { state: "in_call" });
                        send(
                            &room.patient,
                            Out::Peer {
                                present: room.clinician.is_some(),
                            },
                        );
                        send(&room.clinician, Out::Peer { present: true });
                    } else {
                        room.waiting_since.get_or_insert(now_ms);
                        send(&room.patient, Out::State { state: "waiting" });
                        send(&room.clinician, Out::Lobby { waiting: true });
                    }
                }
                Side::Clinician => {
                    send(&room.clinician, Out::State { state: "replaced" });
                    room.clinician = peer;
                    send(&room.clinician, Out::State { state: "in_call" });
                    let present = room.admitted && room.patient.is_some();
                    send(&room.clinician, Out::Peer { present });
                    if present {
                        send(&room.patient, Out::Peer { present: true });
                    } else if room.patient.is_some() {
                        send(&room.clinician, Out::Lobby { waiting: true });
                    }
                }
            }
            clinician_id_for_queue = room.clinician_id.clone();
        }
        self.publish_queue(&clinician_id_for_queue);
    }

    /// Closes `side`'s connection `conn` (if it is still the current one).
    pub fn leave(&self, appointment: &str, side: Side, conn: u64) {
        let mut clinician = None;
        {
            let mut rooms = self.lock();
            if let Some(room) = rooms.get_mut(appointment) {
                let slot = match side {
                    Side::Patient => &mut room.patient,
                    Side::Clinician => &mut room.clinician,
                };
                if slot.as_ref().is_some_and(|p| p.conn == conn) {
                    *slot = None;
                    let other = match side {
                        Side::Patient => &room.clinician,
                        Side::Clinician => &room.patient,
                    };
                    if room.admitted {
                        send(other, Out::Peer { present: false });
                    }
                    if side == Side::Patient && !room.admitted {
                        room.waiting_since = None;
                        send(&room.clinician, Out::Lobby { waiting: false });
                    }
                }
                clinician = Some(room.clinician_id.clone());
                // Nobody left: the room goes (an admitted patient who comes back later
                // waits to be let in again), so rooms never pile up.
                if room.patient.is_none() && room.clinician.is_none() {
                    rooms.remove(appointment);
                }
            }
        }
        if let Some(c) = clinician {
            self.publish_queue(&c);
        }
    }

    /// Handles one message from `side` of `appointment`; replies go through the peers'
    /// outboxes. `acting_clinician` is set for messages from a clinician's queue page,
    /// naming the appointment they act on.
    pub fn handle(
        &self,
        appointment: &str,
        side: Side,
        conn: u64,
        message: In,
    ) -> Result<Effect, (&'static str, &'static str)> {
        let mut rooms = self.lock();
        let room = rooms
            .get_mut(appointment)
            .ok_or(("not-in-room", "You are not in this consult's room."))?;
        let current = match side {
            Side::Patient => room.patient.as_ref().is_some_and(|p| p.conn == conn),
            Side::Clinician => {
                room.clinician.as_ref().is_some_and(|p| p.conn == conn) || conn == u64::MAX
            }
        };
        if !current {
            return Err(("replaced", "This window was replaced by another one."));
        }
        let clinician_only = ("clinician-only", "Only the clinician can do this.");
        let effect = match (message, side) {
            (In::Ping, _) => Effect::None,
            (In::Signal { data }, _) => {
                if !room.admitted {
                    return Err(("not-admitted", "The clinician has not let you in yet."));
                }
                let to = match side {
                    Side::Patient => &room.clinician,
                    Side::Clinician => &room.patient,
                };
                if to.is_none() {
                    return Err(("peer-absent", "The other person is not connected just now."));
                }
                send(to, Out::Signal { data });
                Effect::None
            }
            (In::Admit { .. }, Side::Clinician) => {
                if room.patient.is_none() {
                    return Err((
                        "peer-absent",
                        "The patient is not in the waiting room any more.",
                    ));
                }
                if room.admitted {
                    return Ok(Effect::None);
                }
                room.admitted = true;
                room.waiting_since = None;
                send(&room.clinician, Out::Lobby { waiting: false });
                send(&room.patient, Out::State { state: "admitted" });
                send(
                    &room.patient,
                    Out::Peer {
                        present: room.clinician.is_some(),
                    },
                );
                if room.clinician.is_some() {
                    send(&room.clinician, Out::Peer { present: true });
                }
                Effect::Admitted
            }
            (In::Message { text, .. }, Side::Clinician) => {
                let text: String = text.chars().filter(|c| !c.is_control()).take(500).collect();
                if text.is_empty() {
                    return Err(("empty", "The message is empty."));
                }
                if room.patient.is_none() {
                    return Err(("peer-absent", "The patient is not connected just now."));
                }
                send(&room.patient, Out::Message { text });
                Effect::None
            }
            (In::Remove { .. }, Side::Clinician) => {
                if room.patient.is_none() && !room.admitted {
                    return Err(("peer-absent", "The patient is not here to remove."));
                }
                send(&room.patient, Out::State { state: "removed" });
                room.patient = None;
                room.admitted = false;
                room.waiting_since = None;
                send(&room.clinician, Out::Peer { present: false });
                Effect::Removed
            }
            (In::Verified, Side::Clinician) => {
                if !room.admitted || room.patient.is_none() {
                    return Err(("not-in-call", "There is no call to mark as checked."));
                }
                send(&room.patient, Out::Verified);
                send(&room.clinician, Out::Verified);
                Effect::Verified
            }
            (In::End, Side::Clinician) => {
                send(&room.patient, Out::State { state: "ended" });
                send(&room.clinician, Out::State { state: "ended" });
                room.admitted = false;
                room.patient = None;
                room.clinician = None;
                Effect::Ended
            }
            (_, Side::Patient) => return Err(clinician_only),
        };
        let clinician_id = room.clinician_id.clone();
        if effect == Effect::Ended {
            rooms.remove(appointment);
        }
        drop(rooms);
        if matches!(effect, Effect::Admitted | Effect::Removed | Effect::Ended) {
            self.publish_queue(&clinician_id);
        }
        Ok(effect)
    }

    /// Ends an appointment's room from outside (it was cancelled): both sides are told
    /// and their sockets close.
    pub fn close_room(&self, appointment: &str) {
        let clinician = {
            let mut rooms = self.lock();
            let Some(room) = rooms.remove(appointment) else {
                return;
            };
            send(&room.patient, Out::State { state: "ended" });
            send(&room.clinician, Out::State { state: "ended" });
            room.clinician_id
        };
        self.publish_queue(&clinician);
    }

    /// The clinician an appointment's room belongs to, if the room is open.
    pub fn clinician_of(&self, appointment: &str) -> Option<String> {
        self.lock().get(appointment).map(|r| r.clinician_id.clone())
    }

    /// Starts watching `clinician_id`'s queue.
    pub fn watch_queue(&self, clinician_id: &str, conn: u64, tx: mpsc::Sender<Out>) {
        if let Ok(mut queues) = self.queues.lock() {
            queues
                .entry(clinician_id.to_owned())
                .or_default()
                .push(Peer { conn, tx });
        }
        self.publish_queue(clinician_id);
    }

    pub fn unwatch_queue(&self, clinician_id: &str, conn: u64) {
        if let Ok(mut queues) = self.queues.lock() {
            if let Some(list) = queues.get_mut(clinician_id) {
                list.retain(|p| p.conn != conn);
            }
            queues.retain(|_, l| !l.is_empty());
        }
    }

    fn publish_queue(&self, clinician_id: &str) {
        // Most joins happen while the clinician's queue page is closed: nothing to build.
        let watched = self
            .queues
            .lock()
            .is_ok_and(|queues| queues.contains_key(clinician_id));
        if !watched {
            return;
        }
        // The snapshot is sent while `rooms` is held (lock order: rooms, then queues), so
        // an older snapshot can never reach the page after a newer one.
        let rooms = self.lock();
        let (waiting, in_call) = {
            let mut waiting: Vec<Waiting> = rooms
                .iter()
                .filter(|(_, r)| {
                    r.clinician_id == clinician_id && !r.admitted && r.patient.is_some()
                })
                .map(|(id, r)| Waiting {
                    appointment: id.clone(),
                    name: r.label.clone(),
                    since_ms: r.waiting_since.unwrap_or(0),
                    starts_ms: r.starts_ms,
                })
                .collect();
            waiting.sort_by_key(|w| w.since_ms);
            let in_call: Vec<String> = rooms
                .iter()
                .filter(|(_, r)| r.clinician_id == clinician_id && r.admitted)
                .map(|(id, _)| id.clone())
                .collect();
            (waiting, in_call)
        };
        let queues = self.queues.lock();
        if let Ok(queues) = queues
            && let Some(list) = queues.get(clinician_id)
        {
            for p in list {
                let _ = p.tx.try_send(Out::Queue {
                    waiting: waiting.clone(),
                    in_call: in_call.clone(),
                });
            }
        }
        drop(rooms);
    }

    /// Open rooms, for metrics and tests.
    pub fn open_rooms(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chan() -> (mpsc::Sender<Out>, mpsc::Receiver<Out>) {
        mpsc::channel(64)
    }

    fn drain(rx: &mut mpsc::Receiver<Out>) -> Vec<String> {
        let mut v = Vec::new();
        while let Ok(o) = rx.try_recv() {
            v.push(serde_json::to_string(&o).unwrap());
        }
        v
    }

    #[test]
    fn patient_waits_until_admitted_then_signals_flow_only_between_the_two() {
        let rooms = Rooms::default();
        let (ptx, mut prx) = chan();
        let (ctx, mut crx) = chan();
        let (qtx, mut qrx) = chan();
        rooms.watch_queue("doc", 99, qtx);
        rooms.join("ap", "doc", "Pat", 0, Side::Patient, 1, ptx, 1_000);
        assert_eq!(drain(&mut prx), [r#"{"t":"state","state":"waiting"}"#]);
        let queue = drain(&mut qrx);
        assert!(
            queue
                .last()
                .unwrap()
                .contains(r#""name":"Pat","since_ms":1000"#),
            "{queue:?}"
        );
        // Before admission, signalling is refused.
        let refused = rooms.handle("ap", Side::Patient, 1, In::Signal { data: Value::Null });
        assert_eq!(
            refused,
            Err(("not-admitted", "The clinician has not let you in yet."))
        );
        // A patient cannot admit themselves.
        assert!(
            rooms
                .handle("ap", Side::Patient, 1, In::Admit { appointment: None })
                .is_err()
        );
        rooms.join("ap", "doc", "Pat", 0, Side::Clinician, 2, ctx, 2_000);
        assert_eq!(
            rooms.handle("ap", Side::Clinician, 2, In::Admit { appointment: None }),
            Ok(Effect::Admitted)
        );
        assert!(drain(&mut prx).contains(&r#"{"t":"state","state":"admitted"}"#.to_owned()));
        drain(&mut crx);
        rooms
            .handle(
                "ap",
                Side::Patient,
                1,
                In::Signal {
                    data: serde_json::json!({"sdp": "x"}),
                },
            )
            .unwrap();
        assert_eq!(drain(&mut crx), [r#"{"t":"signal","data":{"sdp":"x"}}"#]);
        // The patient's connection drops and comes back: straight into the call.
        rooms.leave("ap", Side::Patient, 1);
        assert_eq!(drain(&mut crx), [r#"{"t":"peer","present":false}"#]);
        let (ptx2, mut prx2) = chan();
        rooms.join("ap", "doc", "Pat", 0, Side::Patient, 3, ptx2, 3_000);
        assert_eq!(drain(&mut prx2)[0], r#"{"t":"state","state":"in_call"}"#);
        // The old connection can no longer act.
        assert_eq!(
            rooms.handle("ap", Side::Patient, 1, In::Ping),
            Err(("replaced", "This window was replaced by another one."))
        );
        assert_eq!(
            rooms.handle("ap", Side::Clinician, 2, In::End),
            Ok(Effect::Ended)
        );
        assert_eq!(rooms.open_rooms(), 0);
    }

    #[test]
    fn other_rooms_are_unreachable() {
        let rooms = Rooms::default();
        let (tx, _rx) = chan();
        rooms.join("ap1", "doc", "A", 0, Side::Patient, 1, tx, 0);
        assert!(rooms.handle("ap2", Side::Patient, 1, In::Ping).is_err());
    }
}
