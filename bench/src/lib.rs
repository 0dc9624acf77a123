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
