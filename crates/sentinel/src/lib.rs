//! The sentinel: watches the traffic of an axum service and defends it.
//!
//! It knows nothing of the application it guards. The application feeds it events
//! (requests through the [tower layer](layer), and domain events such as a failed
//! sign-in or a resource read through [`Sentinel::record`]) and asks it for the risk of
//! a source, account or session before a sensitive action ([`Sentinel::assess`]).
//!
//! ```text
//! request ─▶ layer: gate (403/429) ─▶ admission (503) ─▶ inspect ─▶ app ─▶ record(event)
//!                                                                            │ bounded queue
//! app: record(Auth | ResourceRead | Export | SocketMessages | SlowRequest) ──┤
//!                                                                            ▼
//!                   engine: tables + sketch ─▶ detectors ─▶ model ─▶ risk ─▶ verdicts, alerts
//! ```
//!
//! - [`event`]: what it watches; [`engine`]: the handle and the task;
//! - [`table`], [`sketch`], [`window`], [`state`]: bounded memory;
//! - [`detect`]: the rules; [`model`]: the anomaly model;
//! - [`risk`]: from risk to response; [`alert`], [`health`]: what people see;
//! - [`layer`]: the tower layer; [`inspect`]: the probe inspector.

pub mod alert;
pub mod config;
mod core;
pub mod detect;
pub mod engine;
pub mod event;
pub mod health;
pub mod inspect;
pub mod layer;
pub mod model;
pub mod risk;
pub mod sketch;
pub mod state;
pub mod table;
pub mod window;

pub use alert::Alert;
pub use config::{Config, IpPrefix};
pub use detect::{Detector, Finding, Scope, Severity};
pub use engine::{Engine, Sentinel};
pub use event::{
    AuthEvent, AuthOutcome, Event, ExportEvent, HeaderFacts, ProbeHit, RequestEvent,
    ResourceReadEvent, SessionKey, SlowRequestEvent, SocketMessagesEvent,
};
pub use health::{Dashboard, Health};
pub use layer::{IdentitySlot, Refusal, SentinelLayer, SentinelService};
pub use risk::{Action, Assessment, Block, Subject};
