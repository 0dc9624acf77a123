//! The web UI: server-rendered pages (askama templates checked at compile time), one
//! stylesheet and small ES modules, all served from the binary. No CDN, no inline
//! script or style. One module per area; handlers are thin (parse, call the domain
//! function, render).

pub mod account;
pub mod assets;
pub mod assurance;
pub mod consult;
pub mod enrol;
pub mod fhir;
pub mod forms;
pub mod incidents;
pub mod messaging;
pub mod openapi;
pub mod pages;
pub mod people;
pub mod phishing;
pub mod records;
pub mod reports;
pub mod risks;
pub mod security;
pub mod signin;
pub mod templates;
pub mod training;
