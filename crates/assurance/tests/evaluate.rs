//! `evaluate` against hand-built facts: every check of the catalogue passes on a healthy
//! practice, fails when the fact it looks at goes bad (naming what it saw), and reports
//! `CannotRun` — never a pass — when that fact could not be observed.
// Helpers outside #[test] fns are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use assurance::advisories::Finding;
use assurance::catalogue::{CHECKS, CheckId};
use assurance::evaluate::{
    AccountFacts, AdvisoryFacts, AlertFacts, BreakGlassFacts, CheckResult, EncryptionFacts, Facts,
    HstsFacts, LedgerFacts, Outcome, Thresholds, TlsFacts, TrainingFacts, evaluate,
};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// 2025-11-24 16:00:12.345 UTC: odd milliseconds so `observed_ms` cannot match by luck.
const NOW: i64 = 1_764_000_012_345;

fn days_ago(n: i64) -> i64 {
    NOW - n * DAY
}

fn hours_ago(n: i64) -> i64 {
    NOW - n * HOUR
}

fn account(id: &str, role: &str, passkeys: usize, totp: bool, idle_days: i64) -> AccountFacts {
    AccountFacts {
        id: id.to_owned(),
        role: role.to_owned(),
        enabled: true,
        passkeys,
        totp_confirmed: totp,
        created_ms: days_ago(400),
        last_active_ms: Some(days_ago(idle_days)),
        live_devices: 1,
    }
}

fn finding(id: &str, package: &str, informational: Option<&str>) -> Finding {
    Finding {
        advisory_id: id.to_owned(),
        package: package.to_owned(),
        version: "1.2.3".to_owned(),
        title: format!("{package} problem"),
        date: "2025-11-01".to_owned(),
        url: None,
        cvss: None,
        informational: informational.map(str::to_owned),
        patched: vec![">=1.2.4".to_owned()],
    }
}

/// A practice where every check passes, several of them right at the edge of their
/// threshold, and with accounts that must be ignored (patients, disabled accounts).
fn healthy() -> Facts {
    let mut accounts = vec![
        // A clinician on exactly the device limit, with a passkey.
        AccountFacts {
            live_devices: 3,
            ..account("u-clin", "clinician", 1, false, 1)
        },
        // A clinician with an authenticator app only: MFA, but not phishing-resistant,
        // which is fine for a non-administrator.
        account("u-totp", "clinician", 0, true, 2),
        // An administrator idle 44 days (limit 45), with a passkey.
        account("u-admin", "practice_admin", 1, true, 44),
        // A security officer who never signed in, created 10 days ago.
        AccountFacts {
            created_ms: days_ago(10),
            last_active_ms: None,
            ..account("u-so", "security_officer", 2, false, 0)
        },
        // A patient: no MFA, many devices — none of the staff checks apply.
        AccountFacts {
            live_devices: 9,
            ..account("p-1", "patient", 0, false, 300)
        },
    ];
    // Disabled accounts are out of scope however bad they look.
    accounts.push(AccountFacts {
        enabled: false,
        live_devices: 9,
        ..account("u-gone", "clinician", 0, false, 300)
    });
    accounts.push(AccountFacts {
        enabled: false,
        ..account("u-old-admin", "practice_admin", 0, true, 300)
    });
    Facts {
        now_ms: NOW,
        tls: Ok(TlsFacts {
            enabled: true,
            protocols: vec!["TLSv1.2".into(), "TLSv1.3".into()],
            not_after_ms: Some(NOW + 60 * DAY),
            subject: "CN=clinic.example".into(),
            self_signed: false,
        }),
        hsts: Ok(HstsFacts {
            https: true,
            header: "max-age=31536000; includeSubDomains".into(),
        }),
        accounts: Ok(accounts),
        staff_idle_minutes: 15,
        break_glass: Ok(vec![
            // Reviewed on day 6 of its 7.
            BreakGlassFacts {
                id: "bg-reviewed".into(),
                started_ms: days_ago(20),
                reviewed_ms: Some(days_ago(14)),
            },
            // Not reviewed yet, but still within its 7 days.
            BreakGlassFacts {
                id: "bg-waiting".into(),
                started_ms: days_ago(6),
                reviewed_ms: None,
            },
        ]),
        encryption: Ok(EncryptionFacts {
            master_key_present: true,
            unsealed_profiles: 0,
            data_keys: 12,
            data_keys_under_old_keks: 0,
            current_kek_created_ms: Some(days_ago(30)),
            current_kek_version: Some(2),
        }),
        last_backup_ms: Ok(Some(hours_ago(23))),
        last_restore_ms: Ok(Some(days_ago(10))),
        ledger: Ok(LedgerFacts {
            entries: 1_000,
            verified: Ok(()),
            last_checkpoint_size: 990,
            last_checkpoint_ms: Some(hours_ago(1)),
            oldest_unsealed_ms: Some(hours_ago(23)),
        }),
        alerts: Ok(vec![
            // Critical, open 3 h of its 4.
            AlertFacts {
                id: "al-crit".into(),
                severity: "critical".into(),
                first_ms: hours_ago(3),
                open: true,
            },
            // Old, but acknowledged: not open, so not overdue.
            AlertFacts {
                id: "al-acked".into(),
                severity: "critical".into(),
                first_ms: days_ago(30),
                open: false,
            },
            // Low, open 6 days of its 7.
            AlertFacts {
                id: "al-low".into(),
                severity: "low".into(),
                first_ms: days_ago(6),
                open: true,
            },
        ]),
        training: Ok(TrainingFacts {
            staff: 20,
            completed_in_year: 19, // 95 %
        }),
        advisories: Ok(AdvisoryFacts {
            newest_advisory_date_days: Some(NOW / DAY - 2),
            // Only an informational advisory: reported, but not a failure.
            findings: vec![finding(
                "RUSTSEC-2025-0007",
                "yamlish",
                Some("unmaintained"),
            )],
            packages: 250,
            source: "/srv/advisory-db".into(),
        }),
    }
}

