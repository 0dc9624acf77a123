//! Dependency advisories (being written).
