//! Bounded memory and the never-blocking queue.
#![allow(clippy::unwrap_used)] // Test helpers fail loudly on purpose.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::*;
use sentinel::{Config, Detector, Event, ProbeHit, Severity};

#[test]
fn a_million_distinct_sources_stay_within_the_cap() {
    let cfg = Config::default();
    let cap = cfg.max_sources;
    let rig = Rig::new(cfg);
    for i in 0..1_000_000u32 {
        let source = IpAddr::V4(Ipv4Addr::from(0x0A00_0000 + i));
        let mut e = request(T0 + i64::from(i) * 10, source, "/", 404);
        // One in ten carries a (weak) probe and so gets an exact entry at once: 100 000
        // admissions for 50 000 places exercise eviction.
        if i % 10 == 0 {
            e.probes.push(ProbeHit {
                family: "scanner".into(),
                rule: "weak".into(),
                location: "header".into(),
                evidence: String::new(),
                severity: Severity::Low,
            });
        }
        rig.sentinel.process_now(Event::Request(e));
    }
    let h = rig.sentinel.health();
    assert_eq!(h.processed_events, 1_000_000);
    assert_eq!(h.tracked_sources, cap, "{h:?}");
    assert!(h.evictions >= 50_000, "{h:?}");
    // The fixed bound: 64 MiB for the whole engine at the default caps.
    assert!(h.memory_bytes < 64 << 20, "{} bytes", h.memory_bytes);
    // Per tracked source (table slot, counters, reasons), about a kilobyte.
    let per_source = h.memory_bytes / h.tracked_sources;
    eprintln!(
        "memory {} bytes, {per_source} per tracked source",
        h.memory_bytes
    );
    assert!(per_source < 1_536, "{per_source} bytes per source");
}

#[test]
fn a_full_queue_drops_counts_and_alerts_once_a_minute() {
    let mut rig = Rig::new(Config {
        queue_capacity: 4,
        ..Config::default()
    });
    let source = ip("192.0.2.1");
    for i in 0..10 {
        rig.sentinel
            .record(Event::Request(request(T0 + i, source, "/", 200)));
    }
    let h = rig.sentinel.health();
    assert_eq!((h.queue_depth, h.dropped_events), (4, 6));
    let alerts = rig.drain_alerts();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].kind, Detector::QueueOverflow);
    // More drops within the minute: counted, no new alert.
    for i in 0..10 {
        rig.sentinel
            .record(Event::Request(request(T0 + i, source, "/", 200)));
    }
    assert_eq!(rig.sentinel.health().dropped_events, 16);
    assert!(rig.drain_alerts().is_empty());
    rig.clock.advance_ms(61_000);
    rig.sentinel
        .record(Event::Request(request(T0 + 61_000, source, "/", 200)));
    assert_eq!(rig.drain_alerts().len(), 1);
    // The engine digests what was queued.
    assert_eq!(rig.engine.process_pending(), 4);
    assert_eq!(rig.sentinel.health().queue_depth, 0);
}
