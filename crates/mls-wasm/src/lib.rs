//! WebAssembly bindings for [`mls_client`], for the browser.
//!
//! Build: `cargo build --target wasm32-unknown-unknown -p mls-wasm --release`, then run
//! `wasm-bindgen` (CLI version 0.2.130, the same as the exact pin in the workspace
//! Cargo.toml) on the `.wasm` to get the JS glue.
//!
//! The JS API is the `WasmDevice` class plus `sealAttachment`, `openAttachment` and
//! `safetyNumber`. Bytes are `Uint8Array`; structured results (processed messages,
//! members) are JSON strings, built by the plain-Rust functions in [`json`] so that they
//! are tested natively. The bindings themselves exist only on `wasm32`, so native
//! `cargo test`/`clippy` over the workspace do not build wasm-bindgen.

pub mod json;

#[cfg(target_arch = "wasm32")]
mod bindings;

#[cfg(target_arch = "wasm32")]
pub use bindings::*;
