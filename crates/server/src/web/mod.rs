//! The web UI: server-rendered pages (askama templates checked at compile time), one
//! stylesheet and small ES modules, all served from the binary. No CDN, no inline
//! script or style.

pub mod assets;
pub mod forms;
pub mod pages;
pub mod templates;
