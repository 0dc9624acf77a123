//! The signing key file.
// Helpers outside #[test] fns are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::os::unix::fs::PermissionsExt;

use ledger::keyfile::{SECRET_PREFIX, load_or_create, load_verifying_key, public_key_path};
use ledger::{LedgerError, TreeHead};

#[test]
fn creates_private_key_and_public_file_then_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.key");
    let key = load_or_create(&path).unwrap();

    let meta = fs::metadata(&path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.starts_with(SECRET_PREFIX));
    assert_eq!(text.trim().len(), SECRET_PREFIX.len() + 64);

    let pub_path = public_key_path(&path);
    assert_eq!(pub_path, dir.path().join("ledger.key.pub"));
    assert_eq!(
        fs::metadata(&pub_path).unwrap().permissions().mode() & 0o777,
        0o644
    );
    assert_eq!(
        fs::read_to_string(&pub_path).unwrap(),
        format!("{}\n", hex::encode(key.verifying_key().as_bytes()))
    );

    let again = load_or_create(&path).unwrap();
    assert_eq!(again.to_bytes(), key.to_bytes());
    assert_eq!(load_verifying_key(&pub_path).unwrap(), key.verifying_key());
    assert_eq!(load_verifying_key(&path).unwrap(), key.verifying_key());

    // The .pub file is refreshed if it goes missing or stale.
    fs::write(&pub_path, "00\n").unwrap();
    load_or_create(&path).unwrap();
    assert_eq!(load_verifying_key(&pub_path).unwrap(), key.verifying_key());

    // Keys sign verifiable tree heads.
    let sth = TreeHead {
        size: 0,
        root: ledger::EMPTY_ROOT,
        time_ms: 0,
    }
    .sign(&key);
    sth.verify(&load_verifying_key(&pub_path).unwrap()).unwrap();
}

#[test]
fn two_keys_differ() {
    let dir = tempfile::tempdir().unwrap();
    let a = load_or_create(dir.path().join("a")).unwrap();
    let b = load_or_create(dir.path().join("b")).unwrap();
    assert_ne!(a.to_bytes(), b.to_bytes());
}

#[test]
fn refuses_loose_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.key");
    load_or_create(&path).unwrap();
    for mode in [0o640, 0o604, 0o610, 0o644, 0o660] {
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        match load_or_create(&path) {
            Err(LedgerError::KeyFile { path: p, reason }) => {
                assert_eq!(p, path);
                assert!(reason.contains("chmod 600"), "{reason}");
                let msg = LedgerError::KeyFile { path: p, reason }.to_string();
                assert!(msg.contains(path.to_str().unwrap()), "{msg}");
            }
            other => panic!("mode {mode:o} accepted: {other:?}"),
        }
    }
    fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
    load_or_create(&path).unwrap();
}

#[test]
fn refuses_malformed_content() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.key");
    let cases: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"hello".to_vec(),
        format!("{SECRET_PREFIX}abcd").into_bytes(),
        format!("{SECRET_PREFIX}{}", "zz".repeat(32)).into_bytes(),
        format!("{SECRET_PREFIX}{}", "ab".repeat(33)).into_bytes(),
        vec![0xff, 0xfe, 0x00],
        vec![b'a'; 10_000],
    ];
    for content in cases {
        fs::write(&path, &content).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(
            matches!(load_or_create(&path), Err(LedgerError::KeyFile { .. })),
            "accepted {:?}",
            String::from_utf8_lossy(&content)
        );
    }
    // Windows line endings and surrounding whitespace are fine.
    fs::write(&path, format!("{SECRET_PREFIX}{}\r\n", "11".repeat(32))).unwrap();
    load_or_create(&path).unwrap();
}

#[test]
fn verifying_key_loader_refuses_junk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.pub");
    for content in ["", "abc", &"zz".repeat(32), &"00".repeat(32)] {
        fs::write(&path, content).unwrap();
        assert!(load_verifying_key(&path).is_err(), "accepted {content:?}");
    }
    assert!(matches!(
        load_verifying_key(dir.path().join("missing")),
        Err(LedgerError::Io { .. })
    ));
}
