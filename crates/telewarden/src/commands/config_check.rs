//! `telewarden config check`.

use std::process::ExitCode;

use crate::cli::ServeArgs;
use crate::settings;

#[allow(clippy::print_stdout)]
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = settings::layered(&args.common, &args.overrides())?;
    println!("# Effective Telewarden configuration (secrets redacted)");
    print!("{}", config.to_redacted_toml());
    match config.validate() {
        Ok(()) => {
            println!();
            println!("# The configuration is valid.");
            if config.tls_enabled() && config.redirect_listen.is_none() {
                println!("# Note: {}", super::serve::NO_REDIRECT);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Err(e.into()),
    }
}
