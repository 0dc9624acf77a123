//! Gathering the facts the automated checks judge. Each fact is observed or carries the
//! reason it could not be, so a check that cannot run says so instead of passing.

use std::path::{Path, PathBuf};

use assurance::advisories;
use assurance::evaluate::{
    AccountFacts, AdvisoryFacts, AlertFacts, BreakGlassFacts, EncryptionFacts, Facts, HstsFacts,
    LedgerFacts, Observed, TlsFacts, TrainingFacts,
};
use ledger::LedgerStore;

use crate::http::headers::HSTS;
use crate::state::AppState;

/// The lock file this binary was built from: the libraries compiled into it.
const BUILD_LOCKFILE: &str = include_str!("../../../../Cargo.lock");

fn observed<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> Observed<T> {
    r.map_err(|e| {
        tracing::warn!(error = %e, what, "an assurance fact could not be observed");
        format!("{what} could not be read")
    })
}

/// Everything the checks need, as it is now.
pub async fn facts(state: &AppState) -> Facts {
    let now_ms = state.clock.now_ms();
    Facts {
        now_ms,
        tls: tls(state),
        hsts: Ok(HstsFacts {
            https: serves_https(state),
            header: HSTS.to_owned(),
        }),
        accounts: accounts(state, now_ms).await,
        staff_idle_minutes: state.config.sessions.staff_idle_minutes,
        break_glass: observed(
            state
                .db
                .break_glass_review_facts(now_ms - 366 * 86_400_000)
                .await,
            "break-glass grants",
        )
        .map(|v| {
            v.into_iter()
                .map(|(id, started_ms, reviewed_ms)| BreakGlassFacts {
                    id,
                    started_ms,
                    reviewed_ms,
                })
                .collect()
        }),
        encryption: encryption(state).await,
        last_backup_ms: observed(state.db.last_backup().await, "the backup record")
            .map(|b| b.map(|b| b.time_ms)),
        last_restore_ms: observed(state.db.last_verified_restore().await, "the restore record")
            .map(|r| r.map(|r| r.time_ms)),
        ledger: ledger(state).await,
        alerts: observed(state.db.alerts(false, 10_000).await, "security alerts").map(|v| {
            v.into_iter()
                .map(|a| AlertFacts {
                    id: a.id,
                    severity: a.severity,
                    first_ms: a.first_ms,
                    open: a.state == store::alerts::AlertState::Open,
                })
                .collect()
        }),
        training: observed(
            crate::training::learning::completion_counts(state).await,
            "training records",
        )
        .map(|(staff, completed_in_year)| TrainingFacts {
            staff,
            completed_in_year,
        }),
        advisories: advisories(state, now_ms),
    }
}

/// Whether browsers reach us over HTTPS: our own TLS, or a proxy in front that
/// terminates it for a public `https://` address.
fn serves_https(state: &AppState) -> bool {
    state.config.tls_enabled()
        || (!state.config.behind_proxy.is_empty() && state.origin.starts_with("https://"))
}

fn cert_path(state: &AppState) -> Option<PathBuf> {
    if state.config.tls_self_signed {
        Some(state.config.data_path("tls").join("self-signed-cert.pem"))
    } else {
        state.config.tls_cert.clone()
    }
}

fn tls(state: &AppState) -> Observed<TlsFacts> {
    let protocols = crate::tls::PROTOCOL_VERSIONS
        .iter()
        .map(|v| match v.version {
            rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_owned(),
            rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_owned(),
            other => format!("{other:?}"),
        })
        .collect();
    let Some(path) = cert_path(state) else {
        if serves_https(state) {
            return Ok(TlsFacts {
                enabled: true,
                protocols: Vec::new(),
                not_after_ms: None,
                subject: "held by the proxy in front".into(),
                self_signed: false,
            });
        }
        return Ok(TlsFacts {
            enabled: false,
            protocols: Vec::new(),
            not_after_ms: None,
            subject: "none".into(),
            self_signed: false,
        });
    };
    let (not_after_ms, subject, self_signed) = certificate(&path)?;
    Ok(TlsFacts {
        enabled: true,
        protocols,
        not_after_ms: Some(not_after_ms),
        subject,
        self_signed,
    })
}

