//! Writing to the audit ledger from request handlers.
//!
//! The ledger is write-ahead: an action's entry is appended — and the append awaited —
//! before the action's effect is committed, so an action whose audit write fails does
//! not happen (the caller gets `audit-unavailable`). If the effect itself then fails, a
//! second entry records that, so the log never claims an effect silently.

use std::future::Future;

use ledger::{NewEntry, Outcome, Receipt};

use crate::error::AppResult;
use crate::http::meta::RequestMeta;
use crate::state::AppState;

/// Who did something, as the ledger names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The server itself (start, stop, configuration).
    System,
    /// Someone not signed in.
    Anonymous,
    /// A signed-in account.
    User(String),
}

impl Actor {
    pub fn as_ledger_name(&self) -> String {
        match self {
            Actor::System => "system".into(),
            Actor::Anonymous => "anonymous".into(),
            Actor::User(id) => format!("user:{id}"),
        }
    }
}

/// An entry about to be written for a request.
pub fn entry(
    meta: &RequestMeta,
    actor: &Actor,
    action: &str,
    target: &str,
    outcome: Outcome,
) -> NewEntry {
    NewEntry::new(actor.as_ledger_name(), action, target, outcome)
        .source(meta.client_ip.to_string())
        .request_id(meta.request_id.clone())
}

impl AppState {
    /// Appends `entry` and waits until it is durable.
    pub async fn audit(&self, entry: NewEntry) -> AppResult<Receipt> {
        Ok(self.ledger.append(entry).await?)
    }

    /// Records `entry`, then runs `effect`. If the effect fails, a follow-up entry with
    /// outcome `failure` points back at the first, and the effect's error is returned.
    pub async fn audited<T, F>(&self, entry: NewEntry, effect: F) -> AppResult<T>
    where
        F: Future<Output = AppResult<T>>,
    {
        let follow_up = NewEntry::new(
            entry.actor.clone(),
            entry.action.clone(),
            entry.target.clone(),
            Outcome::Failure,
        )
        .source(entry.source.clone())
        .request_id(entry.request_id.clone());
        let receipt = self.audit(entry).await?;
        match effect.await {
            Ok(v) => Ok(v),
            Err(e) => {
                let follow_up = follow_up
                    .detail("supersedes_seq", receipt.seq)
                    .detail("error", e.code.as_str());
                if let Err(audit_err) = self.ledger.append(follow_up).await {
                    tracing::error!(error = %audit_err, seq = receipt.seq, "could not record a failed effect");
                }
                Err(e)
            }
        }
    }
}
