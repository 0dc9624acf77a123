//! Client-side end-to-end encryption for Telewarden with MLS (RFC 9420), through OpenMLS.
//!
//! This crate is the crypto core shared by the browser (compiled to WebAssembly by
//! `mls-wasm`), the Rust test client used by the server's integration tests, and the
//! benchmark. It does no I/O, no networking and nothing asynchronous: every function takes
//! bytes and returns bytes, and the caller moves them.
//!
//! * [`Device`]: one device of one account (signer, credential, MLS state), able to create
//!   and join groups, encrypt and decrypt, and save and restore its whole state.
//! * [`attachment`]: files are encrypted once with a fresh key; the key travels inside the
//!   MLS-encrypted [`Payload`], the ciphertext goes to the blob store.
//! * [`safety`]: safety numbers that two people compare out of band.
//! * [`frame`]: what the server may learn from a message without any key (kind, group,
//!   epoch; for commits, which are PublicMessages, also who is added and removed), and
//!   validation of uploaded key packages.
//!
//! Only one ciphersuite is used: [`CIPHERSUITE`].

pub mod attachment;
mod device;
mod error;
pub mod frame;
mod identity;
mod payload;
pub mod safety;
mod state;

pub use device::{Commit, Device, Member, Received};
pub use error::{Error, Result};
pub use identity::DeviceIdentity;
pub use payload::{AttachmentRef, MAX_ATTACHMENTS, MAX_PAYLOAD_BYTES, Payload};

/// What an existing device signs to approve a new device of the same account: the
/// server accepts a device approved this way without a fresh sign-in. The new device's
/// id and its Ed25519 signature key (hex) are bound in, so an approval is good for that
/// one key only.
pub fn approval_message(device_id: &str, signature_key_hex: &str) -> Vec<u8> {
    format!("telewarden-device-approval-v1:{device_id}:{signature_key_hex}").into_bytes()
}

/// The one MLS ciphersuite Telewarden uses: X25519 key exchange, AES-128-GCM, SHA-256 and
/// Ed25519 signatures. It is the mandatory-to-implement suite of RFC 9420, supported by
/// every MLS implementation and cheap in WebAssembly. Key packages and groups of any other
/// suite are refused.
pub const CIPHERSUITE: openmls::prelude::Ciphersuite =
    openmls::prelude::Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;
