//! Who a device is: the account it belongs to and its own device id.

use crate::error::{Error, Result};

/// Prefix of the canonical credential encoding; the `1` is the encoding's version.
const PREFIX: &str = "tw1:";
/// Longest account or device id accepted, in bytes.
pub const MAX_PART_LEN: usize = 128;

/// The identity one MLS leaf speaks for: a device of an account.
///
/// It is carried in the MLS BasicCredential as `tw1:<account>:<device>`. Neither part may be
/// empty or contain `:` or control characters, so the encoding is unambiguous: one string
/// maps to exactly one (account, device) pair, and the server can compare it with the
/// uploader of a key package.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct DeviceIdentity {
    /// The account id (the person).
    pub account: String,
    /// The device id, unique within the account.
    pub device: String,
}

fn check_part(part: &str, what: &'static str) -> Result<()> {
    if part.is_empty() {
        return Err(Error::InvalidIdentity(what));
    }
    if part.len() > MAX_PART_LEN {
        return Err(Error::InvalidIdentity("a part is longer than 128 bytes"));
    }
    if part.chars().any(|c| c == ':' || c.is_control()) {
        return Err(Error::InvalidIdentity(
            "':' and control characters are not allowed",
        ));
    }
    Ok(())
}

impl DeviceIdentity {
    /// A checked identity.
    pub fn new(account: impl Into<String>, device: impl Into<String>) -> Result<Self> {
        let id = Self {
            account: account.into(),
            device: device.into(),
        };
        id.validate()?;
        Ok(id)
    }

    /// Checks both parts (used for identities built with the public fields).
    pub fn validate(&self) -> Result<()> {
        check_part(&self.account, "the account id is empty")?;
        check_part(&self.device, "the device id is empty")
    }

    /// The canonical encoding put in the MLS BasicCredential.
    pub fn to_credential_bytes(&self) -> Result<Vec<u8>> {
        self.validate()?;
        Ok(format!("{PREFIX}{}:{}", self.account, self.device).into_bytes())
    }

    /// Parses the canonical encoding; anything else is an error.
    pub fn from_credential_bytes(bytes: &[u8]) -> Result<Self> {
        let s = std::str::from_utf8(bytes)
            .map_err(|_| Error::InvalidIdentity("the credential is not UTF-8"))?;
        let rest = s.strip_prefix(PREFIX).ok_or(Error::InvalidIdentity(
            "the credential is not a Telewarden identity",
        ))?;
        let (account, device) = rest
            .split_once(':')
            .ok_or(Error::InvalidIdentity("the credential has no device part"))?;
        Self::new(account, device)
    }
}

impl std::fmt::Display for DeviceIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.account, self.device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejects() {
        let id = DeviceIdentity::new("alice", "phone").unwrap_or_else(|e| panic!("{e}"));
        let bytes = id.to_credential_bytes().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(bytes, b"tw1:alice:phone");
        assert_eq!(DeviceIdentity::from_credential_bytes(&bytes).ok(), Some(id));
        assert!(DeviceIdentity::new("a:b", "c").is_err());
        assert!(DeviceIdentity::new("", "c").is_err());
        assert!(DeviceIdentity::new("a", "").is_err());
        assert!(DeviceIdentity::new("a", "x\n").is_err());
        assert!(DeviceIdentity::from_credential_bytes(b"tw1:a:b:c").is_err());
        assert!(DeviceIdentity::from_credential_bytes(b"tw2:a:b").is_err());
        assert!(DeviceIdentity::from_credential_bytes(b"tw1:ab").is_err());
        assert!(DeviceIdentity::from_credential_bytes(&[0xff, 0xfe]).is_err());
    }
}
