//! A real server on an ephemeral loopback port, driven over HTTP.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use clock::{Clock, ManualClock};
use reqwest::header::{ACCEPT, COOKIE, ORIGIN, SET_COOKIE};
use reqwest::redirect::Policy;
use server::{Config, Running, Secret};
use store::{Db, PoolSettings};

pub const ADMIN_NAME: &str = "Philippa Quokkaworth";
pub const ADMIN_EMAIL: &str = "philippa@harbour.example";
pub const ADMIN_PASSWORD: &str = "sea-breeze lantern 4417";
pub const PRACTICE: &str = "Harbour Street Clinic";
pub const CLINICIAN_NAME: &str = "Dr Oluwaseun Tremblay";
pub const CLINICIAN_EMAIL: &str = "o.tremblay@harbour.example";
pub const CLINICIAN_PASSWORD: &str = "marmalade otter violin 88";

/// SQLite always; PostgreSQL too when `TW_TEST_POSTGRES_URL` is set. `None` = SQLite.
pub async fn database_choices() -> Vec<Option<String>> {
    let mut v = vec![None];
    if let Ok(base) = std::env::var(store::testing::POSTGRES_ENV)
        && !base.is_empty()
    {
        v.push(Some(store::testing::fresh_postgres_database(&base).await));
    }
    v
}

pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub struct TestServer {
    pub running: Option<Running>,
    pub dir: tempfile::TempDir,
    pub base: String,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub db_url: String,
}

/// A config for tests: temp data dir, ephemeral ports, short timeouts.
pub fn test_config(dir: &std::path::Path, database_url: Option<String>) -> Config {
    let mut c = Config {
        data_dir: dir.to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        metrics_listen: Some("127.0.0.1:0".parse().unwrap()),
        database_url: database_url.map(Secret::new),
        ..Config::default()
    };
    c.limits.header_read_timeout_secs = 2;
    c.limits.body_read_timeout_secs = 2;
    c.limits.shutdown_grace_secs = 5;
    c.ledger.checkpoint_interval_secs = 1;
    // Every test client shares 127.0.0.1, on a clock that stands still, and many tests
    // try bad input on purpose: the sentinel watches (every event still goes through
    // it) but refuses nothing. The sentinel's own tests switch it to enforce.
    c.sentinel.mode = server::SentinelMode::Watch;
    // Clinicians in these tests are fixtures that open records at once; the training
    // gate has its own tests (tests/training.rs), which turn it back on.
    c.training.required_before_records = false;
    c
}

impl TestServer {
    pub async fn start(database_url: Option<String>) -> Self {
        Self::start_with(database_url, |_| {}).await
    }

