//! `telewarden backup`, `telewarden backup verify` and `telewarden restore`.
//!
//! A backup holds the database (SQLite: a `VACUUM INTO` copy; PostgreSQL: every
//! table's rows from one `REPEATABLE READ` snapshot) — the audit ledger included, since
//! it lives there — the master key and the ledger signing key, all sealed under a key
//! derived from a passphrase (see [`crate::backup_file`]). The passphrase comes from
//! `TW_BACKUP_PASSPHRASE` or standard input, never from a flag, and is never logged.
//! A restore decrypts and checks the whole file before it writes anything.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clock::{Clock, SystemClock};
use serde::{Deserialize, Serialize};
use server::Config;
use store::backup::{BackupRecord, RestoreRecord, TableDump};
use store::{Backend, Db, PoolSettings};
use zeroize::Zeroizing;

use crate::backup_file::{self, DEFAULT_KDF};
use crate::cli::{BackupVerifyArgs, CommonArgs, FlagOverrides, RestoreArgs};
use crate::settings;

/// Where the passphrase may be given (besides standard input).
const PASSPHRASE_ENV: &str = "TW_BACKUP_PASSPHRASE";
/// The shortest passphrase a new backup accepts.
const MIN_PASSPHRASE_CHARS: usize = 12;
const FORMAT: &str = "telewarden-backup";

const MANIFEST: &str = "manifest.json";
const MASTER_KEY: &str = "keys/master.key";
const LEDGER_KEY: &str = "keys/ledger.key";
const LEDGER_PUB: &str = "keys/ledger.key.pub";
const SQLITE_DB: &str = "db/sqlite.db";
const PG_PREFIX: &str = "db/postgres/";

/// What a backup says about itself (its first entry).
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: String,
    created_ms: i64,
    backend: String,
    /// Migrations applied to the database when it was copied.
    migrations: Vec<i64>,
    telewarden_version: String,
    /// PostgreSQL: rows per table.
    #[serde(default)]
    tables: BTreeMap<String, u64>,
}

fn config(common: &CommonArgs) -> anyhow::Result<Config> {
    settings::load(
        common,
        &FlagOverrides {
            data_dir: common.data_dir.clone(),
            ..FlagOverrides::default()
        },
    )
}

/// The passphrase, from the environment or standard input (when it is not a terminal).
fn passphrase() -> anyhow::Result<Zeroizing<String>> {
    let text = match std::env::var_os(PASSPHRASE_ENV) {
        Some(v) => Zeroizing::new(
            v.into_string()
                .map_err(|_| anyhow::anyhow!("{PASSPHRASE_ENV} is not valid UTF-8"))?,
        ),
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                bail!(
                    "no backup passphrase: set {PASSPHRASE_ENV} or pipe it on standard input \
                     (it is never taken from a flag)"
                );
            }
            let mut line = Zeroizing::new(String::new());
            stdin
                .lock()
                .read_line(&mut line)
                .context("cannot read the passphrase from standard input")?;
            Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned())
        }
    };
    if text.is_empty() {
        bail!("the backup passphrase is empty");
    }
    Ok(text)
}

fn read_key_file(path: &Path) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    std::fs::read(path)
        .map(Zeroizing::new)
        .with_context(|| format!("cannot read {}", path.display()))
}

/// Opens the data directory's existing database (never creates one).
async fn open_existing(config: &Config) -> anyhow::Result<Db> {
    let url = config.effective_database_url();
    if let Some(path) = url.expose().strip_prefix("sqlite://")
        && !Path::new(path).exists()
    {
        bail!(
            "no database at {path}: has Telewarden been started with this data directory? \
             (use --data-dir or TW_DATA_DIR)"
        );
    }
    let db = Db::connect(url.expose(), &PoolSettings::default()).await?;
    if db.migration_status().await?.applied == 0 {
        bail!("the database holds no Telewarden schema");
    }
    Ok(db)
}

