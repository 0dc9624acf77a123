//! JSON shapes exchanged with JavaScript (target-independent, so tested natively).

use mls_client::{DeviceIdentity, Member, Payload, Received};
use serde::Serialize;

/// A device identity in JSON: `{"account": "...", "device": "..."}`.
pub type IdentityJson = DeviceIdentity;

/// A processed message as JS sees it (`type` is `message`, `commit`, `removed` or `own`;
/// group ids are hex).
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ReceivedJson {
    /// An application message.
    Message {
        /// Group id, hex.
        group: String,
        /// The sending device.
        sender: IdentityJson,
        /// The content.
        payload: Payload,
        /// Epoch it was sent in.
        epoch: u64,
    },
    /// Another member's commit, merged.
    Commit {
        /// Group id, hex.
        group: String,
        /// Devices added.
        added: Vec<IdentityJson>,
        /// Devices removed.
        removed: Vec<IdentityJson>,
        /// The new epoch.
        epoch: u64,
    },
    /// This device was removed from the group.
    Removed {
        /// Group id, hex.
        group: String,
    },
    /// This device's own message fanned back: skip it.
    Own {
        /// Group id, hex.
        group: String,
    },
}

impl From<Received> for ReceivedJson {
    fn from(r: Received) -> Self {
        match r {
            Received::Message {
                group,
                sender,
                payload,
                epoch,
            } => Self::Message {
                group: hex::encode(group),
                sender,
                payload,
                epoch,
            },
            Received::Commit {
                group,
                added,
                removed,
                epoch,
            } => Self::Commit {
                group: hex::encode(group),
                added,
                removed,
                epoch,
            },
            Received::RemovedSelf { group } => Self::Removed {
                group: hex::encode(group),
            },
            Received::OwnMessage { group } => Self::Own {
                group: hex::encode(group),
            },
        }
    }
}

/// A member in JSON: identity and hex signature key.
#[derive(Debug, Serialize)]
pub struct MemberJson {
    /// Account id.
    pub account: String,
    /// Device id.
    pub device: String,
    /// Ed25519 public key, hex.
    pub signature_key: String,
}

impl From<Member> for MemberJson {
    fn from(m: Member) -> Self {
        Self {
            account: m.identity.account,
            device: m.identity.device,
            signature_key: hex::encode(m.signature_key),
        }
    }
}

/// `received` as a JSON string.
pub fn received(r: Received) -> Result<String, String> {
    serde_json::to_string(&ReceivedJson::from(r)).map_err(|e| e.to_string())
}

/// `members` as a JSON array string.
pub fn members(m: Vec<Member>) -> Result<String, String> {
    let v: Vec<MemberJson> = m.into_iter().map(MemberJson::from).collect();
    serde_json::to_string(&v).map_err(|e| e.to_string())
}

/// Parses a payload from JSON (`{"text": "...", "attachments": [...]}`).
pub fn payload(json: &str) -> Result<Payload, String> {
    serde_json::from_str(json).map_err(|e| format!("invalid payload: {e}"))
}

/// Parses a list of identities from JSON (`[{"account": "...", "device": "..."}]`).
pub fn identities(json: &str) -> Result<Vec<DeviceIdentity>, String> {
    let ids: Vec<DeviceIdentity> =
        serde_json::from_str(json).map_err(|e| format!("invalid device list: {e}"))?;
    for id in &ids {
        id.validate().map_err(|e| e.to_string())?;
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use mls_client::Device;

    #[test]
    fn shapes() {
        let mut a = Device::create(DeviceIdentity::new("alice", "phone").unwrap()).unwrap();
        let mut b = Device::create(DeviceIdentity::new("bob", "pc").unwrap()).unwrap();
        let g = a.create_group().unwrap();
        let kp = b.key_packages(1).unwrap();
        let c = a.add_members(&g, &kp).unwrap();
        a.merge_pending(&g).unwrap();
        b.join(&c.welcome.unwrap()).unwrap();
        let p = payload(r#"{"text":"hi","attachments":[]}"#).unwrap();
        let m = a.encrypt(&g, &p).unwrap();
        let json = received(b.process(&m).unwrap()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["type"], "message");
        assert_eq!(v["sender"]["account"], "alice");
        assert_eq!(v["payload"]["text"], "hi");
        assert_eq!(v["group"], hex::encode(&g));
        let ms: serde_json::Value =
            serde_json::from_str(&members(b.members(&g).unwrap()).unwrap()).unwrap();
        assert_eq!(ms.as_array().unwrap().len(), 2);
        assert_eq!(ms[0]["signature_key"].as_str().unwrap().len(), 64);
        assert!(identities(r#"[{"account":"a:b","device":"c"}]"#).is_err());
        assert_eq!(
            identities(r#"[{"account":"a","device":"c"}]"#)
                .unwrap()
                .len(),
            1
        );
    }
}
