//! Ablation: rules only vs rules + model, on the same simulated streams.
//!
//! `cargo run --release -p sentinel --example ablation` (add `TW_BENCH_QUICK=1` for a
//! short form). Every scenario starts from the same benign history — a clinic behind
//! one NAT address, open weekdays 8–17 and Saturday mornings, 30 staff who read about
//! 20 records a day each and a front desk that reads about 150 — then adds an attack.
//! Time is simulated (a manual clock); nothing sleeps.
#![allow(clippy::print_stdout)]

use std::net::IpAddr;
use std::sync::Arc;

use clock::ManualClock;
use sentinel::{
    Alert, AuthEvent, AuthOutcome, Config, Event, HeaderFacts, RequestEvent, ResourceReadEvent,
    Scope, Sentinel,
};
use tokio::sync::broadcast;

/// Monday 2026-01-05 00:00 UTC.
const T0: i64 = 1_767_571_200_000;
const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }
}

fn nat() -> IpAddr {
    IpAddr::from([203, 0, 113, 10])
}

fn read(at: i64, account: &str, subject: String, token: Option<&str>) -> Event {
    Event::ResourceRead(ResourceReadEvent {
        at_ms: at,
        source: nat(),
        account: account.to_owned(),
        token: token.map(str::to_owned),
        subject,
        bytes: 4_000,
    })
}

fn page(at: i64, path: &str, account: Option<&str>) -> Event {
    Event::Request(RequestEvent {
        at_ms: at,
        method: http::Method::GET,
        route: path.to_owned(),
        path: path.to_owned(),
        status: 200,
        bytes_out: 8_000,
        duration_ms: 12,
        source: nat(),
        user_agent: Some("Mozilla/5.0 Firefox/140.0".to_owned()),
        headers: HeaderFacts {
            accept: true,
            accept_language: true,
            referer: true,
            sec_fetch: true,
            cookie: true,
        },
        html: !path.starts_with("/static/"),
        session: None,
        account: account.map(str::to_owned),
        probes: Vec::new(),
    })
}

fn auth(at: i64, source: IpAddr, account: &str, outcome: AuthOutcome) -> Event {
    Event::Auth(AuthEvent {
        at_ms: at,
        source,
        account: account.to_owned(),
        outcome,
    })
}

/// One day of the clinic, in time order. Weekday open hours 8–17, Saturday 8–12 with
/// a third of the staff, Sunday closed: the hour-of-week seasonality.
fn clinic_day(day: i64, rng: &mut Lcg) -> Vec<Event> {
    let weekday = day.rem_euclid(7); // T0 is a Monday
    let (open_hours, staff) = match weekday {
        0..=4 => (9, 30),
        5 => (4, 10),
        _ => return Vec::new(),
    };
    let start = T0 + day * DAY + 8 * HOUR;
    let mut events = Vec::new();
    for u in 0..staff {
        let account = format!("user{u}");
        let arrive = start + rng.below(60) as i64 * MIN;
        if rng.below(10) == 0 {
            events.push(auth(arrive, nat(), &account, AuthOutcome::BadPassword));
        }
        events.push(auth(arrive + 20_000, nat(), &account, AuthOutcome::Success));
        let per_day = if u == 0 {
            140 + rng.below(30)
        } else {
            14 + rng.below(12)
        };
        let reads = per_day * open_hours / 9;
        let span = (open_hours as i64 - 1) * 60;
        for _ in 0..reads {
            let at =
                arrive + MIN + rng.below(span as u64) as i64 * MIN + rng.below(MIN as u64) as i64;
            events.push(page(at - 500, "/records/{id}", Some(&account)));
            events.push(page(at - 300, "/static/app.js", None));
            events.push(read(
                at,
                &account,
                format!("subject-{}", rng.below(3_000)),
                None,
            ));
        }
    }
    events.sort_by_key(Event::at_ms);
    events
}

struct Run {
    sentinel: Sentinel,
    clock: Arc<ManualClock>,
    alerts: broadcast::Receiver<Alert>,
    /// Alerts seen, with the time they were seen.
    seen: Vec<Alert>,
}

