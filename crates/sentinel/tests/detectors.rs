//! Each detector fires on its attack and stays quiet on a benign clinic, all on
//! caller-supplied time.
#![allow(clippy::unwrap_used)] // Test helpers fail loudly on purpose.

mod common;

use common::*;
use sentinel::{
    Action, AuthOutcome, Config, Detector, Event, ProbeHit, Scope, Severity, SlowRequestEvent,
    Subject,
};

fn subject(source: std::net::IpAddr, account: Option<&str>) -> Subject {
    Subject {
        source,
        account: account.map(str::to_owned),
        session: None,
    }
}

#[test]
fn a_clinic_behind_one_nat_raises_no_alert_and_blocks_no_one() {
    let mut rig = Rig::new(Config::default());
    let mut rng = Lcg(7);
    for day in 0..14 {
        if day % 7 >= 5 {
            continue; // weekends are closed
        }
        for e in clinic_day(day, &mut rng) {
            rig.feed(e);
        }
    }
    let alerts = rig.drain_alerts();
    assert!(alerts.is_empty(), "benign alerts: {alerts:#?}");
    assert!(rig.sentinel.blocked_sources().is_empty());
    let a = rig.sentinel.assess(&subject(nat(), Some("user3")));
    assert_eq!(a.action, Action::Allow, "{a:?}");
    // A typo storm by one user on the NAT does not block the address.
    let at = T0 + 14 * DAY + 9 * HOUR;
    for i in 0..12 {
        rig.feed(auth(
            at + i * 5_000,
            nat(),
            "user5",
            AuthOutcome::BadPassword,
        ));
    }
    assert!(!rig.sentinel.is_blocked(nat()));
    let user = rig.sentinel.assess(&subject(nat(), Some("user5")));
    assert!(matches!(user.action, Action::Throttle { .. }), "{user:?}");
    let colleague = rig.sentinel.assess(&subject(nat(), Some("user6")));
    assert_eq!(colleague.action, Action::Allow, "{colleague:?}");
}

#[test]
fn brute_force_on_one_account_throttles_the_account_not_the_address() {
    let mut rig = Rig::new(Config::default());
    let attacker = ip("198.51.100.9");
    for i in 0..10 {
        rig.feed(auth(
            T0 + i * 1_000,
            attacker,
            "alice",
            AuthOutcome::BadPassword,
        ));
    }
    let alerts = rig.drain_alerts();
    assert!(
        alerts
            .iter()
            .any(|a| a.kind == Detector::BruteForce && a.subject == Scope::Account("alice".into()))
    );
    let a = rig
        .sentinel
        .assess(&subject(ip("192.0.2.50"), Some("alice")));
    assert!(matches!(a.action, Action::Throttle { .. }), "{a:?}");
    assert!(a.reasons.iter().any(|r| r.contains("brute_force")));
    assert!(!rig.sentinel.is_blocked(attacker));
}

#[test]
fn guessing_at_an_account_for_long_never_holds_it() {
    // Holding an account others fail to sign in to would let anyone lock its owner
    // out: a long brute force raises its risk and alerts, but never holds it.
    let mut rig = Rig::new(Config::default());
    let attacker = ip("198.51.100.10");
    for i in 0..120 {
        rig.feed(auth(
            T0 + i * 20_000,
            attacker,
            "alice",
            AuthOutcome::BadPassword,
        ));
    }
    assert!(
        rig.drain_alerts()
            .iter()
            .any(|a| a.kind == Detector::BruteForce)
    );
    assert!(!rig.sentinel.is_held("alice"));
}

#[test]
fn watch_only_alerts_but_refuses_nothing() {
    let mut rig = Rig::new(Config {
        enforce: false,
        ..Config::default()
    });
    let attacker = ip("198.51.100.21");
    for i in 0..20 {
        rig.feed(auth(
            T0 + i * 2_000,
            attacker,
            &format!("victim{i}"),
            AuthOutcome::BadPassword,
        ));
    }
    assert!(
        rig.drain_alerts()
            .iter()
            .any(|a| a.kind == Detector::CredentialStuffing),
        "still detected and alerted"
    );
    assert!(!rig.sentinel.is_blocked(attacker), "but not blocked");
    assert!(rig.sentinel.blocked_sources().is_empty());
}

