//! Starting and stopping a server.

use std::fs::{self, File};
use std::net::SocketAddr;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use clock::SharedClock;
use ledger::{LedgerConfig, LedgerHandle, NewEntry, Outcome};
use sha2::{Digest, Sha256};
use store::keyring::Keyring;
use store::{Db, PoolSettings};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::audit::Actor;
use crate::config::{Config, ConfigError, VerifyOnStart};
use crate::identity::passkeys::Passkeys;
use crate::identity::password::Passwords;
use crate::identity::session::CookieSettings;
use crate::identity::throttle::SignInThrottles;
use crate::listen::{self, ConnectionLimits, Tracker};
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::state::{AppState, Inner};
use crate::{app, setup, tls};

/// Why the server could not start. Each message names the problem and what to do.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(ConfigError),
    #[error("data directory {path}: {reason}")]
    DataDir { path: String, reason: String },
    #[error("{0}")]
    Tls(String),
    #[error("{0}")]
    Listen(String),
    #[error("database: {0}")]
    Database(store::StoreError),
    #[error("audit ledger: {0} — run `telewarden audit verify` for a full report")]
    Ledger(ledger::LedgerError),
    #[error(
        "audit ledger: entry {seq} does not verify ({kind}: {detail}). The log may have been \
         tampered with: treat this as a security incident, keep a copy of the data directory and \
         database, and run `telewarden audit verify` for the report"
    )]
    LedgerTampered {
        seq: u64,
        kind: String,
        detail: String,
    },
    #[error("{0}")]
    Startup(String),
}

// Manual conversions (not `#[from]`): the message already includes the cause, and a
// `source` would make it print twice in `{:#}` chains.
impl From<ConfigError> for StartError {
    fn from(e: ConfigError) -> Self {
        StartError::Config(e)
    }
}

impl From<store::StoreError> for StartError {
    fn from(e: store::StoreError) -> Self {
        StartError::Database(e)
    }
}

impl From<ledger::LedgerError> for StartError {
    fn from(e: ledger::LedgerError) -> Self {
        StartError::Ledger(e)
    }
}

/// A server that is serving.
#[derive(Debug)]
pub struct Running {
    /// Where the web app listens (with the real port when 0 was asked for).
    pub addr: SocketAddr,
    /// The origin people open, e.g. `http://127.0.0.1:8080`.
    pub origin: String,
    pub metrics_addr: Option<SocketAddr>,
    pub redirect_addr: Option<SocketAddr>,
    /// The one-time setup link, when the practice is not set up yet.
    pub setup_link: Option<String>,
    /// When the setup link stops working (Unix milliseconds).
    pub setup_link_expires_ms: Option<i64>,
    /// The ledger's public key (hex), for verifying exports and proofs elsewhere.
    pub ledger_public_key: String,
    state: AppState,
    shutdown_tx: watch::Sender<bool>,
    loops: Vec<JoinHandle<()>>,
    tracker: Arc<Tracker>,
    ledger_task: JoinHandle<()>,
    _lock: File,
}

