//! Telewarden's web application.
//!
//! [`start`] prepares everything a running server needs — data directory, listeners,
//! TLS, database, audit ledger — and serves until [`Running::shutdown`]. The binary
//! crate only loads configuration and waits for a signal; tests start servers the same
//! way, side by side, on ephemeral ports.

mod admin;
mod app;
mod assurance;
mod audit;
pub mod config;
mod consult;
pub mod control;
mod error;
pub mod fhir;
mod health;
mod http;
mod identity;
mod listen;
mod mail;
mod messaging;
mod metrics;
mod policy;
pub mod records;
mod security;
mod setup;
mod startup;
mod state;
mod tls;
mod training;
mod web;

pub use config::{Config, ConfigError, LogFormat, LogLevel, Secret, SentinelMode, VerifyOnStart};
pub use error::{AppError, Fault};
pub use startup::{Running, StartError, start};
