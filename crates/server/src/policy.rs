//! The one place that answers "may this person do this to that?".
//!
//! Deny by default: an action is allowed only where a rule below says so. Handlers ask
//! [`decide`] (through `require`) before calling domain code; the role × action matrix
//! is tested as a table (`tests::matrix`). The practice administrator manages people and
//! settings but reads no clinical content; the security officer sees audit, alerts, risk
//! and training data but no clinical content.

use crate::identity::Role;

/// Something a person may try to do.
// Audit, security and clinical actions are decided here already (and covered by the
// matrix test); their pages arrive with the records and assurance areas.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Passkeys, second factor, recovery codes, password and sessions of one's own account.
    ManageOwnSecurity,
    /// Invite clinicians, administrators and security officers.
    InviteStaff,
    /// Invite a patient.
    InvitePatient,
    /// See the list of accounts (names, roles, whether they have a second factor).
    ViewAccounts,
    /// Change someone's role.
    ChangeRole,
    /// Disable or re-enable someone's account.
    DisableAccount,
    /// End all of someone's sessions (e.g. a lost laptop).
    RevokeSessions,
    /// Remove someone's credentials and send them a new enrolment link.
    ResetCredentials,
    /// Practice settings, including how patients sign in.
    ManageSettings,
    /// The audit ledger.
    ViewAudit,
    /// Alerts, risk assessments, training records.
    ViewSecurity,
    /// A patient's clinical record.
    ReadClinical,
    WriteClinical,
    /// A patient's own contact details (telecom, address) in their Patient resource.
    UpdateOwnContact,
    /// Open a record without a care relationship, for a stated reason, for a while.
    BreakGlass,
    /// Download a patient's whole record.
    ExportRecord,
    /// The break-glass review queue.
    ReviewBreakGlass,
    /// Acknowledge and resolve security alerts; block and unblock sources; release a
    /// held account.
    RespondToAlerts,
    /// Run the automated checks, keep the risk register, delegate assessment questions,
    /// record incidents and export reports and the evidence pack.
    ManageAssurance,
    /// Answer assessment questions (the security officer, or the staff member a
    /// question is delegated to; the delegation itself is the assurance module's part).
    AnswerAssessment,
    /// Take lessons and quizzes, acknowledge policies, report a suspicious message.
    TakeTraining,
    /// See who is overdue with training, send reminders, turn phishing simulations on,
    /// and run simulation campaigns (the practice administrator and security officer).
    ManageTraining,
    /// Put a clinician on a patient's care team, or take them off.
    AssignCare,
    /// The practice's directory of practitioners.
    ReadDirectory,
    WriteDirectory,
    /// Publish and withdraw one's own bookable slots (clinicians).
    ManageOwnSchedule,
    /// Book an appointment for oneself (patients).
    BookForSelf,
    /// Book for a patient or a guest (clinicians, the practice administrator).
    BookForOthers,
    /// See, cancel or move an appointment.
    ManageAppointment,
    /// Join the consult's waiting room, call and signalling.
    JoinConsult,
    /// Write the consult's notes and keep files shared in it.
    WriteConsultNotes,
    /// Add or remove the practice archive's messaging devices (the archive receives
    /// every message so the practice keeps its clinical record).
    ManageMessagingArchive,
}

/// What the action is done to.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// The practice as a whole.
    Practice,
    /// An account, with its current role.
    Account { id: &'a str, role: Role },
    /// A patient's record; `care` says whether the actor has a care relationship.
    PatientRecord {
        patient_user_id: &'a str,
        care: bool,
    },
    /// An appointment: its clinician, and its patient (None for a guest).
    Appointment {
        clinician_id: &'a str,
        patient_id: Option<&'a str>,
    },
}

/// Who is acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject<'a> {
    pub user_id: &'a str,
    pub role: Role,
}

/// The answer, with the reason when it is no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny(&'static str),
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        self == Decision::Allow
    }
}

const NOT_YOUR_ROLE: &str = "your role does not allow this";

