//! The tower layer in front of the application: refuse what the verdicts say, shed
//! load so signed-in users are served first, inspect requests for probes, and record
//! every finished request.
//!
//! ```text
//! let router = Router::new().route(...).layer(sentinel.layer());
//! axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
//! ```
//!
//! Order of checks before the request reaches the application:
//! 1. source or session blocked → `403` with a short reason;
//! 2. source or session throttled and over its allowance → `429` with `Retry-After`;
//! 3. admission: past `shed_risky_at` of `max_in_flight`, risky sources are shed; past
//!    `shed_anonymous_at`, requests without a known-good session; past `max_in_flight`,
//!    everyone → `503` with `Retry-After`;
//! 4. expensive routes over their own concurrency limit → `503` with `Retry-After`.
//!
//! 3 and 4 come after a small textual body has been read for inspection (within
//! `inspect_body_timeout`, else `408`), so a client trickling its body holds a
//! connection, not a place among the requests being served.
//!
//! The application names the user through the [`IdentitySlot`] the layer puts in the
//! request's extensions.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath};
use http::header::{
    ACCEPT, ACCEPT_LANGUAGE, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, REFERER, RETRY_AFTER, USER_AGENT,
};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use tower::{Layer, Service};

use crate::config::Config;
use crate::detect::Severity;
use crate::engine::Sentinel;
use crate::event::{Event, HeaderFacts, ProbeHit, RequestEvent, SessionKey, SlowRequestEvent};
use crate::inspect;
use crate::risk::Gate;

/// Longest path and user agent kept in an event.
const MAX_TEXT: usize = 256;

impl Sentinel {
    /// The tower layer, for `Router::layer`.
    pub fn layer(&self) -> SentinelLayer {
        SentinelLayer {
            sentinel: self.clone(),
        }
    }
}

/// Where the application says who the user is. The layer inserts one in every
/// request's extensions; the application's session extractor calls [`set`](Self::set).
#[derive(Debug, Clone)]
pub struct IdentitySlot {
    sentinel: Sentinel,
    identity: Arc<Mutex<Option<Identity>>>,
}

/// An account and, when known, its session.
type Identity = (String, Option<SessionKey>);

impl IdentitySlot {
    /// The request is made by `account`, in the session whose raw key is
    /// `session_key` (hashed at once; the raw key is not kept).
    pub fn set(&self, account: &str, session_key: Option<&str>) {
        let session = session_key.map(|k| self.sentinel.session_key(k));
        let mut slot = self.identity.lock().unwrap_or_else(PoisonError::into_inner);
        *slot = Some((account.to_owned(), session));
    }

    fn take(&self) -> Option<Identity> {
        self.identity
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// The layer; see the module docs.
#[derive(Debug, Clone)]
pub struct SentinelLayer {
    sentinel: Sentinel,
}

impl<S> Layer<S> for SentinelLayer {
    type Service = SentinelService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SentinelService {
            inner,
            sentinel: self.sentinel.clone(),
        }
    }
}

/// The service the layer wraps around each route.
#[derive(Debug, Clone)]
pub struct SentinelService<S> {
    inner: S,
    sentinel: Sentinel,
}

/// Decrements a counter when dropped.
struct Permit<'a>(&'a AtomicUsize);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Takes a place in `counter` if it stays at or under `limit`.
fn try_permit(counter: &AtomicUsize, limit: usize) -> Option<Permit<'_>> {
    let n = counter.fetch_add(1, Ordering::Relaxed) + 1;
    let permit = Permit(counter);
    (n <= limit).then_some(permit)
}

/// Why the layer answered a request itself; put in the response's extensions so the
/// application can render its own error page for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The source or session is blocked (403).
    Blocked,
    /// The source or session is throttled (429, with `Retry-After`).
    Throttled,
    /// Turned away under load (503, with `Retry-After`).
    Shed,
}

