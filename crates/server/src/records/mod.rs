//! Patient records (FHIR R4), sealed at rest under per-patient data keys, read and
//! written only as the one Policy allows, every read and change in the ledger.

pub mod access;
pub mod access_log;
pub mod bulk;
pub mod consults;
pub mod datatypes;
pub mod identifiers;
pub mod kinds;
pub mod resource;
pub mod service;
pub mod summary;
