//! Operator mistakes and damaged data: a clear message naming the problem, a non-zero
//! exit, never a panic trace and never silent data loss.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ServeProcess, run, run_env, text};

fn assert_clear_failure(out: &std::process::Output, expected: &[&str]) {
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "should fail: {stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "panic: {stderr}"
    );
    for e in expected {
        assert!(stderr.contains(e), "expected {e:?} in: {stderr}");
    }
}

#[tokio::test]
async fn config_check_shows_effective_values_with_secrets_redacted_and_layering() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("telewarden.toml"),
        "listen = \"127.0.0.1:7000\"\nlog_level = \"warn\"\nsetup_link_minutes = 10\n[limits]\nmax_body_bytes = 65536\n",
    )
    .unwrap();
    // Environment overrides the file; flags override the environment.
    let out = run_env(
        dir.path(),
        &["config", "check", "--listen", "127.0.0.1:7002"],
        &[
            ("TW_LISTEN", "127.0.0.1:7001"),
            ("TW_LOG_LEVEL", "debug"),
            (
                "TW_DATABASE_URL",
                "postgres://tw:hunter2-secret@db.internal/tw",
            ),
            ("TW_LIMITS__MAX_BODY_BYTES", "131072"),
            ("TW_TEST_SOMETHING_ELSE", "ignored"),
            ("TW_MAIL__SMTP_PASSWORD", "smtp-hunter2"),
            ("TW_TURN__URLS", r#"["turn:127.0.0.1:3478?transport=udp"]"#),
            ("TW_TURN__SECRET", "coturn-hunter2"),
        ],
    )
    .await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains("listen = \"127.0.0.1:7002\""),
        "flag wins: {stdout}"
    );
    assert!(
        stdout.contains("log_level = \"debug\""),
        "env beats file: {stdout}"
    );
    assert!(
        stdout.contains("setup_link_minutes = 10"),
        "file beats default: {stdout}"
    );
    assert!(
        stdout.contains("max_body_bytes = 131072"),
        "nested env key: {stdout}"
    );
    assert!(
        stdout.contains("postgres://tw:***@db.internal/tw"),
        "{stdout}"
    );
    assert!(!stdout.contains("hunter2"), "secret shown: {stdout}");
    assert!(stdout.contains("secret = \"***\""), "{stdout}");
    assert!(
        stdout.contains(r#"urls = ["turn:127.0.0.1:3478?transport=udp"]"#),
        "{stdout}"
    );
    assert!(stdout.contains("The configuration is valid"));
}

#[tokio::test]
async fn bad_configuration_values_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, Vec<&'a str>);
    let cases: Vec<Case> = vec![
        (
            vec!["config", "check"],
            vec![("TW_LISTEN", "not-an-address")],
            vec!["`listen`", "TW_LISTEN"],
        ),
        (
            vec!["config", "check", "--listen", "0.0.0.0:8443"],
            vec![],
            vec!["`listen`", "TLS is required"],
        ),
        (
            vec!["serve", "--listen", "0.0.0.0:8443"],
            vec![],
            vec!["`listen`", "TLS is required"],
        ),
        (
            vec!["config", "check"],
            vec![("TW_LOG_LEVEL", "loud")],
            vec!["`log_level`"],
        ),
        (
            vec!["config", "check"],
            vec![("TW_BEHIND_PROXY", "10.0.0.0/8,banana")],
            vec!["`behind_proxy`", "banana"],
        ),
        (
            vec!["config", "check", "--tls-cert", "a.pem"],
            vec![],
            vec!["`tls_key`"],
        ),
        (
            vec!["config", "check"],
            vec![("TW_LIMITS__MAX_BODY_BYTES", "-5")],
            vec!["limits.max_body_bytes"],
        ),
        (
            vec!["config", "check"],
            vec![("TW_MESSAGING__MAX_CONVERSATION_BYTES", "100")],
            vec!["messaging.max_conversation_bytes", "between 1024"],
        ),
        (
            vec!["config", "check"],
            vec![("TW_MESSAGING__MAX_CONVERSATION_BYTES", "lots")],
            vec!["max_conversation_bytes"],
        ),
        (
            vec!["config", "check"],
            vec![("TW_MESSAGING__MAX_NEW_CONVERSATIONS_PER_DAY", "0")],
            vec!["messaging.max_new_conversations_per_day", "between 1"],
        ),
        (
            vec!["config", "check"],
            vec![("TW_DATABASE_URL", "mysql://x")],
            vec!["`database_url`"],
        ),
        (
            vec!["config", "check", "--config", "missing.toml"],
            vec![],
            vec!["missing.toml", "does not exist"],
        ),
    ];
    for (args, env, expected) in cases {
        let out = run_env(dir.path(), &args, &env).await;
        assert_clear_failure(&out, &expected);
    }
}

