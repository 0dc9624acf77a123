//! The layer in front of a real axum router: refusals, shedding, the expensive-route
//! limit, identity, and a real server on a loopback port.
#![allow(clippy::unwrap_used)] // Test helpers fail loudly on purpose.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::routing::{get, post};
use common::*;
use http::{Request, StatusCode};
use sentinel::{Config, Event, IdentitySlot};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;
use tower::ServiceExt;

fn app(rig: &Rig, gate: Arc<Semaphore>) -> Router {
    let wait = move || {
        let gate = gate.clone();
        async move {
            // Held until the test releases it: a request "in flight".
            let _permit = gate.acquire().await;
            "done"
        }
    };
    Router::new()
        .route("/", get(|| async { "hello" }))
        .route("/slow", get(wait.clone()))
        .route("/signin", post(wait))
        .route(
            "/me",
            get(
                |axum::Extension(slot): axum::Extension<IdentitySlot>| async move {
                    slot.set("alice", Some("alice-session"));
                    "you are alice"
                },
            ),
        )
        .layer(rig.sentinel.layer())
}

fn from(addr: &str, uri: &str) -> Request<Body> {
    let mut r = Request::builder().uri(uri).body(Body::empty()).unwrap();
    r.extensions_mut()
        .insert(ConnectInfo(addr.parse::<SocketAddr>().unwrap()));
    r
}

async fn body_text(r: http::Response<Body>) -> String {
    let bytes = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test]
