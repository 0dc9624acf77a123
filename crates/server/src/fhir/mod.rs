//! FHIR R4 representations.

pub mod audit_event;
