//! Page templates. Each struct is one page; askama checks the templates against these
//! fields at compile time and escapes every value.

use askama::Template;
use http::StatusCode;
use zeroize::Zeroizing;

use crate::error::ErrorInfo;
use crate::web::forms::FieldErrors;

/// What the layout shows around every page.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// The practice's name, once set up.
    pub practice: Option<String>,
    /// The signed-in person's name.
    pub user: Option<String>,
    /// Links for the signed-in person's role: `(href, label)`.
    pub nav: Vec<(&'static str, &'static str)>,
    /// Whether the step-up dialog is offered (a full session).
    pub step_up: bool,
}

impl Layout {
    pub fn brand(&self) -> &str {
        self.practice.as_deref().unwrap_or("Telewarden")
    }
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub layout: Layout,
    pub setup_pending: bool,
    pub role_label: Option<&'static str>,
    /// The training card: where to go, and why.
    pub training: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "sign_in.html")]
pub struct SignInPage {
    pub layout: Layout,
    pub email: String,
    pub error: Option<String>,
    pub passwords_possible: bool,
    pub self_registration: bool,
}

#[derive(Template)]
#[template(path = "sign_in_code.html")]
pub struct SignInCodePage {
    pub layout: Layout,
    pub recovery: bool,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "sign_in_recovery.html")]
pub struct SignInRecoveryPage {
    pub layout: Layout,
    pub email: String,
    pub error: Option<String>,
}

/// Values typed into the setup form, shown again when something needs fixing.
#[derive(Debug, Clone, Default)]
pub struct SetupValues {
    pub practice_name: String,
    pub time_zone: String,
    pub admin_name: String,
    pub email: String,
}

#[derive(Template)]
#[template(path = "setup.html")]
pub struct SetupPage {
    pub layout: Layout,
    pub values: SetupValues,
    pub errors: FieldErrors,
    pub time_zones: &'static [(&'static str, &'static str)],
}

#[derive(Template)]
#[template(path = "enrol.html")]
pub struct EnrolPage {
    pub layout: Layout,
    pub token: String,
    pub name: String,
    pub role_label: &'static str,
    pub password_allowed: bool,
    pub min_password_chars: usize,
    pub default_passkey_name: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "register.html")]
pub struct RegisterPage {
    pub layout: Layout,
    pub sent: bool,
    pub days: u32,
    pub name: String,
    pub email: String,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NoticeView {
    pub id: String,
    pub when: String,
    pub message: String,
    pub unread: bool,
}

#[derive(Debug, Clone)]
pub struct PasskeyView {
    pub id: String,
    pub name: String,
    pub created: String,
    pub last_used: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SessionView {
    pub handle: String,
    pub device: String,
    pub method: &'static str,
    pub created: String,
    pub last_seen: String,
    pub source: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "account_security.html")]
pub struct AccountSecurityPage {
    pub layout: Layout,
    pub flash: Option<String>,
    pub error: Option<String>,
    pub notices: Vec<NoticeView>,
    pub new_codes: Option<Vec<Zeroizing<String>>>,
    pub passkeys: Vec<PasskeyView>,
    pub default_passkey_name: String,
    pub needs_step_up_to_add: bool,
    pub totp: bool,
    pub password: bool,
    pub password_allowed: bool,
    pub recovery_left: i64,
    pub sessions: Vec<SessionView>,
}

#[derive(Template)]
#[template(path = "second_factor.html")]
pub struct SecondFactorPage {
    pub layout: Layout,
    pub forced: bool,
    /// The authenticator-app enrolment (QR and key), for accounts with a password.
    pub totp: Option<crate::identity::second_factor::TotpEnrolment>,
    pub default_passkey_name: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "step_up.html")]
pub struct StepUpPage {
    pub layout: Layout,
    pub return_to: String,
    pub passkey: bool,
    pub password: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PersonRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: &'static str,
    pub methods: String,
    pub status: &'static str,
}

#[derive(Template)]
#[template(path = "people.html")]
pub struct PeoplePage {
    pub layout: Layout,
    pub flash: Option<String>,
    pub can_invite: bool,
    pub people: Vec<PersonRow>,
}

#[derive(Template)]
#[template(path = "person.html")]
pub struct PersonPage {
    pub layout: Layout,
    pub flash: Option<String>,
    pub new_link: Option<String>,
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: String,
    pub role_label: &'static str,
    pub roles: Vec<(&'static str, &'static str)>,
    pub methods: String,
    pub status: &'static str,
    pub enrolled: bool,
    pub disabled: bool,
    pub can_manage: bool,
    pub can_revoke: bool,
    /// A patient's care team `(id, name)`, when the viewer assigns it.
    pub care_team: Option<Vec<(String, String)>>,
    /// Clinicians who could join it.
    pub clinicians: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "invite.html")]
