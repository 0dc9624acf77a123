//! What the load harnesses share: a practice set up the way its administrator does it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod messaging;

/// An HTTP client that shows redirects instead of following them.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Completes first-run setup of a fresh server through its setup link: the practice
/// "Bench Clinic" (UTC) and its administrator `admin@bench.example`.
pub async fn complete_setup(running: &server::Running, http: &reqwest::Client) {
    let link = running
        .setup_link
        .clone()
        .expect("a fresh server offers its setup link");
    let path = link
        .strip_prefix(&running.origin)
        .expect("the link is on the server's origin");
    let res = http
        .post(format!("http://{}{path}", running.addr))
        .header("origin", &running.origin)
        .form(&[
            ("practice_name", "Bench Clinic"),
            ("time_zone", "UTC"),
            ("admin_name", "Bench Admin"),
            ("email", "admin@bench.example"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "setup completes");
}

/// Puts an account straight into the store as if invited and enrolled (its invitation
/// already used), the way the harnesses set up a practice without going through e-mail.
/// Returns the account id.
pub async fn enrol(
    db: &store::Db,
    keyring: &store::keyring::Keyring,
    id: &str,
    email: &str,
    name: &str,
    role: &str,
    password_hash: Option<&str>,
) -> String {
    use clock::Clock;
    let now = clock::SystemClock.now_ms();
    let user = store::accounts::UserRow {
        id: id.into(),
        email: email.into(),
        display_name: name.into(),
        role: role.into(),
        password_hash: password_hash.map(str::to_owned),
        created_ms: now,
        disabled_ms: None,
    };
    let invitation = store::invitations::InvitationRow {
        id: format!("inv-{id}"),
        token_hash: format!("bench-{id}"),
        kind: "enrol".into(),
        user_id: id.into(),
        invited_by: None,
        created_ms: now,
        expires_ms: now + 86_400_000,
        used_ms: Some(now),
        revoked_ms: None,
    };
    db.invite_user(keyring, &user, &invitation).await.unwrap();
    user.id
}
