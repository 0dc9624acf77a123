//! Who is on the other end: passkeys, passwords with second factors, recovery codes,
//! sessions, enrolment, step-up.

pub mod account;
pub mod enrolment;
pub mod notify;
pub mod passkeys;
pub mod password;
pub mod password_policy;
pub mod qr;
pub mod recovery;
pub mod second_factor;
pub mod session;
pub mod signin;
pub mod step_up;
pub mod throttle;
pub mod totp;

/// A role an account holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Patient,
    Clinician,
    PracticeAdmin,
    SecurityOfficer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Patient => "patient",
            Role::Clinician => "clinician",
            Role::PracticeAdmin => "practice_admin",
            Role::SecurityOfficer => "security_officer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "patient" => Some(Role::Patient),
            "clinician" => Some(Role::Clinician),
            "practice_admin" => Some(Role::PracticeAdmin),
            "security_officer" => Some(Role::SecurityOfficer),
            _ => None,
        }
    }

    /// How the role is shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Patient => "Patient",
            Role::Clinician => "Clinician",
            Role::PracticeAdmin => "Practice administrator",
            Role::SecurityOfficer => "Security officer",
        }
    }
}

/// Lower-cased, trimmed e-mail address, or `None` when it cannot be one.
pub fn normalise_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@');
    ok.then_some(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalise_email("  Ada@Example.ORG ").as_deref(),
            Some("ada@example.org")
        );
        for bad in [
            "",
            "ada",
            "@example.org",
            "ada@",
            "ada@example",
            "a b@example.org",
            "a@b@c.org",
            "a@.org",
        ] {
            assert_eq!(normalise_email(bad), None, "{bad}");
        }
        assert_eq!(
            normalise_email(&format!("{}@example.org", "a".repeat(250))),
            None
        );
    }

    #[test]
    fn roles_round_trip() {
        for r in [
            Role::Patient,
            Role::Clinician,
            Role::PracticeAdmin,
            Role::SecurityOfficer,
        ] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
