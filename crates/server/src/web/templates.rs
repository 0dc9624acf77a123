//! Page templates. Each struct is one page; askama checks the templates against these
//! fields at compile time and escapes every value.

use askama::Template;
use http::StatusCode;

use crate::error::ErrorInfo;
use crate::web::forms::FieldErrors;

/// What the layout shows around every page.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// The practice's name, once set up.
    pub practice: Option<String>,
    /// The signed-in person's name.
    pub user: Option<String>,
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
}

#[derive(Template)]
#[template(path = "sign_in.html")]
pub struct SignInPage {
    pub layout: Layout,
    pub email: String,
    pub error: Option<&'static str>,
}

/// Values typed into the setup form, shown again when something needs fixing
/// (passwords are never sent back).
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
    pub min_password_chars: usize,
}

#[derive(Template)]
#[template(path = "setup_done.html")]
pub struct SetupDonePage {
    pub layout: Layout,
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
