//! Tracking tokens: which recipient of which campaign followed a link.
//!
//! A token is HMAC-SHA256 over the campaign and recipient ids under a server secret,
//! truncated to 128 bits and hex-encoded (URL-safe as is). Without the secret nobody can
//! forge a token for another colleague or campaign, so a forwarded or guessed link cannot
//! put a click on someone else's record. Tokens are deterministic: the server can
//! recompute one, or carry the ids beside it in the URL and verify.
//!
//! HMAC is built here from `sha2` per RFC 2104 (checked against RFC 4231's vectors in
//! the tests) to keep this crate's dependencies to the workspace's short list.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Bytes of the MAC kept in a token: 128 bits is far beyond guessing over HTTP.
pub const TOKEN_BYTES: usize = 16;

/// Domain separation, so these MACs can never be confused with another use of a key.
const CONTEXT: &[u8] = b"telewarden/training/link-token/v1";

/// HMAC-SHA256 (RFC 2104) of the concatenation of `parts`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    for p in parts {
        inner.update(p);
    }
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

fn mac(secret: &[u8; 32], campaign_id: &str, recipient_id: &str) -> [u8; TOKEN_BYTES] {
    // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
    let full = hmac_sha256(
        secret,
        &[
            CONTEXT,
            &(campaign_id.len() as u64).to_be_bytes(),
            campaign_id.as_bytes(),
            &(recipient_id.len() as u64).to_be_bytes(),
            recipient_id.as_bytes(),
        ],
    );
    let mut out = [0u8; TOKEN_BYTES];
    out.copy_from_slice(&full[..TOKEN_BYTES]);
    out
}

/// The tracking token for `recipient_id` in `campaign_id`: 32 lower-case hex characters.
pub fn token(secret: &[u8; 32], campaign_id: &str, recipient_id: &str) -> String {
    hex::encode(mac(secret, campaign_id, recipient_id))
}

/// Whether `token` is the one for `recipient_id` in `campaign_id`. The comparison is in
/// constant time, so response timing reveals nothing about how much of a guess matched.
/// Upper- or lower-case hex is accepted; anything else is refused.
pub fn verify_token(secret: &[u8; 32], campaign_id: &str, recipient_id: &str, token: &str) -> bool {
    if token.len() != TOKEN_BYTES * 2 {
        return false;
    }
    let Ok(given) = hex::decode(token) else {
        return false;
    };
    let expected = mac(secret, campaign_id, recipient_id);
    expected.as_slice().ct_eq(given.as_slice()).into()
}
