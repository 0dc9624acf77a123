//! What every response carries and what every request is held to: security headers,
//! CSRF, body limits, timeouts, error pages. Against the real server over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::TestServer;
use reqwest::header::{ACCEPT, ORIGIN};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn assert_security_headers(res: &reqwest::Response, what: &str) {
    let h = res.headers();
    let csp = h
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"))
        .to_str()
        .unwrap();
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(part), "{what}: CSP lacks {part}: {csp}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("http"),
        "{what}: CSP allows too much: {csp}"
    );
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
    assert_eq!(h["cross-origin-opener-policy"], "same-origin", "{what}");
    let pp = h["permissions-policy"].to_str().unwrap();
    assert!(
        pp.contains("camera=(self)") && pp.contains("microphone=(self)"),
        "{what}: {pp}"
    );
    assert!(h.get("x-request-id").is_some(), "{what}: no request id");
    assert!(
        h.get("strict-transport-security").is_none(),
        "{what}: HSTS on plain HTTP"
    );
}

#[tokio::test]
async fn every_kind_of_response_carries_the_security_headers() {
    let s = TestServer::start(None).await;
    let home = s.get("/").await;
    assert_eq!(home.status(), 200);
    assert_security_headers(&home, "home");
    assert_eq!(home.headers()["cache-control"], "no-store");
    assert_security_headers(&s.get("/static/app.css").await, "stylesheet");
    assert_security_headers(&s.get("/no/such/page").await, "404");
    assert_security_headers(&s.get("/healthz").await, "healthz");
    let refused = s
        .client
        .post(s.url("/sign-in"))
        .form(&[("email", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert_security_headers(&refused, "CSRF refusal");
    let too_big = s
        .client
        .post(s.url("/sign-in"))
        .header(ORIGIN, &s.running().origin)
        .body(vec![b'a'; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), 413);
    assert_security_headers(&too_big, "413");
}

#[tokio::test]
async fn pages_reference_no_inline_script_or_third_party_origin() {
    let s = TestServer::start(None).await;
    for path in ["/", "/sign-in", &s.setup_path(), "/missing"] {
        let body = s.get(path).await.text().await.unwrap();
        assert!(
            !body.contains("<script>") && !body.contains("style="),
            "{path}: inline script or style"
        );
        assert!(
            body.contains(r#"<script type="module" src="/static/app.js"></script>"#),
            "{path}"
        );
        for needle in ["http://", "https://", "//cdn"] {
            assert!(
                !body.contains(needle),
                "{path}: references another origin ({needle})"
            );
        }
        assert!(
            body.contains(r#"<meta name="viewport""#),
            "{path}: not phone-ready"
        );
    }
}

#[tokio::test]
async fn cross_origin_state_changes_are_refused_with_a_clear_403() {
    let s = TestServer::start(None).await;
    let origin = s.running().origin.clone();
    let cases: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("no origin headers", vec![]),
        (
            "foreign origin",
            vec![("origin", "https://evil.example".into())],
        ),
        ("null origin", vec![("origin", "null".into())]),
        (
            "cross-site fetch",
            vec![
                ("sec-fetch-site", "cross-site".into()),
                ("origin", origin.clone()),
            ],
        ),
        (
            "same-site fetch",
            vec![("sec-fetch-site", "same-site".into())],
        ),
    ];
    for (what, headers) in cases {
        let mut req = s
            .client
            .post(s.url("/sign-in"))
            .header(ACCEPT, "application/json")
            .form(&[
                ("email", common::ADMIN_EMAIL),
                ("password", "whatever it is"),
            ]);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 403, "{what}");
        let body: proto::ErrorBody = res.json().await.unwrap();
        assert_eq!(body.code, proto::ErrorCode::CrossOriginRequest, "{what}");
        assert!(
            body.message
                .contains("did not come from Telewarden's own pages"),
            "{what}"
        );
        assert!(!body.request_id.is_empty());
    }
    // Same origin reaches the handler (which then refuses the unknown account).
    let res = s
        .client
        .post(s.url("/sign-in"))
        .header("sec-fetch-site", "same-origin")
        .form(&[("email", "a@b.org"), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = s
        .client
        .post(s.url("/sign-in"))
        .header(ORIGIN, origin)
        .form(&[("email", "a@b.org"), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn errors_show_a_code_and_reference_but_never_internals() {
    let s = TestServer::start(None).await;
    let html = s.get("/definitely/not/here").await;
    assert_eq!(html.status(), 404);
    let id = html.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body = html.text().await.unwrap();
    assert!(
        body.contains("Page not found") && body.contains("not-found") && body.contains(&id),
        "{body}"
    );
    let json = s
        .client
        .get(s.url("/definitely/not/here"))
        .send()
        .await
        .unwrap();
    let err: proto::ErrorBody = json.json().await.unwrap();
    assert_eq!(err.code, proto::ErrorCode::NotFound);
    // Wrong method: a page, not axum's bare status.
    let res = s
        .client
        .delete(s.url("/sign-in"))
        .header(ORIGIN, &s.running().origin)
        .header(ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert!(res.text().await.unwrap().contains("method-not-allowed"));
    // Malformed form encoding: a clear 4xx.
    let res = s
        .client
        .post(s.url("/sign-in"))
        .header(ORIGIN, &s.running().origin)
        .header("content-type", "application/json")
        .body("{\"email\":1}")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    let text = res.text().await.unwrap();
    assert!(
        !text.contains("Failed to deserialize") && !text.contains("axum"),
        "{text}"
    );
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_before_they_are_read() {
    let s = TestServer::start_with(None, |c| c.limits.max_body_bytes = 4096).await;
    let res = s
        .client
        .post(s.url("/sign-in"))
        .header(ORIGIN, &s.running().origin)
        .header(ACCEPT, "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("email=a%40b.org&password={}", "x".repeat(5000)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let err: proto::ErrorBody = res.json().await.unwrap();
    assert_eq!(err.code, proto::ErrorCode::BodyTooLarge);
}

/// Reads until the server closes the connection; returns what arrived and when.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match tokio::time::timeout(limit, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => panic!("the server kept a slow connection open past {limit:?}"),
        }
    }
    (
        String::from_utf8_lossy(&buf).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_client_that_trickles_its_headers_is_disconnected() {
    let s = TestServer::start(None).await; // header_read_timeout_secs = 2
    let mut stream = TcpStream::connect(s.running().addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // Slowloris: one more header line a second, never finishing.
    let writer = async {
        for i in 0..10 {
            tokio::time::sleep(Duration::from_millis(900)).await;
            if stream
                .write_all(format!("X-Slow-{i}: y\r\n").as_bytes())
                .await
                .is_err()
            {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(4), writer).await;
    let (_, _) = read_until_closed(&mut stream, Duration::from_secs(6)).await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let s = TestServer::start(None).await;
    let mut stream = TcpStream::connect(s.running().addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (text, _) = read_until_closed(&mut stream, Duration::from_secs(8)).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}

#[tokio::test]
async fn a_body_that_never_arrives_times_out_with_408() {
    let s = TestServer::start(None).await; // body_read_timeout_secs = 2
    let mut stream = TcpStream::connect(s.running().addr).await.unwrap();
    let head = format!(
        "POST /sign-in HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\nAccept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=a",
        s.running().addr,
        s.running().origin
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (text, _) = read_until_closed(&mut stream, Duration::from_secs(8)).await;
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("request-timeout"), "{text}");
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    for db in common::database_choices().await {
        let s = TestServer::start(db.clone()).await;
        let health: proto::Health = s
            .client
            .get(s.url("/healthz"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(health.status, "ok");
        let ready = s.client.get(s.url("/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), 200, "{db:?}");
        let ready: proto::Readiness = ready.json().await.unwrap();
        assert!(ready.ready);
        let names: Vec<_> = ready.checks.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["database", "migrations", "ledger"]);
        assert!(
            ready.checks[0]
                .detail
                .contains(if db.is_some() { "postgres" } else { "sqlite" })
        );

        let _ = s.get("/").await;
        // Metrics are not on the public listener…
        assert_eq!(
            s.client
                .get(s.url("/metrics"))
                .send()
                .await
                .unwrap()
                .status(),
            404
        );
        // …but on their own, loopback-only one.
        let addr = s.running().metrics_addr.unwrap();
        assert!(addr.ip().is_loopback());
        let text = s
            .client
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            text.contains(
                "telewarden_http_requests_total{method=\"GET\",route=\"/\",status=\"200\"}"
            ),
            "{text}"
        );
        assert!(text.contains("telewarden_ledger_tree_size"), "{text}");
    }
}

/// `/readyz` under a database broken beneath the running server: 503, the failing check
/// named, no internals; ready again once repaired.
#[tokio::test]
async fn readiness_fails_and_names_the_broken_check_without_internals() {
    for db in common::database_choices().await {
        let s = TestServer::start(db.clone()).await;
        let raw = store::Db::connect(&s.db_url, &store::PoolSettings::default())
            .await
            .unwrap();
        for (table, check) in [
            ("ledger_entries", "ledger"),
            ("_sqlx_migrations", "migrations"),
        ] {
            let ready = s.client.get(s.url("/readyz")).send().await.unwrap();
            assert_eq!(ready.status(), 200, "{db:?}");

            store::testing::exec(
                &raw,
                &format!("ALTER TABLE {table} RENAME TO broken_{table}"),
            )
            .await
            .unwrap();
            let res = s.client.get(s.url("/readyz")).send().await.unwrap();
            assert_eq!(res.status(), 503, "{db:?}: {table} gone");
            let body = res.text().await.unwrap();
            // The healthy database check's detail names the backend; judge the rest.
            let readiness: proto::Readiness = serde_json::from_str(&body).unwrap();
            assert!(!readiness.ready);
            let failing: Vec<_> = readiness.checks.iter().filter(|c| !c.ok).collect();
            assert_eq!(failing.len(), 1, "{db:?}: {body}");
            assert_eq!(failing[0].name, check, "{db:?}: {body}");
            common::assert_no_internals(&failing[0].detail, "the failing readiness check");
            for leak in ["sqlx", "no such table", "does not exist", table] {
                assert!(
                    !body.contains(leak),
                    "{db:?}: /readyz shows {leak:?}: {body}"
                );
            }

            store::testing::exec(
                &raw,
                &format!("ALTER TABLE broken_{table} RENAME TO {table}"),
            )
            .await
            .unwrap();
            let ready = s.client.get(s.url("/readyz")).send().await.unwrap();
            assert_eq!(ready.status(), 200, "{db:?}: repaired");
        }
        raw.close().await;
    }
}

#[tokio::test]
async fn two_servers_with_different_settings_run_side_by_side() {
    let a = TestServer::start_with(None, |c| c.limits.max_body_bytes = 2048).await;
    let b = TestServer::start(None).await;
    let body = format!("email=a%40b.org&password={}", "x".repeat(3000));
    let send = |s: &TestServer| {
        s.client
            .post(s.url("/sign-in"))
            .header(ORIGIN, s.running().origin.clone())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone())
            .send()
    };
    assert_eq!(send(&a).await.unwrap().status(), 413);
    assert_eq!(send(&b).await.unwrap().status(), 401);
    assert_ne!(a.running().setup_link, b.running().setup_link);
}