pub struct InvitePage {
    pub layout: Layout,
    /// Staff can be invited (an administrator): the form asks for a step-up first.
    pub staff: bool,
    pub roles: Vec<(&'static str, &'static str)>,
    pub name: String,
    pub email: String,
    pub role: String,
    pub error: Option<String>,
    pub link: Option<String>,
    pub invited_name: String,
    pub days: u32,
}

#[derive(Template)]
#[template(path = "settings.html")]
pub struct SettingsPage {
    pub layout: Layout,
    pub flash: Option<String>,
    pub patient_auth: String,
    pub self_registration: bool,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub title: &'static str,
    pub message: String,
    pub code: &'static str,
    pub request_id: String,
}

impl ErrorPage {
    pub fn new(status: StatusCode, info: &ErrorInfo, request_id: &str) -> Self {
        let title = match status.as_u16() {
            401 => "Please sign in",
            403 => "Not allowed",
            404 => "Page not found",
            408 => "That took too long",
            409 => "Already done",
            413 => "Too much at once",
            429 => "Please wait a moment",
            400..=499 => "Something needs fixing",
            503 => "Temporarily unavailable",
            _ => "Something went wrong",
        };
        Self {
            layout: Layout::default(),
            title,
            message: info.message.clone(),
            code: info.code.as_str(),
            request_id: request_id.to_owned(),
        }
    }

    /// The page, or a plain sentence should rendering itself fail.
    pub fn render_or_plain(&self) -> String {
        self.render().unwrap_or_else(|_| {
            format!(
                "{} (code {}, reference {})",
                self.title, self.code, self.request_id
            )
        })
    }
}

#[derive(Debug, Clone)]
pub struct AppointmentView {
    pub id: String,
    /// In the practice's time zone.
    pub when: String,
    pub iso: String,
    /// The other party: the clinician for a patient, the patient (or guest) for staff.
    pub with: String,
    pub status: &'static str,
    pub can_join: bool,
}

#[derive(Debug, Clone)]
pub struct SlotView {
    pub id: String,
    pub label: String,
    pub iso: String,
    pub clinician: String,
}

#[derive(Template)]
#[template(path = "appointments.html")]
pub struct AppointmentsPage {
    pub layout: Layout,
    pub flash: Option<String>,
    pub error: Option<String>,
    pub time_zone: String,
    pub is_patient: bool,
    pub is_clinician: bool,
    pub books_for_others: bool,
    pub upcoming: Vec<AppointmentView>,
    pub own_slots: Vec<SlotView>,
    pub bookable: Vec<SlotView>,
    pub slot_minutes: &'static [u32],
    pub guest_link: Option<String>,
    pub guest_code: Option<String>,
}

#[derive(Template)]
#[template(path = "appointment.html")]
pub struct AppointmentPage {
    pub layout: Layout,
    pub flash: Option<String>,
    pub appointment: AppointmentView,
    /// The practice's zone, so the browser can add the reader's own when it differs.
    pub time_zone: String,
    pub booked: bool,
    pub verified: bool,
    pub moves: Vec<SlotView>,
    pub writes_notes: bool,
    pub note: String,
    pub files: Vec<String>,
    /// For a patient before a consult: a short lesson offered (never required).
    pub lesson: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "call.html")]
pub struct CallPage {
    pub layout: Layout,
    pub appointment: String,
    pub clinician: bool,
    pub other: String,
    pub when: String,
    pub writes_notes: bool,
    pub note: String,
}

#[derive(Template)]
#[template(path = "queue.html")]
pub struct QueuePage {
    pub layout: Layout,
}

#[derive(Template)]
#[template(path = "guest.html")]
pub struct GuestPage {
    pub layout: Layout,
    pub error: Option<String>,
}

/// One person the messaging page may show by name: `(user id, name, on the caller's care
/// team / cared for by the caller)`.
#[derive(Debug, Clone)]
pub struct MessagingPerson {
    pub id: String,
    pub name: String,
    pub role: &'static str,
}

#[derive(Template)]
#[template(path = "messages.html")]
pub struct MessagesPage {
    pub layout: Layout,
    pub user_id: String,
    pub patient: bool,
    /// For a patient, their care team; for a clinician, the patients they care for.
    pub people: Vec<MessagingPerson>,
}

/// `/messages/devices`: the account's messaging devices, backups and restoring.
#[derive(Template)]
#[template(path = "messaging-devices.html")]
pub struct MessagingDevicesPage {
    pub layout: Layout,
    pub user_id: String,
}
