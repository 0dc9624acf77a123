//! Security alerts on SQLite and PostgreSQL: repeats fold into one row, states only move
//! forward, and a resolved alert lets the next sighting open a new one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use store::alerts::{AlertRow, AlertState, Raised};
use store::testing;

fn alert(id: &str, key: &str, severity: &str, at: i64) -> AlertRow {
    AlertRow {
        id: id.into(),
        dedupe_key: key.into(),
        kind: "credential_stuffing".into(),
        severity: severity.into(),
        subject_kind: "source".into(),
        subject: "127.0.0.9".into(),
        summary: format!("failures at {at}"),
        evidence: r#"{"failures":40}"#.into(),
        score: 0.75,
        state: AlertState::Open,
        first_ms: at,
        last_ms: at,
        count: 1,
        acknowledged: None,
        resolved: None,
        note: None,
    }
}

#[tokio::test]
async fn repeats_fold_and_states_move_forward() {
    for t in testing::backends().await {
        let db = &t.db;
        assert_eq!(
            db.raise_alert(&alert("a1", "stuffing:127.0.0.9", "high", 100))
                .await
                .unwrap(),
            Raised::New
        );
        // The same attack again, less severe: one row, count 2, latest summary, worst severity.
        assert_eq!(
            db.raise_alert(&alert("a2", "stuffing:127.0.0.9", "medium", 200))
                .await
                .unwrap(),
            Raised::Repeated
        );
        assert!(db.alert("a2").await.unwrap().is_none(), "{:?}", t.backend());
        let a = db.alert("a1").await.unwrap().unwrap();
        assert_eq!((a.count, a.first_ms, a.last_ms), (2, 100, 200));
        assert_eq!(a.severity, "high");
        assert_eq!(a.summary, "failures at 200");
        assert!((a.score - 0.75).abs() < 1e-9);
        // Another key is another alert.
        db.raise_alert(&alert("b1", "scanner:127.0.0.9", "low", 150))
            .await
            .unwrap();
        assert_eq!(db.unresolved_alert_counts().await.unwrap(), (2, 0));

        assert!(
            db.set_alert_state("a1", AlertState::Acknowledged, "so-1", Some("looking"), 300)
                .await
                .unwrap()
        );
        // Not twice, and never back to open.
        assert!(
            !db.set_alert_state("a1", AlertState::Acknowledged, "so-1", None, 301)
                .await
                .unwrap()
        );
        assert!(
            !db.set_alert_state("a1", AlertState::Open, "so-1", None, 302)
                .await
                .unwrap()
        );
        assert!(
            !db.set_alert_state("nope", AlertState::Resolved, "so-1", None, 302)
                .await
                .unwrap()
        );
        assert_eq!(db.unresolved_alert_counts().await.unwrap(), (1, 1));
        let listed = db.alerts(false, 10).await.unwrap();
        assert_eq!(
            listed.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
            ["b1", "a1"],
            "open first"
        );
        assert!(
            db.set_alert_state("a1", AlertState::Resolved, "so-1", Some("blocked"), 400)
                .await
                .unwrap()
        );
        let a = db.alert("a1").await.unwrap().unwrap();
        assert_eq!(a.state, AlertState::Resolved);
        assert_eq!(a.acknowledged, Some(("so-1".into(), 300)));
        assert_eq!(a.resolved, Some(("so-1".into(), 400)));
        assert_eq!(a.note.as_deref(), Some("blocked"));
        // After resolution the same attack opens a new alert.
        assert_eq!(
            db.raise_alert(&alert("a3", "stuffing:127.0.0.9", "high", 500))
                .await
                .unwrap(),
            Raised::New
        );
        assert_eq!(db.alerts(false, 10).await.unwrap().len(), 2);
        assert_eq!(db.alerts(true, 10).await.unwrap().len(), 3);
    }
}
