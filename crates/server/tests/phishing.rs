//! Phishing simulations over HTTP, on SQLite and PostgreSQL: the practice must opt in;
//! pay/bonus lures are refused; a campaign reaches every staff member (never a patient)
//! through the mail transport; a scanner's fetch is not a click, the interaction beacon
//! is (once, and never with a forged token); a submission records only that it happened;
//! reporting counts; a real report raises an alert; the figures add up.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::path::PathBuf;

use common::identity::{invite, mails_since, outbox_files};
use common::{TestServer, files_under as files};
use reqwest::header::{COOKIE, ORIGIN, USER_AGENT};
use serde_json::Value;

const OFFICER_EMAIL: &str = "officer@clinic.example";
const CLINICIAN_EMAIL: &str = "clin@clinic.example";
const PATIENT_EMAIL: &str = "pat@patients.example";
const CHROME: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                      Chrome/126.0 Safari/537.36";
const CANARY: &str = "Tr0ub4dor&3-canary-5521";

/// Setup done; the officer's, the clinician's and the patient's sessions.
async fn practice(s: &TestServer) -> (String, String, String) {
    let admin = s.admin().await;
    invite(
        s,
        &admin,
        "Sello Mokoena",
        OFFICER_EMAIL,
        "security_officer",
    )
    .await;
    invite(s, &admin, "Dr Ana Lee", CLINICIAN_EMAIL, "clinician").await;
    invite(s, &admin, "Pat Patient", PATIENT_EMAIL, "patient").await;
    (
        s.session_for(OFFICER_EMAIL, 0).await,
        s.session_for(CLINICIAN_EMAIL, 0).await,
        s.session_for(PATIENT_EMAIL, 0).await,
    )
}

/// The text of a mail with quoted-printable soft breaks and `=3D` undone.
fn plain(mail: &str) -> String {
    mail.replace("=\r\n", "").replace("=3D", "=")
}

/// The first `{origin}{prefix}…` URL in `mail`, as a path.
fn link(s: &TestServer, mail: &str, prefix: &str) -> String {
    let text = plain(mail);
    let start = format!("{}{prefix}", s.running().origin);
    let at = text.find(&start).expect("a link in the mail") + s.running().origin.len();
    text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "/.?=_-".contains(*c))
        .collect()
}

async fn create(s: &TestServer, cookie: &str, form: &[(&str, &str)]) -> reqwest::Response {
    s.post_form("/training/simulations/campaigns", form, Some(cookie))
        .await
}

