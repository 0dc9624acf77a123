//! The `telewarden` command: serve the web app, check configuration, verify and export
//! the audit ledger.

mod backup_file;
mod cli;
mod commands;
mod logging;
mod settings;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{AuditCommand, BackupCommand, Cli, Command, ConfigCommand, KeysCommand};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => commands::serve::run(args).await,
            Command::Config {
                command: ConfigCommand::Check(args),
            } => commands::config_check::run(args),
            Command::Audit { command } => match command {
                AuditCommand::Verify(args) => commands::audit::verify(args).await,
                AuditCommand::Export(args) => commands::audit::export(args).await,
                AuditCommand::Proof(args) => commands::audit::proof(args).await,
                AuditCommand::CheckProof(args) => commands::audit::check_proof(args),
            },
            Command::Keys {
                command: KeysCommand::Rotate(common),
            } => commands::keys::rotate(common).await,
            Command::Health(args) => commands::health::run(args).await,
            Command::Backup(args) => match args.command {
                Some(BackupCommand::Verify(v)) => commands::backup::verify(v).await,
                None => commands::backup::create(args.common, args.out).await,
            },
            Command::Restore(args) => commands::backup::restore(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
