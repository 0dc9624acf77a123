//! `telewarden backup`, `backup verify` and `restore` against the real binary: a backup
//! taken while the server runs, restored into an empty data directory (and, when
//! `TW_TEST_POSTGRES_URL` is set, an empty PostgreSQL database), served again, its
//! ledger verified; and every bad backup refused without writing anything.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use common::{ServeProcess, run_env, text};
use ledger::LedgerStore;
use store::{Db, PoolSettings};
use tokio::io::AsyncWriteExt;

const PASS: &str = "correct horse battery staple";
const ADMIN_EMAIL: &str = "hedda@backup.example";

fn serve_args() -> [&'static str; 4] {
    ["--listen", "127.0.0.1:0", "--metrics-listen", "off"]
}

/// Runs `telewarden args…` with `env`, writing `stdin` to its standard input.
async fn run_stdin(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut cmd = common::telewarden(dir);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("command timed out")
        .unwrap()
}

/// Runs `telewarden restore --from file --data-dir target` in `dir` with `env`.
async fn restore(dir: &Path, file: &Path, target: &Path, env: &[(&str, &str)]) -> Output {
    let args = [
        "restore",
        "--from",
        file.to_str().unwrap(),
        "--data-dir",
        target.to_str().unwrap(),
    ];
    run_env(dir, &args, env).await
}

/// The command failed and its standard error says `expect`.
fn assert_fails_saying(out: &Output, expect: &str) {
    assert!(!out.status.success(), "must fail ({expect})");
    let err = text(&out.stderr);
    assert!(err.contains(expect), "expected {expect:?} in: {err}");
}

