//! Application state: everything a handler may use, passed explicitly (no globals), so
//! two servers with different configurations can run side by side in one test.

use std::ops::Deref;
use std::sync::Arc;

use clock::SharedClock;
use ledger::LedgerHandle;
use store::Db;

use store::keyring::Keyring;

use crate::config::Config;
use crate::identity::passkeys::Passkeys;
use crate::identity::password::Passwords;
use crate::identity::session::CookieSettings;
use crate::identity::throttle::SignInThrottles;
use crate::mail::Mailer;
use crate::metrics::Metrics;

#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub config: Config,
    pub db: Db,
    pub ledger: LedgerHandle,
    pub clock: SharedClock,
    pub metrics: Metrics,
    pub passwords: Passwords,
    /// `scheme://host[:port]` people reach us at; same-origin checks compare with it.
    pub origin: String,
    pub cookies: CookieSettings,
    pub passkeys: Passkeys,
    /// Seals secrets kept in the database (TOTP secrets).
    pub keyring: Keyring,
    pub mailer: Mailer,
    pub throttles: SignInThrottles,
    /// Open consult rooms and waiting-room watchers.
    pub rooms: crate::consult::room::Rooms,
    /// Watches traffic and security events; answers "how risky is this?".
    pub sentinel: sentinel::Sentinel,
    /// Staff who have passed every lesson of their set once: they may open patient
    /// records. Remembered here so a record read does not ask the database again.
    pub training_cleared: std::sync::Mutex<std::collections::HashSet<String>>,
    /// One run of the automated checks at a time (a scheduled run and an officer's
    /// "run now" would otherwise race for the next run number).
    pub assurance_run: tokio::sync::Mutex<()>,
    /// Fan-out of delivered messages to connected devices.
    pub messaging: crate::messaging::hub::Hub,
}

impl AppState {
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