#[tokio::test]
async fn malformed_and_unknown_file_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.toml"), "listen = [unclosed\n").unwrap();
    assert_clear_failure(
        &run(dir.path(), &["config", "check", "--config", "bad.toml"]).await,
        &["bad.toml"],
    );
    std::fs::write(dir.path().join("typo.toml"), "lissen = \"127.0.0.1:1\"\n").unwrap();
    assert_clear_failure(
        &run(dir.path(), &["config", "check", "--config", "typo.toml"]).await,
        &["lissen"],
    );
}

#[tokio::test]
async fn unknown_flags_and_commands_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["serve", "--lisen", "127.0.0.1:1"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--lisen"));
    let out = run(dir.path(), &["serv"]).await;
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn a_busy_port_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = run(
        dir.path(),
        &["serve", "--listen", &addr, "--metrics-listen", "off"],
    )
    .await;
    assert_clear_failure(&out, &[&addr, "already in use"]);
}

#[tokio::test]
async fn an_unusable_or_busy_data_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("not-a-dir"), "x").unwrap();
    let out = run(
        dir.path(),
        &[
            "serve",
            "--data-dir",
            "not-a-dir",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "off",
        ],
    )
    .await;
    assert_clear_failure(&out, &["not-a-dir", "not a directory"]);

    let running = ServeProcess::start(
        dir.path(),
        &["--listen", "127.0.0.1:0", "--metrics-listen", "off"],
        &[],
    )
    .await;
    let out = run(
        dir.path(),
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "off",
        ],
    )
    .await;
    assert_clear_failure(&out, &["another Telewarden process is already using it"]);
    assert_eq!(running.terminate().await.0, 0);
}

#[tokio::test]
async fn a_corrupted_database_file_is_named_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("telewarden-data");
    std::fs::create_dir_all(&data).unwrap();
    let garbage = b"this is not a database, it is a grocery list: eggs, milk, bread".repeat(100);
    std::fs::write(data.join("telewarden.db"), &garbage).unwrap();
    let out = run(
        dir.path(),
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "off",
        ],
    )
    .await;
    assert_clear_failure(&out, &["database", "corrupted"]);
    assert_eq!(
        std::fs::read(data.join("telewarden.db")).unwrap(),
        garbage,
        "never overwritten"
    );
}

#[tokio::test]
async fn a_corrupted_ledger_key_is_named_and_left_alone() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(
        dir.path(),
        &["--listen", "127.0.0.1:0", "--metrics-listen", "off"],
        &[],
    )
    .await;
    assert_eq!(server.terminate().await.0, 0);
    let key = dir.path().join("telewarden-data/ledger.key");
    for (damaged, why) in [
        (&b"\x00\x13garbage, not a key\n\xff"[..], "is not text"),
        (b"", "malformed"),
        (b"telewarden-ledger-ed25519-v1:0123abcd\n", "malformed"),
    ] {
        std::fs::write(&key, damaged).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        let out = run(
            dir.path(),
            &[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--metrics-listen",
                "off",
            ],
        )
        .await;
        assert_clear_failure(&out, &["ledger key file", "ledger.key", why]);
        assert_eq!(std::fs::read(&key).unwrap(), damaged, "never replaced");
    }
}