fn run_with(facts: &Facts, t: &Thresholds, check: CheckId) -> CheckResult {
    let mut results = evaluate(facts, t, Some(check));
    assert_eq!(results.len(), 1, "{check:?}: one result expected");
    let r = results.remove(0);
    assert_eq!(r.check, check);
    assert_eq!(r.observed_ms, facts.now_ms);
    r
}

fn run(facts: &Facts, check: CheckId) -> CheckResult {
    run_with(facts, &Thresholds::default(), check)
}

fn evidence(r: &CheckResult) -> String {
    r.evidence
        .iter()
        .map(|(k, v)| format!("{k}: {v}\n"))
        .collect()
}

fn accounts(f: &mut Facts) -> &mut Vec<AccountFacts> {
    f.accounts.as_mut().unwrap()
}

fn acct<'a>(f: &'a mut Facts, id: &str) -> &'a mut AccountFacts {
    accounts(f).iter_mut().find(|a| a.id == id).unwrap()
}

fn grant<'a>(f: &'a mut Facts, id: &str) -> &'a mut BreakGlassFacts {
    f.break_glass
        .as_mut()
        .unwrap()
        .iter_mut()
        .find(|g| g.id == id)
        .unwrap()
}

fn tls(f: &mut Facts) -> &mut TlsFacts {
    f.tls.as_mut().unwrap()
}

fn hsts(f: &mut Facts) -> &mut HstsFacts {
    f.hsts.as_mut().unwrap()
}

fn enc(f: &mut Facts) -> &mut EncryptionFacts {
    f.encryption.as_mut().unwrap()
}

fn ledger(f: &mut Facts) -> &mut LedgerFacts {
    f.ledger.as_mut().unwrap()
}

fn alert<'a>(f: &'a mut Facts, id: &str) -> &'a mut AlertFacts {
    f.alerts
        .as_mut()
        .unwrap()
        .iter_mut()
        .find(|a| a.id == id)
        .unwrap()
}

fn adv(f: &mut Facts) -> &mut AdvisoryFacts {
    f.advisories.as_mut().unwrap()
}

#[test]
fn every_check_passes_on_healthy_facts() {
    let facts = healthy();
    let results = evaluate(&facts, &Thresholds::default(), None);
    let order: Vec<CheckId> = results.iter().map(|r| r.check).collect();
    let catalogue: Vec<CheckId> = CHECKS.iter().map(|c| c.id).collect();
    assert_eq!(order, catalogue, "one result per check, in catalogue order");
    assert_eq!(results.len(), 17);
    for r in &results {
        assert_eq!(
            r.outcome,
            Outcome::Pass,
            "{:?}: {}\n{}",
            r.check,
            r.summary,
            evidence(r)
        );
        assert_eq!(r.observed_ms, NOW, "{:?}", r.check);
        assert!(!r.summary.is_empty(), "{:?}: empty summary", r.check);
        assert!(!r.evidence.is_empty(), "{:?}: no evidence", r.check);
    }
}