async fn blocked_sources_get_403_and_throttled_ones_429() {
    let mut rig = Rig::new(Config::default());
    let router = app(&rig, Arc::new(Semaphore::new(100)));
    let r = router
        .clone()
        .oneshot(from("192.0.2.1:1000", "/"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(body_text(r).await, "hello");
    // The request was recorded when its body was done.
    assert_eq!(rig.engine.process_pending(), 1);

    rig.sentinel
        .block(ip("192.0.2.1"), Duration::from_secs(600), "manual");
    let r = router
        .clone()
        .oneshot(from("192.0.2.1:1000", "/"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(body_text(r).await.contains("manual"));
    // Others pass.
    let r = router
        .clone()
        .oneshot(from("192.0.2.2:1000", "/"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(rig.sentinel.unblock(ip("192.0.2.1")));

    // A bot found by the engine is throttled: a few requests a minute, then 429.
    let bot = "198.51.100.5:4000";
    for i in 0..40 {
        let mut e = request(T0 + i * 1_000, ip("198.51.100.5"), "/", 200);
        e.html = true;
        e.user_agent = Some("curl/8.0".into());
        e.headers = sentinel::HeaderFacts::default();
        rig.feed(Event::Request(e));
    }
    let mut statuses = Vec::new();
    for _ in 0..35 {
        let r = router.clone().oneshot(from(bot, "/")).await.unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            let retry: u64 = r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&retry));
        }
        statuses.push(r.status());
    }
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(refused, 35 - 30);
}

#[tokio::test]
async fn under_load_anonymous_requests_are_shed_before_signed_in_users() {
    let rig = Rig::new(Config {
        max_in_flight: 10,
        session_cookie: Some("tw_session".into()),
        ..Config::default()
    });
    let gate = Arc::new(Semaphore::new(0));
    let router = app(&rig, gate.clone());
    // Alice signs in: her session becomes known-good.
    let r = router
        .clone()
        .oneshot(from("192.0.2.9:1", "/me"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // Eight anonymous requests hang in flight (80% of 10).
    let mut hanging = Vec::new();
    for i in 0..8 {
        let router = router.clone();
        hanging.push(tokio::spawn(async move {
            router
                .oneshot(from(&format!("203.0.113.{i}:1"), "/slow"))
                .await
                .unwrap()
                .status()
        }));
    }
    while rig.sentinel.health().in_flight < 8 {
        tokio::task::yield_now().await;
    }
    // A ninth anonymous request is shed …
    let r = router
        .clone()
        .oneshot(from("203.0.113.99:1", "/"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().contains_key("retry-after"));
    // … Alice is served.
    let mut mine = from("192.0.2.9:1", "/");
    mine.headers_mut()
        .insert("cookie", "tw_session=alice-session".parse().unwrap());
    let r = router.clone().oneshot(mine).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    gate.add_permits(100);
    for h in hanging {
        assert_eq!(h.await.unwrap(), StatusCode::OK);
    }
    let health = rig.sentinel.health();
    assert_eq!(health.shed_requests, 1);
    assert_eq!(health.in_flight, 0);
}

#[tokio::test]
async fn expensive_routes_have_their_own_limit() {
    let rig = Rig::new(Config {
        expensive_routes: vec!["/signin".into()],
        expensive_max_in_flight: 2,
        ..Config::default()
    });
    let gate = Arc::new(Semaphore::new(0));
    let router = app(&rig, gate.clone());
    let post_signin = |i: u8| {
        let mut r = from(&format!("192.0.2.{i}:1"), "/signin");
        *r.method_mut() = http::Method::POST;
        r
    };
    let mut hanging = Vec::new();
    for i in 0..2 {
        let router = router.clone();
        let req = post_signin(i);
        hanging.push(tokio::spawn(async move {
            router.oneshot(req).await.unwrap().status()
        }));
    }
    while rig.sentinel.health().in_flight < 2 {
        tokio::task::yield_now().await;
    }
    let r = router.clone().oneshot(post_signin(9)).await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    // Cheap routes are not limited by it.
    let r = router
        .clone()
        .oneshot(from("192.0.2.9:1", "/"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    gate.add_permits(10);
    for h in hanging {
        assert_eq!(h.await.unwrap(), StatusCode::OK);
    }
}

/// One HTTP/1.1 request on a fresh connection; returns the status code.
async fn raw_get(addr: SocketAddr, target: &str, user_agent: &str) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: {user_agent}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response);
    text.split(' ').nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_real_server_blocks_a_prober_on_loopback() {
    let rig = Rig::new(Config::default());
    let router = app(&rig, Arc::new(Semaphore::new(100)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    let engine = tokio::spawn(rig.engine.run());

    assert_eq!(raw_get(addr, "/", "Mozilla/5.0").await, 200);
    // sqlmap's signature and an injection: refused within a few requests.
    let mut statuses = Vec::new();
    for sent in 2..12u64 {
        let status = raw_get(
            addr,
            "/?id=1%27%20UNION%20SELECT%20password%20FROM%20users--",
            "sqlmap/1.8",
        )
        .await;
        statuses.push(status);
        if status == 403 {
            break;
        }
        // Let the engine task digest the request before the next one (bounded).
        for _ in 0..10_000 {
            if rig.sentinel.health().processed_events >= sent {
                break;
            }
            tokio::task::yield_now().await;
        }
    }
    assert_eq!(statuses.last(), Some(&403), "{statuses:?}");
    assert!(rig.sentinel.is_blocked(ip("127.0.0.1")));
    let h = rig.sentinel.health();
    assert!(
        h.detectors
            .iter()
            .any(|d| d.detector == "probe" && d.findings > 0)
    );
    server.abort();
    engine.abort();
}

#[tokio::test]
async fn an_account_reading_far_too_much_is_slowed_at_once() {
    let mut rig = Rig::new(Config {
        session_cookie: Some("tw_session".into()),
        ..Config::default()
    });
    let router = app(&rig, Arc::new(Semaphore::new(100)));
    let with_cookie = || {
        let mut r = from("192.0.2.9:1", "/");
        r.headers_mut()
            .insert("cookie", "tw_session=alice-session".parse().unwrap());
        r
    };
    // Alice's session is seen, signed in.
    let r = router
        .clone()
        .oneshot(from("192.0.2.9:1", "/me"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(body_text(r).await, "you are alice");
    rig.engine.process_pending();
    // She reads hundreds of records in a few minutes, with no history of it (ids in
    // no order: walking them in order is another rule).
    let letters = |mut n: i64| {
        let mut id = String::from("subject-");
        for _ in 0..4 {
            id.push(char::from(b'a' + (n % 26) as u8));
            n /= 26;
        }
        id
    };
    for k in 0..400i64 {
        rig.feed(read(
            T0 + k * 500,
            ip("192.0.2.9"),
            "alice",
            &letters(k * 7919 % 10_007),
        ));
    }
    let alerts = rig.drain_alerts();
    assert!(
        alerts
            .iter()
            .any(|a| a.kind == sentinel::Detector::BulkRead),
        "{alerts:?}"
    );
    assert!(
        !rig.sentinel.is_held("alice"),
        "one finding throttles, it does not hold"
    );
    // Her session is now throttled: a burst of requests meets 429 with Retry-After.
    let mut throttled = None;
    for i in 0..60 {
        let r = router.clone().oneshot(with_cookie()).await.unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.headers().contains_key("retry-after"));
            throttled = Some(i);
            break;
        }
    }
    assert!(throttled.is_some(), "the session was never slowed");
    // Others are not.
    let r = router
        .clone()
        .oneshot(from("198.51.100.7:1", "/"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn clients_trickling_their_bodies_take_no_place_among_requests_served() {
    let rig = Rig::new(Config {
        max_in_flight: 10,
        expensive_routes: vec!["/signin".into()],
        expensive_max_in_flight: 2,
        inspect_body_timeout: Duration::from_secs(30),
        ..Config::default()
    });
    let router = app(&rig, Arc::new(Semaphore::new(100)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    // Twelve sign-in forms whose bodies never come (more than the in-flight limit's
    // anonymous share and the sign-in route's own limit).
    let mut trickling = Vec::new();
    for _ in 0..12 {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(
                b"POST /signin HTTP/1.1\r\nHost: localhost\r\n\
                  Content-Type: application/x-www-form-urlencoded\r\n\
                  Content-Length: 100\r\n\r\nuser=",
            )
            .await
            .unwrap();
        trickling.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rig.sentinel.health().in_flight, 0);
    // Others are served, and a sign-in whose body has come gets its place.
    assert_eq!(raw_get(addr, "/", "Mozilla/5.0").await, 200);
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"POST /signin HTTP/1.1\r\nHost: localhost\r\n\
              Content-Type: application/x-www-form-urlencoded\r\n\
              Content-Length: 5\r\nConnection: close\r\n\r\nuser=",
        )
        .await
        .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    assert!(
        String::from_utf8_lossy(&response).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&response)
    );
    drop(trickling);
    server.abort();
}
