//! The question texts. References follow the team's research anchors on risk and training;
//! ISM control numbers are given only where that document ties them to the requirement
//! asked about, otherwise the Essential Eight strategy and maturity level alone.

use super::{Answer, Question};

/// For questions about things every practice has.
const NO_NA: &[Answer] = &[Answer::Yes, Answer::Partly, Answer::No, Answer::DontKnow];
/// For questions about things a practice may not have (Office, laptops, premises, ...).
const ALL: &[Answer] = &Answer::ALL;

const MALWARE: &str = "HIPAA §164.308(a)(5)(ii)(B) protection from malicious software";
const RISK_MANAGEMENT: &str = "HIPAA §164.308(a)(1)(ii)(B) risk management";
const ACCESS_AUTHORIZATION: &str = "HIPAA §164.308(a)(4)(ii)(B) access authorization";
const ACCESS_VALIDATION: &str =
    "HIPAA §164.310(a)(2)(iii) access control and validation procedures";
const BA_CONTRACTS: &str = "HIPAA §164.308(b)(1) business associate contracts";
const EMERGENCY_MODE: &str = "HIPAA §164.308(a)(7)(ii)(C) emergency mode operation plan";

pub(super) const QUESTIONS: [Question; 30] = [
    // Workstations: the Essential Eight controls the server cannot observe.
    Question {
        id: "application_control",
        group: "Workstations",
        text: "Can practice computers run only programs on an approved list, so that a program downloaded from the internet or opened from an email cannot start?",
        help: "Most ransomware arrives as a program someone is tricked into running; application control stops it even after the click.",
        references: &[
            "Essential Eight: Application control, ML1 (ISM-0843, ISM-1657)",
            MALWARE,
            "HIPAA §164.310(c) workstation security",
        ],
        scenarios: &["ransomware", "phishing"],
        options: NO_NA,
    },
    Question {
        id: "office_macros",
        group: "Workstations",
        text: "Are Microsoft Office macros turned off for staff who do not need them, and blocked in files that came from the internet?",
        help: "Macros in emailed documents are a common way in for ransomware. Answer \"Not applicable\" if the practice does not use Microsoft Office.",
        references: &[
            "Essential Eight: Configure Microsoft Office macro settings, ML1",
            MALWARE,
        ],
        scenarios: &["phishing", "ransomware"],
        options: ALL,
    },
    Question {
        id: "user_application_hardening",
        group: "Workstations",
        text: "Do web browsers on practice computers block web ads and Java from the internet, with settings staff cannot change?",
        help: "Malicious ads and old browser plug-ins can infect a computer when a page is merely viewed; locking the settings keeps the protection on.",
        references: &[
            "Essential Eight: User application hardening, ML1 (ISM-1485, ISM-1486, ISM-1585)",
            MALWARE,
        ],
        scenarios: &["phishing", "ransomware"],
        options: NO_NA,
    },
    Question {
        id: "workstation_os_updates",
        group: "Workstations",
        text: "Are operating system updates installed on every practice computer within a month of release, and is every computer on a version its maker still supports?",
        help: "Attackers use published holes soon after the fix appears, and an unsupported version gets no fixes at all.",
        references: &[
            "Essential Eight: Patch operating systems, ML1 (workstations within one month; unsupported systems replaced, ISM-1501)",
            RISK_MANAGEMENT,
        ],
        scenarios: &["unpatched_software", "ransomware"],
        options: NO_NA,
    },
    Question {
        id: "workstation_app_updates",
        group: "Workstations",
        text: "Are web browsers, email programs, PDF readers and Office on practice computers updated within two weeks of each release?",
        help: "These programs open content from strangers every day, so their security fixes matter most; automatic updates are the usual way to keep up.",
        references: &["Essential Eight: Patch applications, ML1", RISK_MANAGEMENT],
        scenarios: &["unpatched_software", "phishing"],
        options: NO_NA,
    },
    Question {
        id: "workstation_admin_rights",
        group: "Workstations",
        text: "Do staff work in accounts without administrator rights, with a separate administrator account that is never used for email or web browsing?",
        help: "Malware runs with the rights of whoever opened it; without administrator rights it cannot switch off protections or spread as easily.",
        references: &[
            "Essential Eight: Restrict administrative privileges, ML1 (ISM-0445, ISM-1175)",
            ACCESS_AUTHORIZATION,
        ],
        scenarios: &["ransomware", "phishing"],
        options: NO_NA,
    },
    Question {
        id: "device_encryption",
        group: "Workstations",
        text: "Are laptops, tablets and phones that hold or can reach patient information encrypted, with a passcode needed to unlock them?",
        help: "Losing an encrypted device is usually not a notifiable breach; losing an unencrypted one usually is.",
        references: &[
            "HIPAA §164.312(a)(2)(iv) encryption and decryption",
            "HIPAA §164.310(d)(1) device and media controls",
        ],
        scenarios: &["lost_device"],
        options: ALL,
    },
    Question {
        id: "screen_lock",
        group: "Workstations",
        text: "Do practice computers lock after 15 minutes or less without use, and do staff lock them when they walk away?",
        help: "An unlocked screen in a consulting room or at reception lets anyone passing read or change records under a staff member's name.",
        references: &[
            "HIPAA §164.310(b) workstation use",
            "HIPAA §164.310(c) workstation security",
            "HIPAA §164.312(a)(2)(iii) automatic logoff",
        ],
        scenarios: &["insider_snooping", "physical_intrusion"],
        options: NO_NA,
    },
    Question {
        id: "personal_devices",
        group: "Workstations",
        text: "If staff use their own phones or computers for practice work, must those devices have a screen lock, current updates and a way to wipe practice data if lost?",
        help: "Personal devices are lost, shared and sold more often than practice equipment. Answer \"Not applicable\" if personal devices are never used.",
        references: &[
            "HIPAA §164.310(d)(1) device and media controls",
            "HIPAA §164.310(c) workstation security",
        ],
        scenarios: &["lost_device", "unpatched_software"],
        options: ALL,
    },
    // Server host: Telewarden sees its own dependencies, not the system under it.
    Question {
        id: "host_os_updates",
        group: "Server host",
        text: "Is the operating system of the server that runs Telewarden updated within two weeks of each release, and within 48 hours for critical or exploited holes?",
        help: "Internet-facing servers are scanned for known holes within hours of publication. If a hosting provider manages the server, answer for them.",
        references: &[
            "Essential Eight: Patch operating systems, ML1 (internet-facing systems: 48 hours if critical or exploited, otherwise two weeks)",
            RISK_MANAGEMENT,
        ],
        scenarios: &["unpatched_software", "ransomware"],
        options: NO_NA,
    },
    Question {
        id: "host_admin_access",
        group: "Server host",
        text: "Is administrator access to the server and the hosting account limited to named people, each with their own account, and reviewed at least once a year?",
        help: "Shared or forgotten administrator logins are how former staff and attackers keep access; a yearly review finds the ones nobody remembers.",
        references: &[
            "Essential Eight: Restrict administrative privileges, ML1 (ISM-1507, ISM-0445); yearly revalidation at ML2",
            ACCESS_AUTHORIZATION,
            "HIPAA §164.308(a)(4)(ii)(C) access establishment and modification",
        ],
        scenarios: &["insider_snooping", "credential_stuffing"],
        options: NO_NA,
    },
    Question {
        id: "host_admin_mfa",
        group: "Server host",
        text: "Does signing in to the server or the hosting provider's console as an administrator need a second factor, such as a security key or an authenticator app?",
        help: "One stolen or guessed password to the hosting console gives control of every patient record at once; a second factor stops most such takeovers.",
        references: &[
            "Essential Eight: Multi-factor authentication, ML2 (ISM-1173)",
            "HIPAA §164.312(d) person or entity authentication",
        ],
        scenarios: &["credential_stuffing", "phishing"],
        options: NO_NA,
    },
    // Physical security.
    Question {
        id: "facility_access",
        group: "Physical security",
        text: "Are rooms holding servers, network equipment or patient records locked, with keys or access cards held only by staff who need them?",
        help: "Anyone who can touch a server or network box can copy data or plant a device. Answer \"Not applicable\" if there is no such room (everything is hosted and there are no paper records).",
        references: &[
            "HIPAA §164.310(a)(1) facility access controls",
            ACCESS_VALIDATION,
        ],
        scenarios: &["physical_intrusion"],
        options: ALL,
    },
    Question {
        id: "visitor_control",
        group: "Physical security",
        text: "Are visitors, contractors and cleaners kept out of areas where patient information is on screens, on paper or in equipment, unless escorted?",
        help: "Most physical incidents involve people who were let in for a good reason; escorting them costs less than any lock.",
        references: &[
            "HIPAA §164.310(a)(2)(ii) facility security plan",
            ACCESS_VALIDATION,
        ],
        scenarios: &["physical_intrusion"],
        options: ALL,
    },
    Question {
        id: "device_disposal",
        group: "Physical security",
        text: "When computers, phones, disks or USB drives are retired or sent for repair, is patient data wiped or the storage destroyed, with a record kept?",
        help: "Discarded and resold devices regularly turn up with patient records on them; the record proves the data was destroyed.",
        references: &[
            "HIPAA §164.310(d)(2)(i) disposal",
            "HIPAA §164.310(d)(2)(ii) media re-use",
            "RACGP Standards C6.4D (storage, retention and destruction of records)",
        ],
        scenarios: &["lost_device"],
        options: NO_NA,
    },
    Question {
        id: "device_inventory",
        group: "Physical security",
        text: "Do you keep an up-to-date list of the computers, phones and storage devices that hold or can reach patient information, and who has each one?",
        help: "You cannot update or recover what you do not know exists, and after a loss the list shows what went with the device.",
        references: &[
            "HIPAA §164.310(d)(2)(iii) accountability",
            "HIPAA §164.308(a)(1)(ii)(A) risk analysis",
        ],
        scenarios: &["lost_device", "unpatched_software"],
        options: NO_NA,
    },
    // Vendors.
    Question {
        id: "vendor_agreements",
        group: "Vendors",
        text: "Do you have a signed business associate agreement (or data processing agreement) with every vendor that stores, sends or can access patient information for you?",
        help: "Hosting, email, backup, video, transcription and IT support all count. HIPAA requires an agreement with each business associate, and without one you carry their failures.",
        references: &[
            BA_CONTRACTS,
            "HIPAA §164.314(a) business associate contracts",
        ],
        scenarios: &["vendor_outage", "insider_snooping"],
        options: NO_NA,
    },
    Question {
        id: "vendor_incident_notice",
        group: "Vendors",
        text: "Do your vendor agreements require each vendor to tell you promptly about security incidents and breaches involving your data?",
        help: "Late notice from a vendor eats into your own deadlines: 30 days to assess under the NDB scheme, 60 days to notify under HIPAA.",
        references: &[
            "HIPAA §164.314(a)(2)(i)(C) reporting of security incidents",
            BA_CONTRACTS,
        ],
        scenarios: &["vendor_outage", "insider_snooping"],
        options: NO_NA,
    },
    Question {
        id: "vendor_remote_access",
        group: "Vendors",
        text: "Is remote access for IT support and other vendors switched on only when needed, with each session approved or logged?",
        help: "Always-on remote support tools are a favourite way in for ransomware gangs. Answer \"Not applicable\" if no vendor has remote access.",
        references: &[ACCESS_AUTHORIZATION, BA_CONTRACTS],
        scenarios: &["ransomware", "credential_stuffing"],
        options: ALL,
    },
    // Policies and plans.
    Question {
        id: "incident_response_plan",
        group: "Policies and plans",
        text: "Do you have a written plan for responding to a security incident or data breach, tested (for example as a tabletop exercise) in the last 12 months?",
        help: "The first hours of a breach decide how much is lost and whether deadlines are met; an untested plan tends to fail at the first phone number that no longer works.",
        references: &[
            "HIPAA §164.308(a)(6)(i) security incident procedures",
            "HIPAA §164.308(a)(6)(ii) response and reporting",
            "HIPAA §164.316(b)(2)(iii) updates",
        ],
        scenarios: &["ransomware", "phishing"],
        options: NO_NA,
    },
    Question {
        id: "business_continuity_plan",
        group: "Policies and plans",
        text: "Do you have a business continuity and recovery plan for caring for patients while systems are down, tested in the last 12 months?",
        help: "Ransomware, a hosting outage or a fire can take systems away for days; the plan says who does what, how patients are told and what comes back first.",
        references: &[
            "HIPAA §164.308(a)(7)(ii)(B) disaster recovery plan",
            EMERGENCY_MODE,
            "HIPAA §164.308(a)(7)(ii)(D) testing and revision procedures",
            "RACGP Standards C6.4C (business continuity and information recovery plan)",
        ],
        scenarios: &["ransomware", "vendor_outage", "backup_failure"],
        options: NO_NA,
    },
    Question {
        id: "email_policy",
        group: "Policies and plans",
        text: "Do you have a written policy on using email and SMS for patient and practice information, and have all staff read it?",
        help: "It sets what may be sent by email, how to check a sender before acting on a request, and how to report a suspicious message.",
        references: &[
            "RACGP Standards C6.4E (policy on the use of email)",
            "HIPAA §164.308(a)(5)(i) security awareness and training",
        ],
        scenarios: &["phishing"],
        options: NO_NA,
    },
    Question {
        id: "social_media_policy",
        group: "Policies and plans",
        text: "Do you have a social media policy that tells staff what they must never post about patients, colleagues or the practice?",
        help: "Well-meant posts, such as a photo of the front desk or a comment about a patient, disclose health information and cause many privacy complaints.",
        references: &["RACGP Standards C6.4F (policy on the use of social media)"],
        scenarios: &["insider_snooping"],
        options: NO_NA,
    },
    Question {
        id: "sanctions_policy",
        group: "Policies and plans",
        text: "Is there a written sanctions policy for staff who break security or privacy rules, and is it applied when they do?",
        help: "Staff who look up records out of curiosity stop when they know access is logged and consequences are real; HIPAA requires the policy.",
        references: &[
            "HIPAA §164.308(a)(1)(ii)(C) sanction policy",
            "HIPAA §164.316(b)(1) documentation",
        ],
        scenarios: &["insider_snooping"],
        options: NO_NA,
    },
    // Workforce.
    Question {
        id: "security_lead",
        group: "Workforce",
        text: "Is one named person responsible for information security, and do all staff know who it is and how to reach them?",
        help: "Someone has to own updates, backups, vendors and incidents, and staff need to know at once whom to tell about a suspicious email.",
        references: &[
            "HIPAA §164.308(a)(2) assigned security responsibility",
            "RACGP Standards C6.4A (team member responsible for electronic systems and computer security)",
        ],
        scenarios: &["phishing", "ransomware"],
        options: NO_NA,
    },
    Question {
        id: "leavers_process",
        group: "Workforce",
        text: "When someone leaves, are all their accounts (email, remote access, clinical and hosting systems), keys and access cards removed on their last day?",
        help: "Working logins of former staff and contractors cause insider incidents and are easy targets for password guessing. Answer \"Not applicable\" for a practice of one.",
        references: &[
            "HIPAA §164.308(a)(3)(ii)(C) termination procedures",
            ACCESS_VALIDATION,
        ],
        scenarios: &[
            "insider_snooping",
            "credential_stuffing",
            "physical_intrusion",
        ],
        options: ALL,
    },
    Question {
        id: "workforce_clearance",
        group: "Workforce",
        text: "Before new staff or contractors get access to patient information, are their identity, references and professional registration checked?",
        help: "Checks before access cost less than an investigation afterwards. Answer \"Not applicable\" for a practice of one.",
        references: &[
            "HIPAA §164.308(a)(3)(ii)(B) workforce clearance procedure",
            ACCESS_AUTHORIZATION,
        ],
        scenarios: &["insider_snooping"],
        options: ALL,
    },
    // Contingency: Telewarden checks its own backups; these cover everything else.
    Question {
        id: "offsite_backups",
        group: "Contingency",
        text: "Is a copy of all practice data outside Telewarden, such as email, documents and accounts, kept off-site or offline where ransomware on the practice network cannot reach it?",
        help: "Telewarden checks its own backups but cannot see these. Backups reachable from an infected computer are usually encrypted along with it.",
        references: &[
            "HIPAA §164.308(a)(7)(ii)(A) data backup plan",
            "HIPAA §164.310(d)(2)(iv) data backup and storage",
            "Essential Eight: Regular backups, ML1 (ISM-1511)",
            "RACGP Standards C6.4D (off-site backups)",
        ],
        scenarios: &["backup_failure", "ransomware"],
        options: NO_NA,
    },
    Question {
        id: "backup_log",
        group: "Contingency",
        text: "Does someone keep and check a log of those backups, and has restoring them been tested in the last 12 months?",
        help: "Backups fail silently; only a checked log and a real restore show that the data can come back.",
        references: &[
            "HIPAA §164.308(a)(7)(ii)(D) testing and revision procedures",
            "Essential Eight: Regular backups, ML1 (ISM-1515)",
            "RACGP Standards C6.4D (backup log)",
        ],
        scenarios: &["backup_failure"],
        options: NO_NA,
    },
    Question {
        id: "outage_procedures",
        group: "Contingency",
        text: "If the internet connection, hosting provider or video service fails during clinic hours, do staff know the fallback (phone consults, paper notes) and whom to call?",
        help: "Telehealth stops completely without connectivity; a one-page fallback keeps urgent care going and patients informed.",
        references: &[
            EMERGENCY_MODE,
            "HIPAA §164.308(a)(7)(ii)(E) applications and data criticality analysis",
        ],
        scenarios: &["vendor_outage"],
        options: NO_NA,
    },
];
