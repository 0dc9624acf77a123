//! Liveness and readiness.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use ledger::LedgerStore;
use proto::{Health, Readiness, ReadinessCheck};

use crate::state::AppState;

/// `/healthz`: the process answers.
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// `/readyz`: the database answers, its schema is current, and the audit ledger's head
/// was verified at start and can still be appended to.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let readiness = check(&state).await;
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(readiness)).into_response()
}

pub async fn check(state: &AppState) -> Readiness {
    let mut checks = Vec::new();
    let db = state.db.ping().await;
    checks.push(ReadinessCheck {
        name: "database".into(),
        ok: db.is_ok(),
        detail: match &db {
            Ok(()) => format!("{} reachable", state.db.backend().as_str()),
            Err(_) => "not reachable".into(),
        },
    });
    let migrations = state.db.migration_status().await;
    checks.push(ReadinessCheck {
        name: "migrations".into(),
        ok: migrations.as_ref().is_ok_and(|m| m.is_current()),
        detail: match migrations {
            Ok(m) => format!("{} of {} applied", m.applied, m.expected),
            Err(_) => "unknown".into(),
        },
    });
    let stats = state.ledger.stats();
    // The stored log must still be readable: without it every audited action fails.
    let readable = state.db.last_entry().await.is_ok();
    let ledger_ok = !state.ledger.is_closed() && !stats.poisoned && readable;
    checks.push(ReadinessCheck {
        name: "ledger".into(),
        ok: ledger_ok,
        detail: if ledger_ok {
            format!(
                "head verified at start; {} entries, {} covered by a signed tree head",
                stats.tree_size, stats.checkpointed_size
            )
        } else if stats.poisoned {
            "the stored log no longer matches this writer; run `telewarden audit verify`".into()
        } else if !readable {
            "the stored log cannot be read".into()
        } else {
            "closed".into()
        },
    });
    Readiness {
        ready: checks.iter().all(|c| c.ok),
        checks,
    }
}
