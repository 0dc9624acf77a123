//! What the sentinel costs per request, in parts, side by side in one run:
//! - `inspect` of a browser's signed-in page request (cookie, user agent, Accept, the
//!   `Sec-Fetch-*` headers) and of a FHIR search with a query;
//! - the layer around a trivial axum handler against the handler alone (tower
//!   `oneshot`, no network), so the difference is the layer's own work on the request
//!   path;
//! - the engine digesting one request event (the work done off the request path, on
//!   the engine's task, which still takes CPU from the same machine).
//!
//! `cargo bench -p sentinel --bench per_request`; `TW_BENCH_QUICK=1` for a short run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::routing::get;
use clock::{Clock, SystemClock};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http::Request;
use sentinel::inspect::{RequestParts, inspect};
use sentinel::{Config, Event, HeaderFacts, RequestEvent, Sentinel};
use tower::ServiceExt;

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                  Chrome/131.0.0.0 Safari/537.36";

/// The headers Chromium sends for a signed-in page.
fn browser_headers() -> Vec<(&'static str, String)> {
    vec![
        ("host", "clinic.example:8443".into()),
        ("user-agent", UA.into()),
        (
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,\
             */*;q=0.8"
                .into(),
        ),
        ("accept-language", "en-AU,en;q=0.9".into()),
        ("accept-encoding", "gzip, deflate, br, zstd".into()),
        (
            "cookie",
            "__Host-tw_session=Xq3vB0c9m1_LkP2r8dT4yWzA6sE5uJ7hN0fGqK2iOa8; tw_device=\
             7c1d9e0b4a2f"
                .into(),
        ),
        ("referer", "https://clinic.example:8443/appointments".into()),
        ("sec-fetch-dest", "document".into()),
        ("sec-fetch-mode", "navigate".into()),
        ("sec-fetch-site", "same-origin".into()),
        ("sec-fetch-user", "?1".into()),
        ("upgrade-insecure-requests", "1".into()),
        (
            "sec-ch-ua",
            "\"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\"".into(),
        ),
        ("sec-ch-ua-mobile", "?0".into()),
        ("sec-ch-ua-platform", "\"Linux\"".into()),
    ]
}

fn inspector(c: &mut Criterion) {
    let owned = browser_headers();
    let headers: Vec<(&str, &[u8])> = owned.iter().map(|(k, v)| (*k, v.as_bytes())).collect();
    let page = RequestParts {
        method: "GET",
        path: "/account/security",
        query: None,
        headers: &headers,
        body: None,
        content_type: None,
    };
    let search = RequestParts {
        method: "GET",
        path: "/fhir/Patient",
        query: Some(
            "name=O%27Brien&birthdate=ge1950-01-01&identifier=http://ns.electronichealth.net.au/id/hi/ihi/1.0%7C8003608166690503",
        ),
        headers: &headers,
        body: None,
        content_type: None,
    };
    let mut group = c.benchmark_group("inspect");
    group.throughput(Throughput::Elements(1));
    group.bench_function("signed_in_page", |b| b.iter(|| inspect(&page)));
    group.bench_function("fhir_search", |b| b.iter(|| inspect(&search)));
    // Values never seen before (the clean-value memory cannot help with these).
    let mut n = 0u64;
    group.bench_function("fhir_search_new_values", |b| {
        b.iter(|| {
            n += 1;
            let query =
                format!("name=O%27Brien{n}&birthdate=ge1950-01-{n}&identifier=8003608166690{n}");
            inspect(&RequestParts {
                query: Some(&query),
                ..search
            })
        })
    });
    group.finish();
}

fn request(headers: &[(&'static str, String)]) -> Request<Body> {
    let mut builder = Request::builder().uri("/account/security");
    for (k, v) in headers {
        builder = builder.header(*k, v);
    }
    let mut r = builder.body(Body::empty()).unwrap();
    r.extensions_mut().insert(ConnectInfo(
        "198.51.100.20:50000".parse::<SocketAddr>().unwrap(),
    ));
    r
}

fn layer(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let config = Config {
        session_cookie: Some("__Host-tw_session".into()),
        ..Config::default()
    };
    let (sentinel, engine) = Sentinel::new(config, Arc::new(SystemClock));
    // The engine digests in the background, as in the server.
    let _engine = rt.spawn(engine.run());
    let handler = || async { "page" };
    let bare: Router = Router::new().route("/account/security", get(handler));
    let guarded: Router = Router::new()
        .route("/account/security", get(handler))
        .layer(sentinel.layer());
    let headers = browser_headers();
    let mut group = c.benchmark_group("layer");
    group.throughput(Throughput::Elements(1));
    for (name, router) in [("without", bare), ("with", guarded)] {
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| {
                let router = router.clone();
                let req = request(&headers);
                async move {
                    let r = router.oneshot(req).await.unwrap();
                    axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap()
                }
            })
        });
    }
    group.finish();
}

fn engine(c: &mut Criterion) {
    let (sentinel, _engine) = Sentinel::new(Config::default(), Arc::new(SystemClock));
    let start = SystemClock.now_ms();
    let mut n: u32 = 0;
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(1));
    group.bench_function("digest_request_event", |b| {
        b.iter(|| {
            n = n.wrapping_add(1);
            // 1,000 sources in turn, each a few requests a second.
            let source = IpAddr::from([10, 1, (n % 1000 / 250) as u8, (n % 250) as u8]);
            sentinel.process_now(Event::Request(RequestEvent {
                at_ms: start + i64::from(n / 100),
                method: http::Method::GET,
                route: "/account/security".into(),
                path: "/account/security".into(),
                status: 200,
                bytes_out: 4_000,
                duration_ms: 2,
                source,
                user_agent: Some(UA.into()),
                headers: HeaderFacts {
                    accept: true,
                    accept_language: true,
                    referer: true,
                    sec_fetch: true,
                    cookie: true,
                },
                html: true,
                session: None,
                account: None,
                probes: Vec::new(),
            }));
        })
    });
    group.finish();
}

fn config() -> Criterion {
    let c = Criterion::default();
    if std::env::var_os("TW_BENCH_QUICK").is_some() {
        c.sample_size(10)
            .measurement_time(Duration::from_secs(2))
            .warm_up_time(Duration::from_millis(500))
    } else {
        c
    }
}

criterion_group! {
    name = benches;
    config = config();
    targets = inspector, layer, engine
}
criterion_main!(benches);