/// Sets up the practice through the running server: the practice, its administrator
/// (sealed under the master key) and their ledger entries.
async fn set_up(server: &ServeProcess) {
    let res = common::client()
        .post(server.setup_link.clone().expect("a setup link"))
        .header("origin", &server.origin)
        .form(&[
            ("practice_name", "Backup Lane Practice"),
            ("time_zone", "Australia/Sydney"),
            ("admin_name", "Hedda Copeland"),
            ("email", ADMIN_EMAIL),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
}

async fn open_db(url: &str) -> Db {
    Db::connect(url, &PoolSettings::default()).await.unwrap()
}

fn sqlite_url(data: &Path) -> String {
    format!("sqlite://{}", data.join("telewarden.db").display())
}

/// Checks the restored data: the practice, the administrator's sealed name (so the
/// master key came back too), the ledger's entries up to the backup, and the records.
async fn check_restored(url: &str, data: &Path, ledger_actions_before: &[String]) {
    let db = open_db(url).await;
    assert_eq!(
        db.practice().await.unwrap().expect("the practice").name,
        "Backup Lane Practice"
    );
    let keyring = store::keyring::Keyring::load_or_create(&data.join("master.key")).unwrap();
    let admin = db
        .user_by_email(&keyring, ADMIN_EMAIL)
        .await
        .unwrap()
        .expect("the administrator");
    assert_eq!(admin.display_name, "Hedda Copeland");
    let actions: Vec<String> = db
        .entries(1, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.starts_with(ledger_actions_before),
        "the restored ledger begins with the original's entries: {actions:?}"
    );
    assert!(
        actions.iter().any(|a| a == "backup.restored"),
        "{actions:?}"
    );
    let restore = db
        .last_verified_restore()
        .await
        .unwrap()
        .expect("the restore is recorded");
    assert!(restore.time_ms >= restore.backup_time_ms);
    assert_eq!(restore.digest.len(), 64);
    db.close().await;
}

/// The whole round trip on one database: `pg` is the PostgreSQL server's base URL, or
/// `None` for SQLite.
async fn round_trip(pg: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("telewarden-data");
    let source_url = match pg {
        Some(base) => store::testing::fresh_postgres_database(base).await,
        None => sqlite_url(&data),
    };
    let mut env: Vec<(&str, &str)> = Vec::new();
    if pg.is_some() {
        env.push(("TW_DATABASE_URL", source_url.as_str()));
    }

    // The sentinel only watches: the sign-in failures below are this test's writes,
    // not an attack to block loopback for.
    let mut serve_env = env.clone();
    serve_env.push(("TW_SENTINEL__MODE", "watch"));
    let server = ServeProcess::start(dir.path(), &serve_args(), &serve_env).await;
    set_up(&server).await;

    // Taken while the server runs and writes (failed sign-ins go to the ledger);
    // recorded by it (control socket).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let origin = server.origin.clone();
        tokio::spawn(async move {
            let http = common::client();
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = http
                    .post(format!("{origin}/sign-in"))
                    .header("origin", &origin)
                    .form(&[
                        ("email", format!("nobody{n}@backup.example")),
                        ("password", "not a password at all".to_owned()),
                    ])
                    .send()
                    .await;
                n += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            n
        })
    };
    let file = dir.path().join("practice.twbackup");
    let file_s = file.to_str().unwrap();
    let mut backup_env = env.clone();
    backup_env.push(("TW_BACKUP_PASSPHRASE", PASS));
    let out = run_env(dir.path(), &["backup", "--out", file_s], &backup_env).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(writer.await.unwrap() > 0, "writes ran during the backup");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("by the running server"), "{said}");
    let logged = format!(
        "{}{}{}",
        said,
        text(&out.stderr),
        server.stderr.lock().unwrap()
    );
    assert!(!logged.contains(PASS), "the passphrase is never shown");
    let size = std::fs::metadata(&file).unwrap().len();

    // The server is still serving.
    let res = common::client()
        .get(format!("{}/readyz", server.origin))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(server.terminate().await.0, 0);

    // The backup is recorded: in the database (for the backup-age check) and the ledger.
    let db = open_db(&source_url).await;
    let record = db
        .last_backup()
        .await
        .unwrap()
        .expect("the backup is recorded");
    assert_eq!(record.size, size);
    assert!(said.contains(&record.digest), "{said}");
    let entries = db.entries(1, 100_000).await.unwrap();
    let created = entries
        .iter()
        .find(|e| e.action == "backup.created")
        .expect("a ledger entry for the backup");
    assert!(created.details.contains(&record.digest));
    assert!(
        entries.iter().any(|e| e.action.starts_with("signin")),
        "the ledger was written to during the backup"
    );
    // What the backup surely holds: the ledger up to the setup (sign-ins written
    // during the backup may fall on either side of its snapshot).
    let before: Vec<String> = entries
        .iter()
        .take_while(|e| !e.action.starts_with("signin"))
        .map(|e| e.action.clone())
        .collect();
    assert!(before.iter().any(|a| a == "setup.completed"), "{before:?}");
    db.close().await;

    // Verified without restoring, the passphrase on standard input this time.
    let out = run_stdin(
        dir.path(),
        &["backup", "verify", "--from", file_s],
        &[],
        &format!("{PASS}\n"),
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("intact"),
        "{}",
        text(&out.stdout)
    );

    // Restored into a new, empty data directory (and database).
    let target = tempfile::tempdir().unwrap();
    let restored = target.path().join("restored-data");
    let restored_s = restored.to_str().unwrap();
    let target_url = match pg {
        Some(base) => store::testing::fresh_postgres_database(base).await,
        None => sqlite_url(&restored),
    };
    let mut restore_env: Vec<(&str, &str)> = vec![("TW_BACKUP_PASSPHRASE", PASS)];
    if pg.is_some() {
        restore_env.push(("TW_DATABASE_URL", target_url.as_str()));
    }
    let out = restore(target.path(), &file, &restored, &restore_env).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("ledger verifies"),
        "{}",
        text(&out.stdout)
    );
    check_restored(&target_url, &restored, &before).await;

    // `audit verify` on the restored data passes.
    let target_env: Vec<(&str, &str)> = restore_env
        .iter()
        .copied()
        .filter(|(k, _)| *k == "TW_DATABASE_URL")
        .collect();
    let out = run_env(
        target.path(),
        &["audit", "verify", "--data-dir", restored_s],
        &target_env,
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));

    // And it serves: ready, already set up (no setup link).
    let mut serve = serve_args().to_vec();
    serve.extend(["--data-dir", restored_s]);
    let again = ServeProcess::start(target.path(), &serve, &target_env).await;
    assert!(
        again.setup_link.is_none(),
        "the restored practice is set up"
    );
    let ready: serde_json::Value = common::client()
        .get(format!("{}/readyz", again.origin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["ready"], true, "{ready}");
    assert_eq!(again.terminate().await.0, 0);

    // A second restore into the same (now full) directory is refused, nothing touched.
    let listing = dir_listing(&restored);
    let out = restore(target.path(), &file, &restored, &restore_env).await;
    assert_fails_saying(&out, "not empty");
    assert_eq!(dir_listing(&restored), listing);

    if pg.is_some() {
        // A non-empty target database is refused too (with an empty directory).
        let empty = target.path().join("empty-data");
        let out = restore(target.path(), &file, &empty, &restore_env).await;
        assert_fails_saying(&out, "not empty");
        assert!(
            text(&out.stderr).contains("database"),
            "{}",
            text(&out.stderr)
        );
        assert!(!empty.exists(), "nothing written");

        // A PostgreSQL backup needs a PostgreSQL target.
        let out = restore(
            target.path(),
            &file,
            &empty,
            &[("TW_BACKUP_PASSPHRASE", PASS)],
        )
        .await;
        assert_fails_saying(&out, "TW_DATABASE_URL");
        assert!(!empty.exists(), "nothing written");
    }
}

