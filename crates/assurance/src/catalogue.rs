//! What the server checks about itself, and the safeguards each check stands for.
//!
//! Each check names the HIPAA Security Rule paragraph, the ACSC Essential Eight strategy
//! (with the maturity level whose requirement it measures) and the RACGP Standards
//! criterion it gives evidence for, so a report can be read by whichever framework the
//! practice answers to. Each also names the risk scenarios (see [`crate::register`])
//! whose likelihood rises while it fails.

use serde::Serialize;

use crate::AssuranceError;

/// One automated check of the live system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    Tls,
    Hsts,
    StaffMfa,
    AdminPhishingResistantMfa,
    StaleAdminAccounts,
    SharedAccounts,
    IdleLogoff,
    BreakGlassReviewed,
    EncryptionAtRest,
    KeyAge,
    BackupAge,
    RestoreTested,
    LedgerChain,
    LedgerCheckpoints,
    AlertsOverdue,
    TrainingCompletion,
    DependencyAdvisories,
}

/// A check's description: what it looks at and what it gives evidence for.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CheckSpec {
    pub id: CheckId,
    /// Stable id used in URLs, the API and reports.
    pub key: &'static str,
    pub title: &'static str,
    /// What passing means, in one sentence.
    pub pass_when: &'static str,
    /// HIPAA Security Rule paragraphs (45 CFR).
    pub hipaa: &'static [&'static str],
    /// ACSC Essential Eight strategy and maturity level, when one applies.
    pub essential_eight: Option<&'static str>,
    /// RACGP Standards for general practices (5th ed.) criterion.
    pub racgp: Option<&'static str>,
    /// Risk scenarios whose likelihood rises while this check fails.
    pub scenarios: &'static [&'static str],
}

