//! Command-line interface.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

#[derive(Debug, Parser)]
#[command(name = "telewarden", version, about = "Telewarden: secure telehealth for healthcare practices", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the server.
    Serve(ServeArgs),
    /// Inspect configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Verify, export and prove entries of the audit ledger.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Manage the keys that protect records at rest.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Security health of the running server: the sentinel, blocked sources, open
    /// alerts, the audit ledger. Exit status 0 when all is well, 1 when something needs
    /// attention (open alerts, blocks), 2 when degraded or no server answers.
    Health(HealthArgs),
    /// Write an encrypted, self-verifying backup of the database, the keys and the
    /// ledger (`backup --out FILE`), or check one without restoring it (`backup verify
    /// --from FILE`). The passphrase comes from TW_BACKUP_PASSPHRASE or standard input.
    Backup(BackupArgs),
    /// Restore a backup into an empty data directory (and, with TW_DATABASE_URL, an
    /// empty PostgreSQL database), after verifying all of it.
    Restore(RestoreArgs),
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct BackupArgs {
    #[command(subcommand)]
    pub command: Option<BackupCommand>,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Where to write the backup (a new file; it is never overwritten).
    #[arg(long, value_name = "FILE", required = true)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Decrypt and check a whole backup file without restoring anything.
    Verify(BackupVerifyArgs),
}

#[derive(Debug, Args)]
pub struct BackupVerifyArgs {
    /// The backup file.
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The backup file.
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
}

#[derive(Debug, Args)]
pub struct HealthArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Rotate the key-encryption key and re-wrap every data key under it (online when
    /// the server is running).
    Rotate(CommonArgs),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration (secrets redacted) and check it.
    Check(ServeArgs),
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the whole ledger and name the first entry that does not match.
    Verify(AuditArgs),
    /// Write the ledger as FHIR R4 AuditEvent JSON, one event per line.
    Export(ExportArgs),
    /// Print an inclusion or consistency proof as JSON, checkable without the database.
    Proof(ProofArgs),
    /// Check a proof printed by `audit proof`, offline, against the ledger's public key.
    CheckProof(CheckProofArgs),
}

/// Where the configuration comes from; shared by every command.
#[derive(Debug, Clone, Args, Default)]
pub struct CommonArgs {
    /// Configuration file [default: ./telewarden.toml when it exists] [env: TW_CONFIG]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory (database, keys) [default: ./telewarden-data] [env: TW_DATA_DIR]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// Flags of `serve`, each overriding the same key from the environment and the file.
#[derive(Debug, Clone, Args, Default)]
pub struct ServeArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Address and port to listen on [default: 127.0.0.1:8080] [env: TW_LISTEN]
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// The address people type, e.g. https://telehealth.example.org [env: TW_PUBLIC_URL]
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// PEM certificate chain for TLS [env: TW_TLS_CERT]
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for TLS [env: TW_TLS_KEY]
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Generate and use a self-signed certificate in the data directory [env: TW_TLS_SELF_SIGNED]
    #[arg(long)]
    pub tls_self_signed: bool,
    /// Trusted reverse proxies, comma-separated addresses or CIDR ranges [env: TW_BEHIND_PROXY]
    #[arg(long, value_name = "ADDRS")]
    pub behind_proxy: Option<String>,
    /// With TLS: also listen here with plain HTTP, redirecting to HTTPS [env: TW_REDIRECT_LISTEN]
    #[arg(long, value_name = "ADDR:PORT")]
    pub redirect_listen: Option<String>,
    /// Prometheus metrics listener, or "off" [default: 127.0.0.1:9464] [env: TW_METRICS_LISTEN]
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics_listen: Option<String>,
    /// Log format: text or json [env: TW_LOG_FORMAT]
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Log level: error, warn, info, debug or trace [env: TW_LOG_LEVEL]
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<String>,
}

/// The flags as configuration keys, for the top layer of the configuration.
#[derive(Debug, Serialize, Default)]
pub struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_self_signed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub behind_proxy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_level: Option<String>,
}

impl ServeArgs {
    pub fn overrides(&self) -> FlagOverrides {
        FlagOverrides {
            data_dir: self.common.data_dir.clone(),
            listen: self.listen.clone(),
            public_url: self.public_url.clone(),
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
            tls_self_signed: self.tls_self_signed.then_some(true),
            behind_proxy: self.behind_proxy.clone(),
            redirect_listen: self.redirect_listen.clone(),
            metrics_listen: self.metrics_listen.clone(),
            log_format: self.log_format.clone(),
            log_level: self.log_level.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Verify against this public key file instead of the one in the data directory
    /// (keep a copy elsewhere: an attacker who can rewrite the data directory can replace both).
    #[arg(long, value_name = "FILE")]
    pub public_key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Write to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ProofArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Prove that the entry with this sequence number is in the latest signed tree head.
    #[arg(long, value_name = "N", conflicts_with = "since_size")]
    pub seq: Option<u64>,
    /// Prove that the signed tree head of this size is a prefix of the latest one.
    #[arg(long, value_name = "SIZE")]
    pub since_size: Option<u64>,
}

#[derive(Debug, Args)]
pub struct CheckProofArgs {
    /// The proof file printed by `telewarden audit proof`.
    pub proof: PathBuf,
    /// The ledger's public key file (`ledger.key.pub` in the data directory).
    #[arg(long, value_name = "FILE")]
    pub public_key: PathBuf,
}
