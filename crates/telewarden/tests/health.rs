//! `telewarden health` against the real binary: the running server's security health
//! through its control socket (text and JSON, and an exit status a monitor can use),
//! and a clear answer when no server runs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ServeProcess, run, text};

#[tokio::test]
async fn health_reports_the_running_server_and_says_when_none_runs() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--listen", "127.0.0.1:0", "--metrics-listen", "off"];
    let server = ServeProcess::start(dir.path(), &args, &[]).await;

    let out = run(dir.path(), &["health"]).await;
    let said = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said}{}", text(&out.stderr));
    assert!(said.contains("security health: ok"), "{said}");
    assert!(said.contains("sentinel: enforce"), "{said}");
    assert!(said.contains("alerts: 0 open"), "{said}");

    let out = run(dir.path(), &["health", "--json"]).await;
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "ok");
    assert_eq!(report["sentinel_mode"], "enforce");
    assert!(report["sentinel"]["queue_capacity"].as_u64().unwrap() > 0);
    assert_eq!(report["sentinel"]["dropped_events"], 0);

    assert_eq!(server.terminate().await.0, 0);
    let out = run(dir.path(), &["health"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("No Telewarden server is running"),
        "{}",
        text(&out.stderr)
    );
}
