//! From facts the server observed to a result per check.
//!
//! The server gathers [`Facts`] (each either observed or the reason it could not be);
//! [`evaluate`] turns them into one [`CheckResult`] per check with the evidence shown to
//! the security officer. A fact that could not be observed gives [`Outcome::CannotRun`]:
//! a check never passes by default.

use serde::{Deserialize, Serialize};

use crate::advisories::Finding;
use crate::catalogue::{CHECKS, CheckId};

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// The thresholds the checks apply; the defaults follow the research anchors (AUTO-01…16)
/// and can be tightened by the operator.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Thresholds {
    pub cert_min_days: i64,
    pub hsts_min_age_secs: u64,
    pub admin_idle_days: i64,
    pub max_devices_per_staff: usize,
    pub staff_idle_max_minutes: u32,
    pub break_glass_review_days: i64,
    pub key_max_age_days: i64,
    pub backup_max_age_hours: i64,
    pub restore_max_age_days: i64,
    pub checkpoint_max_lag_hours: i64,
    pub training_min_percent: u8,
    pub advisory_db_max_age_days: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            cert_min_days: 21,
            hsts_min_age_secs: 31_536_000,
            admin_idle_days: 45,
            max_devices_per_staff: 3,
            staff_idle_max_minutes: 15,
            break_glass_review_days: 7,
            key_max_age_days: 365,
            backup_max_age_hours: 24,
            restore_max_age_days: 90,
            checkpoint_max_lag_hours: 24,
            training_min_percent: 95,
            advisory_db_max_age_days: 30,
        }
    }
}

/// A fact the server observed, or why it could not.
pub type Observed<T> = Result<T, String>;

#[derive(Debug, Clone)]
pub struct TlsFacts {
    /// Whether this server terminates TLS itself (or is told a proxy in front does).
    pub enabled: bool,
    pub protocols: Vec<String>,
    /// The certificate's last valid moment, when the server holds the certificate.
    pub not_after_ms: Option<i64>,
    pub subject: String,
    pub self_signed: bool,
}

#[derive(Debug, Clone)]
pub struct HstsFacts {
    pub https: bool,
    /// The header value HTTPS responses carry.
    pub header: String,
}

/// One account as the identity checks see it.
#[derive(Debug, Clone)]
pub struct AccountFacts {
    pub id: String,
    pub role: String,
    pub enabled: bool,
    pub passkeys: usize,
    pub totp_confirmed: bool,
    pub created_ms: i64,
    /// The last time the account signed in or used a credential.
    pub last_active_ms: Option<i64>,
    /// Distinct devices with a live session now.
    pub live_devices: usize,
}

impl AccountFacts {
    fn is_staff(&self) -> bool {
        self.role != "patient"
    }
    fn is_admin(&self) -> bool {
        matches!(self.role.as_str(), "practice_admin" | "security_officer")
    }
}

#[derive(Debug, Clone)]
pub struct BreakGlassFacts {
    pub id: String,
    pub started_ms: i64,
    pub reviewed_ms: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct EncryptionFacts {
    pub master_key_present: bool,
    pub unsealed_profiles: i64,
    pub data_keys: i64,
    pub data_keys_under_old_keks: i64,
    /// When the key-encryption key in use was created.
    pub current_kek_created_ms: Option<i64>,
    pub current_kek_version: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct LedgerFacts {
    pub entries: u64,
    /// `Err` holds what failed to verify.
    pub verified: Result<(), String>,
    pub last_checkpoint_size: u64,
    pub last_checkpoint_ms: Option<i64>,
    /// When the oldest entry outside the last signed tree head was written.
    pub oldest_unsealed_ms: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct AlertFacts {
    pub id: String,
    pub severity: String,
    pub first_ms: i64,
    /// Still open (neither acknowledged nor resolved).
    pub open: bool,
}

#[derive(Debug, Clone)]
pub struct TrainingFacts {
    pub staff: usize,
    pub completed_in_year: usize,
}

#[derive(Debug, Clone)]
pub struct AdvisoryFacts {
    pub newest_advisory_date_days: Option<i64>,
    pub findings: Vec<Finding>,
    pub packages: usize,
    pub source: String,
}

/// Everything the checks need; each part observed or not.
#[derive(Debug, Clone)]
pub struct Facts {
    pub now_ms: i64,
    pub tls: Observed<TlsFacts>,
    pub hsts: Observed<HstsFacts>,
    pub accounts: Observed<Vec<AccountFacts>>,
    pub staff_idle_minutes: u32,
    pub break_glass: Observed<Vec<BreakGlassFacts>>,
    pub encryption: Observed<EncryptionFacts>,
    pub last_backup_ms: Observed<Option<i64>>,
    pub last_restore_ms: Observed<Option<i64>>,
    pub ledger: Observed<LedgerFacts>,
    pub alerts: Observed<Vec<AlertFacts>>,
    pub training: Observed<TrainingFacts>,
    /// `now` as days since the Unix epoch, beside the advisory database's newest date.
    pub advisories: Observed<AdvisoryFacts>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Fail,
    /// The server could not observe what the check needs; never counted as a pass.
    CannotRun,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::CannotRun => "cannot_run",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pass" => Some(Outcome::Pass),
            "fail" => Some(Outcome::Fail),
            "cannot_run" => Some(Outcome::CannotRun),
            _ => None,
        }
    }
}

/// One check's result: pass or fail, what was observed, and when.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub check: CheckId,
    pub outcome: Outcome,
    /// One line for the dashboard.
    pub summary: String,
    /// What was observed, as label and value pairs.
    pub evidence: Vec<(String, String)>,
    pub observed_ms: i64,
}