fn plain(status: StatusCode, text: String, retry_after: Option<u64>) -> Response<Body> {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    let refusal = match status {
        StatusCode::FORBIDDEN => Some(Refusal::Blocked),
        StatusCode::TOO_MANY_REQUESTS => Some(Refusal::Throttled),
        StatusCode::SERVICE_UNAVAILABLE => Some(Refusal::Shed),
        _ => None,
    };
    if let Some(r) = refusal {
        response.extensions_mut().insert(r);
    }
    response.headers_mut().insert(
        CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Some(secs) = retry_after {
        response.headers_mut().insert(RETRY_AFTER, secs.into());
    }
    response
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_TEXT) {
        Some((i, _)) => text[..i].to_owned(),
        None => text.to_owned(),
    }
}

/// The first path segment, for requests no route matched (bounded key space).
fn coarse_route(path: &str) -> String {
    let rest = path.trim_start_matches('/');
    match rest.split_once('/') {
        Some((first, _)) => format!("/{}/…", truncate_to(first, 32)),
        None if rest.is_empty() => "/".to_owned(),
        None => "/…".to_owned(),
    }
}

fn truncate_to(text: &str, n: usize) -> &str {
    match text.char_indices().nth(n) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// The client's address: the peer, or — when the peer is a trusted proxy — the
/// right-most untrusted address of the configured header.
fn client_address<B>(cfg: &Config, req: &Request<B>) -> IpAddr {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    let Some(header) = &cfg.client_ip_header else {
        return peer;
    };
    let trusted = |ip: IpAddr| cfg.trusted_proxies.iter().any(|p| p.contains(ip));
    if !trusted(peer) {
        return peer;
    }
    let mut chosen = peer;
    for value in req.headers().get_all(header) {
        let Ok(text) = value.to_str() else {
            return peer;
        };
        for part in text.split(',').rev() {
            let part = part.trim();
            let ip = part
                .parse::<IpAddr>()
                .ok()
                .or_else(|| part.parse::<SocketAddr>().ok().map(|s| s.ip()));
            match ip {
                Some(ip) if trusted(ip) => chosen = ip,
                Some(ip) => return ip,
                None => return chosen,
            }
        }
    }
    chosen
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn header_facts(headers: &HeaderMap) -> HeaderFacts {
    HeaderFacts {
        accept: headers.contains_key(ACCEPT),
        accept_language: headers.contains_key(ACCEPT_LANGUAGE),
        referer: headers.contains_key(REFERER),
        sec_fetch: headers.keys().any(|k| k.as_str().starts_with("sec-fetch-")),
        cookie: headers.contains_key(COOKIE),
    }
}

/// Severity of an inspector finding by its confidence weight.
fn probe_severity(weight: u8) -> Severity {
    match weight {
        10.. => Severity::Critical,
        7..=9 => Severity::High,
        4..=6 => Severity::Medium,
        _ => Severity::Low,
    }
}

fn inspect_parts(parts: &http::request::Parts, body: Option<&[u8]>) -> Vec<ProbeHit> {
    let headers: Vec<(&str, &[u8])> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_bytes()))
        .collect();
    let request = inspect::RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &headers,
        body,
        content_type: parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    };
    inspect::inspect(&request)
        .into_iter()
        .map(|f| ProbeHit {
            family: f.family.as_str().to_owned(),
            rule: f.rule.to_owned(),
            location: f.location.as_str().to_owned(),
            evidence: f.evidence,
            severity: probe_severity(f.weight),
        })
        .collect()
}

/// Whether the body is worth reading to inspect: a form, JSON or XML body of a known
/// length within the limit.
fn inspectable_body_len(cfg: &Config, headers: &HeaderMap) -> Option<usize> {
    let ct = headers
        .get(CONTENT_TYPE)?
        .to_str()
        .ok()?
        .to_ascii_lowercase();
    let textual = ct.starts_with("application/x-www-form-urlencoded")
        || ct.contains("json")
        || ct.contains("xml")
        || ct.starts_with("multipart/form-data")
        || ct.starts_with("text/plain");
    let len: usize = headers.get(CONTENT_LENGTH)?.to_str().ok()?.parse().ok()?;
    (textual && len > 0 && len <= cfg.inspect_body_limit.min(inspect::MAX_BODY)).then_some(len)
}