/// Every check, in the order the dashboard lists them.
pub const CHECKS: &[CheckSpec] = &[
    CheckSpec {
        id: CheckId::Tls,
        key: "tls",
        title: "TLS configuration and certificate expiry",
        pass_when: "Connections use TLS 1.2 or 1.3 with AEAD ciphers only, and the certificate is valid for at least 21 more days.",
        hipaa: &["§164.312(e)(1)", "§164.312(e)(2)(ii)"],
        essential_eight: None,
        racgp: Some("C6.4"),
        scenarios: &["session_hijack"],
    },
    CheckSpec {
        id: CheckId::Hsts,
        key: "hsts",
        title: "HTTP Strict Transport Security",
        pass_when: "Every HTTPS response carries Strict-Transport-Security with a max-age of at least one year.",
        hipaa: &["§164.312(e)(1)"],
        essential_eight: None,
        racgp: Some("C6.4"),
        scenarios: &["session_hijack", "phishing"],
    },
    CheckSpec {
        id: CheckId::StaffMfa,
        key: "staff_mfa",
        title: "Multi-factor authentication of all staff",
        pass_when: "Every enabled staff account has a passkey or a confirmed authenticator app.",
        hipaa: &["§164.312(d)"],
        essential_eight: Some("Multi-factor authentication, ML1 (ISM-1504)"),
        racgp: Some("C6.4C"),
        scenarios: &["phishing", "credential_stuffing"],
    },
    CheckSpec {
        id: CheckId::AdminPhishingResistantMfa,
        key: "admin_phishing_resistant_mfa",
        title: "Phishing-resistant MFA for administrators",
        pass_when: "Every enabled administrator and security officer has a passkey (WebAuthn).",
        hipaa: &["§164.312(d)"],
        essential_eight: Some("Multi-factor authentication, ML2 (ISM-1872)"),
        racgp: Some("C6.4C"),
        scenarios: &["phishing", "credential_stuffing"],
    },
    CheckSpec {
        id: CheckId::StaleAdminAccounts,
        key: "stale_admin_accounts",
        title: "Stale administrator accounts",
        pass_when: "No enabled administrator or security officer account has been idle for more than 45 days.",
        hipaa: &["§164.308(a)(3)(ii)(C)", "§164.308(a)(4)(ii)(C)"],
        essential_eight: Some("Restrict administrative privileges, ML2 (ISM-1648)"),
        racgp: Some("C6.4C"),
        scenarios: &["credential_stuffing", "insider_snooping"],
    },
    CheckSpec {
        id: CheckId::SharedAccounts,
        key: "shared_accounts",
        title: "Shared staff accounts",
        pass_when: "No staff account is signed in on more than three devices at once.",
        hipaa: &["§164.312(a)(2)(i)"],
        essential_eight: None,
        racgp: Some("C6.4C"),
        scenarios: &["insider_snooping"],
    },
    CheckSpec {
        id: CheckId::IdleLogoff,
        key: "idle_logoff",
        title: "Automatic logoff of idle staff sessions",
        pass_when: "Staff sessions end after at most 15 minutes without activity.",
        hipaa: &["§164.312(a)(2)(iii)"],
        essential_eight: None,
        racgp: Some("C6.4"),
        scenarios: &["lost_device", "session_hijack"],
    },
    CheckSpec {
        id: CheckId::BreakGlassReviewed,
        key: "break_glass_reviewed",
        title: "Break-glass access reviewed",
        pass_when: "Every emergency access has been reviewed by the security officer within 7 days of its start.",
        hipaa: &["§164.312(a)(2)(ii)", "§164.308(a)(1)(ii)(D)"],
        essential_eight: None,
        racgp: Some("C6.4"),
        scenarios: &["insider_snooping"],
    },
    CheckSpec {
        id: CheckId::EncryptionAtRest,
        key: "encryption_at_rest",
        title: "Encryption at rest",
        pass_when: "Patient records, account names and addresses are sealed under the practice's keys; none is stored in clear.",
        hipaa: &["§164.312(a)(2)(iv)"],
        essential_eight: None,
        racgp: Some("C6.4"),
        scenarios: &["lost_device", "ransomware", "insider_snooping"],
    },
    CheckSpec {
        id: CheckId::KeyAge,
        key: "key_age",
        title: "Encryption key age",
        pass_when: "The key-encryption key in use is younger than the rotation policy (365 days).",
        hipaa: &["§164.312(a)(2)(iv)"],
        essential_eight: None,
        racgp: Some("C6.4"),
        scenarios: &["insider_snooping"],
    },
    CheckSpec {
        id: CheckId::BackupAge,
        key: "backup_age",
        title: "Backup age",
        pass_when: "The last backup was written less than 24 hours ago.",
        hipaa: &["§164.308(a)(7)(ii)(A)"],
        essential_eight: Some("Regular backups, ML1 (ISM-1511)"),
        racgp: Some("C6.4D"),
        scenarios: &["ransomware", "backup_failure"],
    },
    CheckSpec {
        id: CheckId::RestoreTested,
        key: "restore_tested",
        title: "Restore tested",
        pass_when: "A backup was restored and verified less than 90 days ago.",
        hipaa: &["§164.308(a)(7)(ii)(D)"],
        essential_eight: Some("Regular backups, ML1 (ISM-1515)"),
        racgp: Some("C6.4D"),
        scenarios: &["ransomware", "backup_failure"],
    },
    CheckSpec {
        id: CheckId::LedgerChain,
        key: "ledger_chain",
        title: "Audit ledger integrity",
        pass_when: "Every entry of the audit ledger verifies: the hash chain is unbroken and matches the signed tree heads.",
        hipaa: &["§164.312(b)", "§164.312(c)(1)"],
        essential_eight: None,
        racgp: Some("C6.4"),
        scenarios: &["insider_snooping", "ransomware"],
    },
    CheckSpec {
        id: CheckId::LedgerCheckpoints,
        key: "ledger_checkpoints",
        title: "Audit ledger checkpoints fresh",
        pass_when: "No ledger entry older than 24 hours is left outside a signed tree head.",
        hipaa: &["§164.312(b)"],
        essential_eight: None,
        racgp: Some("C6.4"),
        scenarios: &["insider_snooping"],
    },
    CheckSpec {
        id: CheckId::AlertsOverdue,
        key: "alerts_overdue",
        title: "Security alerts handled in time",
        pass_when: "No open alert is older than its deadline (critical 4 h, high 24 h, medium 3 days, low 7 days).",
        hipaa: &["§164.308(a)(6)(ii)", "§164.308(a)(1)(ii)(D)"],
        essential_eight: None,
        racgp: Some("C6.4"),
        scenarios: &["credential_stuffing", "session_hijack", "insider_snooping"],
    },
    CheckSpec {
        id: CheckId::TrainingCompletion,
        key: "training_completion",
        title: "Security training of staff",
        pass_when: "At least 95% of staff have completed their security training within the last year.",
        hipaa: &["§164.308(a)(5)(i)"],
        essential_eight: None,
        racgp: Some("C6.4"),
        scenarios: &["phishing"],
    },
    CheckSpec {
        id: CheckId::DependencyAdvisories,
        key: "dependency_advisories",
        title: "Dependency advisories of the running build",
        pass_when: "No RustSec advisory affects a library compiled into this build, and the advisory database is less than 30 days old.",
        hipaa: &["§164.308(a)(1)(ii)(B)"],
        essential_eight: Some("Patch applications, ML1 (ISM-1876, ISM-1690)"),
        racgp: Some("C6.4"),
        scenarios: &["unpatched_software", "ransomware"],
    },
];

impl CheckId {
    /// This check's description.
    pub fn spec(self) -> &'static CheckSpec {
        // Every variant has exactly one entry; the unit test below holds that.
        CHECKS.iter().find(|c| c.id == self).unwrap_or(&CHECKS[0])
    }

    pub fn key(self) -> &'static str {
        self.spec().key
    }

    /// The check named `key`, or a clear error for an id that is not in the catalogue.
    pub fn parse(key: &str) -> Result<Self, AssuranceError> {
        CHECKS
            .iter()
            .find(|c| c.key == key)
            .map(|c| c.id)
            .ok_or_else(|| AssuranceError::UnknownCheck(key.chars().take(64).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::register::SCENARIOS;

    #[test]
    fn every_check_has_one_spec_and_a_unique_key() {
        for c in CHECKS {
            assert_eq!(c.id.spec().key, c.key);
            assert_eq!(CheckId::parse(c.key).ok(), Some(c.id));
            assert_eq!(CHECKS.iter().filter(|o| o.key == c.key).count(), 1);
            assert!(!c.hipaa.is_empty(), "{} maps to no HIPAA paragraph", c.key);
            for s in c.scenarios {
                assert!(
                    SCENARIOS.iter().any(|x| x.id == *s),
                    "{}: unknown scenario {s}",
                    c.key
                );
            }
        }
        assert_eq!(CHECKS.len(), 17);
    }

    #[test]
    fn unknown_ids_are_refused_by_name() {
        let e = CheckId::parse("tls; DROP TABLE").unwrap_err();
        assert_eq!(e.to_string(), "unknown check `tls; DROP TABLE`");
    }
}
