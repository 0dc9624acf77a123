//! Identity steps shared by the identity tests: inviting, enrolling a clinician with a
//! password and an authenticator app, signing in with a code.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clock::Clock;
use totp_rs::{Algorithm, Builder, Secret};

use super::{CLINICIAN_EMAIL, CLINICIAN_NAME, CLINICIAN_PASSWORD, TestServer, session_cookie};

/// The text between `start` and the next `end` in `html`.
pub fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = html.find(start)? + start.len();
    let to = html[from..].find(end)? + from;
    Some(&html[from..to])
}

pub fn totp_code(secret: &[u8], unix_secs: i64) -> String {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_skew(0)
        .with_secret(Secret::from(secret.to_vec()))
        .build_noncompliant()
        .generate(unix_secs as u64)
        .to_string()
}

/// The enrolment link in the newest outbox message that has one.
/// The e-mails in the outbox now.
pub fn outbox_files(s: &TestServer) -> std::collections::HashSet<std::path::PathBuf> {
    std::fs::read_dir(s.dir.path().join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

/// The e-mails written since `before`, waiting up to 5 s for `want` of them: security
/// notices are sent in the background, after the response.
pub async fn mails_since(
    s: &TestServer,
    before: &std::collections::HashSet<std::path::PathBuf>,
    want: usize,
) -> Vec<String> {
    let mut mails = Vec::new();
    for _ in 0..50 {
        mails = outbox_files(s)
            .difference(before)
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect();
        if mails.len() >= want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    mails
}

/// The enrolment link of the one e-mail written since `before` (file times are too
/// coarse to order e-mails written close together).
pub fn enrol_link_in_new_mail(
    s: &TestServer,
    before: &std::collections::HashSet<std::path::PathBuf>,
) -> String {
    let new: Vec<String> = outbox_files(s)
        .difference(before)
        .map(|p| std::fs::read_to_string(p).unwrap())
        .filter(|text| text.contains("/enrol/"))
        .collect();
    assert_eq!(new.len(), 1, "one new e-mail with a link");
    let start = new[0].find("http").unwrap();
    new[0][start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect()
}

pub fn newest_enrol_link_in_outbox(s: &TestServer) -> String {
    let mut mails: Vec<_> = std::fs::read_dir(s.dir.path().join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                std::fs::metadata(&p).unwrap().modified().unwrap(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .filter(|(_, text)| text.contains("/enrol/"))
        .collect();
    mails.sort_by_key(|(when, _)| *when);
    let text = &mails.last().expect("an e-mail with a link").1;
    let start = text.find("http").unwrap();
    let link: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    link
}

/// Invites someone as the administrator; returns the enrolment path.
pub async fn invite(s: &TestServer, admin: &str, name: &str, email: &str, role: &str) -> String {
    let res = s
        .post_form(
            "/people/invite",
            &[("name", name), ("email", email), ("role", role)],
            Some(admin),
        )
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let link = between(&html, r#"<code class="link" data-copy>"#, "</code>")
        .expect("the link is shown to copy");
    link.strip_prefix(&s.running().origin).unwrap().to_owned()
}

/// A clinician enrolled with password and authenticator app: `(secret, full-session cookie, recovery codes)`.
pub async fn enrolled_clinician(s: &TestServer, admin: &str) -> (Vec<u8>, String, Vec<String>) {
    let enrol = invite(s, admin, CLINICIAN_NAME, CLINICIAN_EMAIL, "clinician").await;
    let page = s.get(&enrol).await.text().await.unwrap();
    assert!(
        page.contains("use a password and an authenticator app"),
        "clinicians may use passwords"
    );
    let res = s
        .post_form(
            &format!("{enrol}/password"),
            &[
                ("password", CLINICIAN_PASSWORD),
                ("confirm", CLINICIAN_PASSWORD),
            ],
            None,
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/account/second-factor");
    let pending = session_cookie(&res).unwrap();
    // With only a password, nothing but second-factor enrolment is reachable.
    let blocked = s.get_with_cookie("/account/security", &pending).await;
    assert_eq!(blocked.status(), 303);
    assert_eq!(blocked.headers()["location"], "/account/second-factor");
    let page = s
        .get_with_cookie("/account/second-factor", &pending)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<svg") && page.contains(r#"role="img""#),
        "a QR code is shown"
    );
    let secret_text: String = between(&page, r#"<code class="secret">"#, "</code>")
        .unwrap()
        .split_whitespace()
        .collect();
    let secret = Secret::try_from_base32(&secret_text)
        .unwrap()
        .as_bytes()
        .to_vec();
    let now = s.clock.now_ms() / 1000;
    let res = s
        .post_form(
            "/account/second-factor",
            &[("code", &totp_code(&secret, now))],
            Some(&pending),
        )
        .await;
    assert_eq!(res.status(), 200);
    let full = session_cookie(&res).expect("the session gets a new id as it becomes a full one");
    let html = res.text().await.unwrap();
    let codes: Vec<String> = html
        .split("<li><code>")
        .skip(1)
        .map(|part| part.split("</code>").next().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10, "recovery codes shown once: {html}");
    // The new id is a full session; the one that knew only the password is dead.
    assert_eq!(
        s.get_with_cookie("/account/security", &full).await.status(),
        200
    );
    assert_eq!(
        s.get_with_cookie("/account/security", &pending)
            .await
            .status(),
        303
    );
    (secret, full, codes)
}

/// Password then code; returns the response of the code step.
pub async fn sign_in_with_code(s: &TestServer, password: &str, code: &str) -> reqwest::Response {
    let res = s.sign_in(CLINICIAN_EMAIL, password).await;
    assert_eq!(
        res.status(),
        303,
        "{}",
        res.text().await.unwrap_or_default()
    );
    assert_eq!(res.headers()["location"], "/sign-in/code");
    let pending = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|v| {
            v.to_str()
                .ok()
                .filter(|v| v.starts_with("tw_pending="))
                .map(|v| v.split(';').next().unwrap().to_owned())
        })
        .unwrap();
    // A person takes a moment to read the code off their phone.
    s.clock.advance_ms(2_000);
    let kind = if code.contains('-') {
        "recovery"
    } else {
        "totp"
    };
    s.post_form(
        "/sign-in/code",
        &[("kind", kind), ("code", code)],
        Some(&pending),
    )
    .await
}