/// May `who` do `action` to `target`?
pub fn decide(who: Subject<'_>, action: Action, target: Target<'_>) -> Decision {
    use Action::*;
    use Role::*;
    let allow_if = |ok: bool, why: &'static str| {
        if ok {
            Decision::Allow
        } else {
            Decision::Deny(why)
        }
    };
    match (action, target) {
        (ManageOwnSecurity, Target::Account { id, .. }) => {
            allow_if(id == who.user_id, "only your own account")
        }
        (InviteStaff, Target::Practice) => allow_if(who.role == PracticeAdmin, NOT_YOUR_ROLE),
        (InvitePatient, Target::Practice) => {
            allow_if(matches!(who.role, PracticeAdmin | Clinician), NOT_YOUR_ROLE)
        }
        (ViewAccounts, Target::Practice) => allow_if(
            matches!(who.role, PracticeAdmin | SecurityOfficer),
            NOT_YOUR_ROLE,
        ),
        (ChangeRole | DisableAccount | ResetCredentials, Target::Account { id, .. }) => {
            if who.role != PracticeAdmin {
                Decision::Deny(NOT_YOUR_ROLE)
            } else if id == who.user_id {
                // An administrator cannot lock themselves out; another admin must do it.
                Decision::Deny("not on your own account")
            } else {
                Decision::Allow
            }
        }
        (RevokeSessions, Target::Account { .. }) => allow_if(
            matches!(who.role, PracticeAdmin | SecurityOfficer),
            NOT_YOUR_ROLE,
        ),
        (ManageSettings, Target::Practice) => allow_if(who.role == PracticeAdmin, NOT_YOUR_ROLE),
        (ViewAudit | ViewSecurity | ManageAssurance, Target::Practice) => {
            allow_if(who.role == SecurityOfficer, NOT_YOUR_ROLE)
        }
        (TakeTraining, Target::Practice) => Decision::Allow,
        (ManageTraining, Target::Practice) => allow_if(
            matches!(who.role, PracticeAdmin | SecurityOfficer),
            NOT_YOUR_ROLE,
        ),
        (AnswerAssessment, Target::Practice) => {
            allow_if(who.role != Patient, "assessment questions are for staff")
        }
        (
            ReadClinical | WriteClinical,
            Target::PatientRecord {
                patient_user_id,
                care,
            },
        ) => match who.role {
            Patient => allow_if(
                patient_user_id == who.user_id && action == ReadClinical,
                "patients see only their own record",
            ),
            Clinician => allow_if(care, "no care relationship with this patient"),
            PracticeAdmin | SecurityOfficer => {
                Decision::Deny("this role reads no clinical content")
            }
        },
        (
            UpdateOwnContact,
            Target::PatientRecord {
                patient_user_id, ..
            },
        ) => allow_if(
            who.role == Patient && patient_user_id == who.user_id,
            "only patients, and only their own details",
        ),
        // Care is what break-glass is for; the reason, the step-up and the alert are the
        // records service's part.
        (BreakGlass, Target::PatientRecord { .. }) => {
            allow_if(who.role == Clinician, "only clinicians may break the glass")
        }
        (
            ExportRecord,
            Target::PatientRecord {
                patient_user_id,
                care,
            },
        ) => match who.role {
            Patient => allow_if(
                patient_user_id == who.user_id,
                "patients export only their own record",
            ),
            Clinician => allow_if(care, "no care relationship with this patient"),
            PracticeAdmin | SecurityOfficer => {
                Decision::Deny("this role reads no clinical content")
            }
        },
        (ReviewBreakGlass | RespondToAlerts, Target::Practice) => {
            allow_if(who.role == SecurityOfficer, NOT_YOUR_ROLE)
        }
        // The administrator runs the practice: who looks after whom, not what is in the record.
        (AssignCare | ManageMessagingArchive, Target::Practice) => {
            allow_if(who.role == PracticeAdmin, NOT_YOUR_ROLE)
        }
        (ReadDirectory, Target::Practice) => Decision::Allow,
        (WriteDirectory, Target::Practice) => allow_if(who.role == PracticeAdmin, NOT_YOUR_ROLE),
        (ManageOwnSchedule, Target::Practice) => allow_if(who.role == Clinician, NOT_YOUR_ROLE),
        (BookForSelf, Target::Practice) => allow_if(who.role == Patient, NOT_YOUR_ROLE),
        (BookForOthers, Target::Practice) => {
            allow_if(matches!(who.role, Clinician | PracticeAdmin), NOT_YOUR_ROLE)
        }
        (
            ManageAppointment,
            Target::Appointment {
                clinician_id,
                patient_id,
            },
        ) => match who.role {
            // The administrator runs the practice's schedule; no clinical content is shown.
            PracticeAdmin => Decision::Allow,
            Clinician => allow_if(clinician_id == who.user_id, "not your appointment"),
            Patient => allow_if(patient_id == Some(who.user_id), "not your appointment"),
            SecurityOfficer => Decision::Deny(NOT_YOUR_ROLE),
        },
        (
            JoinConsult,
            Target::Appointment {
                clinician_id,
                patient_id,
            },
        ) => allow_if(
            (who.role == Clinician && clinician_id == who.user_id)
                || (who.role == Patient && patient_id == Some(who.user_id)),
            "only the appointment's clinician and patient join it",
        ),
        (WriteConsultNotes, Target::Appointment { clinician_id, .. }) => allow_if(
            who.role == Clinician && clinician_id == who.user_id,
            "only the appointment's clinician",
        ),
        _ => Decision::Deny("not allowed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;
    use Role::*;

    const ME: &str = "me";
    const OTHER: &str = "other";

    /// Every role × action, on a representative target: `true` where allowed.
    #[test]
    fn matrix() {
        let other_account = Target::Account {
            id: OTHER,
            role: Clinician,
        };
        let own_account = Target::Account {
            id: ME,
            role: Clinician,
        };
        let cared_for = Target::PatientRecord {
            patient_user_id: OTHER,
            care: true,
        };
        let stranger = Target::PatientRecord {
            patient_user_id: OTHER,
            care: false,
        };
        let own_record = Target::PatientRecord {
            patient_user_id: ME,
            care: false,
        };
        let mine_as_patient = Target::Appointment {
            clinician_id: OTHER,
            patient_id: Some(ME),
        };
        let mine_as_clinician = Target::Appointment {
            clinician_id: ME,
            patient_id: Some(OTHER),
        };
        let someone_elses = Target::Appointment {
            clinician_id: OTHER,
            patient_id: None,
        };
        // (action, target, [patient, clinician, admin, security officer])
        let table: Vec<(Action, Target, [bool; 4])> = vec![
            (ManageOwnSecurity, own_account, [true, true, true, true]),
            (
                ManageOwnSecurity,
                other_account,
                [false, false, false, false],
            ),
            (InviteStaff, Target::Practice, [false, false, true, false]),
            (InvitePatient, Target::Practice, [false, true, true, false]),
            (ViewAccounts, Target::Practice, [false, false, true, true]),
            (ChangeRole, other_account, [false, false, true, false]),
            (ChangeRole, own_account, [false, false, false, false]),
            (DisableAccount, other_account, [false, false, true, false]),
            (DisableAccount, own_account, [false, false, false, false]),
            (ResetCredentials, other_account, [false, false, true, false]),
            (ResetCredentials, own_account, [false, false, false, false]),
            (RevokeSessions, other_account, [false, false, true, true]),
            (
                ManageSettings,
                Target::Practice,
                [false, false, true, false],
            ),
            (ViewAudit, Target::Practice, [false, false, false, true]),
            (ViewSecurity, Target::Practice, [false, false, false, true]),
            (
                ManageAssurance,
                Target::Practice,
                [false, false, false, true],
            ),
            (
                AnswerAssessment,
                Target::Practice,
                [false, true, true, true],
            ),
            (ReadClinical, cared_for, [false, true, false, false]),
            (ReadClinical, stranger, [false, false, false, false]),
            (ReadClinical, own_record, [true, false, false, false]),
            (WriteClinical, cared_for, [false, true, false, false]),
            (WriteClinical, own_record, [false, false, false, false]),
            (WriteClinical, stranger, [false, false, false, false]),
            (UpdateOwnContact, own_record, [true, false, false, false]),
            (UpdateOwnContact, stranger, [false, false, false, false]),
            (BreakGlass, stranger, [false, true, false, false]),
            (ExportRecord, own_record, [true, false, false, false]),
            (ExportRecord, cared_for, [false, true, false, false]),
            (ExportRecord, stranger, [false, false, false, false]),
            (
                ReviewBreakGlass,
                Target::Practice,
                [false, false, false, true],
            ),
            (
                RespondToAlerts,
                Target::Practice,
                [false, false, false, true],
            ),
            (AssignCare, Target::Practice, [false, false, true, false]),
            (
                ManageMessagingArchive,
                Target::Practice,
                [false, false, true, false],
            ),
            (ReadDirectory, Target::Practice, [true, true, true, true]),
            (
                WriteDirectory,
                Target::Practice,
                [false, false, true, false],
            ),
            (
                ManageOwnSchedule,
                Target::Practice,
                [false, true, false, false],
            ),
            (BookForSelf, Target::Practice, [true, false, false, false]),
            (BookForOthers, Target::Practice, [false, true, true, false]),
            (
                ManageAppointment,
                mine_as_patient,
                [true, false, true, false],
            ),
            (
                ManageAppointment,
                mine_as_clinician,
                [false, true, true, false],
            ),
            (
                ManageAppointment,
                someone_elses,
                [false, false, true, false],
            ),
            (JoinConsult, mine_as_patient, [true, false, false, false]),
            (JoinConsult, mine_as_clinician, [false, true, false, false]),
            (JoinConsult, someone_elses, [false, false, false, false]),
            (
                WriteConsultNotes,
                mine_as_clinician,
                [false, true, false, false],
            ),
            (
                WriteConsultNotes,
                someone_elses,
                [false, false, false, false],
            ),
            // Nonsense combinations are denied, whoever asks.
            (InviteStaff, other_account, [false, false, false, false]),
            (ManageSettings, cared_for, [false, false, false, false]),
        ];
        for (action, target, expected) in table {
            for (role, allowed) in [Patient, Clinician, PracticeAdmin, SecurityOfficer]
                .into_iter()
                .zip(expected)
            {
                let got = decide(Subject { user_id: ME, role }, action, target);
                assert_eq!(
                    got.is_allowed(),
                    allowed,
                    "{role:?} {action:?} {target:?}: {got:?}"
                );
            }
        }
    }

    #[test]
    fn denials_say_why() {
        let d = decide(
            Subject {
                user_id: ME,
                role: PracticeAdmin,
            },
            ReadClinical,
            Target::PatientRecord {
                patient_user_id: OTHER,
                care: true,
            },
        );
        assert_eq!(d, Decision::Deny("this role reads no clinical content"));
    }
}
