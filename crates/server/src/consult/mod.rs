//! Virtual consultations: scheduling, guest passes, the waiting room and call
//! signalling, TURN credentials, notes.
//!
//! The server never handles media or chat: browsers talk peer to peer (WebRTC,
//! DTLS-SRTP), through coturn when they must. The server relays signalling only, to the
//! two participants of an appointment, and records who joined and when — never content.

pub mod guest;
pub mod notes;
pub mod reminders;
pub mod room;
pub mod schedule;
pub mod socket;
pub mod time;
pub mod turn;
