//! Phishing simulations and "report suspicious" (being written).