/// Removes a file when dropped, unless disarmed.
struct RemoveOnDrop(Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn random_hex() -> anyhow::Result<String> {
    let mut raw = [0u8; 8];
    getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(hex::encode(raw))
}

/// `telewarden backup --out FILE`.
#[allow(clippy::print_stdout)] // The command's answer.
pub async fn create(common: CommonArgs, out: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let Some(out) = out else {
        bail!("say where to write the backup: --out FILE");
    };
    let config = config(&common)?;
    if out.exists() {
        bail!(
            "{} already exists; a backup never overwrites a file",
            out.display()
        );
    }
    let ledger_key_path = config.data_path("ledger.key");
    if !ledger_key_path.exists() {
        bail!(
            "{} is not a Telewarden data directory (no ledger key; use --data-dir or TW_DATA_DIR)",
            config.data_dir.display()
        );
    }
    let pass = passphrase()?;
    if pass.chars().count() < MIN_PASSPHRASE_CHARS {
        bail!("the backup passphrase must be at least {MIN_PASSPHRASE_CHARS} characters");
    }

    let master = match &config.master_key {
        Some(key) => Zeroizing::new(format!("{}\n", key.expose()).into_bytes()),
        None => read_key_file(&config.data_path("master.key"))?,
    };
    let ledger_key = read_key_file(&ledger_key_path)?;
    let ledger_pub =
        read_key_file(&ledger::keyfile::public_key_path(&ledger_key_path)).unwrap_or_default();

    let db = open_existing(&config).await?;
    let migrations = db.applied_migrations().await?;
    let created_ms = SystemClock.now_ms();
    let mut entries: Vec<(String, Zeroizing<Vec<u8>>)> = Vec::new();
    let mut tables = BTreeMap::new();
    let backend = db.backend();
    match backend {
        Backend::Sqlite => {
            // The copy goes into the (0700) data directory and is removed at once.
            let tmp = config.data_path(format!(".backup-{}.db", random_hex()?));
            let guard = RemoveOnDrop(Some(tmp.clone()));
            db.snapshot_sqlite(&tmp)
                .await
                .context("copying the SQLite database")?;
            entries.push((SQLITE_DB.into(), read_key_file(&tmp)?));
            drop(guard);
        }
        Backend::Postgres => {
            for TableDump { name, rows } in db
                .dump_postgres()
                .await
                .context("reading the PostgreSQL database")?
            {
                tables.insert(name.clone(), rows.len() as u64);
                entries.push((
                    format!("{PG_PREFIX}{name}.jsonl"),
                    Zeroizing::new(rows.join("\n").into_bytes()),
                ));
            }
        }
    }
    db.close().await;
    let manifest = Manifest {
        format: FORMAT.into(),
        created_ms,
        backend: backend.as_str().into(),
        migrations,
        telewarden_version: env!("CARGO_PKG_VERSION").into(),
        tables,
    };
    let mut all = vec![
        (
            MANIFEST.to_owned(),
            Zeroizing::new(serde_json::to_vec(&manifest)?),
        ),
        (MASTER_KEY.to_owned(), master),
        (LEDGER_KEY.to_owned(), ledger_key),
        (LEDGER_PUB.to_owned(), ledger_pub),
    ];
    all.append(&mut entries);
    let plain = backup_file::pack(&all);
    drop(all);
    let (bytes, digest) = tokio::task::spawn_blocking(move || {
        backup_file::seal(&plain, pass.as_bytes(), DEFAULT_KDF)
    })
    .await
    .context("sealing the backup")??;

    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&out)
        .with_context(|| format!("cannot create {}", out.display()))?;
    let guard = RemoveOnDrop(Some(out.clone()));
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", out.display()))?;
    let mut guard = guard;
    guard.0 = None;

    let record = BackupRecord {
        time_ms: created_ms,
        size: bytes.len() as u64,
        digest: digest.clone(),
    };
    println!(
        "Backup written to {}: {} bytes, SHA-256 {digest}.",
        out.display(),
        record.size
    );
    match record_backup(config, &record).await {
        Ok(how) => {
            println!("Recorded in the database and the audit ledger ({how}).");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: the backup was written but could not be recorded: {e:#}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Records the backup through the running server, or by starting one privately.
async fn record_backup(mut config: Config, record: &BackupRecord) -> anyhow::Result<&'static str> {
    let socket = server::control::socket_path(&config.data_dir);
    if let Ok(stream) = tokio::net::UnixStream::connect(&socket).await {
        let body = serde_json::to_string(record)?;
        super::keys::ask_json(stream, "/backup/recorded", &body).await?;
        return Ok("by the running server");
    }
    private(&mut config);
    let running = server::start(config, Arc::new(SystemClock))
        .await
        .context("could not open the data directory (is a server starting?)")?;
    let result = running.record_backup(record).await;
    running.shutdown().await.context("shutdown")?;
    result.map_err(|e| anyhow::anyhow!("{}", e.message))?;
    Ok("no server was running")
}

/// A server started only to do one thing: loopback, an ephemeral port, no other
/// listeners.
fn private(config: &mut Config) {
    config.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    config.metrics_listen = None;
    config.redirect_listen = None;
}

/// A backup read back and checked whole.
struct Opened {
    manifest: Manifest,
    digest: String,
    plain: Zeroizing<Vec<u8>>,
}

impl Opened {
    fn entries(&self) -> anyhow::Result<BTreeMap<String, &[u8]>> {
        let mut map = BTreeMap::new();
        for (name, data) in backup_file::unpack(&self.plain)? {
            if map.insert(name.clone(), data).is_some() {
                bail!("the backup's contents are malformed: {name} appears twice");
            }
        }
        Ok(map)
    }
}

/// Reads, decrypts and checks the whole backup (nothing is written).
async fn open_backup(path: &Path) -> anyhow::Result<Opened> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    // Damage and truncation are found before the passphrase is even asked for.
    backup_file::check_digest(&bytes)?;
    let pass = passphrase()?;
    let (plain, digest) =
        tokio::task::spawn_blocking(move || backup_file::open(&bytes, pass.as_bytes()))
            .await
            .context("opening the backup")??;
    let entries = backup_file::unpack(&plain)?;
    let manifest_bytes = entries
        .iter()
        .find(|(n, _)| n == MANIFEST)
        .map(|(_, d)| *d)
        .context("the backup has no manifest")?;
    let manifest: Manifest =
        serde_json::from_slice(manifest_bytes).context("the backup's manifest is malformed")?;
    if manifest.format != FORMAT {
        bail!("the backup's manifest is not a Telewarden backup's");
    }
    let opened = Opened {
        manifest,
        digest,
        plain,
    };
    let map = opened.entries()?;
    for required in [MASTER_KEY, LEDGER_KEY] {
        if map.get(required).is_none_or(|d| d.is_empty()) {
            bail!("the backup has no {required}");
        }
    }
    match opened.manifest.backend.as_str() {
        "sqlite" => {
            if !map.contains_key(SQLITE_DB) {
                bail!("the backup has no database");
            }
        }
        "postgres" => {
            for table in opened.manifest.tables.keys() {
                if !map.contains_key(&format!("{PG_PREFIX}{table}.jsonl")) {
                    bail!("the backup lacks the rows of table {table}");
                }
            }
        }
        other => bail!("the backup holds a database of an unknown kind ({other})"),
    }
    Ok(opened)
}

fn describe_time(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{ms} ms after the epoch"))
}

/// `telewarden backup verify --from FILE`.
#[allow(clippy::print_stdout)]
pub async fn verify(args: BackupVerifyArgs) -> anyhow::Result<ExitCode> {
    let opened = open_backup(&args.from).await?;
    let m = &opened.manifest;
    println!(
        "The backup is intact: taken {} from a {} database (schema version {}), SHA-256 {}.",
        describe_time(m.created_ms),
        m.backend,
        m.migrations.last().copied().unwrap_or_default(),
        opened.digest
    );
    if !m.tables.is_empty() {
        let rows: u64 = m.tables.values().sum();
        println!("{} tables, {rows} rows.", m.tables.len());
    }
    Ok(ExitCode::SUCCESS)
}

fn write_new(path: &Path, data: &[u8], mode: u32) -> anyhow::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(data)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Empties a data directory the restore created or found empty, if the restore fails.
struct CleanDir(Option<PathBuf>);

impl Drop for CleanDir {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take()
            && let Ok(entries) = std::fs::read_dir(&dir)
        {
            for e in entries.flatten() {
                let p = e.path();
                let _ = if p.is_dir() {
                    std::fs::remove_dir_all(&p)
                } else {
                    std::fs::remove_file(&p)
                };
            }
        }
    }
}

/// `telewarden restore --from FILE --data-dir EMPTY_DIR`.
#[allow(clippy::print_stdout)]
pub async fn restore(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let mut config = config(&args.common)?;
    let dir = config.data_dir.clone();
    if dir.exists() {
        if !dir.is_dir() {
            bail!("{} exists and is not a directory", dir.display());
        }
        let mut listing =
            std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?;
        if listing.next().is_some() {
            bail!(
                "refusing to restore into {}: it is not empty (restore into a new or empty \
                 data directory)",
                dir.display()
            );
        }
    }
    let target_pg = config.database_url.is_some();
    if target_pg {
        let db = Db::connect(
            config.effective_database_url().expose(),
            &PoolSettings::default(),
        )
        .await
        .context("cannot reach the target database (TW_DATABASE_URL)")?;
        let blank = db.is_blank().await;
        db.close().await;
        if !blank? {
            bail!(
                "refusing to restore: the target database (TW_DATABASE_URL) is not empty; \
                 give a new, empty database"
            );
        }
    }

    let opened = open_backup(&args.from)
        .await
        .map_err(|e| anyhow::anyhow!("{e:#}; nothing was restored"))?;
    let manifest = &opened.manifest;
    match (manifest.backend.as_str(), target_pg) {
        ("sqlite", true) => bail!(
            "this backup holds a SQLite database; unset TW_DATABASE_URL to restore it into the \
             data directory"
        ),
        ("postgres", false) => bail!(
            "this backup holds a PostgreSQL database; set TW_DATABASE_URL to an empty \
             PostgreSQL database to restore it"
        ),
        _ => {}
    }
    let known = store::known_migrations();
    if manifest.migrations.iter().any(|v| !known.contains(v)) {
        bail!(
            "this backup was made by a newer Telewarden (its schema has migrations this one \
             does not know); restore it with that version or later"
        );
    }
    if target_pg && manifest.migrations != known {
        bail!(
            "this PostgreSQL backup has schema version {} and this Telewarden {}; restore it \
             with the Telewarden version that made it ({})",
            manifest.migrations.last().copied().unwrap_or_default(),
            known.last().copied().unwrap_or_default(),
            manifest.telewarden_version
        );
    }
    let entries = opened.entries()?;
    let entry = |name: &str| entries.get(name).copied().unwrap_or_default();

    // Everything is checked: now write.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let mut clean = CleanDir(Some(dir.clone()));
    write_new(&dir.join("master.key"), entry(MASTER_KEY), 0o600)?;
    write_new(&dir.join("ledger.key"), entry(LEDGER_KEY), 0o600)?;
    if !entry(LEDGER_PUB).is_empty() {
        write_new(&dir.join("ledger.key.pub"), entry(LEDGER_PUB), 0o644)?;
    }
    let rows = if target_pg {
        let mut tables = Vec::with_capacity(manifest.tables.len());
        for (name, count) in &manifest.tables {
            let data = std::str::from_utf8(entry(&format!("{PG_PREFIX}{name}.jsonl")))
                .context("the backup's rows are not UTF-8")?;
            let rows: Vec<String> = data
                .split('\n')
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
            if rows.len() as u64 != *count {
                bail!(
                    "the backup's table {name} has a different number of rows than its manifest says"
                );
            }
            tables.push(TableDump {
                name: name.clone(),
                rows,
            });
        }
        let db = Db::connect(
            config.effective_database_url().expose(),
            &PoolSettings::default(),
        )
        .await?;
        db.migrate().await?;
        let loaded = db.load_postgres(&tables).await;
        db.close().await;
        loaded.context("loading the rows into PostgreSQL")?
    } else {
        write_new(&dir.join("telewarden.db"), entry(SQLITE_DB), 0o600)?;
        0
    };

    // The restored ledger must verify against the restored key.
    let db = Db::connect(
        config.effective_database_url().expose(),
        &PoolSettings::default(),
    )
    .await?;
    let key = ledger::keyfile::load_verifying_key(dir.join("ledger.key"))
        .context("the restored ledger key")?;
    let report = ledger::verify(&db, &key).await;
    db.close().await;
    let report = report?;
    if let Some(p) = report.problem {
        bail!(
            "the audit ledger in the backup does not verify (first bad entry {}: {}); nothing \
             was kept",
            p.seq,
            p.detail
        );
    }

    // Record the verified restore in the restored database and its ledger.
    let record = RestoreRecord {
        time_ms: SystemClock.now_ms(),
        backup_time_ms: manifest.created_ms,
        digest: opened.digest.clone(),
    };
    private(&mut config);
    let running = server::start(config, Arc::new(SystemClock))
        .await
        .context("the restored data does not start")?;
    let recorded = running.record_restore(&record).await;
    running.shutdown().await.context("shutdown")?;
    recorded.map_err(|e| anyhow::anyhow!("recording the restore: {}", e.message))?;
    clean.0 = None;

    println!(
        "Restored the backup taken {} into {}{}.",
        describe_time(manifest.created_ms),
        dir.display(),
        if target_pg {
            format!(" and the PostgreSQL database ({rows} rows)")
        } else {
            String::new()
        }
    );
    println!(
        "The audit ledger verifies: {} entries, {} signed tree heads. The restore is recorded.",
        report.entries, report.checkpoints
    );
    Ok(ExitCode::SUCCESS)
}
