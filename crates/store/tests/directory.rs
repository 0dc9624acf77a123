//! The sealed account directory on SQLite and PostgreSQL: names and e-mail addresses
//! only as ciphertext, found through the blind index in any letter case, one account
//! per address; a profile moved to another row does not open; accounts written before
//! the directory was sealed are sealed by the upgrade step, leaving no plain text; a
//! key rotation re-wraps the directory's key and every account still opens.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use store::accounts::UserRow;
use store::directory::DIRECTORY_OWNER;
use store::invitations::InvitationRow;
use store::testing::{self, TestDb};
use store::{Backend, Db, StoreError};

fn user(id: &str, name: &str, email: &str, role: &str) -> UserRow {
    UserRow {
        id: id.into(),
        email: email.into(),
        display_name: name.into(),
        role: role.into(),
        password_hash: None,
        created_ms: 1_000,
        disabled_ms: None,
    }
}

fn invitation(user_id: &str) -> InvitationRow {
    InvitationRow {
        id: format!("inv-{user_id}"),
        token_hash: format!("hash-{user_id}"),
        kind: "enrol".into(),
        user_id: user_id.into(),
        invited_by: None,
        created_ms: 1_000,
        expires_ms: 9_000,
        used_ms: None,
        revoked_ms: None,
    }
}

async fn invite(t: &TestDb, id: &str, name: &str, email: &str, role: &str) {
    t.db.invite_user(&t.keyring, &user(id, name, email, role), &invitation(id))
        .await
        .unwrap();
}

