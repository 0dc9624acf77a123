//! The sentinel: watches the traffic of an axum service and defends it.
//!
//! It knows nothing of the application it guards. The application feeds it events
//! (requests through the [tower layer](layer), and domain events such as a failed
//! sign-in or a record read through [`Sentinel::record`]) and asks it for the risk of
//! a source, account or session before a sensitive action.

pub mod inspect;
