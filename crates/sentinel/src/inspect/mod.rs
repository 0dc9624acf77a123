//! Probe inspection: injection strings, scanner user agents and sensitive paths in a
//! request's parts.
