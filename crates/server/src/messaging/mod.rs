//! Secure messaging: the server as MLS (RFC 9420) delivery and authentication service.
//!
//! Clients (browsers, the native client) do all the cryptography with `mls-client`; the
//! server never holds a key that opens a message. What it does:
//! - [`devices`]: binds each MLS member to an account and a device, publishes the
//!   device's signature key in the ledger (key transparency) and keeps its key packages;
//! - [`delivery`]: conversations about one patient with the patient, their care team
//!   and the practice archive; commits ordered per group (one per epoch); application
//!   messages stored as opaque ciphertext and fanned out;
//! - [`blobs`]: encrypted attachments, kept for the conversation's members;
//! - [`hub`]: the in-memory fan-out to connected devices;
//! - [`notify`]: "you have a new message", and nothing else.
//!
//! Every membership change, device change and delivery is in the ledger; no content is.

pub mod backup;
pub mod blobs;
mod commit_checks;
pub mod delivery;
pub mod devices;
pub mod hub;
pub mod notify;
pub mod socket;

use base64::Engine;
use proto::ErrorCode;

use crate::error::{AppError, AppResult};

/// Largest MLS message (commit, welcome, application message) accepted: a payload is
/// at most 64 KiB, and a pushed message (base64, in JSON) must fit a socket's write
/// buffer.
pub const MAX_MESSAGE_BYTES: usize = 128 * 1024;
/// Largest key package accepted.
pub const MAX_KEY_PACKAGE_BYTES: usize = 16 * 1024;

fn bad(message: impl Into<String>) -> AppError {
    AppError::client(ErrorCode::InvalidInput, message)
}

/// Decodes a base64 field, refusing anything empty or over `limit` bytes.
pub fn decode(field: &str, value: &str, limit: usize) -> AppResult<Vec<u8>> {
    if value.len() > limit.div_ceil(3) * 4 + 4 {
        return Err(bad(format!("{field} is larger than {limit} bytes")));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value)
        .map_err(|_| bad(format!("{field} is not base64")))?;
    if bytes.is_empty() {
        return Err(bad(format!("{field} is empty")));
    }
    if bytes.len() > limit {
        return Err(bad(format!("{field} is larger than {limit} bytes")));
    }
    Ok(bytes)
}

/// Decodes what this server stored itself.
pub fn decode_stored(value: &str) -> AppResult<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(value)
        .map_err(|_| AppError::internal("a stored blob is not base64"))
}

pub fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A device id as clients choose it: 32 lowercase hex digits.
pub fn check_device_id(id: &str) -> AppResult<()> {
    if id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(())
    } else {
        Err(bad("A device id is 32 lowercase hexadecimal digits."))
    }
}

/// What an MLS message is, read from its public framing without any key; anything that
/// does not parse is refused with a clear error.
pub fn inspect(field: &str, bytes: &[u8]) -> AppResult<mls_client::frame::Frame> {
    mls_client::frame::inspect(bytes)
        .map_err(|e| bad(format!("{field} is not a well-formed MLS message: {e}")))
}
