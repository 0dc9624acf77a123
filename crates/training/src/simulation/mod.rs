//! Phishing simulations: lure templates, tracking tokens, events, and the rule for what
//! counts as a click.
//!
//! A campaign is a lure sent to a group of staff, as in GoPhish (template, landing page,
//! recipients). What differs is what is counted and what is never kept:
//! - a click counts only when a person interacted with the landing page
//!   ([`is_human_click`]), because mail scanners fetch every link and would otherwise
//!   make everyone look like a clicker;
//! - a submission records only that the form was sent, never what was typed;
//! - reporting is the headline event, and every landing page ends on [`disclosure`].

mod lures;
mod template;
mod token;

use serde::{Deserialize, Serialize};

pub use lures::{Lure, LureKind, disclosure, lure, lures};
pub use template::{
    MAX_BODY_CHARS, MAX_LANDING_CHARS, MAX_SUBJECT_CHARS, PLACEHOLDERS, render, validate_template,
};
pub use token::{TOKEN_BYTES, token, verify_token};

#[cfg(test)]
pub(crate) use template::forbidden_topic;
#[cfg(test)]
pub(crate) use token::hmac_sha256;

/// Something that happened to one recipient in one campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The lure was delivered to the recipient.
    Sent,
    /// The lure was displayed (tracking image). Mail scanners and privacy proxies fetch
    /// images too, so opens are indicative only and never a headline metric.
    Opened,
    /// Any request for the tracked link, scanner or person: kept for the raw count only.
    Fetched,
    /// A person followed the link: a fetch that [`is_human_click`] accepts.
    Clicked,
    /// The landing page's form was submitted. What was typed is never sent or stored.
    Submitted,
    /// The recipient reported the lure ("Report suspicious message").
    Reported,
}

impl Event {
    /// The stable lower-case name, for storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Sent => "sent",
            Event::Opened => "opened",
            Event::Fetched => "fetched",
            Event::Clicked => "clicked",
            Event::Submitted => "submitted",
            Event::Reported => "reported",
        }
    }

    /// The event with this [`Event::as_str`] name.
    pub fn parse(name: &str) -> Option<Event> {
        [
            Event::Sent,
            Event::Opened,
            Event::Fetched,
            Event::Clicked,
            Event::Submitted,
            Event::Reported,
        ]
        .into_iter()
        .find(|e| e.as_str() == name)
    }
}

/// What the server saw when the tracked link was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClickEvidence<'a> {
    /// The landing page's script posted its beacon, which it does only after a trusted
    /// pointer or keyboard event on the page (`event.isTrusted`), not on load.
    pub interaction_beacon: bool,
    /// Seconds from sending the lure to the beacon (or the fetch, without one).
    pub seconds_after_send: i64,
    /// The `User-Agent` of the request that posted the beacon.
    pub user_agent: &'a str,
}

/// Scanners that open links in a sandbox within moments of delivery; a person rarely
/// reads and clicks this fast.
pub const MIN_SECONDS_AFTER_SEND: i64 = 10;

/// User-agent fragments (lower case) of link scanners, previewers and scripts.
const AUTOMATED_AGENTS: &[&str] = &[
    "bot",
    "crawler",
    "spider",
    "headless",
    "phantomjs",
    "puppeteer",
    "playwright",
    "selenium",
    "python-",
    "curl/",
    "wget/",
    "go-http-client",
    "java/",
    "okhttp",
    "libwww",
    "httpclient",
    "scanner",
    "preview",
    "safelinks",
    "proofpoint",
    "mimecast",
    "barracuda",
    "microsoft office",
    "ms-office",
    "outlook-ios-linkpreview",
    "whatsapp",
    "facebookexternalhit",
];

/// Whether a use of the tracked link counts as a person clicking.
///
/// Only with the interaction beacon: e-mail security gateways (Microsoft Safe Links,
/// Proofpoint, Mimecast and others) fetch, and sometimes render, every link in every
/// message before the recipient sees it, so a bare GET proves nothing (GoPhish issues
/// 973, 2115, 2357 and others report whole campaigns "clicked" this way). Even with a
/// beacon, a request within [`MIN_SECONDS_AFTER_SEND`] of sending, or from a user agent
/// that names an automated client, is not counted. Missing a rare real click is better
/// than telling a colleague they clicked when they did not.
pub fn is_human_click(evidence: &ClickEvidence<'_>) -> bool {
    if !evidence.interaction_beacon || evidence.seconds_after_send < MIN_SECONDS_AFTER_SEND {
        return false;
    }
    let agent = evidence.user_agent.trim().to_ascii_lowercase();
    !agent.is_empty() && !AUTOMATED_AGENTS.iter().any(|a| agent.contains(a))
}