#[test]
fn stuffing_from_one_source_blocks_it() {
    let mut rig = Rig::new(Config::default());
    let attacker = ip("198.51.100.20");
    // Eight distinct accounts is the threshold; the distinct count is a bitmap
    // estimate, so allow it a couple more.
    let mut blocked_after = None;
    for i in 0..12 {
        rig.feed(auth(
            T0 + i * 2_000,
            attacker,
            &format!("victim{i}"),
            AuthOutcome::BadPassword,
        ));
        if blocked_after.is_none() && rig.sentinel.is_blocked(attacker) {
            blocked_after = Some(i + 1);
        }
    }
    let n = blocked_after.expect("never blocked");
    assert!((8..=10).contains(&n), "blocked after {n}");
    let alerts = rig.drain_alerts();
    let a = alerts
        .iter()
        .find(|a| a.kind == Detector::CredentialStuffing)
        .unwrap();
    assert_eq!(a.severity, Severity::Critical);
    let distinct: f64 = a
        .evidence
        .iter()
        .find(|(k, _)| k == "distinct_failed_accounts")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap();
    assert!((7.5..11.0).contains(&distinct), "{distinct}");
    assert!(matches!(
        rig.sentinel.assess(&subject(attacker, None)).action,
        Action::Block { .. }
    ));
}

#[test]
fn stuffing_spread_over_many_sources_is_seen_globally_and_asks_everyone_for_a_second_factor() {
    let mut rig = Rig::new(Config::default());
    let mut rng = Lcg(3);
    // Two days of normal sign-ins: 60 users from their own addresses, a few typos.
    for day in 0..2 {
        for minute in 0..(10 * 60) {
            let at = T0 + day * DAY + 8 * HOUR + minute * MIN;
            let u = rng.below(60);
            let src = ip(&format!("10.1.0.{u}"));
            if rng.below(15) == 0 {
                rig.feed(auth(at, src, &format!("user{u}"), AuthOutcome::BadPassword));
            }
            rig.feed(auth(
                at + 10_000,
                src,
                &format!("user{u}"),
                AuthOutcome::Success,
            ));
        }
    }
    assert!(rig.drain_alerts().is_empty());
    // 400 addresses, one or two attempts each, on 400 accounts over 10 minutes.
    let start = T0 + 2 * DAY + 9 * HOUR;
    let mut spread_alert = None;
    for i in 0..400i64 {
        let src = ip(&format!("172.16.{}.{}", i / 200, i % 200));
        let outcome = if i % 3 == 0 {
            AuthOutcome::UnknownAccount
        } else {
            AuthOutcome::BadPassword
        };
        rig.feed(auth(
            start + i * 1_500,
            src,
            &format!("user{}", i % 60),
            outcome,
        ));
        if spread_alert.is_none() {
            spread_alert = rig
                .drain_alerts()
                .into_iter()
                .find(|a| a.kind == Detector::DistributedStuffing && a.subject == Scope::Global)
                .map(|a| (i, a));
        }
    }
    let (after, alert) = spread_alert.expect("no distributed-stuffing alert");
    assert!(after < 100, "detected only after {after} attempts");
    assert!(
        alert
            .evidence
            .iter()
            .any(|(k, _)| k == "distinct_failing_sources")
    );
    // No single address did enough to be blocked on its own …
    assert!(rig.sentinel.blocked_sources().len() < 5);
    // … but every sign-in now asks for a second factor.
    let a = rig.sentinel.assess(&subject(ip("10.1.0.1"), Some("user1")));
    assert_eq!(a.action, Action::StepUp, "{a:?}");
}

