//! What the security officer does by hand: block or unblock an address, release an
//! account the sentinel held. Each is allowed to the security officer only and written
//! to the ledger.

use std::net::IpAddr;
use std::time::Duration;

use ledger::Outcome;
use proto::ErrorCode;

use crate::admin::require;
use crate::audit::{Actor, entry};
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::session::CurrentUser;
use crate::policy::{Action, Target};
use crate::state::AppState;

/// Longest block set by hand: a week (a longer one belongs in the firewall).
const MAX_BLOCK_MINUTES: u64 = 7 * 24 * 60;

fn parse_source(text: &str) -> AppResult<IpAddr> {
    text.trim().parse().map_err(|_| {
        AppError::client(
            ErrorCode::InvalidInput,
            "That is not an IP address (e.g. 203.0.113.7 or 2001:db8::7).",
        )
    })
}

fn actor(who: &CurrentUser) -> Actor {
    Actor::User(who.user.id.clone())
}

/// Blocks `source` for `minutes`, for `reason`.
pub async fn block(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    source: &str,
    minutes: u64,
    reason: &str,
) -> AppResult<IpAddr> {
    require(who, Action::RespondToAlerts, Target::Practice)?;
    let ip = parse_source(source)?;
    if !(1..=MAX_BLOCK_MINUTES).contains(&minutes) {
        return Err(AppError::client(
            ErrorCode::InvalidInput,
            "Block for between 1 minute and 7 days (10,080 minutes).",
        ));
    }
    let reason = reason.split_whitespace().collect::<Vec<_>>().join(" ");
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(AppError::client(
            ErrorCode::InvalidInput,
            "Say why, in up to 200 characters.",
        ));
    }
    if ip == meta.client_ip {
        return Err(AppError::client(
            ErrorCode::InvalidInput,
            "That is the address you are using now: blocking it would lock you out.",
        ));
    }
    let e = entry(
        meta,
        &actor(who),
        "security.block",
        &format!("source:{ip}"),
        Outcome::Success,
    )
    .detail("minutes", minutes)
    .detail("reason", reason.clone());
    state.audit(e).await?;
    state
        .sentinel
        .block(ip, Duration::from_secs(minutes * 60), &reason);
    Ok(ip)
}

/// Lifts a block on `source`.
pub async fn unblock(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    source: &str,
) -> AppResult<IpAddr> {
    require(who, Action::RespondToAlerts, Target::Practice)?;
    let ip = parse_source(source)?;
    if !state.sentinel.is_blocked(ip) {
        return Err(AppError::client(
            ErrorCode::NotFound,
            "That address is not blocked.",
        ));
    }
    let e = entry(
        meta,
        &actor(who),
        "security.unblock",
        &format!("source:{ip}"),
        Outcome::Success,
    );
    state.audit(e).await?;
    state.sentinel.unblock(ip);
    Ok(ip)
}

/// Releases an account the sentinel held for review; its owner signs in again.
pub async fn release(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    account: &str,
) -> AppResult<()> {
    require(who, Action::RespondToAlerts, Target::Practice)?;
    if !state.sentinel.is_held(account) {
        return Err(AppError::client(
            ErrorCode::NotFound,
            "That account is not held.",
        ));
    }
    let e = entry(
        meta,
        &actor(who),
        "security.release",
        &format!("user:{account}"),
        Outcome::Success,
    );
    state.audit(e).await?;
    state.sentinel.release_account(account);
    Ok(())
}