/// The SQLite files' bytes, or the `users` table's rows as PostgreSQL prints them.
async fn raw_users(t: &TestDb) -> String {
    match t.backend() {
        Backend::Sqlite => {
            let path = t.url.strip_prefix("sqlite://").unwrap();
            let mut bytes = Vec::new();
            for suffix in ["", "-wal"] {
                bytes.extend(std::fs::read(format!("{path}{suffix}")).unwrap_or_default());
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Backend::Postgres => testing::texts(&t.db, "SELECT CAST(u AS TEXT) FROM users u")
            .await
            .unwrap()
            .join("\n"),
    }
}

#[tokio::test]
async fn lookups_go_through_the_blind_index_in_any_letter_case() {
    for t in testing::backends().await {
        let db = &t.db;
        invite(&t, "u1", "Zelda Quist", "zelda@clinic.example", "clinician").await;
        invite(&t, "u2", "amos Brandt", "Amos@Patients.example", "patient").await;
        invite(
            &t,
            "u3",
            "Beatrix Oyelaran",
            "bea@clinic.example",
            "practice_admin",
        )
        .await;

        for typed in [
            "amos@patients.example",
            "AMOS@PATIENTS.EXAMPLE",
            "  Amos@patients.Example ",
        ] {
            let found = db.user_by_email(&t.keyring, typed).await.unwrap().unwrap();
            assert_eq!(
                (found.id.as_str(), found.display_name.as_str()),
                ("u2", "amos Brandt"),
                "{typed} on {:?}",
                t.backend()
            );
            assert_eq!(found.email, "Amos@Patients.example", "opened as written");
        }
        assert!(
            db.user_by_email(&t.keyring, "nobody@clinic.example")
                .await
                .unwrap()
                .is_none()
        );
        // Another master key finds nothing: the index is keyed.
        let other = store::keyring::Keyring::from_bytes([9; 32]);
        assert!(
            db.user_by_email(&other, "zelda@clinic.example")
                .await
                .unwrap()
                .is_none()
        );

        // The same address in other letters is the same address: refused, nothing written.
        let dup = db
            .invite_user(
                &t.keyring,
                &user("u4", "Someone Else", "ZELDA@clinic.example", "patient"),
                &invitation("u4"),
            )
            .await;
        assert!(
            matches!(dup, Err(StoreError::Conflict(_))),
            "{:?}: {dup:?}",
            t.backend()
        );
        assert!(db.user_by_id(&t.keyring, "u4").await.unwrap().is_none());

        // Staff first, then patients; by name regardless of letter case (sorted after
        // opening: the database cannot sort what it cannot read).
        let order: Vec<String> = db
            .list_users(&t.keyring)
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.id)
            .collect();
        assert_eq!(order, ["u3", "u1", "u2"], "{:?}", t.backend());
    }
}

/// Swaps the sealed profiles of accounts `a` and `b`, as an attacker with write access
/// to the database could (through a spare column: each row's update must see the other
/// row's old value on both databases).
async fn swap_profiles(t: &TestDb) {
    for sql in [
        "UPDATE users SET display_name = profile WHERE id IN ('a', 'b')",
        "UPDATE users SET profile = (SELECT o.display_name FROM users o \
         WHERE o.id = CASE users.id WHEN 'a' THEN 'b' ELSE 'a' END) WHERE id IN ('a', 'b')",
        "UPDATE users SET display_name = '' WHERE id IN ('a', 'b')",
    ] {
        t.exec(sql).await.unwrap();
    }
}

#[tokio::test]
async fn a_profile_or_index_moved_to_another_row_does_not_open() {
    for t in testing::backends().await {
        let db = &t.db;
        invite(&t, "a", "Ines Calloway", "ines@patients.example", "patient").await;
        invite(
            &t,
            "b",
            "Tomasz Whitby",
            "tomasz@patients.example",
            "patient",
        )
        .await;
        // An attacker with write access swaps the two sealed profiles.
        swap_profiles(&t).await;
        for id in ["a", "b"] {
            let err = db.user_by_id(&t.keyring, id).await.unwrap_err();
            assert!(
                matches!(&err, StoreError::Malformed(m) if m.contains("does not open")),
                "{:?}: {err}",
                t.backend()
            );
            assert!(
                !err.to_string().contains("@"),
                "no address in the error: {err}"
            );
        }
        assert!(matches!(
            db.list_users(&t.keyring).await,
            Err(StoreError::Malformed(_))
        ));
        assert!(matches!(
            db.user_by_email(&t.keyring, "ines@patients.example").await,
            Err(StoreError::Malformed(_))
        ));

        // Swapped back, and instead the blind indexes swapped: the profile opens but is
        // not the address asked for, so the lookup refuses rather than hand out the
        // wrong account.
        swap_profiles(&t).await;
        assert_eq!(
            db.user_by_id(&t.keyring, "a")
                .await
                .unwrap()
                .unwrap()
                .display_name,
            "Ines Calloway"
        );
        // (In steps: the index is unique at every row, on both databases.)
        t.exec("UPDATE users SET email_index = 'x' || email_index WHERE id = 'b'")
            .await
            .unwrap();
        t.exec(
            "UPDATE users SET email_index = (SELECT substr(email_index, 2) FROM users WHERE id = 'b') \
             WHERE id = 'a'",
        )
        .await
        .unwrap();
        let err = db
            .user_by_email(&t.keyring, "tomasz@patients.example")
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Malformed(m) if m.contains("does not match")),
            "{:?}: {err}",
            t.backend()
        );
    }
}

/// Writes an account as the server did before migration 0007: address and name in the
/// clear, no index, no profile.
async fn old_account(t: &TestDb, id: &str, name: &str, email: &str, role: &str) {
    t.exec(&format!(
        "INSERT INTO users (id, email, display_name, role, password_hash, created_ms, disabled_ms) \
         VALUES ('{id}', '{email}', '{name}', '{role}', NULL, 500, NULL)"
    ))
    .await
    .unwrap();
}

