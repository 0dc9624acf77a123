//! Security training as staff and patients take it: lessons with quizzes and versioned
//! policy acknowledgements, staff assignment with escalating reminders and the gate
//! before a first access to patient data (`learning`); phishing simulations and
//! "report suspicious" (`simulation`); the figures that measure both (`metrics`). The
//! content and rules live in the `training` crate.

pub mod learning;
pub mod simulation;