/// Prepares everything and starts serving in the background.
pub async fn start(config: Config, clock: SharedClock) -> Result<Running, StartError> {
    config.validate()?;
    let lock = prepare_data_dir(&config.data_dir)?;

    let tls = tls_acceptor(&config)?;
    let main = listen::bind(config.listen, "the web app")
        .await
        .map_err(StartError::Listen)?;
    let addr = main
        .local_addr()
        .map_err(|e| StartError::Listen(e.to_string()))?;
    let metrics = match config.metrics_listen {
        Some(a) => Some(
            listen::bind(a, "metrics")
                .await
                .map_err(StartError::Listen)?,
        ),
        None => None,
    };
    let redirect = match config.redirect_listen {
        Some(a) => Some(
            listen::bind(a, "the HTTP to HTTPS redirect")
                .await
                .map_err(StartError::Listen)?,
        ),
        None => None,
    };

    let db = Db::connect(
        config.effective_database_url().expose(),
        &PoolSettings::default(),
    )
    .await?;
    db.migrate().await?;
    let keyring = match &config.master_key {
        Some(key) => Keyring::parse(key.expose())
            .ok_or_else(|| StartError::Startup("master_key is malformed".into()))?,
        None => Keyring::load_or_create(&config.data_path("master.key"))
            .map_err(|e| StartError::Startup(e.to_string()))?,
    };
    // Accounts written before the directory was sealed (migration 0007) are sealed
    // now, before anything reads them; afterwards this only counts.
    let sealed = db.seal_directory(&keyring, clock.now_ms()).await?;
    if sealed > 0 {
        tracing::info!(accounts = sealed, "sealed the account directory");
    }

    let key = ledger::keyfile::load_or_create(config.data_path("ledger.key"))?;
    if config.ledger.verify_on_start == VerifyOnStart::Full {
        let started = std::time::Instant::now();
        let report = ledger::verify(&db, &key.verifying_key()).await?;
        if let Some(p) = report.problem {
            return Err(StartError::LedgerTampered {
                seq: p.seq,
                kind: format!("{:?}", p.kind),
                detail: p.detail,
            });
        }
        tracing::info!(
            entries = report.entries,
            checkpoints = report.checkpoints,
            ms = started.elapsed().as_millis() as u64,
            "audit ledger verified"
        );
    }
    let ledger_config = LedgerConfig {
        batch_max: config.ledger.batch_max,
        checkpoint_every: config.ledger.checkpoint_every,
        checkpoint_interval: Duration::from_secs(config.ledger.checkpoint_interval_secs),
        ..LedgerConfig::default()
    };
    let (ledger, ledger_task) = ledger::open(db.clone(), key, clock.clone(), ledger_config).await?;
    let ledger_public_key = hex::encode(ledger.verifying_key().as_bytes());

    let origin = config.public_origin(addr);
    let workers = std::thread::available_parallelism().map_or(2, usize::from);
    let passwords = Passwords::new(workers).map_err(|e| StartError::Startup(e.to_string()))?;
    let practice_name = db
        .practice()
        .await?
        .map_or_else(|| "Telewarden".to_owned(), |p| p.name);
    let passkeys = Passkeys::new(&origin, &practice_name).map_err(StartError::Startup)?;
    let mailer = Mailer::new(&config.mail, &config.outbox_dir())
        .map_err(|e| StartError::Startup(e.to_string()))?;
    // Outgoing HTTPS (alert webhooks) uses the same TLS provider as the listener; an
    // embedding program may have installed one already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cookies = CookieSettings::for_https(origin.starts_with("https://"));
    let (sentinel, sentinel_engine) =
        crate::security::start(&config, cookies.name("tw_session"), clock.clone());
    let state = AppState::new(Inner {
        cookies,
        config,
        db,
        ledger: ledger.clone(),
        clock,
        metrics: Metrics::new(),
        passwords,
        origin: origin.clone(),
        passkeys,
        keyring,
        mailer,
        throttles: SignInThrottles::default(),
        rooms: crate::consult::room::Rooms::default(),
        sentinel,
        training_cleared: Default::default(),
        messaging: Default::default(),
        assurance_run: Default::default(),
    });

    record_start(&state, &ledger, addr).await?;
    let link = setup::issue_link(&state, "console")
        .await
        .map_err(|e| StartError::Startup(e.to_string()))?;
    let setup_link_expires_ms = link.as_ref().map(|l| l.expires_ms);
    let setup_link = link.map(|l| format!("{origin}/setup/{}", l.token.as_str()));

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let tracker = Arc::new(Tracker::default());
    let limits = ConnectionLimits {
        header_read_timeout: Duration::from_secs(state.config.limits.header_read_timeout_secs),
        tls_handshake_timeout: Duration::from_secs(state.config.limits.tls_handshake_timeout_secs),
        max_connections: state.config.limits.max_connections,
        sentinel: (state.config.sentinel.mode != crate::config::SentinelMode::Off)
            .then(|| state.sentinel.clone()),
    };
    let mut loops = Vec::new();
    let mut spawn = |listener, tls, router| {
        loops.push(tokio::spawn(listen::accept_loop(
            listener,
            tls,
            router,
            limits.clone(),
            tracker.clone(),
            shutdown_rx.clone(),
        )));
    };
    spawn(main, tls, app::router(state.clone()));
    let metrics_addr = metrics.as_ref().and_then(|l| l.local_addr().ok());
    if let Some(l) = metrics {
        spawn(l, None, app::metrics_router(state.clone()));
    }
    let redirect_addr = redirect.as_ref().and_then(|l| l.local_addr().ok());
    if let Some(l) = redirect {
        spawn(l, None, app::redirect_router(state.clone()));
    }
    let control = crate::control::bind(&state.config.data_dir).map_err(|e| {
        StartError::Startup(format!(
            "cannot open the control socket in the data directory: {e}"
        ))
    })?;
    loops.push(tokio::spawn(crate::control::serve(
        control,
        state.clone(),
        shutdown_rx.clone(),
    )));
    loops.push(tokio::spawn(crate::consult::reminders::run(
        state.clone(),
        shutdown_rx.clone(),
    )));
    loops.push(tokio::spawn(crate::training::learning::run(
        state.clone(),
        shutdown_rx.clone(),
    )));
    loops.push(tokio::spawn(crate::training::simulation::campaigns::run(
        state.clone(),
        shutdown_rx.clone(),
    )));
    loops.push(tokio::spawn(crate::assurance::checks::schedule(
        state.clone(),
        shutdown_rx.clone(),
    )));
    // The sentinel digests events until every handle to it is gone; its alerts are
    // kept until shutdown.
    tokio::spawn(sentinel_engine.run());
    loops.push(tokio::spawn(crate::security::alerts::run(
        state.clone(),
        shutdown_rx.clone(),
    )));
    tracing::info!(%addr, origin = %origin, "Telewarden is serving");
    Ok(Running {
        addr,
        origin,
        metrics_addr,
        redirect_addr,
        setup_link,
        setup_link_expires_ms,
        ledger_public_key,
        state,
        shutdown_tx,
        loops,
        tracker,
        ledger_task,
        _lock: lock,
    })
}