impl Run {
    fn new(model: bool) -> Self {
        let cfg = Config {
            model_enabled: model,
            alert_channel_capacity: 4_096,
            ..Config::default()
        };
        let clock = Arc::new(ManualClock::at_ms(T0));
        let (sentinel, _engine) = Sentinel::new(cfg, clock.clone());
        let alerts = sentinel.subscribe();
        Self {
            sentinel,
            clock,
            alerts,
            seen: Vec::new(),
        }
    }

    fn feed(&mut self, e: Event) {
        self.clock.set_ms(e.at_ms());
        self.sentinel.process_now(e);
        while let Ok(a) = self.alerts.try_recv() {
            self.seen.push(a);
        }
    }

    fn history(&mut self, days: i64, seed: u64) {
        let mut rng = Lcg(seed);
        for day in 0..days {
            for e in clinic_day(day, &mut rng) {
                self.feed(e);
            }
        }
    }
}

/// What one run of one scenario measured.
struct Outcome {
    detected: bool,
    minutes_to_detect: Option<f64>,
    actions_before_alert: Option<u64>,
    actions_before_hold: Option<u64>,
    false_alerts: usize,
    total_actions: u64,
}

fn about(alert: &Alert, account: &str) -> bool {
    alert.subject == Scope::Account(account.to_owned())
}

/// The insider: `user7` reads `per_hour` extra records an hour during open hours, for
/// up to five days, on top of the usual work.
fn insider(model: bool, history: i64, per_hour: u64) -> Outcome {
    let mut run = Run::new(model);
    run.history(history, 42);
    let before = run.seen.len();
    let start_day = history;
    let start = T0 + start_day * DAY + 8 * HOUR;
    let mut rng = Lcg(99);
    let mut extra = 0u64;
    let mut first_alert: Option<(i64, u64)> = None;
    let mut hold: Option<u64> = None;
    for day in start_day..start_day + 5 {
        let mut events = clinic_day(day, &mut rng);
        if day.rem_euclid(7) < 5 {
            for h in 0..9 {
                for k in 0..per_hour {
                    let at = T0 + day * DAY + (8 + h) * HOUR + (k * HOUR as u64 / per_hour) as i64;
                    // Subjects in no particular order (the id-walk rule is measured apart).
                    let id = 10_000 + rng.below(90_000);
                    events.push(read(at, "user7", format!("stolen-{id}-x"), None));
                }
            }
            events.sort_by_key(Event::at_ms);
        }
        for e in events {
            let exfil = matches!(&e, Event::ResourceRead(r) if r.subject.starts_with("stolen-"));
            let at = e.at_ms();
            run.feed(e);
            if exfil {
                extra += 1;
            }
            if first_alert.is_none() && run.seen[before..].iter().any(|a| about(a, "user7")) {
                first_alert = Some((at, extra));
            }
            if hold.is_none() && run.sentinel.is_held("user7") {
                hold = Some(extra);
            }
        }
    }
    let false_alerts = run.seen[before..]
        .iter()
        .filter(|a| !about(a, "user7"))
        .count();
    Outcome {
        detected: first_alert.is_some(),
        minutes_to_detect: first_alert.map(|(at, _)| (at - start) as f64 / MIN as f64),
        actions_before_alert: first_alert.map(|(_, n)| n),
        actions_before_hold: hold,
        false_alerts,
        total_actions: extra,
    }
}

/// Stuffing spread over 500 addresses, one attempt every `gap_s` seconds in all.
fn stuffing(model: bool, history: i64, gap_s: i64) -> Outcome {
    let mut run = Run::new(model);
    run.history(history, 42);
    let before = run.seen.len();
    let start = T0 + history * DAY + 9 * HOUR;
    let mut rng = Lcg(5);
    let mut first: Option<(i64, u64)> = None;
    let n = 1_500u64;
    for i in 0..n {
        let at = start + i as i64 * gap_s * 1_000;
        let source = IpAddr::from([100, 64, (i % 500 / 250) as u8, (i % 250) as u8]);
        let outcome = if rng.below(3) == 0 {
            AuthOutcome::UnknownAccount
        } else {
            AuthOutcome::BadPassword
        };
        run.feed(auth(at, source, &format!("user{}", rng.below(30)), outcome));
        if first.is_none() && run.seen.len() > before {
            first = Some((at, i + 1));
        }
    }
    Outcome {
        detected: first.is_some(),
        minutes_to_detect: first.map(|(at, _)| (at - start) as f64 / MIN as f64),
        actions_before_alert: first.map(|(_, n)| n),
        actions_before_hold: None,
        false_alerts: 0,
        total_actions: n,
    }
}

