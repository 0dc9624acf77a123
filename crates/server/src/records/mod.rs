//! Patient records (FHIR R4), sealed at rest under per-patient data keys, read and
//! written only as the one Policy allows, every read and change in the ledger.

pub mod identifiers;
pub mod resource;
pub mod service;