/// Every file under `dir` with its contents, to show nothing changed.
fn dir_listing(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .filter(|e| {
            // The database files change when a server or `audit verify` opens them
            // (WAL checkpoint); the rest must not.
            !e.file_name().to_string_lossy().starts_with("telewarden.db")
        })
        .map(|e| (e.path(), std::fs::read(e.path()).unwrap()))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn backup_and_restore_round_trip_on_sqlite() {
    round_trip(None).await;
}

#[tokio::test]
async fn backup_and_restore_round_trip_on_postgresql() {
    let Ok(base) = std::env::var(store::testing::POSTGRES_ENV) else {
        return;
    };
    if base.is_empty() {
        return;
    }
    round_trip(Some(&base)).await;
}

/// A backup of a fresh SQLite data directory, taken with no server running.
async fn offline_backup(dir: &Path) -> PathBuf {
    let server = ServeProcess::start(dir, &serve_args(), &[]).await;
    set_up(&server).await;
    assert_eq!(server.terminate().await.0, 0);
    let file = dir.join("b.twbackup");
    let out = run_env(
        dir,
        &["backup", "--out", file.to_str().unwrap()],
        &[("TW_BACKUP_PASSPHRASE", PASS)],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("no server was running"),
        "{}",
        text(&out.stdout)
    );
    file
}

/// Restore of `file` into a new directory under `dir` must fail saying `expect`, and
/// write nothing.
async fn refused(dir: &Path, file: &Path, pass: &str, expect: &str) {
    let target = dir.join(format!("target-{}", expect.len()));
    let out = restore(dir, file, &target, &[("TW_BACKUP_PASSPHRASE", pass)]).await;
    assert_fails_saying(&out, expect);
    let err = text(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(!target.exists(), "nothing written for {expect}");
    // `backup verify` says the same.
    let out = run_env(
        dir,
        &["backup", "verify", "--from", file.to_str().unwrap()],
        &[("TW_BACKUP_PASSPHRASE", pass)],
    )
    .await;
    assert_fails_saying(&out, expect);
}

#[tokio::test]
async fn bad_backups_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let file = offline_backup(dir.path()).await;
    let bytes = std::fs::read(&file).unwrap();

    // Wrong passphrase.
    refused(
        dir.path(),
        &file,
        "not the right passphrase",
        "wrong passphrase",
    )
    .await;

    // A flipped byte, anywhere after the magic.
    for at in [bytes.len() / 3, bytes.len() - 5] {
        let flipped = dir.path().join(format!("flipped-{at}.twbackup"));
        let mut bad = bytes.clone();
        bad[at] ^= 0x20;
        std::fs::write(&flipped, &bad).unwrap();
        refused(dir.path(), &flipped, PASS, "damaged or truncated").await;
    }

    // Truncated.
    let cut = dir.path().join("cut.twbackup");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    refused(dir.path(), &cut, PASS, "damaged or truncated").await;

    // Not a backup at all.
    let other = dir.path().join("notes.txt");
    std::fs::write(&other, "shopping list").unwrap();
    refused(dir.path(), &other, PASS, "not a Telewarden backup").await;

    // A non-empty target directory: refused before the passphrase is even needed, and
    // left exactly as it was.
    let full = dir.path().join("occupied");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("keep.txt"), "precious").unwrap();
    let out = restore(dir.path(), &file, &full, &[("TW_BACKUP_PASSPHRASE", PASS)]).await;
    assert_fails_saying(&out, "not empty");
    assert_eq!(
        dir_listing(&full),
        vec![(full.join("keep.txt"), b"precious".to_vec())]
    );

    // The good file still restores (the refusals changed nothing).
    let good = dir.path().join("good-target");
    let out = restore(dir.path(), &file, &good, &[("TW_BACKUP_PASSPHRASE", PASS)]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[tokio::test]
async fn backup_refuses_bad_requests() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(dir.path(), &serve_args(), &[]).await;
    let out_file = dir.path().join("x.twbackup");
    let out_s = out_file.to_str().unwrap();

    // A short passphrase.
    let out = run_env(
        dir.path(),
        &["backup", "--out", out_s],
        &[("TW_BACKUP_PASSPHRASE", "short")],
    )
    .await;
    assert_fails_saying(&out, "at least 12");
    assert!(!out_file.exists());

    // No passphrase (standard input is empty, not a terminal).
    let out = run_stdin(dir.path(), &["backup", "--out", out_s], &[], "").await;
    assert_fails_saying(&out, "passphrase");
    assert!(!out_file.exists());

    // No passphrase flag exists.
    let out = run_env(
        dir.path(),
        &["backup", "--out", out_s, "--passphrase", PASS],
        &[],
    )
    .await;
    assert!(!out.status.success());
    assert!(!out_file.exists());

    // An existing file is never overwritten.
    std::fs::write(&out_file, "keep me").unwrap();
    let out = run_env(
        dir.path(),
        &["backup", "--out", out_s],
        &[("TW_BACKUP_PASSPHRASE", PASS)],
    )
    .await;
    assert_fails_saying(&out, "already exists");
    assert_eq!(std::fs::read(&out_file).unwrap(), b"keep me");

    // Not a data directory.
    let out = run_env(
        dir.path(),
        &[
            "backup",
            "--out",
            dir.path().join("y").to_str().unwrap(),
            "--data-dir",
            "/nonexistent/tw",
        ],
        &[("TW_BACKUP_PASSPHRASE", PASS)],
    )
    .await;
    assert_fails_saying(&out, "not a Telewarden data directory");

    // A missing backup file.
    let out = run_env(
        dir.path(),
        &["backup", "verify", "--from", "/nonexistent/b.twbackup"],
        &[("TW_BACKUP_PASSPHRASE", PASS)],
    )
    .await;
    assert_fails_saying(&out, "cannot read");
    assert_eq!(server.terminate().await.0, 0);
}