/// A token of `integration` walking subject ids in order, one read every `gap_s`.
fn id_walk(model: bool, history: i64, gap_s: i64) -> Outcome {
    let mut run = Run::new(model);
    run.history(history, 42);
    let before = run.seen.len();
    let start = T0 + history * DAY + 9 * HOUR;
    let mut first: Option<(i64, u64)> = None;
    let mut hold = None;
    let n = 500u64;
    for i in 0..n {
        let at = start + i as i64 * gap_s * 1_000;
        run.feed(read(
            at,
            "integration",
            format!("{}", 100_000 + i),
            Some("token-1"),
        ));
        if first.is_none() && run.seen[before..].iter().any(|a| about(a, "integration")) {
            first = Some((at, i + 1));
        }
        if hold.is_none() && run.sentinel.is_held("integration") {
            hold = Some(i + 1);
        }
    }
    Outcome {
        detected: first.is_some(),
        minutes_to_detect: first.map(|(at, _)| (at - start) as f64 / MIN as f64),
        actions_before_alert: first.map(|(_, n)| n),
        actions_before_hold: hold,
        false_alerts: 0,
        total_actions: n,
    }
}

fn benign(model: bool, days: i64) -> Outcome {
    let mut run = Run::new(model);
    run.history(days, 42);
    Outcome {
        detected: false,
        minutes_to_detect: None,
        actions_before_alert: None,
        actions_before_hold: None,
        false_alerts: run.seen.len(),
        total_actions: 0,
    }
}

/// A scenario, run with the model off (`false`) or on (`true`).
type Scenario = Box<dyn Fn(bool) -> Outcome>;

fn cell<T: std::fmt::Display>(x: Option<T>) -> String {
    x.map_or("-".to_owned(), |v| v.to_string())
}

fn main() {
    let quick = std::env::var("TW_BENCH_QUICK").is_ok_and(|v| v == "1");
    let history = if quick { 14 } else { 28 };
    let mut scenarios: Vec<(String, Scenario)> = vec![(
        format!("benign clinic, {} weeks", history / 7 + 1),
        Box::new(move |m| benign(m, history + 7)),
    )];
    let rates: &[u64] = if quick {
        &[300, 30, 6]
    } else {
        &[300, 60, 30, 15, 6, 3]
    };
    for &r in rates {
        scenarios.push((
            format!("insider +{r}/h reads"),
            Box::new(move |m| insider(m, history, r)),
        ));
    }
    let gaps: &[i64] = if quick { &[2] } else { &[1, 2, 6] };
    for &g in gaps {
        scenarios.push((
            format!("spread stuffing, 500 addr, 1 try/{g}s"),
            Box::new(move |m| stuffing(m, history, g)),
        ));
    }
    scenarios.push((
        "token id walk, 1 read/10s".to_owned(),
        Box::new(move |m| id_walk(m, history, 10)),
    ));

    println!(
        "history: {history} days of a 30-user clinic behind one NAT; times in simulated minutes"
    );
    println!(
        "{:<38} {:<13} {:>8} {:>10} {:>14} {:>13} {:>8} {:>7}",
        "scenario",
        "mode",
        "detected",
        "minutes",
        "before alert",
        "before hold",
        "actions",
        "false"
    );
    for (name, run) in &scenarios {
        for (mode, model) in [("rules", false), ("rules+model", true)] {
            let o = run(model);
            println!(
                "{:<38} {:<13} {:>8} {:>10} {:>14} {:>13} {:>8} {:>7}",
                name,
                mode,
                if o.detected { "yes" } else { "no" },
                cell(o.minutes_to_detect.map(|m| format!("{m:.0}"))),
                cell(o.actions_before_alert),
                cell(o.actions_before_hold),
                o.total_actions,
                o.false_alerts,
            );
        }
    }
    println!(
        "\"before alert\"/\"before hold\": attack actions (extra reads, sign-in attempts) \
         before the first alert about the attacker / before the account was held; \
         \"false\": alerts about anyone else during the run (benign: all alerts)."
    );
}