#[test]
fn enumeration_of_ids_from_one_source_and_from_one_session() {
    let mut rig = Rig::new(Config::default());
    let src = ip("198.51.100.30");
    for i in 0..30 {
        rig.feed(Event::Request(request(
            T0 + i * 500,
            src,
            &format!("/records/{i}"),
            404,
        )));
    }
    let alerts = rig.drain_alerts();
    assert!(
        alerts
            .iter()
            .any(|a| a.kind == Detector::Enumeration && a.subject == Scope::Source(src))
    );

    let session = rig.sentinel.session_key("cookie-value");
    let nat_src = nat();
    for i in 0..30 {
        let mut e = request(T0 + HOUR + i * 500, nat_src, &format!("/records/{i}"), 403);
        e.session = Some(session);
        e.account = Some("mallory".into());
        rig.feed(Event::Request(e));
    }
    let alerts = rig.drain_alerts();
    assert!(
        alerts
            .iter()
            .any(|a| a.kind == Detector::Enumeration && a.subject == Scope::Session(session))
    );
    // The session's misdeeds are not the shared address's.
    assert!(!rig.sentinel.is_blocked(nat_src));
}

#[test]
fn probes_block_a_scanner_within_a_few_requests() {
    let mut rig = Rig::new(Config::default());
    let src = ip("198.51.100.40");
    let mut blocked_after = None;
    for i in 0..10 {
        let mut e = request(T0 + i * 100, src, "/search", 200);
        e.probes.push(ProbeHit {
            family: "sqli".into(),
            rule: "sqli-union-select".into(),
            location: "query".into(),
            evidence: "' union select".into(),
            severity: Severity::High,
        });
        rig.feed(Event::Request(e));
        if blocked_after.is_none() && rig.sentinel.is_blocked(src) {
            blocked_after = Some(i + 1);
        }
    }
    assert_eq!(blocked_after, Some(2));
    let alerts = rig.drain_alerts();
    assert_eq!(
        alerts.iter().filter(|a| a.kind == Detector::Probe).count(),
        1,
        "one alert for the scan"
    );
}

#[test]
fn a_metronome_and_a_headless_tool_are_bots() {
    let mut rig = Rig::new(Config::default());
    let bot = ip("198.51.100.50");
    for i in 0..40 {
        let mut e = request(T0 + i * 1_000, bot, "/appointments", 200);
        e.html = true;
        e.user_agent = Some("python-requests/2.32".into());
        e.headers = sentinel::HeaderFacts::default();
        rig.feed(Event::Request(e));
    }
    let kinds: Vec<Detector> = rig.drain_alerts().iter().map(|a| a.kind).collect();
    assert!(kinds.contains(&Detector::BotCadence), "{kinds:?}");
    assert!(kinds.contains(&Detector::BotHeaders), "{kinds:?}");
    // No-JS is Low: it adds risk and shows in the reasons, without an alert of its own.
    assert!(!kinds.contains(&Detector::NoAssets), "{kinds:?}");
    let health = rig.sentinel.health();
    assert!(
        health
            .detectors
            .iter()
            .any(|d| d.detector == "no_assets" && d.findings == 1)
    );
    // Weak evidence: throttled, not blocked.
    assert!(!rig.sentinel.is_blocked(bot));
    assert!(matches!(
        rig.sentinel.assess(&subject(bot, None)).action,
        Action::Throttle { .. }
    ));
}

#[test]
fn an_insider_who_starts_reading_hundreds_is_held() {
    let mut rig = Rig::new(Config::default());
    let mut rng = Lcg(11);
    for day in 0..14 {
        if day % 7 >= 5 {
            continue;
        }
        for e in clinic_day(day, &mut rng) {
            rig.feed(e);
        }
    }
    assert!(rig.drain_alerts().is_empty());
    let start = T0 + 14 * DAY + 10 * HOUR;
    let mut first_alert = None;
    let mut held_after = None;
    for k in 0..600i64 {
        rig.feed(read(
            start + k * 5_000,
            nat(),
            "user7",
            &format!("subject-{}", 10_000 + k * 7),
        ));
        if first_alert.is_none() && !rig.drain_alerts().is_empty() {
            first_alert = Some(k + 1);
        }
        if held_after.is_none() && rig.sentinel.is_held("user7") {
            held_after = Some(k + 1);
        }
    }
    let first = first_alert.expect("no alert");
    let held = held_after.expect("never held");
    assert!(first <= 60, "first alert after {first} reads");
    assert!(held <= 200, "held after {held} reads");
    assert!(
        !rig.sentinel.is_blocked(nat()),
        "the NAT address stays open"
    );
    assert_eq!(
        rig.sentinel.assess(&subject(nat(), Some("user7"))).action,
        Action::Hold
    );
    let dash = rig.sentinel.dashboard();
    assert_eq!(
        dash.transfer_24h.first().map(|t| t.account.as_str()),
        Some("user7")
    );
}

