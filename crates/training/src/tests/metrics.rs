use crate::{
    RecipientOutcome, Status, campaign_metrics, completion_rate, median_ms, proportion,
    repeat_clickers,
};

fn round3(x: Option<f64>) -> f64 {
    (x.unwrap() * 1000.0).round() / 1000.0
}

#[test]
fn wilson_interval_known_values() {
    let r = proportion(0, 10);
    assert_eq!((r.n, r.count, r.value), (10, 0, Some(0.0)));
    assert_eq!((round3(r.ci_low), round3(r.ci_high)), (0.0, 0.278));
    assert!((r.ci_high.unwrap() - 0.2775).abs() < 1e-4);

    let r = proportion(5, 10);
    assert_eq!((round3(r.ci_low), round3(r.ci_high)), (0.237, 0.763));
    assert!((r.ci_low.unwrap() - 0.2366).abs() < 1e-4);
    assert!((r.ci_high.unwrap() - 0.7634).abs() < 1e-4);

    let r = proportion(10, 10);
    assert_eq!((round3(r.ci_low), r.ci_high), (0.722, Some(1.0)));

    // 1 of 20: Wilson [0.0089, 0.2361].
    let r = proportion(1, 20);
    assert!((r.ci_low.unwrap() - 0.0089).abs() < 1e-4);
    assert!((r.ci_high.unwrap() - 0.2361).abs() < 1e-4);
}

#[test]
fn empty_sample_has_no_estimate() {
    let r = proportion(0, 0);
    assert_eq!(
        (r.n, r.count, r.value, r.ci_low, r.ci_high),
        (0, 0, None, None, None)
    );
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(
        json,
        r#"{"n":0,"count":0,"value":null,"ci_low":null,"ci_high":null}"#
    );
    assert_eq!(proportion(5, 0).count, 0);
    assert_eq!(proportion(12, 10).count, 10);
}

#[test]
fn median_of_odd_and_even_counts() {
    assert_eq!(median_ms(&mut []), None);
    assert_eq!(median_ms(&mut [5]), Some(5));
    assert_eq!(median_ms(&mut [9, 1, 5]), Some(5));
    assert_eq!(median_ms(&mut [4, 1, 3, 2]), Some(2)); // (2 + 3) / 2, rounded down
    assert_eq!(median_ms(&mut [10, 20]), Some(15));
    assert_eq!(median_ms(&mut [i64::MAX, i64::MAX]), Some(i64::MAX));
    assert_eq!(median_ms(&mut [-3, -2]), Some(-3));
}

#[test]
fn campaign_metrics_from_outcomes() {
    let sent = 1_000_000;
    let o =
        |clicked: Option<i64>, submitted: Option<i64>, reported: Option<i64>| RecipientOutcome {
            sent_ms: Some(sent),
            opened_ms: None,
            clicked_ms: clicked.map(|d| sent + d),
            submitted_ms: submitted.map(|d| sent + d),
            reported_ms: reported.map(|d| sent + d),
        };
    let outcomes = [
        o(None, None, Some(60_000)),
        o(None, None, Some(180_000)),
        o(Some(1_000), None, Some(120_000)), // clicked, then reported
        o(Some(5_000), Some(9_000), None),
        o(None, None, None),
        RecipientOutcome::default(), // never sent: left out
    ];
    let m = campaign_metrics(&outcomes);
    assert_eq!((m.report_rate.n, m.report_rate.count), (5, 3));
    assert_eq!(m.median_time_to_report_ms, Some(120_000));
    assert_eq!(m.report_before_click_rate.count, 2);
    assert_eq!(m.click_rate.count, 2);
    assert_eq!(m.submission_rate.count, 1);

    let empty = campaign_metrics(&[]);
    assert_eq!(empty.report_rate.value, None);
    assert_eq!(empty.median_time_to_report_ms, None);
}

#[test]
fn repeat_clickers_clicked_in_two_campaigns() {
    let history = [
        ("ana", "c1", true),
        ("ana", "c2", true),
        ("bob", "c1", true),
        ("bob", "c1", true), // same campaign twice counts once
        ("bob", "c2", false),
        ("cat", "c3", true),
        ("cat", "c1", true),
        ("dan", "c1", false),
    ];
    assert_eq!(repeat_clickers(&history), vec!["ana", "cat"]);
    let ids: [(u64, u32, bool); 2] = [(7, 1, true), (7, 2, true)];
    assert_eq!(repeat_clickers(&ids), vec![7]);
}

#[test]
fn completion_rate_counts_complete_staff() {
    let status = |complete| Status {
        complete,
        cleared: true,
        due_ms: 0,
        overdue_days: 0,
        missing: vec![],
        outdated: vec![],
    };
    let r = completion_rate(&[status(true), status(false), status(true), status(true)]);
    assert_eq!((r.n, r.count, r.value), (4, 3, Some(0.75)));
    assert_eq!(completion_rate(&[]).value, None);
}
