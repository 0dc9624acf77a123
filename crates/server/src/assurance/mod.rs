//! Continuous risk assessment, as the security officer runs it: the automated checks
//! (`observe` gathers the facts, `checks` runs and records them, on a schedule and on
//! demand), the guided questionnaire (`answers`), the risk register (`register`), the
//! review cycle (`reviews`), incidents and breaches (`incidents`), and the reports and
//! evidence pack (`reports`). The rules live in the `assurance`, `breach` and `reports`
//! crates; this module gathers facts, stores, audits and authorises.

pub mod answers;
pub mod checks;
pub mod incidents;
pub mod observe;
pub mod pack;
pub mod register;
pub mod reports;
pub mod reviews;

use crate::audit::Actor;
use crate::identity::session::CurrentUser;

fn actor(who: &CurrentUser) -> Actor {
    Actor::User(who.user.id.clone())
}