#[test]
fn only_runs_the_named_check() {
    let facts = healthy();
    for spec in CHECKS {
        let results = evaluate(&facts, &Thresholds::default(), Some(spec.id));
        let ids: Vec<CheckId> = results.iter().map(|r| r.check).collect();
        assert_eq!(ids, vec![spec.id], "only {}", spec.key);
    }
}

#[test]
fn observed_ms_is_the_facts_now_for_every_outcome() {
    // Mix passes, failures and checks that cannot run.
    let mut facts = healthy();
    facts.now_ms = NOW + 7;
    facts.staff_idle_minutes = 0;
    facts.ledger = Err("ledger store unavailable".into());
    for r in evaluate(&facts, &Thresholds::default(), None) {
        assert_eq!(r.observed_ms, NOW + 7, "{:?}", r.check);
    }
}

/// One way to make a check's fact bad (or to show a near miss still passes).
struct Case {
    name: &'static str,
    check: CheckId,
    mutate: fn(&mut Facts),
    outcome: Outcome,
    /// Text the one-line summary must contain.
    summary_has: &'static str,
    /// Text the evidence must contain: what was observed.
    evidence_has: &'static [&'static str],
}

fn cases() -> Vec<Case> {
    use CheckId::*;
    use Outcome::{CannotRun, Fail, Pass};
    vec![
        // --- TLS
        Case {
            name: "TLS off",
            check: Tls,
            mutate: |f| tls(f).enabled = false,
            outcome: Fail,
            summary_has: "TLS is off",
            evidence_has: &["TLS: off"],
        },
        Case {
            name: "expired certificate",
            check: Tls,
            mutate: |f| tls(f).not_after_ms = Some(NOW - DAY),
            outcome: Fail,
            summary_has: "expired",
            evidence_has: &["days left: -1", "certificate: CN=clinic.example"],
        },
        Case {
            name: "certificate expiring this moment",
            check: Tls,
            mutate: |f| tls(f).not_after_ms = Some(NOW),
            outcome: Fail,
            summary_has: "expired",
            evidence_has: &["days left: 0"],
        },
        Case {
            name: "certificate with 20 days left",
            check: Tls,
            mutate: |f| tls(f).not_after_ms = Some(NOW + 20 * DAY),
            outcome: Fail,
            summary_has: "expires in 20 days",
            evidence_has: &["days left: 20"],
        },
        Case {
            name: "certificate with 21 days left",
            check: Tls,
            mutate: |f| tls(f).not_after_ms = Some(NOW + 21 * DAY),
            outcome: Pass,
            summary_has: "21 more days",
            evidence_has: &["days left: 21"],
        },
        Case {
            name: "TLS 1.0 offered",
            check: Tls,
            mutate: |f| tls(f).protocols.push("TLSv1".into()),
            outcome: Fail,
            summary_has: "older than TLS 1.2",
            evidence_has: &["protocols: TLSv1.2, TLSv1.3, TLSv1"],
        },
        Case {
            name: "certificate held by a proxy",
            check: Tls,
            mutate: |f| tls(f).not_after_ms = None,
            outcome: CannotRun,
            summary_has: "proxy",
            evidence_has: &["proxy"],
        },
        // --- HSTS
        Case {
            name: "HSTS over plain HTTP",
            check: Hsts,
            mutate: |f| hsts(f).https = false,
            outcome: Fail,
            summary_has: "plain HTTP",
            evidence_has: &["served over HTTPS: false"],
        },
        Case {
            name: "HSTS max-age a second under a year",
            check: Hsts,
            mutate: |f| hsts(f).header = "max-age=31535999; includeSubDomains".into(),
            outcome: Fail,
            summary_has: "31535999",
            evidence_has: &["Strict-Transport-Security: max-age=31535999"],
        },
        Case {
            name: "HSTS max-age of a day",
            check: Hsts,
            mutate: |f| hsts(f).header = "max-age=86400".into(),
            outcome: Fail,
            summary_has: "under one year",
            evidence_has: &["max-age=86400"],
        },
        Case {
            name: "HSTS header without max-age",
            check: Hsts,
            mutate: |f| hsts(f).header = "includeSubDomains".into(),
            outcome: Fail,
            summary_has: "max-age is 0",
            evidence_has: &["Strict-Transport-Security: includeSubDomains"],
        },
        Case {
            name: "HSTS max-age of two years, directives reordered",
            check: Hsts,
            mutate: |f| hsts(f).header = "includeSubDomains; max-age=63072000; preload".into(),
            outcome: Pass,
            summary_has: "63072000",
            evidence_has: &["preload"],
        },
        // --- staff MFA
        Case {
            name: "staff account without passkey or TOTP",
            check: StaffMfa,
            mutate: |f| acct(f, "u-totp").totp_confirmed = false,
            outcome: Fail,
            summary_has: "1 of 4 staff accounts",
            evidence_has: &["accounts without MFA: u-totp", "without MFA: 1"],
        },
        Case {
            name: "administrator without any second factor",
            check: StaffMfa,
            mutate: |f| {
                let a = acct(f, "u-admin");
                a.passkeys = 0;
                a.totp_confirmed = false;
            },
            outcome: Fail,
            summary_has: "no second factor",
            evidence_has: &["u-admin"],
        },
        Case {
            name: "a disabled staff account re-enabled without MFA",
            check: StaffMfa,
            mutate: |f| acct(f, "u-gone").enabled = true,
            outcome: Fail,
            summary_has: "1 of 5 staff accounts",
            evidence_has: &["accounts without MFA: u-gone"],
        },
        // --- phishing-resistant MFA for administrators
        Case {
            name: "practice admin with only TOTP",
            check: AdminPhishingResistantMfa,
            mutate: |f| acct(f, "u-admin").passkeys = 0,
            outcome: Fail,
            summary_has: "1 administrator accounts have no passkey",
            evidence_has: &["without a passkey: u-admin"],
        },
        Case {
            name: "security officer with only TOTP",
            check: AdminPhishingResistantMfa,
            mutate: |f| {
                let a = acct(f, "u-so");
                a.passkeys = 0;
                a.totp_confirmed = true;
            },
            outcome: Fail,
            summary_has: "no passkey",
            evidence_has: &["without a passkey: u-so"],
        },
        Case {
            name: "clinician promoted to admin keeps only TOTP",
            check: AdminPhishingResistantMfa,
            mutate: |f| acct(f, "u-totp").role = "practice_admin".into(),
            outcome: Fail,
            summary_has: "no passkey",
            evidence_has: &["u-totp", "enabled administrator accounts: 3"],
        },
        // --- stale administrator accounts
        Case {
            name: "admin idle 46 days",
            check: StaleAdminAccounts,
            mutate: |f| acct(f, "u-admin").last_active_ms = Some(days_ago(46)),
            outcome: Fail,
            summary_has: "1 enabled administrator accounts",
            evidence_has: &["stale accounts: u-admin (46 days)"],
        },
        Case {
            name: "security officer never active, created 46 days ago",
            check: StaleAdminAccounts,
            mutate: |f| acct(f, "u-so").created_ms = days_ago(46),
            outcome: Fail,
            summary_has: "idle for more than 45 days",
            evidence_has: &["u-so (46 days)"],
        },
        Case {
            name: "clinician idle 300 days is not an admin",
            check: StaleAdminAccounts,
            mutate: |f| acct(f, "u-clin").last_active_ms = Some(days_ago(300)),
            outcome: Pass,
            summary_has: "45 days",
            evidence_has: &["idle limit (days): 45"],
        },
        // --- shared accounts
        Case {
            name: "staff account on 4 devices",
            check: SharedAccounts,
            mutate: |f| acct(f, "u-clin").live_devices = 4,
            outcome: Fail,
            summary_has: "1 staff accounts look shared",
            evidence_has: &["accounts over it: u-clin (4 devices)", "device limit: 3"],
        },
        // --- idle logoff
        Case {
            name: "idle logoff 30 minutes",
            check: IdleLogoff,
            mutate: |f| f.staff_idle_minutes = 30,
            outcome: Fail,
            summary_has: "30 minutes; the limit is 15",
            evidence_has: &["sessions.staff_idle_minutes: 30"],
        },
        Case {
            name: "idle logoff 16 minutes",
            check: IdleLogoff,
            mutate: |f| f.staff_idle_minutes = 16,
            outcome: Fail,
            summary_has: "16 minutes",
            evidence_has: &["sessions.staff_idle_minutes: 16"],
        },
        Case {
            name: "idle logoff 0 (never)",
            check: IdleLogoff,
            mutate: |f| f.staff_idle_minutes = 0,
            outcome: Fail,
            summary_has: "0 minutes",
            evidence_has: &["sessions.staff_idle_minutes: 0"],
        },
        Case {
            name: "idle logoff 5 minutes",
            check: IdleLogoff,
            mutate: |f| f.staff_idle_minutes = 5,
            outcome: Pass,
            summary_has: "5 minutes",
            evidence_has: &["sessions.staff_idle_minutes: 5"],
        },
        // --- break-glass review
        Case {
            name: "break-glass unreviewed 8 days after start",
            check: BreakGlassReviewed,
            mutate: |f| grant(f, "bg-waiting").started_ms = days_ago(8),
            outcome: Fail,
            summary_has: "1 emergency accesses were not reviewed within 7 days",
            evidence_has: &["reviewed late or overdue: bg-waiting", "awaiting review: 1"],
        },
        Case {
            name: "break-glass reviewed on day 8",
            check: BreakGlassReviewed,
            mutate: |f| grant(f, "bg-reviewed").reviewed_ms = Some(days_ago(12)),
            outcome: Fail,
            summary_has: "not reviewed within 7 days",
            evidence_has: &["reviewed late or overdue: bg-reviewed"],
        },
        Case {
            name: "break-glass unreviewed one minute short of 7 days",
            check: BreakGlassReviewed,
            mutate: |f| grant(f, "bg-waiting").started_ms = days_ago(7) + 60_000,
            outcome: Pass,
            summary_has: "1 waiting",
            evidence_has: &["grants: 2", "awaiting review: 1"],
        },
        // --- encryption at rest
        Case {
            name: "no master key",
            check: EncryptionAtRest,
            mutate: |f| enc(f).master_key_present = false,
            outcome: Fail,
            summary_has: "No master key",
            evidence_has: &["master key loaded: false"],
        },
        Case {
            name: "a profile in clear",
            check: EncryptionAtRest,
            mutate: |f| enc(f).unsealed_profiles = 1,
            outcome: Fail,
            summary_has: "1 account profiles are stored in clear",
            evidence_has: &["profiles in clear: 1"],
        },
        // --- key age
        Case {
            name: "key 400 days old",
            check: KeyAge,
            mutate: |f| enc(f).current_kek_created_ms = Some(days_ago(400)),
            outcome: Fail,
            summary_has: "400 days old; rotate it",
            evidence_has: &["age (days): 400", "policy (days): 365", "key version: 2"],
        },
        Case {
            name: "key 364 days old",
            check: KeyAge,
            mutate: |f| enc(f).current_kek_created_ms = Some(days_ago(364)),
            outcome: Pass,
            summary_has: "364 days old",
            evidence_has: &["age (days): 364"],
        },
        Case {
            name: "no key-encryption key created yet",
            check: KeyAge,
            mutate: |f| enc(f).current_kek_created_ms = None,
            outcome: CannotRun,
            summary_has: "no key-encryption key",
            evidence_has: &["reason: no key-encryption key"],
        },
        // --- backup age
        Case {
            name: "backup 25 h old",
            check: BackupAge,
            mutate: |f| f.last_backup_ms = Ok(Some(hours_ago(25))),
            outcome: Fail,
            summary_has: "25 hours old; the limit is 24",
            evidence_has: &["age (hours): 25"],
        },
        Case {
            name: "backup exactly 24 h old",
            check: BackupAge,
            mutate: |f| f.last_backup_ms = Ok(Some(hours_ago(24))),
            outcome: Fail,
            summary_has: "24 hours old",
            evidence_has: &["age (hours): 24"],
        },
        Case {
            name: "never backed up",
            check: BackupAge,
            mutate: |f| f.last_backup_ms = Ok(None),
            outcome: Fail,
            summary_has: "No backup has ever been written",
            evidence_has: &["last backup: never"],
        },
        // --- restore tested
        Case {
            name: "restore 91 days old",
            check: RestoreTested,
            mutate: |f| f.last_restore_ms = Ok(Some(days_ago(91))),
            outcome: Fail,
            summary_has: "91 days old",
            evidence_has: &["age (days): 91"],
        },
        Case {
            name: "restore 89 days old",
            check: RestoreTested,
            mutate: |f| f.last_restore_ms = Ok(Some(days_ago(89))),
            outcome: Pass,
            summary_has: "89 days ago",
            evidence_has: &["age (days): 89"],
        },
        Case {
            name: "never restored",
            check: RestoreTested,
            mutate: |f| f.last_restore_ms = Ok(None),
            outcome: Fail,
            summary_has: "No backup has ever been restored",
            evidence_has: &["last verified restore: never"],
        },
        // --- ledger chain
        Case {
            name: "ledger fails verification",
            check: LedgerChain,
            mutate: |f| ledger(f).verified = Err("entry 417: hash chain broken".into()),
            outcome: Fail,
            summary_has: "does not verify: entry 417: hash chain broken",
            evidence_has: &["failure: entry 417: hash chain broken", "entries: 1000"],
        },
        // --- ledger checkpoints
        Case {
            name: "entry unsigned for 25 h",
            check: LedgerCheckpoints,
            mutate: |f| ledger(f).oldest_unsealed_ms = Some(hours_ago(25)),
            outcome: Fail,
            summary_has: "waited 25 hours",
            evidence_has: &["oldest unsigned entry (hours): 25"],
        },
        Case {
            name: "every entry signed",
            check: LedgerCheckpoints,
            mutate: |f| ledger(f).oldest_unsealed_ms = None,
            outcome: Pass,
            summary_has: "signed tree head",
            evidence_has: &["oldest unsigned entry (hours): none"],
        },
        // --- alerts overdue
        Case {
            name: "critical alert open 5 h",
            check: AlertsOverdue,
            mutate: |f| alert(f, "al-crit").first_ms = hours_ago(5),
            outcome: Fail,
            summary_has: "1 alerts are open past their deadline",
            evidence_has: &["past deadline: al-crit (critical)", "open alerts: 2"],
        },
        Case {
            name: "low alert open 8 days",
            check: AlertsOverdue,
            mutate: |f| alert(f, "al-low").first_ms = days_ago(8),
            outcome: Fail,
            summary_has: "past their deadline",
            evidence_has: &["past deadline: al-low (low)"],
        },
        Case {
            name: "old acknowledged alert re-opened",
            check: AlertsOverdue,
            mutate: |f| alert(f, "al-acked").open = true,
            outcome: Fail,
            summary_has: "past their deadline",
            evidence_has: &["al-acked (critical)", "open alerts: 3"],
        },
        // --- training
        Case {
            name: "training 90%",
            check: TrainingCompletion,
            mutate: |f| f.training.as_mut().unwrap().completed_in_year = 18,
            outcome: Fail,
            summary_has: "Only 90% of staff",
            evidence_has: &["staff: 20", "trained in the last year: 18"],
        },
        // --- dependency advisories
        Case {
            name: "a vulnerability (not informational) affects the build",
            check: DependencyAdvisories,
            mutate: |f| {
                adv(f)
                    .findings
                    .push(finding("RUSTSEC-2025-0019", "fastcrypt", None));
            },
            outcome: Fail,
            summary_has: "1 advisories affect libraries",
            evidence_has: &["RUSTSEC-2025-0019: fastcrypt 1.2.3", "RUSTSEC-2025-0007"],
        },
        Case {
            name: "advisory database 31 days old",
            check: DependencyAdvisories,
            mutate: |f| adv(f).newest_advisory_date_days = Some(NOW / DAY - 31),
            outcome: Fail,
            summary_has: "out of date (newest advisory 31 days old)",
            evidence_has: &["newest advisory (days old): 31"],
        },
        Case {
            name: "advisory database 29 days old",
            check: DependencyAdvisories,
            mutate: |f| adv(f).newest_advisory_date_days = Some(NOW / DAY - 29),
            outcome: Pass,
            summary_has: "No advisory affects the 250 libraries",
            evidence_has: &["newest advisory (days old): 29"],
        },
        Case {
            name: "advisory database with no dated advisory",
            check: DependencyAdvisories,
            mutate: |f| adv(f).newest_advisory_date_days = None,
            outcome: Fail,
            summary_has: "out of date",
            evidence_has: &["newest advisory (days old): unknown"],
        },
    ]
}