impl Running {
    /// Consult rooms open now (someone is in them).
    pub fn open_rooms(&self) -> usize {
        self.state.rooms.open_rooms()
    }

    /// Sends the appointment reminders that are due now (the server also does this
    /// every minute by itself); returns how many were sent.
    pub async fn send_due_reminders(&self) -> Result<usize, crate::error::AppError> {
        crate::consult::reminders::send_due(&self.state).await
    }

    /// Sends the phishing simulation campaigns that are due now (the server also does
    /// this every minute by itself); returns how many were sent.
    pub async fn send_due_simulations(&self) -> Result<usize, crate::error::AppError> {
        crate::training::simulation::campaigns::send_due(&self.state).await
    }

    /// Rotates the key-encryption key (what the control socket's `keys/rotate` does).
    pub async fn rotate_kek(&self) -> Result<store::envelope::Rotation, crate::error::AppError> {
        crate::control::rotate_kek(&self.state).await
    }

    /// Records a backup written of this server's database (what the control socket's
    /// `backup/recorded` does).
    pub async fn record_backup(
        &self,
        record: &store::backup::BackupRecord,
    ) -> Result<(), crate::error::AppError> {
        crate::control::record_backup(&self.state, record).await
    }

    /// Records a verified restore into this server's database.
    pub async fn record_restore(
        &self,
        record: &store::backup::RestoreRecord,
    ) -> Result<(), crate::error::AppError> {
        crate::control::record_restore(&self.state, record).await
    }

    /// Stops accepting, lets in-flight requests finish (up to the configured grace),
    /// records the stop, flushes the ledger (final signed checkpoint) and closes the
    /// database.
    pub async fn shutdown(self) -> Result<(), StartError> {
        let _ = self.shutdown_tx.send(true);
        // Open consult sockets close now; browsers reconnect to the next server.
        self.state.rooms.close_all();
        for l in self.loops {
            let _ = l.await;
        }
        let grace = Duration::from_secs(self.state.config.limits.shutdown_grace_secs);
        if tokio::time::timeout(grace, self.tracker.drained())
            .await
            .is_err()
        {
            tracing::warn!(
                open = self.tracker.live(),
                "shutdown grace over; closing remaining connections"
            );
        }
        let stopped = NewEntry::new(
            Actor::System.as_ledger_name(),
            "server.stopped",
            "server",
            Outcome::Success,
        )
        .source("process");
        if let Err(e) = self.state.ledger.append(stopped).await {
            tracing::error!(error = %e, "could not record the stop in the ledger");
        }
        self.state.ledger.shutdown().await?;
        let _ = self.ledger_task.await;
        self.state.db.close().await;
        let _ = fs::remove_file(crate::control::socket_path(&self.state.config.data_dir));
        tracing::info!("Telewarden stopped");
        Ok(())
    }
}