#[tokio::test]
async fn the_upgrade_step_seals_accounts_written_in_the_clear() {
    const PEOPLE: [(&str, &str, &str, &str); 3] = [
        (
            "old1",
            "Hemi Castellanos-Ruiz",
            "hemi.cr@patients.example",
            "patient",
        ),
        (
            "old2",
            "Dr Ottoline Varga",
            "o.varga@clinic.example",
            "clinician",
        ),
        (
            "old3",
            "Radomir Ekwueme",
            "radomir@clinic.example",
            "practice_admin",
        ),
    ];
    for t in testing::backends().await {
        let db = &t.db;
        for (id, name, email, role) in PEOPLE {
            old_account(&t, id, name, email, role).await;
        }
        // A session of an old account, so the join is covered too.
        t.exec(
            "INSERT INTO sessions (id_hash, user_id, created_ms, last_seen_ms, expires_ms, revoked_ms, \
             authenticated_ms, method, idle_timeout_ms, device_hash, user_agent, source, mfa_pending) \
             VALUES ('s-old', 'old1', 600, 600, 99000, NULL, 600, 'passkey', 60000, 'd', 'ua', 'src', 0)",
        )
        .await
        .unwrap();
        let before = raw_users(&t).await;
        assert!(
            before.contains("Hemi Castellanos-Ruiz"),
            "{:?}: the scan sees plain text when there is some",
            t.backend()
        );
        // Unsealed rows are not served as if they were sealed.
        assert!(matches!(
            db.user_by_id(&t.keyring, "old1").await,
            Err(StoreError::Malformed(m)) if m.contains("not sealed yet")
        ));

        assert_eq!(db.seal_directory(&t.keyring, 700).await.unwrap(), 3);
        assert_eq!(
            db.seal_directory(&t.keyring, 800).await.unwrap(),
            0,
            "idempotent: nothing left to seal"
        );

        // Nothing lost: every account opens as it was, and is found by its address.
        for (id, name, email, role) in PEOPLE {
            let u = db
                .user_by_email(&t.keyring, &email.to_uppercase())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                (
                    u.id.as_str(),
                    u.display_name.as_str(),
                    u.email.as_str(),
                    u.role.as_str()
                ),
                (id, name, email, role)
            );
        }
        let (_, u) = db
            .live_session(&t.keyring, "s-old", 700)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(u.display_name, "Hemi Castellanos-Ruiz");
        // The clear columns keep no one's details, and the files none of the old bytes.
        let clear = testing::texts(
            db,
            "SELECT email || '|' || display_name FROM users ORDER BY id",
        )
        .await
        .unwrap();
        assert_eq!(clear, ["old1|", "old2|", "old3|"]);
        let after = raw_users(&t).await;
        for (_, name, email, _) in PEOPLE {
            for secret in [name, email] {
                assert!(
                    !after.contains(secret),
                    "{secret:?} left on {:?}",
                    t.backend()
                );
            }
        }
        for fragment in ["Castellanos", "Varga", "Ekwueme", "patients.example"] {
            assert!(
                !after.contains(fragment),
                "{fragment:?} left on {:?}",
                t.backend()
            );
        }
        // New accounts beside the upgraded ones keep one account per address.
        let dup = db
            .invite_user(
                &t.keyring,
                &user("new", "Imposter", "O.VARGA@clinic.example", "patient"),
                &invitation("new"),
            )
            .await;
        assert!(matches!(dup, Err(StoreError::Conflict(_))));
    }
}

#[tokio::test]
async fn rotation_rewraps_the_directory_key_and_every_account_still_opens() {
    for t in testing::backends().await {
        let db: &Db = &t.db;
        invite(
            &t,
            "u1",
            "Saoirse Mbeki",
            "saoirse@patients.example",
            "patient",
        )
        .await;
        let before: Vec<i64> = testing::texts(
            db,
            &format!(
                "SELECT CAST(kek_version AS TEXT) FROM data_keys WHERE owner = '{DIRECTORY_OWNER}'"
            ),
        )
        .await
        .unwrap()
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
        assert_eq!(before, [1]);
        let rotation = db.rotate_kek(&t.keyring, 2_000).await.unwrap();
        assert_eq!(rotation.kek_version, 2);
        assert!(rotation.rewrapped >= 1, "the directory's key is re-wrapped");
        assert_eq!(db.kek_versions().await.unwrap(), [2], "the old KEK is gone");
        // Read from the database again, not the cache: it opens under the new KEK.
        db.forget_unwrapped_keys();
        let u = db
            .user_by_email(&t.keyring, "saoirse@patients.example")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(u.display_name, "Saoirse Mbeki");
        // And a newcomer after the rotation is sealed under the same directory key.
        invite(&t, "u2", "Kofi Lindahl", "kofi@clinic.example", "clinician").await;
        db.forget_unwrapped_keys();
        assert_eq!(db.list_users(&t.keyring).await.unwrap().len(), 2);
    }
}