#[test]
fn each_bad_fact_fails_its_check_and_names_what_was_seen() {
    let mut failures = Vec::new();
    for case in cases() {
        let mut facts = healthy();
        (case.mutate)(&mut facts);
        let r = run(&facts, case.check);
        let ev = evidence(&r);
        let mut problems = Vec::new();
        if r.outcome != case.outcome {
            problems.push(format!("outcome {:?}, want {:?}", r.outcome, case.outcome));
        }
        if !r.summary.contains(case.summary_has) {
            problems.push(format!("summary lacks {:?}", case.summary_has));
        }
        for needle in case.evidence_has {
            if !ev.contains(needle) {
                problems.push(format!("evidence lacks {needle:?}"));
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{} ({:?}): {}\n  summary: {}\n  evidence: {}",
                case.name,
                case.check,
                problems.join("; "),
                r.summary,
                ev.replace('\n', " | ")
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn every_check_has_a_failing_case() {
    // The table above must keep up with the catalogue.
    let failing: BTreeSet<CheckId> = cases()
        .iter()
        .filter(|c| c.outcome == Outcome::Fail)
        .map(|c| c.check)
        .collect();
    let all: BTreeSet<CheckId> = CHECKS.iter().map(|c| c.id).collect();
    assert_eq!(failing, all);
}

#[test]
fn the_healthy_baseline_passes_each_case_check_before_mutation() {
    // So a failing case is failing because of its mutation, not the baseline.
    let facts = healthy();
    for case in cases() {
        assert_eq!(
            run(&facts, case.check).outcome,
            Outcome::Pass,
            "{}",
            case.name
        );
    }
}

/// Makes one observed fact unobservable, and the checks that then cannot run.
type Unobserve = (&'static str, fn(&mut Facts, String), &'static [CheckId]);

fn unobservable() -> Vec<Unobserve> {
    use CheckId::*;
    vec![
        ("tls", |f, why| f.tls = Err(why), &[Tls]),
        ("hsts", |f, why| f.hsts = Err(why), &[Hsts]),
        (
            "accounts",
            |f, why| f.accounts = Err(why),
            &[
                StaffMfa,
                AdminPhishingResistantMfa,
                StaleAdminAccounts,
                SharedAccounts,
            ],
        ),
        (
            "break_glass",
            |f, why| f.break_glass = Err(why),
            &[BreakGlassReviewed],
        ),
        (
            "encryption",
            |f, why| f.encryption = Err(why),
            &[EncryptionAtRest, KeyAge],
        ),
        (
            "last_backup_ms",
            |f, why| f.last_backup_ms = Err(why),
            &[BackupAge],
        ),
        (
            "last_restore_ms",
            |f, why| f.last_restore_ms = Err(why),
            &[RestoreTested],
        ),
        (
            "ledger",
            |f, why| f.ledger = Err(why),
            &[LedgerChain, LedgerCheckpoints],
        ),
        ("alerts", |f, why| f.alerts = Err(why), &[AlertsOverdue]),
        (
            "training",
            |f, why| f.training = Err(why),
            &[TrainingCompletion],
        ),
        (
            "advisories",
            |f, why| f.advisories = Err(why),
            &[DependencyAdvisories],
        ),
    ]
}

#[test]
fn an_unobserved_fact_cannot_run_its_checks_and_says_why() {
    for (field, unobserve, affected) in unobservable() {
        let why = format!("could not read {field}: permission denied");
        let mut facts = healthy();
        unobserve(&mut facts, why.clone());
        for r in evaluate(&facts, &Thresholds::default(), None) {
            if affected.contains(&r.check) {
                assert_eq!(r.outcome, Outcome::CannotRun, "{field} → {:?}", r.check);
                assert!(
                    r.summary.contains(&why),
                    "{field} → {:?}: summary {:?} lacks the reason",
                    r.check,
                    r.summary
                );
                assert_eq!(
                    r.evidence,
                    vec![("reason".to_owned(), why.clone())],
                    "{field} → {:?}",
                    r.check
                );
                assert_eq!(r.observed_ms, NOW);
            } else {
                // Other checks are unaffected by this fact.
                assert_eq!(r.outcome, Outcome::Pass, "{field} → {:?}", r.check);
            }
        }
    }
}

#[test]
fn an_unobserved_fact_never_passes_even_when_run_alone() {
    for (field, unobserve, affected) in unobservable() {
        let mut facts = healthy();
        unobserve(&mut facts, format!("{field} unknown"));
        for &check in affected {
            let r = run(&facts, check);
            assert_eq!(r.outcome, Outcome::CannotRun, "{field} → {check:?}");
            assert!(r.summary.contains(&format!("{field} unknown")));
        }
    }
}

#[test]
fn every_check_but_idle_logoff_depends_on_an_observed_fact() {
    // `staff_idle_minutes` is configuration, always known; every other check must have
    // a row in `unobservable`, so each is shown to give CannotRun.
    let covered: BTreeSet<CheckId> = unobservable()
        .iter()
        .flat_map(|(_, _, ids)| ids.iter().copied())
        .collect();
    let all: BTreeSet<CheckId> = CHECKS
        .iter()
        .map(|c| c.id)
        .filter(|&id| id != CheckId::IdleLogoff)
        .collect();
    assert_eq!(covered, all);
}

#[test]
fn nothing_observed_passes_nothing() {
    let mut facts = healthy();
    for (field, unobserve, _) in unobservable() {
        unobserve(&mut facts, format!("{field} unknown"));
    }
    for r in evaluate(&facts, &Thresholds::default(), None) {
        if r.check == CheckId::IdleLogoff {
            assert_eq!(r.outcome, Outcome::Pass);
        } else {
            assert_eq!(r.outcome, Outcome::CannotRun, "{:?}", r.check);
            assert!(r.summary.starts_with("Could not run: "), "{}", r.summary);
        }
    }
}

#[test]
fn evidence_lists_every_failing_account() {
    let mut facts = healthy();
    acct(&mut facts, "u-clin").passkeys = 0;
    acct(&mut facts, "u-totp").totp_confirmed = false;
    let r = run(&facts, CheckId::StaffMfa);
    assert_eq!(r.outcome, Outcome::Fail);
    assert!(r.summary.starts_with("2 of 4"), "{}", r.summary);
    assert!(
        r.evidence.contains(&(
            "accounts without MFA".to_owned(),
            "u-clin, u-totp".to_owned()
        )),
        "{:?}",
        r.evidence
    );
    // Healthy accounts are not named as failing.
    assert!(!evidence(&r).contains("u-admin"));
}

#[test]
fn advisory_findings_are_all_shown_even_when_informational() {
    let r = run(&healthy(), CheckId::DependencyAdvisories);
    assert_eq!(r.outcome, Outcome::Pass);
    let ev = evidence(&r);
    assert!(
        ev.contains("RUSTSEC-2025-0007: yamlish 1.2.3: yamlish problem (unmaintained)"),
        "{ev}"
    );
    assert!(ev.contains("advisory database: /srv/advisory-db"), "{ev}");
    assert!(ev.contains("libraries in this build: 250"), "{ev}");
}

#[test]
fn a_stale_database_fails_even_without_findings() {
    let mut facts = healthy();
    adv(&mut facts).findings.clear();
    adv(&mut facts).newest_advisory_date_days = Some(NOW / DAY - 31);
    assert_eq!(
        run(&facts, CheckId::DependencyAdvisories).outcome,
        Outcome::Fail
    );
    adv(&mut facts).newest_advisory_date_days = Some(NOW / DAY);
    assert_eq!(
        run(&facts, CheckId::DependencyAdvisories).outcome,
        Outcome::Pass
    );
}

#[test]
fn evidence_times_are_the_observed_instants() {
    let facts = healthy();
    let backup = evidence(&run(&facts, CheckId::BackupAge));
    assert!(
        backup.contains(&format!(
            "last backup: {}",
            assurance::rfc3339_day(hours_ago(23))
        )),
        "{backup}"
    );
    let tls = evidence(&run(&facts, CheckId::Tls));
    assert!(
        tls.contains(&format!(
            "expires: {}",
            assurance::rfc3339_day(NOW + 60 * DAY)
        )),
        "{tls}"
    );
    let key = evidence(&run(&facts, CheckId::KeyAge));
    assert!(
        key.contains(&format!(
            "created: {}",
            assurance::rfc3339_day(days_ago(30))
        )),
        "{key}"
    );
}

#[test]
fn tightened_thresholds_are_applied() {
    let t = Thresholds {
        staff_idle_max_minutes: 10,
        admin_idle_days: 30,
        max_devices_per_staff: 2,
        backup_max_age_hours: 12,
        training_min_percent: 100,
        cert_min_days: 90,
        ..Thresholds::default()
    };
    let facts = healthy();
    for check in [
        CheckId::IdleLogoff,
        CheckId::StaleAdminAccounts,
        CheckId::SharedAccounts,
        CheckId::BackupAge,
        CheckId::TrainingCompletion,
        CheckId::Tls,
    ] {
        assert_eq!(
            run(&facts, check).outcome,
            Outcome::Pass,
            "{check:?} default"
        );
        let r = run_with(&facts, &t, check);
        assert_eq!(
            r.outcome,
            Outcome::Fail,
            "{check:?} tightened: {}",
            r.summary
        );
    }
}
