//! Event builders and a sentinel on a manual clock, shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::IpAddr;
use std::sync::Arc;

use clock::ManualClock;
use sentinel::{
    Alert, AuthEvent, AuthOutcome, Config, Engine, Event, HeaderFacts, RequestEvent,
    ResourceReadEvent, Sentinel,
};
use tokio::sync::broadcast;

/// Monday 2026-01-05 00:00 UTC.
pub const T0: i64 = 1_767_571_200_000;
pub const MIN: i64 = 60_000;
pub const HOUR: i64 = 60 * MIN;
pub const DAY: i64 = 24 * HOUR;

pub struct Rig {
    pub sentinel: Sentinel,
    pub engine: Engine,
    pub clock: Arc<ManualClock>,
    pub alerts: broadcast::Receiver<Alert>,
}

impl Rig {
    pub fn new(cfg: Config) -> Self {
        let clock = Arc::new(ManualClock::at_ms(T0));
        let (sentinel, engine) = Sentinel::new(cfg, clock.clone());
        let alerts = sentinel.subscribe();
        Self {
            sentinel,
            engine,
            clock,
            alerts,
        }
    }

    /// Processes an event at its own time, moving the clock there.
    pub fn feed(&self, e: Event) {
        self.clock.set_ms(e.at_ms());
        self.sentinel.process_now(e);
    }

    /// Alerts broadcast since the last call.
    pub fn drain_alerts(&mut self) -> Vec<Alert> {
        let mut out = Vec::new();
        while let Ok(a) = self.alerts.try_recv() {
            out.push(a);
        }
        out
    }
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn browser() -> HeaderFacts {
    HeaderFacts {
        accept: true,
        accept_language: true,
        referer: true,
        sec_fetch: true,
        cookie: true,
    }
}

pub fn request(at: i64, source: IpAddr, path: &str, status: u16) -> RequestEvent {
    RequestEvent {
        at_ms: at,
        method: http::Method::GET,
        route: path.to_owned(),
        path: path.to_owned(),
        status,
        bytes_out: 1000,
        duration_ms: 5,
        source,
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0".to_owned()),
        headers: browser(),
        html: false,
        session: None,
        account: None,
        probes: Vec::new(),
    }
}

pub fn auth(at: i64, source: IpAddr, account: &str, outcome: AuthOutcome) -> Event {
    Event::Auth(AuthEvent {
        at_ms: at,
        source,
        account: account.to_owned(),
        outcome,
    })
}

pub fn read(at: i64, source: IpAddr, account: &str, subject: &str) -> Event {
    Event::ResourceRead(ResourceReadEvent {
        at_ms: at,
        source,
        account: account.to_owned(),
        token: None,
        subject: subject.to_owned(),
        bytes: 4_000,
    })
}

/// A small deterministic generator (tests must not depend on the OS's randomness).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The clinic's NAT address.
pub fn nat() -> IpAddr {
    ip("203.0.113.10")
}

/// One working day of a clinic behind one NAT address: 30 staff sign in (one in ten
/// mistypes a password first), browse pages with their assets, read about 20 records
/// each over the day (the front desk, `user0`, about 150), hit the odd 404. Events are
/// returned in time order.
pub fn clinic_day(day: i64, rng: &mut Lcg) -> Vec<Event> {
    let mut events: Vec<Event> = Vec::new();
    let start = T0 + day * DAY;
    for u in 0..30u64 {
        let account = format!("user{u}");
        let arrive = start + 8 * HOUR + rng.below(90) as i64 * MIN;
        if rng.below(10) == 0 {
            events.push(auth(arrive, nat(), &account, AuthOutcome::BadPassword));
        }
        events.push(auth(arrive + 20_000, nat(), &account, AuthOutcome::Success));
        let reads = if u == 0 {
            140 + rng.below(20)
        } else {
            15 + rng.below(10)
        };
        for _ in 0..reads {
            let at = arrive + 60_000 + rng.below(8 * 60) as i64 * MIN + rng.below(60_000) as i64;
            let subject = format!("subject-{}", rng.below(2_000));
            events.push(read(at, nat(), &account, &subject));
            let mut page = request(at - 500, nat(), "/records/{id}", 200);
            page.html = true;
            page.account = Some(account.clone());
            events.push(Event::Request(page));
            events.push(Event::Request(request(
                at - 300,
                nat(),
                "/static/app.js",
                200,
            )));
            if rng.below(40) == 0 {
                events.push(Event::Request(request(
                    at + 1_000,
                    nat(),
                    "/favicon.ico",
                    404,
                )));
            }
        }
    }
    events.sort_by_key(Event::at_ms);
    events
}
