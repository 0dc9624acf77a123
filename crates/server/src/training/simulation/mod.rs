//! Phishing simulations, opt-in by the practice and for staff only, and "report
//! suspicious" for everyone.
//!
//! - `campaigns`: the practice's switch, creating a campaign from a built-in lure or a
//!   checked custom template, and sending it now or when it is due (a background loop).
//! - `tracking`: the tracked link and what it records. A fetch of the link is only
//!   "fetched" (mail scanners fetch every link); a click needs the landing page's
//!   interaction beacon; a submission records that it happened and nothing typed.
//! - `report`: "report suspicious" from a mail or an in-app notice. A report of a
//!   simulation is its success; any other report is a security alert.
//! - `figures`: report rate and time to report first, every rate with n and a 95% interval.
//!
//! The rules (lures, template checks, tokens, the click rule, metrics) are the
//! `training` crate's; this module stores, audits and authorises.

pub mod campaigns;
pub mod figures;
pub mod report;
pub mod tracking;

use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The key the link tokens are made with: derived from the master key (so it is per
/// install, survives restarts and is never stored in the database), and kept apart from
/// every other use of that key by its own label.
pub fn link_secret(state: &AppState) -> AppResult<[u8; 32]> {
    let derived = state
        .keyring
        .blind_index("training.simulation", "link-token-secret/v1");
    let bytes =
        hex::decode(derived).map_err(|_| AppError::internal("simulation link key: not hex"))?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| AppError::internal("simulation link key: wrong length"))
}

/// Only lower-case hex ids and tokens are ever looked up or echoed: anything else in a
/// link is refused before it reaches the database.
pub fn is_hex_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}
