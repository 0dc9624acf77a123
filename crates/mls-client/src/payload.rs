//! What an application message carries once decrypted.

use crate::error::{Error, Result};

/// Largest serialised payload accepted, in bytes. Files travel as attachments, not inline.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
/// Most attachments in one message.
pub const MAX_ATTACHMENTS: usize = 32;

/// The content of one chat message: text and references to encrypted attachments.
///
/// Serialised as JSON inside the MLS application message, so the browser can build it
/// directly; the server never sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payload {
    /// The message text.
    pub text: String,
    /// Encrypted files that go with it.
    #[serde(default)]
    pub attachments: Vec<AttachmentRef>,
}

/// Where an encrypted file is and how to open it (see [`crate::attachment`]).
///
/// The key is only ever sent inside an MLS-encrypted [`Payload`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentRef {
    /// The blob store's id for the ciphertext.
    pub blob_id: String,
    /// The file name shown to the reader.
    pub name: String,
    /// The media type, e.g. `application/pdf`.
    pub media_type: String,
    /// The plaintext size in bytes.
    pub size: u64,
    /// The AES-256-GCM key of this one file (hex in JSON).
    #[serde(with = "hex::serde")]
    pub key: [u8; 32],
    /// SHA-256 of the ciphertext as stored (hex in JSON), checked before decrypting.
    #[serde(with = "hex::serde")]
    pub sha256: [u8; 32],
}

impl Payload {
    /// A text-only payload.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            attachments: Vec::new(),
        }
    }

    /// Serialises, enforcing the limits.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        if self.attachments.len() > MAX_ATTACHMENTS {
            return Err(Error::Payload(format!(
                "more than {MAX_ATTACHMENTS} attachments"
            )));
        }
        let bytes = serde_json::to_vec(self).map_err(|e| Error::Payload(e.to_string()))?;
        if bytes.len() > MAX_PAYLOAD_BYTES {
            return Err(Error::Payload(format!(
                "the message is larger than {MAX_PAYLOAD_BYTES} bytes"
            )));
        }
        Ok(bytes)
    }

    /// Parses, enforcing the limits.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_PAYLOAD_BYTES {
            return Err(Error::Payload(format!(
                "the message is larger than {MAX_PAYLOAD_BYTES} bytes"
            )));
        }
        let payload: Self =
            serde_json::from_slice(bytes).map_err(|e| Error::Payload(e.to_string()))?;
        if payload.attachments.len() > MAX_ATTACHMENTS {
            return Err(Error::Payload(format!(
                "more than {MAX_ATTACHMENTS} attachments"
            )));
        }
        Ok(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_and_limits() {
        let p = Payload {
            text: "hello".into(),
            attachments: vec![AttachmentRef {
                blob_id: "b1".into(),
                name: "scan.pdf".into(),
                media_type: "application/pdf".into(),
                size: 10,
                key: [7; 32],
                sha256: [9; 32],
            }],
        };
        let bytes = p.to_bytes().unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains(&"07".repeat(32)));
        assert_eq!(Payload::from_bytes(&bytes).ok(), Some(p));
        assert!(
            Payload::text("x".repeat(MAX_PAYLOAD_BYTES))
                .to_bytes()
                .is_err()
        );
        assert!(Payload::from_bytes(b"{\"text\":1}").is_err());
        assert!(Payload::from_bytes(b"{\"text\":\"a\",\"extra\":1}").is_err());
    }
}