async fn figures(s: &TestServer, cookie: &str, id: &str) -> Value {
    let res = s
        .get_with_cookie(&format!("/training/simulations/{id}/metrics.json"), cookie)
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// A same-origin POST from a browser with this user agent and no body.
async fn post_as(s: &TestServer, path: &str, agent: &str, body: &[(&str, &str)]) -> u16 {
    s.client
        .post(s.url(path))
        .header(ORIGIN, &s.running().origin)
        .header(USER_AGENT, agent)
        .form(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_campaign_end_to_end() {
    for url in common::database_choices().await {
        let mut s = TestServer::start(url.clone()).await;
        let (officer, clinician, patient) = practice(&s).await;
        let lure = [
            ("name", "Consult link, March"),
            ("lure", "fake-consult-link"),
            ("target", "all_staff"),
        ];

        // Off until the practice opts in; patients may not manage it at all.
        let res = create(&s, &officer, &lure).await;
        assert_eq!(res.status(), 403, "{url:?}");
        assert!(res.text().await.unwrap().contains("simulations are off"));
        let res = s
            .post_form(
                "/training/simulations/opt-in",
                &[("enabled", "on")],
                Some(&patient),
            )
            .await;
        assert_eq!(res.status(), 403);
        let res = s
            .post_form(
                "/training/simulations/opt-in",
                &[("enabled", "on")],
                Some(&officer),
            )
            .await;
        assert_eq!(res.status(), 303);

        // A lure about a bonus is refused, with the reason.
        let res = create(
            &s,
            &officer,
            &[
                ("name", "Holiday"),
                ("lure", "custom"),
                ("subject", "Your holiday bonus is ready"),
                ("body", "Hi {{name}}, claim it here: {{link}}"),
                ("landing", "Sign in to claim."),
                ("target", "all_staff"),
            ],
        )
        .await;
        assert_eq!(res.status(), 400);
        assert!(res.text().await.unwrap().contains("bonus"));
        // Patients are not a target.
        let mut to_patients = lure.to_vec();
        to_patients[2] = ("target", "patient");
        assert_eq!(create(&s, &officer, &to_patients).await.status(), 400);

        // Sent now: one mail per staff member but its author, none to the patient.
        let before: HashSet<PathBuf> = outbox_files(&s);
        let res = create(&s, &officer, &lure).await;
        assert_eq!(res.status(), 303);
        let id = res.headers()["location"]
            .to_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned();
        let mails: Vec<String> = mails_since(&s, &before, 2)
            .await
            .into_iter()
            .filter(|m| m.contains("Your patient is waiting"))
            .collect();
        assert_eq!(mails.len(), 2, "{url:?}");
        let mail_to = |who: &str| {
            mails
                .iter()
                .find(|m| m.contains(who))
                .unwrap_or_else(|| panic!("a mail to {who}"))
                .clone()
        };
        assert!(!mails.iter().any(|m| m.contains(PATIENT_EMAIL)));
        assert!(!mails.iter().any(|m| m.contains(OFFICER_EMAIL)));
        let clin_mail = mail_to(CLINICIAN_EMAIL);
        let admin_mail = mail_to(common::ADMIN_EMAIL);
        let tracked = link(&s, &clin_mail, "/t/");
        assert!(plain(&clin_mail).contains(&format!("{tracked}/open.gif")));

        // A scanner fetches the link and the image: fetched and opened, not clicked.
        let res = s.client.get(s.url(&tracked)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let page = res.text().await.unwrap();
        assert!(page.contains("This was a practice phishing message"));
        assert!(page.contains("not used for discipline"));
        assert!(page.contains("temporary link"), "the lure's signs");
        let form = common::identity::between(&page, "<form", "</form>").unwrap();
        assert!(
            !form.contains(" name="),
            "the landing form has no named fields"
        );
        let res = s
            .client
            .get(s.url(&format!("{tracked}/open.gif")))
            .send()
            .await;
        assert_eq!(res.unwrap().status(), 200);
        // A beacon within seconds of delivery, or from a headless client, is a scanner.
        assert_eq!(
            post_as(&s, &format!("{tracked}/beacon"), CHROME, &[]).await,
            204
        );
        s.clock.advance_ms(60_000);
        let headless = "Mozilla/5.0 HeadlessChrome/126.0";
        assert_eq!(
            post_as(&s, &format!("{tracked}/beacon"), headless, &[]).await,
            204
        );
        let f = figures(&s, &officer, &id).await;
        assert_eq!(f["metrics"]["click_rate"]["count"], 0, "{f}");
        assert_eq!(f["sent"], 2);

        // A person's beacon counts once; a replay and forged tokens do not.
        assert_eq!(
            post_as(&s, &format!("{tracked}/beacon"), CHROME, &[]).await,
            204
        );
        assert_eq!(
            post_as(&s, &format!("{tracked}/beacon"), CHROME, &[]).await,
            204
        );
        let parts: Vec<&str> = tracked.split('/').collect();
        let forged = format!("/t/{}/{}/{}", parts[2], parts[3], "0".repeat(32));
        assert_eq!(
            post_as(&s, &format!("{forged}/beacon"), CHROME, &[]).await,
            404
        );
        let admin_tracked = link(&s, &admin_mail, "/t/");
        let admin_parts: Vec<&str> = admin_tracked.split('/').collect();
        let moved = format!("/t/{}/{}/{}", parts[2], admin_parts[3], parts[4]);
        assert_eq!(
            post_as(&s, &format!("{moved}/beacon"), CHROME, &[]).await,
            404
        );
        let bad = format!("/t/{}/{}/not-hex", parts[2], parts[3]);
        assert_eq!(
            s.client.get(s.url(&bad)).send().await.unwrap().status(),
            404
        );
        let f = figures(&s, &officer, &id).await;
        assert_eq!(f["metrics"]["click_rate"]["count"], 1, "{f}");

        // A submission: only that it happened, even if a client sends fields anyway.
        let submit = format!("{tracked}/submit");
        assert_eq!(
            post_as(&s, &submit, CHROME, &[("password", CANARY)]).await,
            200
        );
        assert_eq!(post_as(&s, &submit, CHROME, &[]).await, 200);

        // Reported from the footer of the administrator's mail: GET asks, POST records.
        let report = link(&s, &admin_mail, "/report-suspicious");
        assert_eq!(s.get(&report).await.status(), 200);
        let reference = report.split("ref=").nth(1).unwrap().to_owned();
        for _ in 0..2 {
            let res = s
                .post_form("/report-suspicious", &[("ref", &reference)], None)
                .await;
            assert_eq!(res.status(), 200);
            assert!(res.text().await.unwrap().contains("Well spotted"));
        }
        let f = figures(&s, &officer, &id).await;
        let m = &f["metrics"];
        assert_eq!(m["report_rate"]["count"], 1, "{f}");
        assert_eq!(m["report_rate"]["n"], 2);
        assert!(m["report_rate"]["ci_low"].as_f64().unwrap() > 0.0);
        assert!(m["report_rate"]["ci_high"].as_f64().unwrap() < 1.0);
        assert_eq!(m["submission_rate"]["count"], 1);
        assert_eq!(m["click_rate"]["count"], 1);
        assert!(m["median_time_to_report_ms"].as_i64().unwrap() >= 60_000);

        // A real report (a notice the clinician did not expect) alerts the officer.
        let made_up = format!("notice.{}", "ab".repeat(16));
        let res = s
            .post_form("/report-suspicious", &[("ref", &made_up)], None)
            .await;
        assert_eq!(res.status(), 401, "a real report needs to know who reports");
        // Only a notice of one's own can be reported (no alert flood with made-up ids).
        let res = s
            .post_form("/report-suspicious", &[("ref", &made_up)], Some(&clinician))
            .await;
        assert_eq!(res.status(), 404);
        // A notice the server gave the clinician (as a security notice is stored).
        let clinician_id = s.user_id(CLINICIAN_EMAIL).await;
        let notice_id = "cd".repeat(16);
        let db = store::Db::connect(&s.db_url, &store::PoolSettings::default())
            .await
            .unwrap();
        db.insert_notice(&store::notices::NoticeRow {
            id: notice_id.clone(),
            user_id: clinician_id,
            created_ms: clock::Clock::now_ms(s.clock.as_ref()),
            kind: "role_changed".into(),
            message: "Your role at the practice was changed.".into(),
            read_ms: None,
        })
        .await
        .unwrap();
        db.close().await;
        let notice_ref = format!("notice.{notice_id}");
        let res = s
            .post_form(
                "/report-suspicious",
                &[("ref", &notice_ref)],
                Some(&clinician),
            )
            .await;
        assert_eq!(res.status(), 200);
        let res = s
            .post_form("/report-suspicious", &[("ref", "sim.zz")], Some(&clinician))
            .await;
        assert_eq!(res.status(), 400);

        // The programme page and its figures.
        let all: Value = s
            .get_with_cookie("/training/simulations.json", &officer)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(all["overall"]["report_rate"]["count"], 1, "{all}");
        assert_eq!(all["repeat_clickers"]["n"], 2);
        assert_eq!(all["repeat_clickers"]["count"], 0);
        let page = s.get_with_cookie("/training/simulations", &officer).await;
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("Consult link, March"));
        assert_eq!(
            s.get_with_cookie("/training/simulations", &patient)
                .await
                .status(),
            403
        );

        let db = s.stop().await;
        let alerts = db.alerts(true, 50).await.unwrap();
        assert!(alerts.iter().any(|a| a.kind == "suspicious_report"));
        let entries = ledger::LedgerStore::entries(&db, 1, 10_000).await.unwrap();
        let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
        for want in [
            "training.simulations_enabled",
            "training.campaign_created",
            "training.campaign_launched",
            "training.simulation_event",
            "training.suspicious_reported",
        ] {
            assert!(actions.contains(&want), "{want}: {actions:?}");
        }
        // Each event once: sent is not audited; fetched, opened, clicked, submitted and
        // reported once each for this campaign.
        let events = actions
            .iter()
            .filter(|a| **a == "training.simulation_event")
            .count();
        assert_eq!(events, 5, "{url:?}");
        let ledger_text = format!("{entries:?}");
        assert!(!ledger_text.contains(CANARY));
        assert!(!ledger_text.contains(parts[4]), "no token in the ledger");
        let recipients = db.recipients(&id).await.unwrap();
        assert!(recipients.iter().all(|r| r.sent_ms.is_some()));
        db.close().await;
        if url.is_none() {
            for f in files(s.dir.path()) {
                let bytes = std::fs::read(&f).unwrap();
                assert!(
                    !bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes()),
                    "{} holds what was typed",
                    f.display()
                );
            }
        }
    }
}

#[tokio::test]
async fn a_scheduled_campaign_is_sent_when_due_and_only_while_enabled() {
    for url in common::database_choices().await {
        let s = TestServer::start(url.clone()).await;
        let (officer, _, _) = practice(&s).await;
        let res = s
            .post_form(
                "/training/simulations/opt-in",
                &[("enabled", "on")],
                Some(&officer),
            )
            .await;
        assert_eq!(res.status(), 303);
        // The test clock stands at 2026-01-01 00:00 UTC = 11:00 in Sydney.
        let before = outbox_files(&s);
        let res = create(
            &s,
            &officer,
            &[
                ("name", "MFA reset"),
                ("lure", "fake-mfa-reset"),
                ("target", "clinician"),
                ("date", "2026-01-02"),
                ("time", "09:00"),
            ],
        )
        .await;
        assert_eq!(res.status(), 303, "{url:?}");
        assert_eq!(s.running().send_due_simulations().await.unwrap(), 0);
        s.clock.advance_ms(2 * 86_400_000);
        assert_eq!(s.running().send_due_simulations().await.unwrap(), 1);
        assert_eq!(s.running().send_due_simulations().await.unwrap(), 0);
        let mails = mails_since(&s, &before, 1).await;
        let lures: Vec<&String> = mails
            .iter()
            .filter(|m| m.contains("re-register your sign-in"))
            .collect();
        assert_eq!(lures.len(), 1, "clinicians only");
        assert!(lures[0].contains(CLINICIAN_EMAIL));
        // A time in the past is refused.
        let officer = s.session_for(OFFICER_EMAIL, 0).await;
        let res = create(
            &s,
            &officer,
            &[
                ("name", "Late"),
                ("lure", "fake-mfa-reset"),
                ("target", "clinician"),
                ("date", "2025-01-02"),
                ("time", "09:00"),
            ],
        )
        .await;
        assert_eq!(res.status(), 400);
    }
}

#[tokio::test]
async fn notification_mails_and_notices_offer_a_report_link() {
    for url in common::database_choices().await {
        let s = TestServer::start(url).await;
        let (_, clinician, _) = practice(&s).await;
        let before = outbox_files(&s);
        // Removing a missing password is a no-op; renewing recovery codes notifies.
        let res = s
            .client
            .post(s.url("/account/recovery-codes"))
            .header(ORIGIN, &s.running().origin)
            .header(COOKIE, &clinician)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success() || res.status().is_redirection());
        let mails = mails_since(&s, &before, 1).await;
        let notice = mails
            .iter()
            .find(|m| m.contains("Security notice"))
            .expect("a security notice");
        let report = link(&s, notice, "/report-suspicious");
        assert!(report.contains("ref=mail."), "{report}");
        assert_eq!(s.get_with_cookie(&report, &clinician).await.status(), 200);
        let page = s
            .get_with_cookie("/account/security", &clinician)
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("/report-suspicious?ref=notice."));
    }
}