    pub async fn start_with(database_url: Option<String>, tweak: impl FnOnce(&mut Config)) -> Self {
        install_crypto();
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path(), database_url);
        tweak(&mut config);
        let db_url = config.effective_database_url().expose().to_owned();
        let clock = Arc::new(ManualClock::at_ms(1_767_225_600_000)); // 2026-01-01
        let running = server::start(config, clock.clone()).await.unwrap();
        let base = format!("http://{}", running.addr);
        let client = reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap();
        Self {
            running: Some(running),
            dir,
            base,
            client,
            clock,
            db_url,
        }
    }

    pub fn running(&self) -> &Running {
        self.running.as_ref().unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The setup link's path, e.g. `/setup/abc…`.
    pub fn setup_path(&self) -> String {
        let link = self.running().setup_link.clone().expect("setup link");
        link.strip_prefix(&self.running().origin)
            .unwrap()
            .to_owned()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header(ACCEPT, "text/html")
            .send()
            .await
            .unwrap()
    }

    pub async fn get_with_cookie(&self, path: &str, cookie: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header(ACCEPT, "text/html")
            .header(COOKIE, cookie)
            .send()
            .await
            .unwrap()
    }

    /// A same-origin form POST, as a browser on our page sends it.
    pub async fn post_form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(self.url(path))
            .header(ACCEPT, "text/html")
            .header(ORIGIN, &self.running().origin)
            .form(form);
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        req.send().await.unwrap()
    }

    /// Completes first-run setup; returns the administrator's enrolment path
    /// (`/enrol/…`) the server redirects to.
    pub async fn complete_setup(&self) -> String {
        let res = self
            .post_form(
                &self.setup_path(),
                &[
                    ("practice_name", PRACTICE),
                    ("time_zone", "Australia/Sydney"),
                    ("admin_name", ADMIN_NAME),
                    ("email", ADMIN_EMAIL),
                ],
                None,
            )
            .await;
        assert_eq!(
            res.status(),
            303,
            "setup failed: {}",
            res.text().await.unwrap_or_default()
        );
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with("/enrol/"), "{location}");
        location
    }

    /// A signed-in session for `email`, made directly in the database (a fixture for
    /// tests that are not about signing in; passkey sign-in itself is tested in the
    /// browser). `authenticated_ago_ms` sets how long ago they proved who they are.
    pub async fn session_for(&self, email: &str, authenticated_ago_ms: i64) -> String {
        let db = Db::connect(&self.db_url, &PoolSettings::default())
            .await
            .unwrap();
        let now = self.clock.now_ms();
        let cookie = store::testing::session_cookie(
            &db,
            &self.keyring(),
            email,
            now,
            now - authenticated_ago_ms,
        )
        .await;
        db.close().await;
        cookie
    }

    /// The id of the account with this e-mail address.
    pub async fn user_id(&self, email: &str) -> String {
        let db = Db::connect(&self.db_url, &PoolSettings::default())
            .await
            .unwrap();
        let id = db
            .user_by_email(&self.keyring(), email)
            .await
            .unwrap()
            .unwrap()
            .id;
        db.close().await;
        id
    }

    /// Setup done and a fresh administrator session: `(cookie, enrolment path)`.
    pub async fn admin(&self) -> String {
        let _ = self.complete_setup().await;
        self.session_for(ADMIN_EMAIL, 0).await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_form(
            "/sign-in",
            &[("email", email), ("password", password)],
            None,
        )
        .await
    }

    /// Shuts the server down and opens its database for inspection.
    pub async fn stop(&mut self) -> Db {
        if let Some(r) = self.running.take() {
            r.shutdown().await.unwrap();
        }
        Db::connect(&self.db_url, &PoolSettings::default())
            .await
            .unwrap()
    }

    /// The server's master key (from its data directory), to open what it sealed.
    pub fn keyring(&self) -> store::keyring::Keyring {
        store::keyring::Keyring::load_or_create(&self.dir.path().join("master.key")).unwrap()
    }

    pub fn ledger_key(&self) -> ledger::VerifyingKey {
        ledger::keyfile::load_verifying_key(self.dir.path().join("ledger.key")).unwrap()
    }
}

/// The `name=value` of the session cookie a response sets, if any.
pub fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("tw_session=") && !v.contains("Max-Age=0"))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// Every ledger entry's `(action, outcome, target)`.
pub async fn ledger_actions(db: &Db) -> Vec<(String, String, String)> {
    use ledger::LedgerStore;
    db.entries(1, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.outcome.as_str().to_owned(), e.target))
        .collect()
}
pub mod consult;
pub mod fhir;
pub mod identity;
pub mod messaging;

/// Every file under `dir`, recursively.
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Fails when an error body shows internals: the database driver, SQL error text, table
/// names or file paths.
pub fn assert_no_internals(body: &str, what: &str) {
    let lower = body.to_lowercase();
    for leak in [
        "sqlx",
        "sqlite",
        "postgres",
        "no such table",
        "does not exist",
        "error returned from database",
        "ledger_entries",
        "_sqlx_migrations",
        "relation ",
        "/tmp/",
        ".rs:",
        "panicked",
    ] {
        assert!(!lower.contains(leak), "{what} shows {leak:?}: {body}");
    }
}

/// A client that trusts only the certificates in `cert_pem` (a server's self-signed one).
pub fn tls_client(cert_pem: &[u8]) -> reqwest::Client {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(cert_pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}
