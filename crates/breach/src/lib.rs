//! Incident and breach response (being written).
