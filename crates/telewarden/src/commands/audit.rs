//! `telewarden audit …`: verify, export and prove entries of the ledger.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use ledger::{ConsistencyProof, InclusionProof, LedgerStore, VerifyingKey};
use serde::{Deserialize, Serialize};
use server::Config;
use store::{Db, PoolSettings};

use crate::cli::{AuditArgs, CheckProofArgs, CommonArgs, ExportArgs, FlagOverrides, ProofArgs};
use crate::settings;

/// A proof file: which kind, and the proof.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum ProofFile {
    Inclusion(InclusionProof),
    Consistency(ConsistencyProof),
}

fn config(common: &CommonArgs) -> anyhow::Result<Config> {
    settings::load(
        common,
        &FlagOverrides {
            data_dir: common.data_dir.clone(),
            ..FlagOverrides::default()
        },
    )
}

/// Opens the existing database read-only in spirit: never creates or migrates one.
async fn open_db(config: &Config) -> anyhow::Result<Db> {
    let url = config.effective_database_url();
    if let Some(path) = url.expose().strip_prefix("sqlite://")
        && !Path::new(path).exists()
    {
        bail!(
            "no database at {path}: has Telewarden been started with this data directory? \
             (use --data-dir or TW_DATA_DIR)"
        );
    }
    let db = Db::connect(url.expose(), &PoolSettings::default()).await?;
    let status = db.migration_status().await?;
    if status.applied == 0 {
        bail!("the database holds no Telewarden schema");
    }
    Ok(db)
}

fn verifying_key(config: &Config, explicit: Option<&Path>) -> anyhow::Result<VerifyingKey> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let public = ledger::keyfile::public_key_path(&config.data_path("ledger.key"));
            if public.exists() {
                public
            } else {
                config.data_path("ledger.key")
            }
        }
    };
    ledger::keyfile::load_verifying_key(&path)
        .with_context(|| format!("ledger public key {}", path.display()))
}

#[allow(clippy::print_stdout)]
pub async fn verify(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let config = config(&args.common)?;
    let db = open_db(&config).await?;
    let key = verifying_key(&config, args.public_key.as_deref())?;
    let report = ledger::verify(&db, &key).await?;
    db.close().await;
    match report.problem {
        None => {
            println!(
                "The audit ledger is intact: {} entries and {} signed tree heads verified.",
                report.entries, report.checkpoints
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(p) => {
            eprintln!(
                "TAMPERED: the first bad entry is sequence number {}: {:?}: {}",
                p.seq, p.kind, p.detail
            );
            eprintln!(
                "({} entries and {} signed tree heads were read.) Treat this as a security incident: \
                 keep a copy of the database and the data directory before changing anything.",
                report.entries, report.checkpoints
            );
            Ok(ExitCode::from(2))
        }
    }
}

pub async fn export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let config = config(&args.common)?;
    let db = open_db(&config).await?;
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut next = 1u64;
    let mut written = 0u64;
    loop {
        let page = db
            .entries(next, 1000)
            .await
            .map_err(|e| anyhow::anyhow!("reading the ledger: {}", e.0))?;
        let Some(last) = page.last() else { break };
        next = last.seq + 1;
        for entry in &page {
            serde_json::to_writer(&mut out, &server::fhir::audit_event::audit_event(entry))?;
            out.write_all(b"\n")?;
            written += 1;
        }
    }
    out.flush()?;
    db.close().await;
    eprintln!("Exported {written} audit events as FHIR R4 AuditEvent JSON lines.");
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::print_stdout)]
pub async fn proof(args: ProofArgs) -> anyhow::Result<ExitCode> {
    let config = config(&args.common)?;
    let db = open_db(&config).await?;
    let latest = db
        .latest_checkpoint()
        .await
        .map_err(|e| anyhow::anyhow!("reading checkpoints: {}", e.0))?
        .context("the ledger has no signed tree head yet")?
        .sth;
    let file = match (args.seq, args.since_size) {
        (Some(seq), _) => {
            if seq == 0 || seq > latest.head.size {
                bail!(
                    "entry {seq} is not covered by the latest signed tree head (size {}); \
                     entries are signed within a minute, try again shortly",
                    latest.head.size
                );
            }
            ProofFile::Inclusion(ledger::prove_inclusion(&db, seq, &latest).await?)
        }
        (None, Some(size)) => {
            let old = db
                .checkpoints()
                .await
                .map_err(|e| anyhow::anyhow!("reading checkpoints: {}", e.0))?
                .into_iter()
                .find(|c| c.sth.head.size == size)
                .with_context(|| format!("no signed tree head of size {size}"))?
                .sth;
            ProofFile::Consistency(ledger::prove_consistency(&db, &old, &latest).await?)
        }
        (None, None) => bail!("say what to prove: --seq N or --since-size SIZE"),
    };
    db.close().await;
    println!("{}", serde_json::to_string_pretty(&file)?);
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::print_stdout)]
pub fn check_proof(args: CheckProofArgs) -> anyhow::Result<ExitCode> {
    let key = ledger::keyfile::load_verifying_key(&args.public_key)
        .with_context(|| format!("public key {}", args.public_key.display()))?;
    let text = std::fs::read_to_string(&args.proof)
        .with_context(|| format!("cannot read {}", args.proof.display()))?;
    let file: ProofFile = serde_json::from_str(&text).context("not a Telewarden proof file")?;
    let result = match &file {
        ProofFile::Inclusion(p) => p.verify(&key).map(|()| {
            format!(
                "Valid: entry {} ({} by {}) is in the signed log of {} entries.",
                p.entry.seq, p.entry.action, p.entry.actor, p.tree_size
            )
        }),
        ProofFile::Consistency(p) => p.verify(&key).map(|()| {
            format!(
                "Valid: the signed log of {} entries extends the one of {} entries without rewriting it.",
                p.new.head.size, p.old.head.size
            )
        }),
    };
    match result {
        Ok(msg) => {
            println!("{msg}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("INVALID: {e}");
            Ok(ExitCode::from(2))
        }
    }
}