/// The first certificate of the PEM file at `path`: its end of validity (Unix ms), its
/// subject, and whether it signed itself.
pub fn certificate(path: &Path) -> Result<(i64, String, bool), String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let pem = std::fs::read(path)
        .map_err(|e| format!("cannot read the certificate {}: {e}", path.display()))?;
    let der = CertificateDer::pem_slice_iter(&pem)
        .next()
        .ok_or_else(|| format!("{} holds no certificate", path.display()))?
        .map_err(|e| format!("{} is not valid PEM: {e}", path.display()))?;
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref())
        .map_err(|e| format!("{} is not a valid X.509 certificate: {e}", path.display()))?;
    let not_after = cert.validity().not_after.timestamp() * 1000;
    let subject = cert.subject().to_string();
    let self_signed = cert.subject() == cert.issuer();
    Ok((not_after, subject, self_signed))
}

async fn accounts(state: &AppState, now_ms: i64) -> Observed<Vec<AccountFacts>> {
    observed(state.db.account_security_facts(now_ms).await, "accounts").map(|v| {
        v.into_iter()
            .map(|a| AccountFacts {
                id: a.id,
                role: a.role,
                enabled: !a.disabled,
                passkeys: usize::try_from(a.passkeys).unwrap_or(0),
                totp_confirmed: a.totp_confirmed,
                created_ms: a.created_ms,
                last_active_ms: a.last_active_ms,
                live_devices: usize::try_from(a.live_devices).unwrap_or(0),
            })
            .collect()
    })
}

async fn encryption(state: &AppState) -> Observed<EncryptionFacts> {
    let keys = observed(state.db.key_facts().await, "encryption keys")?;
    let unsealed = observed(state.db.unsealed_profiles().await, "account profiles")?;
    Ok(EncryptionFacts {
        // The server cannot start without its master key: it opened the directory with it.
        master_key_present: true,
        unsealed_profiles: unsealed,
        data_keys: keys.data_keys,
        data_keys_under_old_keks: keys.data_keys_under_old,
        current_kek_created_ms: keys.current_created_ms,
        current_kek_version: keys.current_version,
    })
}

async fn ledger(state: &AppState) -> Observed<LedgerFacts> {
    let key = state.ledger.verifying_key();
    let report = observed(ledger::verify(&state.db, &key).await, "the audit ledger")?;
    let verified = match &report.problem {
        None => Ok(()),
        Some(p) => Err(p.to_string()),
    };
    let head = observed(
        state.db.latest_checkpoint().await,
        "the ledger's signed tree heads",
    )?;
    let (size, signed_ms) = head.map_or((0, None), |c| (c.sth.head.size, Some(c.sth.head.time_ms)));
    let next = observed(state.db.entries(size + 1, 1).await, "the ledger's entries")?;
    let last = observed(state.db.last_entry().await, "the ledger's entries")?;
    Ok(LedgerFacts {
        entries: last.map_or(0, |e| e.seq),
        verified,
        last_checkpoint_size: size,
        last_checkpoint_ms: signed_ms,
        oldest_unsealed_ms: next.first().map(|e| e.time_ms),
    })
}

/// Where the operator keeps the advisory database.
pub fn advisory_db_path(state: &AppState) -> PathBuf {
    state
        .config
        .assurance
        .advisory_db
        .clone()
        .unwrap_or_else(|| state.config.data_path("advisory-db"))
}

fn advisories(state: &AppState, _now_ms: i64) -> Observed<AdvisoryFacts> {
    let dir = advisory_db_path(state);
    if !dir.exists() {
        return Err(format!(
            "no advisory database at {}: put a copy of github.com/rustsec/advisory-db there and keep it updated (or set assurance.advisory_db)",
            dir.display()
        ));
    }
    let db = advisories::load_db(&dir).map_err(|e| e.to_string())?;
    let packages = advisories::lockfile_packages(BUILD_LOCKFILE).map_err(|e| e.to_string())?;
    Ok(AdvisoryFacts {
        newest_advisory_date_days: db
            .newest_date
            .as_deref()
            .and_then(advisories::days_since_epoch),
        findings: advisories::affecting(&db, &packages),
        packages: packages.len(),
        source: dir.display().to_string(),
    })
}