fn prepare_data_dir(dir: &Path) -> Result<File, StartError> {
    let fail = |reason: String| StartError::DataDir {
        path: dir.display().to_string(),
        reason,
    };
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| fail(format!("cannot create it: {e}")))?;
    }
    let meta = fs::metadata(dir).map_err(|e| fail(format!("cannot read it: {e}")))?;
    if !meta.is_dir() {
        return Err(fail("exists but is not a directory".into()));
    }
    let lock_path = dir.join("telewarden.lock");
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| {
            fail(format!(
                "is not writable ({e}); fix its permissions or choose another with --data-dir"
            ))
        })?;
    lock.try_lock().map_err(|_| {
        fail("another Telewarden process is already using it; stop that one first or choose another --data-dir".into())
    })?;
    Ok(lock)
}

fn tls_acceptor(config: &Config) -> Result<Option<tokio_rustls::TlsAcceptor>, StartError> {
    let files = if config.tls_self_signed {
        let mut names = vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ];
        if !config.listen.ip().is_unspecified() {
            names.push(config.listen.ip().to_string());
        }
        if let Some(host) = config.public_url.as_deref().and_then(public_host) {
            names.push(host);
        }
        Some(tls::self_signed(&config.data_path("tls"), &names).map_err(StartError::Tls)?)
    } else {
        match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => Some(tls::TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ => None,
        }
    };
    files
        .map(|f| tls::acceptor(&f).map_err(StartError::Tls))
        .transpose()
}

fn public_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let host = rest.split('/').next()?;
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    Some(
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
    )
}

/// Records the start, and any change of configuration since the previous start (the
/// redacted configuration is kept between starts to name what changed).
async fn record_start(
    state: &AppState,
    ledger: &LedgerHandle,
    addr: SocketAddr,
) -> Result<(), StartError> {
    let config = &state.config;
    let started = NewEntry::new(
        Actor::System.as_ledger_name(),
        "server.started",
        "server",
        Outcome::Success,
    )
    .source("process")
    .detail("version", env!("CARGO_PKG_VERSION"))
    .detail("database", state.db.backend().as_str())
    .detail("listen", addr.to_string())
    .detail("tls", config.tls_enabled())
    .detail("trusted_proxies", config.behind_proxy.len());
    ledger.append(started).await?;

    let shown = config.to_redacted_toml();
    let digest = hex::encode(Sha256::digest(shown.as_bytes()));
    let previous = state.db.server_state("config_effective").await?;
    if previous.as_deref() != Some(shown.as_str()) {
        let changed = previous.as_deref().map(|p| changed_keys(p, &shown));
        let mut entry = NewEntry::new(
            Actor::System.as_ledger_name(),
            "config.changed",
            "config",
            Outcome::Success,
        )
        .source("process")
        .detail("digest", digest);
        entry = match changed {
            Some(keys) => entry.detail("changed_keys", keys),
            None => entry.detail("first_start", true),
        };
        ledger.append(entry).await?;
        state
            .db
            .set_server_state("config_effective", &shown)
            .await?;
    }
    Ok(())
}

/// The keys whose lines differ between two renderings of the configuration.
fn changed_keys(before: &str, after: &str) -> Vec<String> {
    fn lines(text: &str) -> Vec<(String, String)> {
        let mut section = String::new();
        let mut out = Vec::new();
        for line in text.lines() {
            let line = line.trim_start_matches("# ");
            if let Some(s) = line.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                section = format!("{s}.");
            } else if let Some((k, v)) = line.split_once(" = ") {
                out.push((format!("{section}{k}"), v.to_owned()));
            }
        }
        out
    }
    let (b, a) = (lines(before), lines(after));
    let mut keys: Vec<String> = a
        .iter()
        .filter(|kv| !b.contains(kv))
        .chain(b.iter().filter(|kv| !a.contains(kv)))
        .map(|(k, _)| k.clone())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_changed_configuration_keys() {
        let a =
            "listen = \"127.0.0.1:8080\"\nlog_level = \"info\"\n\n[limits]\nmax_body_bytes = 1\n";
        let b =
            "listen = \"127.0.0.1:9090\"\nlog_level = \"info\"\n\n[limits]\nmax_body_bytes = 2\n";
        assert_eq!(changed_keys(a, b), vec!["limits.max_body_bytes", "listen"]);
        assert!(changed_keys(a, a).is_empty());
    }

    #[test]
    fn public_host_strips_scheme_and_port() {
        assert_eq!(
            public_host("https://tele.example.org:8443").as_deref(),
            Some("tele.example.org")
        );
        assert_eq!(public_host("https://[::1]:8443").as_deref(), Some("::1"));
    }
}
