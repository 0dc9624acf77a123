//! `telewarden serve`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clock::SystemClock;

use crate::cli::ServeArgs;
use crate::{logging, settings};

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = settings::load(&args.common, &args.overrides())?;
    logging::init(&config);
    let tls = config.tls_enabled();
    let running = server::start(config, Arc::new(SystemClock))
        .await
        .context("Telewarden could not start")?;
    // Listen for SIGTERM and Ctrl-C before telling anyone we are up: a stop asked for
    // right after the banner must still be a clean one.
    let stop = wait_for_signal();
    banner(&running, tls);
    stop.await;
    eprintln!("Stopping: finishing requests in progress and sealing the audit ledger…");
    running.shutdown().await.context("shutdown")?;
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::print_stdout)] // The banner is for the operator's console.
fn banner(running: &server::Running, tls: bool) {
    println!("Telewarden is listening on {}/", running.origin);
    if let Some(addr) = running.metrics_addr {
        println!("Metrics (Prometheus) on http://{addr}/metrics");
    }
    if let Some(addr) = running.redirect_addr {
        println!("Redirecting plain HTTP on {addr} to HTTPS");
    } else if tls {
        println!("{NO_REDIRECT}");
    }
    println!("Audit ledger public key: {}", running.ledger_public_key);
    if let Some(link) = &running.setup_link {
        let expires = running
            .setup_link_expires_ms
            .map(clock::rfc3339_ms)
            .unwrap_or_default();
        println!();
        println!(
            "First run: open this one-time setup link to name the practice and create the first administrator."
        );
        println!("It works once and expires at {expires}:");
        println!();
        println!("    {link}");
        println!();
    }
    println!("Ready. Press Ctrl+C to stop.");
}

/// Said when Telewarden serves TLS itself but has no plain-HTTP listener: a browser
/// sent to `http://` finds nothing (HSTS helps only after a first HTTPS visit).
pub const NO_REDIRECT: &str = "Plain HTTP is not redirected to HTTPS: set redirect_listen \
     (--redirect-listen or TW_REDIRECT_LISTEN, e.g. 0.0.0.0:80) to redirect it.";

/// Registers the handlers now (when called) and returns a future that ends on the first
/// signal.
fn wait_for_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let interrupt = tokio::spawn(tokio::signal::ctrl_c());
    async move {
        #[cfg(unix)]
        if let Some(mut term) = term {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt => {}
            }
            return;
        }
        let _ = interrupt.await;
    }
}