#[test]
fn a_token_walking_ids_in_order_is_caught() {
    let mut rig = Rig::new(Config::default());
    for i in 0..25i64 {
        let mut e = read(
            T0 + i * 2_000,
            ip("192.0.2.60"),
            "integration",
            &format!("{}", 5_000 + i),
        );
        if let Event::ResourceRead(r) = &mut e {
            r.token = Some("token-42".into());
        }
        rig.feed(e);
    }
    let alerts = rig.drain_alerts();
    assert!(
        alerts.iter().any(
            |a| a.kind == Detector::IdWalk && a.subject == Scope::Account("integration".into())
        )
    );
    // One behaviour, one finding: the token's walk is the account's walk.
    let dash = rig.sentinel.dashboard();
    let walk = dash
        .alerts
        .iter()
        .find(|a| a.kind == Detector::IdWalk)
        .unwrap();
    assert_eq!(walk.occurrences, 1);
    let a = rig
        .sentinel
        .assess(&subject(ip("192.0.2.60"), Some("integration")));
    assert!(matches!(a.action, Action::Throttle { .. }), "{a:?}");
}

#[test]
fn floods_and_slow_attacks_are_source_level() {
    let mut rig = Rig::new(Config::default());
    let flooder = ip("198.51.100.70");
    // 1 500 requests a minute: over the 600 limit, throttled first …
    for i in 0..1_000 {
        rig.feed(Event::Request(request(T0 + i * 40, flooder, "/", 200)));
    }
    let kinds: Vec<Detector> = rig.drain_alerts().iter().map(|a| a.kind).collect();
    assert!(kinds.contains(&Detector::SourceFlood), "{kinds:?}");
    assert!(!rig.sentinel.is_blocked(flooder));
    assert!(matches!(
        rig.sentinel.assess(&subject(flooder, None)).action,
        Action::Throttle { .. }
    ));
    // … and blocked when it keeps on past the cool-down.
    for i in 1_000..9_000 {
        rig.feed(Event::Request(request(T0 + i * 40, flooder, "/", 200)));
    }
    assert!(rig.sentinel.is_blocked(flooder));

    // Slow requests: five time-outs throttle, twenty (slowloris) block.
    let slow = ip("198.51.100.71");
    let slow_request = |i: i64| {
        Event::SlowRequest(SlowRequestEvent {
            at_ms: T0 + HOUR + i * 1_000,
            source: slow,
        })
    };
    for i in 0..8 {
        rig.feed(slow_request(i));
    }
    assert!(!rig.sentinel.is_blocked(slow));
    assert!(matches!(
        rig.sentinel.assess(&subject(slow, None)).action,
        Action::Throttle { .. }
    ));
    for i in 8..30 {
        rig.feed(slow_request(i));
    }
    assert!(rig.sentinel.is_blocked(slow));
}

