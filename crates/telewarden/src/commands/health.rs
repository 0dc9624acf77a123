//! `telewarden health`: the running server's security health, asked through its
//! control socket.

use std::process::ExitCode;

use anyhow::Context;

use crate::cli::{FlagOverrides, HealthArgs};
use crate::settings;

#[allow(clippy::print_stdout)] // The command's answer.
pub async fn run(args: HealthArgs) -> anyhow::Result<ExitCode> {
    let config = settings::load(
        &args.common,
        &FlagOverrides {
            data_dir: args.common.data_dir.clone(),
            ..FlagOverrides::default()
        },
    )?;
    let socket = server::control::socket_path(&config.data_dir);
    let Ok(stream) = tokio::net::UnixStream::connect(&socket).await else {
        eprintln!(
            "No Telewarden server is running with data directory {} (nothing answers on {}).",
            config.data_dir.display(),
            socket.display()
        );
        return Ok(ExitCode::from(2));
    };
    let answer = super::keys::ask(stream, "/health").await?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&answer["report"]).context("JSON")?
        );
    } else {
        print!("{}", answer["text"].as_str().unwrap_or_default());
    }
    Ok(match answer["report"]["status"].as_str() {
        Some("ok") => ExitCode::SUCCESS,
        Some("attention") => ExitCode::from(1),
        _ => ExitCode::from(2),
    })
}
