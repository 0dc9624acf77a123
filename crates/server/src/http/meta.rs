//! Request id and client address, resolved once per request.

use std::net::IpAddr;

use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;
use http::request::Parts;
use ipnet::IpNet;

use crate::error::AppError;
use crate::listen::Connection;
use crate::state::AppState;

/// What every handler and log line may know about the request's origin.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    /// Random id, also sent back as `X-Request-Id` and written to the log and ledger.
    pub request_id: String,
    /// The client: the TCP peer, or — only when the peer is a trusted proxy — the
    /// address it reports in `X-Forwarded-For`.
    pub client_ip: IpAddr,
    /// Whether the client reached us over HTTPS (directly, or via a trusted proxy).
    pub https: bool,
}

pub async fn resolve(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let conn = req.extensions().get::<Connection>().copied();
    let peer_ip = conn.map_or(IpAddr::from([127, 0, 0, 1]), |c| c.peer.ip());
    let trusted = &state.config.behind_proxy;
    let via_proxy = is_trusted(peer_ip, trusted);
    let client_ip = if via_proxy {
        forwarded_client(req.headers(), trusted).unwrap_or(peer_ip)
    } else {
        peer_ip
    };
    let https = conn.is_some_and(|c| c.tls)
        || (via_proxy
            && req
                .headers()
                .get("x-forwarded-proto")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https")));
    let meta = RequestMeta {
        request_id: new_request_id(),
        client_ip,
        https,
    };
    let id = HeaderValue::from_str(&meta.request_id).ok();
    // The sentinel's layer reads the peer from `ConnectInfo` (and the forwarded
    // address itself, from trusted proxies only, as configured alike).
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::new(
            peer_ip,
            conn.map_or(0, |c| c.peer.port()),
        )));
    req.extensions_mut().insert(meta);
    let mut res = next.run(req).await;
    if let Some(id) = id {
        res.headers_mut().insert("x-request-id", id);
    }
    res
}

fn new_request_id() -> String {
    let mut raw = [0u8; 12];
    if getrandom::fill(&mut raw).is_err() {
        return "unavailable".into();
    }
    hex::encode(raw)
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    let ip = canonical(ip);
    trusted.iter().any(|net| net.contains(&ip))
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The right-most address in `X-Forwarded-For` that is not itself a trusted proxy:
/// addresses further left were written by the client and cannot be believed, so they
/// are never even parsed. If that hop is not an address (a misbehaving proxy), the
/// client is "unspecified" (0.0.0.0) — never the proxy's own address, which every user
/// shares.
fn forwarded_client(headers: &http::HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let mut hops: Vec<&str> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        hops.extend(value.to_str().unwrap_or("unreadable").split(','));
    }
    for hop in hops.into_iter().rev() {
        match hop.trim().parse::<IpAddr>().map(canonical) {
            Ok(ip) if is_trusted(ip, trusted) => continue,
            Ok(ip) => return Some(ip),
            Err(_) => return Some(IpAddr::from([0, 0, 0, 0])),
        }
    }
    None
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestMeta>()
            .cloned()
            .ok_or_else(|| AppError::internal("request metadata missing"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(v: &[&str]) -> Vec<IpNet> {
        v.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn forwarded_for_skips_trusted_hops_and_ignores_client_claims() {
        let trusted = nets(&["10.0.0.0/8"]);
        let mut h = http::HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "6.6.6.6, 203.0.113.9, 10.0.0.2".parse().unwrap(),
        );
        assert_eq!(
            forwarded_client(&h, &trusted),
            Some("203.0.113.9".parse().unwrap())
        );
    }

    #[test]
    fn client_claims_left_of_the_real_address_do_not_matter() {
        let trusted = nets(&["10.0.0.0/8"]);
        let mut h = http::HeaderMap::new();
        h.insert("x-forwarded-for", "junk, 203.0.113.9".parse().unwrap());
        assert_eq!(
            forwarded_client(&h, &trusted),
            Some("203.0.113.9".parse().unwrap())
        );
        h.insert("x-forwarded-for", "203.0.113.9, not-an-ip".parse().unwrap());
        assert_eq!(
            forwarded_client(&h, &trusted),
            Some("0.0.0.0".parse().unwrap()),
            "never the proxy"
        );
        assert_eq!(forwarded_client(&http::HeaderMap::new(), &trusted), None);
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_ranges() {
        let trusted = nets(&["127.0.0.1/32"]);
        assert!(is_trusted("::ffff:127.0.0.1".parse().unwrap(), &trusted));
        assert!(!is_trusted("::ffff:127.0.0.2".parse().unwrap(), &trusted));
    }
}
