//! Shared page plumbing (rendering, the layout, redirects) and the home page.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use http::header;
use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::identity::Role;
use crate::identity::session::{CurrentUser, MaybeUser, Started, cookies_for};
use crate::state::AppState;
use crate::web::templates::{HomePage, Layout};

pub fn render(page: &impl Template) -> AppResult<Html<String>> {
    page.render()
        .map(Html)
        .map_err(|e| AppError::internal(format!("template: {e}")))
}

/// The layout for a page seen by `user` (or nobody).
pub async fn layout(state: &AppState, user: Option<&CurrentUser>) -> AppResult<Layout> {
    let mut nav = Vec::new();
    if let Some(u) = user.filter(|u| !u.session.mfa_pending) {
        match u.role() {
            Role::PracticeAdmin => {
                nav.push(("/appointments", "Appointments"));
                nav.push(("/people", "People"));
                nav.push(("/training/staff", "Training"));
                nav.push(("/settings", "Settings"));
                nav.push(("/training/simulations", "Simulations"));
            }
            Role::SecurityOfficer => {
                nav.push(("/security", "Security"));
                nav.push(("/security/assurance", "Assessment"));
                nav.push(("/security/incidents", "Incidents"));
                nav.push(("/training/staff", "Training"));
                nav.push(("/people", "People"));
                nav.push(("/security/break-glass", "Emergency access"));
                nav.push(("/training/simulations", "Simulations"));
            }
            Role::Clinician => {
                nav.push(("/appointments", "Schedule"));
                nav.push(("/records", "Records"));
                nav.push(("/waiting-room", "Waiting room"));
                nav.push(("/messages", "Messages"));
                nav.push(("/people/invite", "Invite a patient"));
                nav.push(("/training", "Training"));
            }
            Role::Patient => {
                nav.push(("/appointments", "Appointments"));
                nav.push(("/records", "My record"));
                nav.push(("/messages", "Messages"));
            }
        }
        nav.push(("/account/security", "Security"));
    }
    Ok(Layout {
        practice: state.db.practice().await?.map(|p| p.name),
        user: user.map(|u| u.user.display_name.clone()),
        step_up: user.is_some_and(|u| !u.session.mfa_pending),
        nav,
    })
}

/// A "see other" redirect that also sets the cookies of a started session.
pub fn signed_in_redirect(state: &AppState, started: &Started, to: &str) -> AppResult<Response> {
    let mut res = Redirect::to(to).into_response();
    for (name, value) in cookies_for(state, started)? {
        res.headers_mut().append(name, value);
    }
    Ok(res)
}

/// The JSON answer of the passkey endpoints: where the page goes next.
#[derive(Debug, Serialize)]
pub struct Next {
    pub redirect: String,
}

/// The same as [`signed_in_redirect`], for `fetch` callers.
pub fn signed_in_json(state: &AppState, started: &Started, to: &str) -> AppResult<Response> {
    let mut res = axum::Json(Next {
        redirect: to.to_owned(),
    })
    .into_response();
    for (name, value) in cookies_for(state, started)? {
        res.headers_mut().append(name, value);
    }
    Ok(res)
}

/// A default name for a new passkey, from the browser ("Chrome on Linux").
pub fn default_passkey_name(headers: &http::HeaderMap) -> String {
    crate::identity::session::describe_user_agent(headers)
}

pub async fn home(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
) -> AppResult<Response> {
    if user.as_ref().is_some_and(|u| u.session.mfa_pending) {
        return Ok(Redirect::to("/account/second-factor").into_response());
    }
    let layout = layout(&state, user.as_ref()).await?;
    let training = match user.as_ref() {
        Some(u) => crate::web::training::home_card(&state, u).await?,
        None => None,
    };
    let page = HomePage {
        training,
        setup_pending: layout.practice.is_none(),
        role_label: user.as_ref().map(|u| u.role().label()),
        layout,
    };
    Ok(render(&page)?.into_response())
}

pub async fn not_found() -> AppError {
    AppError::not_found()
}

/// A 303 to `to`, clearing the cookie named `base`.
pub fn redirect_clearing(state: &AppState, to: &str, base: &str) -> Response {
    let mut res = Redirect::to(to).into_response();
    res.headers_mut()
        .append(header::SET_COOKIE, state.cookies.clear(base));
    res
}

/// Only our own paths are followed after a step-up: never another site. A path is
/// accepted only if it is made of plain characters (browsers drop tabs and newlines, so
/// `/\t/evil.example` would become `//evil.example`).
pub fn safe_return(path: &str) -> &str {
    let plain = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/_-.?=&".contains(&b));
    if plain && path.starts_with('/') && !path.starts_with("//") && path.len() < 200 {
        path
    } else {
        "/account/security"
    }
}

#[cfg(test)]
mod tests {
    use super::safe_return;

    #[test]
    fn only_plain_local_paths_are_followed() {
        assert_eq!(safe_return("/people/ab12?done=1"), "/people/ab12?done=1");
        for bad in [
            "//evil.example",
            "/\t/evil.example",
            "/\n/x",
            "https://evil.example",
            "/\\evil",
            "",
            "evil",
        ] {
            assert_eq!(safe_return(bad), "/account/security", "{bad:?}");
        }
    }
}
