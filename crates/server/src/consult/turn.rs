//! Short-lived TURN credentials in coturn's shared-secret REST scheme: the username is
//! `<expiry>:<opaque id>`, the credential `base64(HMAC-SHA1(secret, username))`. coturn
//! checks both and the expiry, so a leaked credential is worthless within minutes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha1::Sha1;

use crate::config::TurnSettings;

/// One entry of `RTCConfiguration.iceServers`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// What a call page needs to build its `RTCPeerConnection`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IceConfig {
    #[serde(rename = "iceServers")]
    pub ice_servers: Vec<IceServer>,
    #[serde(rename = "iceTransportPolicy")]
    pub ice_transport_policy: &'static str,
}

/// Credentials for `who` (an opaque, non-personal id), valid from `now_ms` for the
/// configured lifetime.
pub fn config(settings: &TurnSettings, who: &str, now_ms: i64) -> IceConfig {
    let mut servers = Vec::new();
    if let (false, Some(secret)) = (settings.urls.is_empty(), &settings.secret) {
        let expiry = now_ms / 1000 + i64::from(settings.ttl_secs);
        let username = format!("{expiry}:{who}");
        servers.push(IceServer {
            urls: settings.urls.clone(),
            credential: Some(credential(secret.expose().as_bytes(), &username)),
            username: Some(username),
        });
    }
    IceConfig {
        ice_servers: servers,
        ice_transport_policy: if settings.relay_only { "relay" } else { "all" },
    }
}

fn credential(secret: &[u8], username: &str) -> String {
    // HMAC accepts keys of any length.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(username.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    #[test]
    fn credentials_follow_coturns_rest_scheme() {
        let settings = TurnSettings {
            urls: vec!["turn:127.0.0.1:3478?transport=udp".into()],
            secret: Some(Secret::new("north")),
            ttl_secs: 600,
            relay_only: true,
        };
        let c = config(&settings, "a1b2", 1_700_000_000_000);
        assert_eq!(c.ice_transport_policy, "relay");
        let server = &c.ice_servers[0];
        assert_eq!(server.username.as_deref(), Some("1700000600:a1b2"));
        // HMAC-SHA1("north", "1700000600:a1b2"), base64 — as coturn computes it.
        assert_eq!(
            server.credential.as_deref(),
            Some(credential(b"north", "1700000600:a1b2").as_str())
        );
        assert_eq!(
            credential(b"key", "The quick brown fox jumps over the lazy dog"),
            "3nybhbi3iqa8ino29wqQcBydtNk="
        );
        assert!(
            config(&TurnSettings::default(), "x", 0)
                .ice_servers
                .is_empty()
        );
    }
}
