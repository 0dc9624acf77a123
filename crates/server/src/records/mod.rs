//! Patient records (FHIR R4): identifiers first; resources, envelope encryption and
//! access policy follow (see the records issue).

pub mod identifiers;