#[tokio::test]
async fn a_tampered_ledger_is_named_by_verify_and_refused_by_serve() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(
        dir.path(),
        &["--listen", "127.0.0.1:0", "--metrics-listen", "off"],
        &[],
    )
    .await;
    assert_eq!(server.terminate().await.0, 0);

    // An inclusion proof made now checks out offline, and a forged one does not.
    let proof = run(dir.path(), &["audit", "proof", "--seq", "2"]).await;
    assert!(proof.status.success(), "{}", text(&proof.stderr));
    std::fs::write(dir.path().join("proof.json"), &proof.stdout).unwrap();
    let key = "telewarden-data/ledger.key.pub";
    let ok = run(
        dir.path(),
        &["audit", "check-proof", "proof.json", "--public-key", key],
    )
    .await;
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).contains("Valid: entry 2"));
    let forged = text(&proof.stdout).replace("\"config.changed\"", "\"config.unchanged\"");
    std::fs::write(dir.path().join("forged.json"), forged).unwrap();
    let bad = run(
        dir.path(),
        &["audit", "check-proof", "forged.json", "--public-key", key],
    )
    .await;
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stdout));
    assert!(text(&bad.stderr).contains("INVALID"));

    // Edit a row directly in the SQLite file.
    let db_path = dir.path().join("telewarden-data/telewarden.db");
    let db = store::Db::connect(
        &format!("sqlite://{}", db_path.display()),
        &store::PoolSettings::default(),
    )
    .await
    .unwrap();
    store::testing::exec(
        &db,
        "UPDATE ledger_entries SET actor = 'user:mallory' WHERE seq = 2",
    )
    .await
    .unwrap();
    db.close().await;

    let verify = run(dir.path(), &["audit", "verify"]).await;
    assert_eq!(verify.status.code(), Some(2));
    assert!(
        text(&verify.stderr).contains("first bad entry is sequence number 2"),
        "{}",
        text(&verify.stderr)
    );
    let serve = run(
        dir.path(),
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "off",
        ],
    )
    .await;
    assert_clear_failure(&serve, &["audit ledger", "entry 2", "tampered"]);
}

/// Every direct edit of the stored ledger (modified, deleted, inserted, reordered row;
/// truncated tail after a signed head), made to a real server's database, SQLite and
/// (when configured) PostgreSQL: `audit verify` fails and names the first bad entry.
#[tokio::test]
async fn audit_verify_names_every_kind_of_ledger_edit_on_both_databases() {
    let postgres = std::env::var(store::testing::POSTGRES_ENV)
        .ok()
        .filter(|b| !b.is_empty());
    for backend in [None].into_iter().chain(postgres.map(Some)) {
        for case in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            let url = match &backend {
                Some(base) => store::testing::fresh_postgres_database(base).await,
                None => format!(
                    "sqlite://{}",
                    dir.path().join("telewarden-data/telewarden.db").display()
                ),
            };
            let env: Vec<(&str, &str)> = match backend {
                Some(_) => vec![("TW_DATABASE_URL", url.as_str())],
                None => vec![],
            };
            // Two runs of the server: a ledger of several entries, all signed at shutdown.
            for _ in 0..2 {
                let server = ServeProcess::start(
                    dir.path(),
                    &["--listen", "127.0.0.1:0", "--metrics-listen", "off"],
                    &env,
                )
                .await;
                assert_eq!(server.terminate().await.0, 0);
            }
            let intact = run_env(dir.path(), &["audit", "verify"], &env).await;
            assert!(intact.status.success(), "{}", text(&intact.stderr));

            let db = store::Db::connect(&url, &store::PoolSettings::default())
                .await
                .unwrap();
            let size = {
                use ledger::LedgerStore;
                let last = db.last_entry().await.unwrap().unwrap().seq;
                let signed = db.latest_checkpoint().await.unwrap().unwrap().sth.head.size;
                assert_eq!(signed, last, "the whole ledger is signed at shutdown");
                last
            };
            assert!(size >= 3, "too few entries to edit: {size}");
            let edit = store::testing::LedgerEdit::all(size)[case];
            edit.apply(&db).await.unwrap();
            db.close().await;

            let verify = run_env(dir.path(), &["audit", "verify"], &env).await;
            let stderr = text(&verify.stderr);
            assert_eq!(
                verify.status.code(),
                Some(2),
                "{backend:?} {edit:?}: {stderr}"
            );
            assert!(
                stderr.contains(&format!(
                    "TAMPERED: the first bad entry is sequence number {}:",
                    edit.first_bad()
                )),
                "{backend:?} {edit:?}: {stderr}"
            );
            assert!(!stderr.contains("panicked"), "{stderr}");
        }
    }
}

#[tokio::test]
async fn audit_commands_refuse_a_data_directory_without_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["audit", "verify", "--data-dir", "nowhere"]).await;
    assert_clear_failure(&out, &["no database at"]);
    assert!(
        !dir.path().join("nowhere").exists(),
        "verify must not create anything"
    );
}