/// Records the request's event when the response body is done (or dropped).
struct Recorder {
    sentinel: Sentinel,
    event: Option<RequestEvent>,
    bytes: u64,
    started: Instant,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if let Some(mut e) = self.event.take() {
            e.bytes_out = self.bytes;
            e.duration_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            self.sentinel.record(Event::Request(e));
        }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S> Service<Request<Body>> for SentinelService<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        // The clone that was made ready is the one to call (tower's usual dance).
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let sentinel = self.sentinel.clone();
        Box::pin(handle(sentinel, inner, req))
    }
}

async fn handle<S>(
    sentinel: Sentinel,
    mut inner: S,
    req: Request<Body>,
) -> Result<Response<Body>, S::Error>
where
    S: Service<Request<Body>, Response = Response<Body>>,
{
    let started = Instant::now();
    let shared = Arc::clone(&sentinel.inner);
    let cfg = &shared.config;
    let now = sentinel.now_ms();
    let source = client_address(cfg, &req);
    let cookie_session = cfg
        .session_cookie
        .as_deref()
        .and_then(|name| cookie_value(req.headers(), name))
        .map(|raw| sentinel.session_key(raw));

    let gate = sentinel.verdicts().gate(source, cookie_session, now);
    let (known_good, risky) = match gate {
        Gate::Blocked(reason) => {
            return Ok(plain(
                StatusCode::FORBIDDEN,
                format!("blocked: {reason}\n"),
                None,
            ));
        }
        Gate::Throttled(wait) => {
            return Ok(plain(
                StatusCode::TOO_MANY_REQUESTS,
                "too many requests\n".to_owned(),
                Some(wait),
            ));
        }
        Gate::Pass { known_good, risky } => (known_good, risky),
    };

    // Admission: shed the riskiest first, signed-in users last.
    let max = cfg.max_in_flight.max(1);
    let limit = if risky {
        (max as f64 * cfg.shed_risky_at) as usize
    } else if known_good {
        max
    } else {
        (max as f64 * cfg.shed_anonymous_at) as usize
    };
    let limit = if cfg.enforce { limit } else { usize::MAX };

    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| coarse_route(req.uri().path()));
    // Showing a sign-in form is cheap; submitting one hashes a password.
    let expensive = cfg.enforce
        && req.method() != http::Method::GET
        && req.method() != http::Method::HEAD
        && cfg.expensive_routes.contains(&route);

    // Inspect the request (and a small textual body) for probes.
    let (parts, body) = req.into_parts();
    let (body, probes) = match inspectable_body_len(cfg, &parts.headers) {
        Some(len) => {
            match tokio::time::timeout(cfg.inspect_body_timeout, Limited::new(body, len).collect())
                .await
            {
                Err(_) => {
                    sentinel.record(Event::SlowRequest(SlowRequestEvent {
                        at_ms: sentinel.now_ms(),
                        source,
                    }));
                    return Ok(plain(
                        StatusCode::REQUEST_TIMEOUT,
                        "the request body took too long to arrive\n".to_owned(),
                        None,
                    ));
                }
                Ok(Ok(collected)) => {
                    let bytes = collected.to_bytes();
                    let probes = inspect_parts(&parts, Some(&bytes));
                    (Body::from(bytes), probes)
                }
                Ok(Err(_)) => {
                    return Ok(plain(
                        StatusCode::BAD_REQUEST,
                        "unreadable request body\n".to_owned(),
                        None,
                    ));
                }
            }
        }
        None => {
            let probes = inspect_parts(&parts, None);
            (body, probes)
        }
    };

    // Places are taken once the body is in: a client that sends its body slowly holds
    // a connection, not a place among the requests being served.
    let Some(_in_flight) = try_permit(&shared.in_flight, limit.max(1)) else {
        sentinel.verdicts().count_shed(now);
        return Ok(plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy, try again shortly\n".to_owned(),
            Some(2),
        ));
    };
    let _expensive = if expensive {
        match try_permit(
            &shared.expensive_in_flight,
            cfg.expensive_max_in_flight.max(1),
        ) {
            Some(p) => Some(p),
            None => {
                sentinel.verdicts().count_shed(now);
                return Ok(plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy, try again shortly\n".to_owned(),
                    Some(1),
                ));
            }
        }
    } else {
        None
    };

    let facts = header_facts(&parts.headers);
    let method = parts.method.clone();
    let path = truncate(parts.uri.path());
    let user_agent = parts
        .headers
        .get(USER_AGENT)
        .map(|v| truncate(&String::from_utf8_lossy(v.as_bytes())));
    let mut req = Request::from_parts(parts, body);
    let slot = IdentitySlot {
        sentinel: sentinel.clone(),
        identity: Arc::new(Mutex::new(None)),
    };
    req.extensions_mut().insert(slot.clone());

    let response = inner.call(req).await?;

    let identity = slot.take();
    let (account, session) = match identity {
        Some((account, session)) => {
            let session = session.or(cookie_session);
            if let Some(key) = session {
                sentinel.verdicts().mark_known_good(key, now);
            }
            (Some(account), session)
        }
        None => (None, cookie_session),
    };
    let html = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    let event = RequestEvent {
        at_ms: now,
        method,
        route,
        path,
        status: response.status().as_u16(),
        bytes_out: 0,
        duration_ms: 0,
        source,
        user_agent,
        headers: facts,
        html,
        session,
        account,
        probes,
    };
    let mut recorder = Recorder {
        sentinel,
        event: Some(event),
        bytes: 0,
        started,
    };
    let (parts, body) = response.into_parts();
    let body = body.map_frame(move |frame| {
        // Use the recorder as a whole so the closure owns it: it records when the
        // body is dropped.
        let recorder = &mut recorder;
        if let Some(data) = frame.data_ref() {
            recorder.bytes += data.len() as u64;
        }
        frame
    });
    Ok(Response::from_parts(parts, Body::new(body)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::IpPrefix;

    #[test]
    fn coarse_routes_keep_one_segment() {
        assert_eq!(coarse_route("/"), "/");
        assert_eq!(coarse_route("/.env"), "/…");
        assert_eq!(coarse_route("/wp-admin/setup.php"), "/wp-admin/…");
    }

    #[test]
    fn forwarded_address_only_from_trusted_proxies() {
        let cfg = Config {
            client_ip_header: Some(http::HeaderName::from_static("x-forwarded-for")),
            trusted_proxies: vec![IpPrefix::parse("10.0.0.0/8").unwrap()],
            ..Config::default()
        };
        let request = |peer: &str, xff: &str| {
            let mut r = Request::builder()
                .header("x-forwarded-for", xff)
                .body(())
                .unwrap();
            r.extensions_mut()
                .insert(ConnectInfo(SocketAddr::new(peer.parse().unwrap(), 1234)));
            r
        };
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            client_address(&cfg, &request("10.0.0.1", "198.51.100.7, 10.0.0.9")),
            ip("198.51.100.7")
        );
        // An untrusted peer's header is ignored.
        assert_eq!(
            client_address(&cfg, &request("203.0.113.5", "198.51.100.7")),
            ip("203.0.113.5")
        );
        // Garbage falls back to the last trusted hop.
        assert_eq!(
            client_address(&cfg, &request("10.0.0.1", "nonsense")),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, "a=1; tw_session=abc; b=2".parse().unwrap());
        assert_eq!(cookie_value(&h, "tw_session"), Some("abc"));
        assert_eq!(cookie_value(&h, "missing"), None);
    }
}
