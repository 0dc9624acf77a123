//! `tw-archive`: the practice archive device, run on the practice's own machine.
//!
//! ```text
//! tw-archive register --dir DIR --url https://clinic.example [--label L] [--ledger-key HEX]
//! tw-archive run      --dir DIR [--url URL] [--listen-secs N]
//! tw-archive export   --dir DIR --out NEW_DIR [--conversation ID]
//! ```
//!
//! The passphrase comes from `TW_ARCHIVE_PASSPHRASE` or a file (`--passphrase-file`); the practice administrator's session cookie from
//! `TW_ARCHIVE_COOKIE` or `--cookie-file` — never from a flag, where other users of the
//! machine could read it in the process list.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use archive::api::Api;
use archive::archive::Archive;
use archive::{Error, Result, export, vault::Vault};
use clap::{Parser, Subcommand};
use zeroize::Zeroizing;

#[derive(Debug, Parser)]
#[command(
    name = "tw-archive",
    about = "The practice's archive of end-to-end encrypted messages"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct Common {
    /// The archive directory.
    #[arg(long)]
    dir: PathBuf,
    /// A file holding the passphrase (else TW_ARCHIVE_PASSPHRASE).
    #[arg(long)]
    passphrase_file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct Server {
    /// The server, e.g. https://clinic.example (for `run`, default: the one registered with).
    #[arg(long)]
    url: Option<String>,
    /// The origin the server calls its own, when it differs from --url (behind a proxy).
    #[arg(long)]
    origin: Option<String>,
    /// A file holding the administrator's session cookie (else TW_ARCHIVE_COOKIE).
    #[arg(long)]
    cookie_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sets up a new archive directory and registers its device (needs the practice
    /// administrator's freshly signed-in session).
    Register {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        server: Server,
        /// The device's label, shown to members.
        #[arg(long, default_value = "Practice archive")]
        label: String,
        /// The ledger's public key (64 hex digits, from `telewarden` on the server or
        /// /ledger/public-key read over a trusted path); pinned for key transparency.
        #[arg(long)]
        ledger_key: Option<String>,
    },
    /// Joins, catches up and keeps listening (until --listen-secs, Ctrl-C or SIGTERM).
    #[command(alias = "listen")]
    Run {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        server: Server,
        /// Stop after this many seconds (default: run until stopped).
        #[arg(long)]
        listen_secs: Option<u64>,
    },
    /// Writes the decrypted records (JSON lines) and files into a new directory.
    Export {
        #[command(flatten)]
        common: Common,
        /// The output directory (must not exist or be empty).
        #[arg(long)]
        out: PathBuf,
        /// Only this conversation.
        #[arg(long)]
        conversation: Option<String>,
    },
}

/// A secret from a file (trailing newline dropped) or else an environment variable.
fn secret(file: Option<&Path>, var: &str, what: &str) -> Result<Zeroizing<String>> {
    if let Some(path) = file {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })?);
        return Ok(Zeroizing::new(
            text.trim_end_matches(['\r', '\n']).to_owned(),
        ));
    }
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(Zeroizing::new(v)),
        _ => Err(Error::Usage(format!("no {what}: set {var} or pass a file"))),
    }
}

fn passphrase(common: &Common) -> Result<Zeroizing<String>> {
    secret(
        common.passphrase_file.as_deref(),
        "TW_ARCHIVE_PASSPHRASE",
        "passphrase",
    )
}

fn api(server: &Server, url: &str) -> Result<Api> {
    let cookie = secret(
        server.cookie_file.as_deref(),
        "TW_ARCHIVE_COOKIE",
        "session cookie",
    )?;
    Api::new(url, server.origin.as_deref().unwrap_or(url), &cookie)
}

async fn main_inner(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Register {
            common,
            server,
            label,
            ledger_key,
        } => {
            let pass = passphrase(&common)?;
            let url = server
                .url
                .clone()
                .ok_or_else(|| Error::Usage("register needs --url".into()))?;
            let api = api(&server, &url)?;
            Archive::register(
                &common.dir,
                pass.as_bytes(),
                api,
                &label,
                ledger_key.as_deref(),
            )
            .await?;
            Ok(())
        }
        Command::Run {
            common,
            server,
            listen_secs,
        } => {
            let pass = passphrase(&common)?;
            let url = match &server.url {
                Some(u) => u.clone(),
                None => Archive::saved_server(&common.dir, pass.as_bytes())?,
            };
            let api = api(&server, &url)?;
            let mut archive = Archive::open(&common.dir, pass.as_bytes(), api)?;
            let until = listen_secs.map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
            archive.run(until).await
        }
        Command::Export {
            common,
            out,
            conversation,
        } => {
            let pass = passphrase(&common)?;
            let vault = Vault::open(&common.dir, pass.as_bytes(), false)?;
            let done = export::export(&vault, &out, conversation.as_deref())?;
            eprintln!(
                "tw-archive: exported {} records and {} files to {}",
                done.records,
                done.files,
                out.display()
            );
            Ok(())
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    match main_inner(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tw-archive: {e}");
            match e {
                Error::WrongPassphrase(_) => ExitCode::from(3),
                _ => ExitCode::FAILURE,
            }
        }
    }
}