#[test]
fn a_global_flood_is_measured_against_its_baseline() {
    let cfg = Config {
        global_flood_floor: 500,
        ..Config::default()
    };
    let mut rig = Rig::new(cfg);
    let mut rng = Lcg(5);
    // An hour at ~100 requests a minute from many addresses.
    for i in 0..6_000i64 {
        let src = ip(&format!("10.2.{}.{}", rng.below(4), rng.below(250)));
        rig.feed(Event::Request(request(T0 + i * 600, src, "/", 200)));
    }
    assert!(rig.drain_alerts().is_empty());
    // Then 1 000 a minute from 2 000 addresses.
    let start = T0 + HOUR;
    for i in 0..2_000i64 {
        let src = ip(&format!("100.64.{}.{}", i / 250, i % 250));
        rig.feed(Event::Request(request(start + i * 60, src, "/", 200)));
    }
    let alerts = rig.drain_alerts();
    assert!(
        alerts
            .iter()
            .any(|a| a.kind == Detector::GlobalFlood && a.subject == Scope::Global)
    );
}

#[test]
fn a_new_account_reading_charts_faster_than_anyone_reads_is_caught_within_a_minute() {
    let mut rig = Rig::new(Config::default());
    let source = ip("198.51.100.77");
    // A dozen ordinary reads, then every chart as fast as one client goes.
    for k in 0..12i64 {
        rig.feed(read(T0 + k * 30_000, source, "newcomer", &format!("p-{k}")));
    }
    assert!(rig.drain_alerts().is_empty());
    let start = T0 + 10 * MIN;
    let mut first_alert = None;
    for k in 0..300i64 {
        rig.feed(read(
            start + k * 10,
            source,
            "newcomer",
            &format!("chart-{}", k * 31 + 5),
        ));
        if first_alert.is_none() && !rig.drain_alerts().is_empty() {
            first_alert = Some(k + 1);
        }
    }
    let first = first_alert.expect("no alert");
    assert!(first <= 140, "first alert after {first} burst reads");
    // A busy front desk reading a chart every two seconds all morning is not a machine.
    let mut rig = Rig::new(Config::default());
    for k in 0..200i64 {
        rig.feed(read(
            T0 + k * 2_000,
            source,
            "front-desk",
            // Patients as they come, not in id order.
            &format!("p-{}", (k * 7_919) % 100_003),
        ));
    }
    assert!(rig.drain_alerts().is_empty());
}

#[test]
fn colleagues_behind_one_address_are_judged_by_session_not_by_their_number() {
    let mut rig = Rig::new(Config::default());
    let nat = ip("203.0.113.50");
    // 20 signed-in colleagues, each about 60 requests a minute (pages and assets):
    // 1,200 a minute from the address, none anonymous.
    for tick in 0..(60 * 3) {
        let at = T0 + tick * 1_000;
        for u in 0..20u64 {
            let mut e = request(at + u as i64, nat, "/appointments", 200);
            e.session = Some(rig.sentinel.session_key(&format!("cookie-{u}")));
            // Pages name the account; their assets carry only the cookie.
            if tick % 3 == 0 {
                e.account = Some(format!("user{u}"));
            }
            rig.feed(Event::Request(e));
        }
    }
    let alerts = rig.drain_alerts();
    assert!(alerts.is_empty(), "benign alerts: {alerts:#?}");
    assert!(!rig.sentinel.is_blocked(nat));

    // One session going at 20 requests a second is a flood, of that session.
    let at = T0 + 10 * MIN;
    let key = rig.sentinel.session_key("cookie-3");
    for i in 0..1_500i64 {
        let mut e = request(at + i * 50, nat, "/appointments", 200);
        e.session = Some(key);
        e.account = Some("user3".to_owned());
        rig.feed(Event::Request(e));
    }
    let alerts = rig.drain_alerts();
    assert!(
        alerts
            .iter()
            .any(|a| a.kind == sentinel::Detector::SourceFlood),
        "{alerts:#?}"
    );
    assert!(!rig.sentinel.is_blocked(nat), "the address stays open");

    // The same rate with no session is the address's own.
    let other = ip("203.0.113.51");
    for i in 0..1_500i64 {
        rig.feed(Event::Request(request(at + i * 50, other, "/", 200)));
    }
    let alerts = rig.drain_alerts();
    assert!(
        alerts
            .iter()
            .any(|a| a.kind == sentinel::Detector::SourceFlood
                && a.subject == sentinel::Scope::Source(other)),
        "{alerts:#?}"
    );
}