/// Runs every check (or only `only`) against the facts.
pub fn evaluate(facts: &Facts, t: &Thresholds, only: Option<CheckId>) -> Vec<CheckResult> {
    CHECKS
        .iter()
        .filter(|c| only.is_none_or(|o| o == c.id))
        .map(|c| {
            let (outcome, summary, evidence) = match one(c.id, facts, t) {
                Ok(v) => v,
                Err(why) => (
                    Outcome::CannotRun,
                    format!("Could not run: {why}"),
                    vec![("reason".to_owned(), why)],
                ),
            };
            CheckResult {
                check: c.id,
                outcome,
                summary,
                evidence,
                observed_ms: facts.now_ms,
            }
        })
        .collect()
}

type Evaluated = (Outcome, String, Vec<(String, String)>);

fn ev(label: &str, value: impl ToString) -> (String, String) {
    (label.to_owned(), value.to_string())
}

fn verdict(ok: bool, pass: String, fail: String, evidence: Vec<(String, String)>) -> Evaluated {
    if ok {
        (Outcome::Pass, pass, evidence)
    } else {
        (Outcome::Fail, fail, evidence)
    }
}

fn days(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

fn fact<T>(o: &Observed<T>) -> Result<&T, String> {
    o.as_ref().map_err(Clone::clone)
}

fn one(id: CheckId, f: &Facts, t: &Thresholds) -> Result<Evaluated, String> {
    let now = f.now_ms;
    Ok(match id {
        CheckId::Tls => {
            let tls = fact(&f.tls)?;
            let mut evidence = vec![
                ev("TLS", if tls.enabled { "on" } else { "off" }),
                ev("protocols", tls.protocols.join(", ")),
                ev("certificate", &tls.subject),
                ev("self-signed", tls.self_signed),
            ];
            if !tls.enabled {
                return Ok(verdict(
                    false,
                    String::new(),
                    "Connections are not encrypted: TLS is off.".into(),
                    evidence,
                ));
            }
            let old = tls
                .protocols
                .iter()
                .any(|p| !matches!(p.as_str(), "TLSv1.2" | "TLSv1.3"));
            let Some(not_after) = tls.not_after_ms else {
                return Err("the certificate is held by the proxy in front of the server".into());
            };
            let left = days(not_after - now);
            evidence.push(ev("expires", crate::rfc3339_day(not_after)));
            evidence.push(ev("days left", left));
            if old {
                return Ok(verdict(
                    false,
                    String::new(),
                    "A protocol older than TLS 1.2 is offered.".into(),
                    evidence,
                ));
            }
            verdict(
                left >= t.cert_min_days,
                format!("TLS 1.2/1.3 only; the certificate is valid for {left} more days."),
                if not_after <= now {
                    "The TLS certificate has expired.".into()
                } else {
                    format!(
                        "The TLS certificate expires in {left} days (renew at {} days).",
                        t.cert_min_days
                    )
                },
                evidence,
            )
        }
        CheckId::Hsts => {
            let h = fact(&f.hsts)?;
            let max_age = h
                .header
                .split(';')
                .filter_map(|p| p.trim().strip_prefix("max-age="))
                .find_map(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(0);
            let evidence = vec![
                ev("served over HTTPS", h.https),
                ev(
                    "Strict-Transport-Security",
                    if h.https {
                        h.header.as_str()
                    } else {
                        "(not sent over plain HTTP)"
                    },
                ),
            ];
            verdict(
                h.https && max_age >= t.hsts_min_age_secs,
                format!("HSTS is sent with max-age {max_age} s."),
                if h.https {
                    format!("HSTS max-age is {max_age} s, under one year.")
                } else {
                    "The server answers over plain HTTP, so browsers get no HSTS.".into()
                },
                evidence,
            )
        }
        CheckId::StaffMfa => {
            let staff: Vec<_> = fact(&f.accounts)?
                .iter()
                .filter(|a| a.enabled && a.is_staff())
                .collect();
            let without: Vec<_> = staff
                .iter()
                .filter(|a| a.passkeys == 0 && !a.totp_confirmed)
                .map(|a| a.id.clone())
                .collect();
            let evidence = vec![
                ev("enabled staff accounts", staff.len()),
                ev("without MFA", without.len()),
                ev("accounts without MFA", without.join(", ")),
            ];
            verdict(
                without.is_empty(),
                format!("All {} staff accounts have MFA.", staff.len()),
                format!(
                    "{} of {} staff accounts have no second factor.",
                    without.len(),
                    staff.len()
                ),
                evidence,
            )
        }
        CheckId::AdminPhishingResistantMfa => {
            let admins: Vec<_> = fact(&f.accounts)?
                .iter()
                .filter(|a| a.enabled && a.is_admin())
                .collect();
            let without: Vec<_> = admins
                .iter()
                .filter(|a| a.passkeys == 0)
                .map(|a| a.id.clone())
                .collect();
            let evidence = vec![
                ev("enabled administrator accounts", admins.len()),
                ev("without a passkey", without.join(", ")),
            ];
            verdict(
                without.is_empty(),
                format!(
                    "All {} administrator accounts sign in with a passkey.",
                    admins.len()
                ),
                format!("{} administrator accounts have no passkey.", without.len()),
                evidence,
            )
        }
        CheckId::StaleAdminAccounts => {
            let stale: Vec<String> = fact(&f.accounts)?
                .iter()
                .filter(|a| a.enabled && a.is_admin())
                .filter_map(|a| {
                    let idle = days(now - a.last_active_ms.unwrap_or(a.created_ms));
                    (idle > t.admin_idle_days).then(|| format!("{} ({idle} days)", a.id))
                })
                .collect();
            let evidence = vec![
                ev("idle limit (days)", t.admin_idle_days),
                ev("stale accounts", stale.join(", ")),
            ];
            verdict(
                stale.is_empty(),
                format!(
                    "No administrator account is idle for more than {} days.",
                    t.admin_idle_days
                ),
                format!(
                    "{} enabled administrator accounts are idle for more than {} days: disable them.",
                    stale.len(),
                    t.admin_idle_days
                ),
                evidence,
            )
        }
        CheckId::SharedAccounts => {
            let shared: Vec<String> = fact(&f.accounts)?
                .iter()
                .filter(|a| a.enabled && a.is_staff() && a.live_devices > t.max_devices_per_staff)
                .map(|a| format!("{} ({} devices)", a.id, a.live_devices))
                .collect();
            let evidence = vec![
                ev("device limit", t.max_devices_per_staff),
                ev("accounts over it", shared.join(", ")),
            ];
            verdict(
                shared.is_empty(),
                "No staff account is signed in on more devices than one person uses.".into(),
                format!(
                    "{} staff accounts look shared: signed in on more than {} devices at once.",
                    shared.len(),
                    t.max_devices_per_staff
                ),
                evidence,
            )
        }
        CheckId::IdleLogoff => {
            let m = f.staff_idle_minutes;
            verdict(
                m > 0 && m <= t.staff_idle_max_minutes,
                format!("Idle staff sessions end after {m} minutes."),
                format!(
                    "Idle staff sessions end after {m} minutes; the limit is {}.",
                    t.staff_idle_max_minutes
                ),
                vec![
                    ev("sessions.staff_idle_minutes", m),
                    ev("limit", t.staff_idle_max_minutes),
                ],
            )
        }
        CheckId::BreakGlassReviewed => {
            let grants = fact(&f.break_glass)?;
            let late: Vec<String> = grants
                .iter()
                .filter(|g| {
                    let deadline = g.started_ms + t.break_glass_review_days * DAY_MS;
                    match g.reviewed_ms {
                        Some(r) => r > deadline,
                        None => now > deadline,
                    }
                })
                .map(|g| g.id.clone())
                .collect();
            let waiting = grants.iter().filter(|g| g.reviewed_ms.is_none()).count();
            verdict(
                late.is_empty(),
                format!(
                    "All {} emergency accesses were reviewed in time ({waiting} waiting, within their {} days).",
                    grants.len(),
                    t.break_glass_review_days
                ),
                format!(
                    "{} emergency accesses were not reviewed within {} days.",
                    late.len(),
                    t.break_glass_review_days
                ),
                vec![
                    ev("grants", grants.len()),
                    ev("awaiting review", waiting),
                    ev("reviewed late or overdue", late.join(", ")),
                ],
            )
        }
        CheckId::EncryptionAtRest => {
            let e = fact(&f.encryption)?;
            let ok = e.master_key_present && e.unsealed_profiles == 0;
            verdict(
                ok,
                format!(
                    "Records and the directory are sealed; {} patient data keys wrapped.",
                    e.data_keys
                ),
                if e.master_key_present {
                    format!(
                        "{} account profiles are stored in clear.",
                        e.unsealed_profiles
                    )
                } else {
                    "No master key is loaded.".into()
                },
                vec![
                    ev("master key loaded", e.master_key_present),
                    ev("profiles in clear", e.unsealed_profiles),
                    ev("patient data keys", e.data_keys),
                ],
            )
        }
        CheckId::KeyAge => {
            let e = fact(&f.encryption)?;
            let Some(created) = e.current_kek_created_ms else {
                return Err(
                    "no key-encryption key has been created yet (no patient record stored)".into(),
                );
            };
            let age = days(now - created);
            verdict(
                age < t.key_max_age_days,
                format!("The key-encryption key is {age} days old."),
                format!(
                    "The key-encryption key is {age} days old; rotate it (`telewarden keys rotate`)."
                ),
                vec![
                    ev("key version", e.current_kek_version.unwrap_or(0)),
                    ev("created", crate::rfc3339_day(created)),
                    ev("age (days)", age),
                    ev("policy (days)", t.key_max_age_days),
                    ev("data keys under older keys", e.data_keys_under_old_keks),
                ],
            )
        }
        CheckId::BackupAge => {
            let last = *fact(&f.last_backup_ms)?;
            match last {
                None => (
                    Outcome::Fail,
                    "No backup has ever been written (`telewarden backup`).".into(),
                    vec![ev("last backup", "never")],
                ),
                Some(at) => {
                    let hours = (now - at).div_euclid(HOUR_MS);
                    verdict(
                        hours < t.backup_max_age_hours,
                        format!("The last backup is {hours} hours old."),
                        format!(
                            "The last backup is {hours} hours old; the limit is {}.",
                            t.backup_max_age_hours
                        ),
                        vec![
                            ev("last backup", crate::rfc3339_day(at)),
                            ev("age (hours)", hours),
                        ],
                    )
                }
            }
        }
        CheckId::RestoreTested => {
            let last = *fact(&f.last_restore_ms)?;
            match last {
                None => (
                    Outcome::Fail,
                    "No backup has ever been restored and verified (`telewarden restore`).".into(),
                    vec![ev("last verified restore", "never")],
                ),
                Some(at) => {
                    let age = days(now - at);
                    verdict(
                        age < t.restore_max_age_days,
                        format!("A restore was verified {age} days ago."),
                        format!(
                            "The last verified restore is {age} days old; test one at least every {} days.",
                            t.restore_max_age_days
                        ),
                        vec![
                            ev("last verified restore", crate::rfc3339_day(at)),
                            ev("age (days)", age),
                        ],
                    )
                }
            }
        }
        CheckId::LedgerChain => {
            let l = fact(&f.ledger)?;
            match &l.verified {
                Ok(()) => (
                    Outcome::Pass,
                    format!("All {} ledger entries verify.", l.entries),
                    vec![
                        ev("entries", l.entries),
                        ev("signed up to", l.last_checkpoint_size),
                    ],
                ),
                Err(why) => (
                    Outcome::Fail,
                    format!("The audit ledger does not verify: {why}"),
                    vec![ev("entries", l.entries), ev("failure", why)],
                ),
            }
        }
        CheckId::LedgerCheckpoints => {
            let l = fact(&f.ledger)?;
            let lag_h = l
                .oldest_unsealed_ms
                .map(|at| (now - at).div_euclid(HOUR_MS));
            let evidence = vec![
                ev("entries", l.entries),
                ev("signed tree head size", l.last_checkpoint_size),
                ev(
                    "last signed",
                    l.last_checkpoint_ms
                        .map_or_else(|| "never".to_owned(), crate::rfc3339_day),
                ),
                ev(
                    "oldest unsigned entry (hours)",
                    lag_h.map_or_else(|| "none".to_owned(), |h| h.to_string()),
                ),
            ];
            verdict(
                lag_h.is_none_or(|h| h < t.checkpoint_max_lag_hours),
                "Every ledger entry older than a day is covered by a signed tree head.".into(),
                format!(
                    "Ledger entries have waited {} hours for a signed tree head.",
                    lag_h.unwrap_or(0)
                ),
                evidence,
            )
        }
        CheckId::AlertsOverdue => {
            let alerts = fact(&f.alerts)?;
            let overdue: Vec<String> = alerts
                .iter()
                .filter(|a| a.open && now > a.first_ms + alert_deadline_ms(&a.severity))
                .map(|a| format!("{} ({})", a.id, a.severity))
                .collect();
            let open = alerts.iter().filter(|a| a.open).count();
            verdict(
                overdue.is_empty(),
                format!("{open} open alerts, none past its deadline."),
                format!("{} alerts are open past their deadline.", overdue.len()),
                vec![
                    ev("open alerts", open),
                    ev("past deadline", overdue.join(", ")),
                ],
            )
        }
        CheckId::TrainingCompletion => {
            let tr = fact(&f.training)?;
            let pct = (tr.completed_in_year * 100)
                .checked_div(tr.staff)
                .unwrap_or(100);
            verdict(
                pct >= usize::from(t.training_min_percent),
                format!("{pct}% of staff are trained."),
                format!(
                    "Only {pct}% of staff completed training this year (target {}%).",
                    t.training_min_percent
                ),
                vec![
                    ev("staff", tr.staff),
                    ev("trained in the last year", tr.completed_in_year),
                ],
            )
        }
        CheckId::DependencyAdvisories => {
            let a = fact(&f.advisories)?;
            let now_days = days(now);
            let db_age = a.newest_advisory_date_days.map(|d| now_days - d);
            let serious: Vec<&Finding> = a
                .findings
                .iter()
                .filter(|x| x.informational.is_none())
                .collect();
            let mut evidence = vec![
                ev("advisory database", &a.source),
                ev(
                    "newest advisory (days old)",
                    db_age.map_or_else(|| "unknown".to_owned(), |d| d.to_string()),
                ),
                ev("libraries in this build", a.packages),
            ];
            for x in &a.findings {
                evidence.push(ev(
                    &x.advisory_id,
                    format!(
                        "{} {}: {}{}",
                        x.package,
                        x.version,
                        x.title,
                        x.informational
                            .as_ref()
                            .map(|i| format!(" ({i})"))
                            .unwrap_or_default()
                    ),
                ));
            }
            if db_age.is_none_or(|d| !(0..t.advisory_db_max_age_days).contains(&d)) {
                return Ok((
                    Outcome::Fail,
                    format!(
                        "The advisory database is out of date (newest advisory {} days old); update it.",
                        db_age.unwrap_or(0)
                    ),
                    evidence,
                ));
            }
            verdict(
                serious.is_empty(),
                format!(
                    "No advisory affects the {} libraries of this build.",
                    a.packages
                ),
                format!(
                    "{} advisories affect libraries of this build: upgrade.",
                    serious.len()
                ),
                evidence,
            )
        }
    })
}

/// How long an alert of `severity` may stay open before it is overdue.
pub fn alert_deadline_ms(severity: &str) -> i64 {
    match severity {
        "critical" => 4 * HOUR_MS,
        "high" => 24 * HOUR_MS,
        "medium" => 3 * DAY_MS,
        _ => 7 * DAY_MS,
    }
}
