//! `telewarden keys rotate` against the real binary: online through a running server's
//! control socket, and with no server running; each rotation in the ledger, and the
//! database's data keys (the account directory's too) all under the newest
//! key-encryption key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ServeProcess, run, text};
use store::{Db, PoolSettings};

#[tokio::test]
async fn keys_rotate_online_and_offline() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("telewarden-data");
    let args = ["--listen", "127.0.0.1:0", "--metrics-listen", "off"];
    let server = ServeProcess::start(dir.path(), &args, &[]).await;
    // Set up, so the account directory has a sealed account (and its data key).
    let res = common::client()
        .post(server.setup_link.clone().expect("a setup link"))
        .header("origin", &server.origin)
        .form(&[
            ("practice_name", "Rotation Street Practice"),
            ("time_zone", "Australia/Sydney"),
            ("admin_name", "Rosalind Keyworth"),
            ("email", "rosalind@rotation.example"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);

    let out = run(dir.path(), &["keys", "rotate"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("online") && said.contains("version 2"),
        "{said}"
    );
    // The server is still serving after it.
    let res = common::client()
        .get(format!("{}/healthz", server.origin))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(server.terminate().await.0, 0);

    let out = run(dir.path(), &["keys", "rotate"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("no server was running") && said.contains("version 3"),
        "{said}"
    );

    let db = Db::connect(
        &format!("sqlite://{}", data.join("telewarden.db").display()),
        &PoolSettings::default(),
    )
    .await
    .unwrap();
    assert_eq!(db.kek_versions().await.unwrap(), [3], "old KEKs deleted");
    // The directory's data key was re-wrapped with the rest: the administrator's sealed
    // name and address still open, found by the address.
    let keyring = store::keyring::Keyring::load_or_create(&data.join("master.key")).unwrap();
    let admin = db
        .user_by_email(&keyring, "Rosalind@Rotation.example")
        .await
        .unwrap()
        .expect("the administrator");
    assert_eq!(admin.display_name, "Rosalind Keyworth");
    let actions = {
        use ledger::LedgerStore;
        db.entries(1, 10_000).await.unwrap()
    };
    let rotations: Vec<_> = actions
        .iter()
        .filter(|e| e.action == "keys.kek_rotated")
        .collect();
    assert_eq!(rotations.len(), 2, "each rotation in the ledger");
    db.close().await;

    // A data directory that does not exist: a clear error, nothing created.
    let out = run(
        dir.path(),
        &["keys", "rotate", "--data-dir", "/nonexistent/tw"],
    )
    .await;
    assert!(!out.status.success());
    assert!(!text(&out.stderr).is_empty());
}
