//! TLS with a self-signed certificate, the HTTP→HTTPS redirect, and graceful shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{TestServer, tls_client};
use ledger::LedgerStore;
use reqwest::header::ORIGIN;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn self_signed_tls_serves_https_with_hsts_and_redirects_plain_http() {
    let s = TestServer::start_with(None, |c| {
        c.tls_self_signed = true;
        c.redirect_listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let running = s.running();
    assert!(
        running.origin.starts_with("https://localhost:"),
        "{}",
        running.origin
    );
    let key_path = s.dir.path().join("tls/self-signed-key.pem");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&key_path).unwrap().permissions(),
    );
    assert_eq!(mode & 0o077, 0, "the TLS key must be private");
    let pem = std::fs::read(s.dir.path().join("tls/self-signed-cert.pem")).unwrap();
    let client = tls_client(&pem);

    let res = client
        .get(format!("{}/", running.origin))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );
    assert!(
        res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );

    // Session cookies under TLS: __Host- prefix and Secure (seen on the pending
    // second-step cookie of a password sign-in, and on sign-out).
    let setup = running.setup_link.clone().unwrap();
    let res = client
        .post(&setup)
        .header(ORIGIN, &running.origin)
        .form(&[
            ("practice_name", common::PRACTICE),
            ("time_zone", "UTC"),
            ("admin_name", common::ADMIN_NAME),
            ("email", common::ADMIN_EMAIL),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let out = client
        .post(format!("{}/sign-out", running.origin))
        .header(ORIGIN, &running.origin)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    let cookie = out.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("__Host-tw_session=")
            && cookie.contains("; Secure")
            && cookie.contains("HttpOnly"),
        "{cookie}"
    );

    // A page served over plain HTTP at the same host is another origin: refused.
    let http_origin = running.origin.replacen("https://", "http://", 1);
    let res = client
        .post(format!("{}/sign-out", running.origin))
        .header(ORIGIN, &http_origin)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        403,
        "Origin {http_origin} on an HTTPS request"
    );

    // Plain HTTP on the TLS port does not get a page.
    let plain = s
        .client
        .get(format!("http://{}/", running.addr))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());

    // The redirect listener sends everything to HTTPS, keeping path and query.
    let redirect = running.redirect_addr.unwrap();
    let res = s
        .client
        .get(format!("http://{redirect}/sign-in?next=%2F"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 308);
    assert_eq!(
        res.headers()["location"],
        format!("{}/sign-in?next=%2F", running.origin)
    );
}

/// A client that speaks only TLS 1.2 (or only 1.3) is served, and gets that version.
#[tokio::test]
async fn clients_limited_to_tls_1_2_or_tls_1_3_are_served() {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    let s = TestServer::start_with(None, |c| c.tls_self_signed = true).await;
    let pem = std::fs::read(s.dir.path().join("tls/self-signed-cert.pem")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    for version in [&rustls::version::TLS12, &rustls::version::TLS13] {
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots.clone())
        .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = TcpStream::connect(s.running().addr).await.unwrap();
        let mut tls = connector
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap_or_else(|e| panic!("{:?} handshake: {e}", version.version));
        assert_eq!(tls.get_ref().1.protocol_version(), Some(version.version));
        let suite = format!("{:?}", tls.get_ref().1.negotiated_cipher_suite().unwrap());
        assert!(
            suite.contains("_GCM_") || suite.contains("CHACHA20_POLY1305"),
            "{suite}"
        );
        tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut response = Vec::new();
        let _ = tls.read_to_end(&mut response).await;
        let response = String::from_utf8_lossy(&response);
        assert!(
            response.starts_with("HTTP/1.1 200"),
            "{:?}: {response}",
            version.version
        );
    }
}

#[tokio::test]
async fn tls_handshakes_that_never_finish_are_dropped() {
    let s = TestServer::start_with(None, |c| {
        c.tls_self_signed = true;
        c.limits.tls_handshake_timeout_secs = 1;
    })
    .await;
    let mut stream = TcpStream::connect(s.running().addr).await.unwrap();
    let mut buf = [0u8; 16];
    let closed = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await;
    assert!(
        matches!(closed, Ok(Ok(0)) | Ok(Err(_))),
        "connection was held open"
    );
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish_and_seals_the_ledger() {
    for db in common::database_choices().await {
        let mut s = TestServer::start(db.clone()).await;
        let running = s.running.take().unwrap();
        let addr = running.addr;
        let origin = running.origin.clone();
        // Start a request and leave its body unfinished…
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let body = "email=nobody%40example.org&password=some+password+here";
        let head = format!(
            "POST /sign-in HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\nAccept: application/json\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&body.as_bytes()[..10]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        // …begin shutting down…
        let stopping = tokio::spawn(running.shutdown());
        tokio::time::sleep(Duration::from_millis(300)).await;
        // …new connections are refused…
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "{db:?}: still accepting after shutdown began"
        );
        // …and the request in flight still completes.
        stream.write_all(&body.as_bytes()[10..]).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 401"), "{db:?}: {response}");
        stopping.await.unwrap().unwrap();

        // Nothing written was lost: the failed attempt, the stop, and a signed head over all.
        let store = s.stop().await;
        let entries = store.entries(1, 1000).await.unwrap();
        let n = entries.len();
        assert_eq!(entries[n - 1].action, "server.stopped");
        assert!(
            entries
                .iter()
                .any(|e| e.action == "signin.password" && e.target == "account:unknown")
        );
        let head = store.latest_checkpoint().await.unwrap().unwrap();
        assert_eq!(
            head.sth.head.size, n as u64,
            "{db:?}: final checkpoint covers everything"
        );
        assert!(
            ledger::verify(&store, &s.ledger_key())
                .await
                .unwrap()
                .is_intact()
        );
    }
}

#[tokio::test]
async fn a_restart_keeps_the_ledger_and_practice() {
    let dir = tempfile::tempdir().unwrap();
    common::install_crypto();
    let clock = Arc::new(clock::ManualClock::at_ms(1_767_225_600_000));
    let first = server::start(common::test_config(dir.path(), None), clock.clone())
        .await
        .unwrap();
    let key = first.ledger_public_key.clone();
    assert!(first.setup_link.is_some());
    first.shutdown().await.unwrap();
    let second = server::start(common::test_config(dir.path(), None), clock)
        .await
        .unwrap();
    assert_eq!(
        second.ledger_public_key, key,
        "the ledger key survives restarts"
    );
    assert!(
        second.setup_link.is_some(),
        "still not set up: a new link is printed"
    );
    second.shutdown().await.unwrap();
}
