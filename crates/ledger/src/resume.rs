//! Resuming at start: trust nothing the store says without rechecking it.

use ed25519_dalek::VerifyingKey;

use crate::merkle::Frontier;
use crate::verify::check_row;
use crate::{GENESIS_CHAIN, Hash, LedgerError, LedgerStore, SignedTreeHead};

/// Entries read per store call while resuming.
const RESUME_PAGE: u32 = 10_000;

/// The writer state rebuilt from the store.
pub(crate) struct Resumed {
    pub(crate) frontier: Frontier,
    pub(crate) last_chain: Hash,
    pub(crate) last_time_ms: i64,
    pub(crate) latest: Option<SignedTreeHead>,
    pub(crate) checkpointed_size: u64,
}

/// Rebuilds the writer's state from the latest checkpoint plus the entries after it.
pub(crate) async fn resume<S: LedgerStore>(
    store: &S,
    key: &VerifyingKey,
) -> Result<Resumed, LedgerError> {
    let mut state = Resumed {
        frontier: Frontier::new(),
        last_chain: GENESIS_CHAIN,
        last_time_ms: i64::MIN,
        latest: None,
        checkpointed_size: 0,
    };
    if let Some(cp) = store.latest_checkpoint().await? {
        let size = cp.sth.head.size;
        cp.sth.verify(key).map_err(|e| {
            LedgerError::tampered(
                size,
                format!("latest checkpoint: {e} (forged, or was the key file replaced?)"),
            )
        })?;
        state.frontier = cp.frontier()?;
        if size > 0 {
            let row = store.entries(size, 1).await?.into_iter().next();
            let Some(row) = row.filter(|r| r.seq == size) else {
                let first_missing = match store.last_entry().await? {
                    Some(last) if last.seq < size => last.seq + 1,
                    Some(_) => size,
                    None => 1,
                };
                return Err(LedgerError::tampered(
                    first_missing,
                    format!(
                        "truncated: the latest checkpoint covers {size} entries but entry \
                         {first_missing} is missing"
                    ),
                ));
            };
            let leaf = row.compute_leaf_hash();
            let odd_leaf_ok = size % 2 == 0 || state.frontier.hashes().last() == Some(&leaf);
            if leaf != row.leaf_hash || !odd_leaf_ok {
                return Err(LedgerError::tampered(
                    size,
                    "the last checkpointed entry was modified",
                ));
            }
            state.last_chain = row.chain_hash;
            state.last_time_ms = row.time_ms;
        }
        state.checkpointed_size = size;
        state.latest = Some(cp.sth);
    }
    loop {
        let next = state.frontier.size() + 1;
        let page = store.entries(next, RESUME_PAGE).await?;
        if page.is_empty() {
            break;
        }
        for row in &page {
            check_row(row, state.frontier.size() + 1, &state.last_chain)?;
            state.frontier.push(row.leaf_hash);
            state.last_chain = row.chain_hash;
            state.last_time_ms = row.time_ms;
        }
    }
    Ok(state)
}
