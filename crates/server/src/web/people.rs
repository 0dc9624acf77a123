//! People and practice settings, for the administrator (and, read-only, the security
//! officer); clinicians use the invitation form for patients.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode, header};
use proto::ErrorCode;
use serde::Deserialize;
use store::accounts::UserRow;

use crate::admin::{self, require};
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::session::{CurrentUser, SignedIn};
use crate::identity::{Role, account};
use crate::policy::{Action, Target};
use crate::state::AppState;
use crate::web::forms::Form;
use crate::web::pages::{layout, render};
use crate::web::templates::{InvitePage, PeoplePage, PersonPage, PersonRow, SettingsPage};

const ALL_ROLES: [Role; 4] = [
    Role::Patient,
    Role::Clinician,
    Role::PracticeAdmin,
    Role::SecurityOfficer,
];

fn allowed(who: &CurrentUser, action: Action, target: Target<'_>) -> bool {
    let subject = crate::policy::Subject {
        user_id: &who.user.id,
        role: who.role(),
    };
    crate::policy::decide(subject, action, target).is_allowed()
}

/// Roles `who` may invite people into.
fn invitable_roles(who: &CurrentUser) -> Vec<(&'static str, &'static str)> {
    ALL_ROLES
        .iter()
        .filter(|r| {
            let action = if **r == Role::Patient {
                Action::InvitePatient
            } else {
                Action::InviteStaff
            };
            allowed(who, action, Target::Practice)
        })
        .map(|r| (r.as_str(), r.label()))
        .collect()
}

async fn methods_text(state: &AppState, user: &UserRow) -> AppResult<String> {
    let m = account::methods(state, user).await?;
    let mut parts = Vec::new();
    if m.passkeys > 0 {
        parts.push(if m.passkeys == 1 {
            "1 passkey".to_owned()
        } else {
            format!("{} passkeys", m.passkeys)
        });
    }
    if m.password {
        parts.push(if m.totp {
            "password and app code".into()
        } else {
            "password (no second step yet)".into()
        });
    }
    Ok(if parts.is_empty() {
        "not set up yet".into()
    } else {
        parts.join(", ")
    })
}

fn status(user: &UserRow) -> &'static str {
    if user.disabled_ms.is_some() {
        "Disabled"
    } else {
        "Active"
    }
}

fn flash_for(done: &str) -> Option<String> {
    Some(
        match done {
            "role" => "The role was changed; they will sign in again.",
            "disabled" => "The account is disabled and signed out everywhere.",
            "enabled" => "The account is enabled again.",
            "revoked" => "They are signed out everywhere.",
            "settings" => "The settings were saved.",
            "care-added" => "The clinician is on the care team and can open this patient's record.",
            "care-removed" => "The clinician is off the care team.",
            _ => return None,
        }
        .to_owned(),
    )
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    require(&who, Action::ViewAccounts, Target::Practice)?;
    let mut people = Vec::new();
    for u in state.db.list_users(&state.keyring).await? {
        people.push(PersonRow {
            methods: methods_text(&state, &u).await?,
            status: status(&u),
            role: Role::parse(&u.role).map_or("Unknown", Role::label),
            id: u.id,
            name: u.display_name,
            email: u.email,
        });
    }
    let page = PeoplePage {
        layout: layout(&state, Some(&who)).await?,
        flash: q.done.as_deref().and_then(flash_for),
        can_invite: !invitable_roles(&who).is_empty(),
        people,
    };
    Ok(render(&page)?.into_response())
}

async fn person_page(
    state: &AppState,
    who: &CurrentUser,
    id: &str,
    flash: Option<String>,
    new_link: Option<String>,
) -> AppResult<PersonPage> {
    require(who, Action::ViewAccounts, Target::Practice)?;
    let user = state
        .db
        .user_by_id(&state.keyring, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let role = Role::parse(&user.role).unwrap_or(Role::Patient);
    let target = Target::Account { id: &user.id, role };
    let enrolled = state
        .db
        .latest_invitation_of_user(&user.id)
        .await?
        .is_none_or(|i| i.used_ms.is_some());
    // A patient's care team, for the administrator who assigns it.
    let (care_team, clinicians) =
        if role == Role::Patient && allowed(who, Action::AssignCare, Target::Practice) {
            let team = state.db.care_team_of(&user.id).await?;
            let mut on = Vec::new();
            let mut off = Vec::new();
            for c in state.db.list_users(&state.keyring).await? {
                if c.role != Role::Clinician.as_str() || c.disabled_ms.is_some() {
                    continue;
                }
                if team.iter().any(|(id, _)| *id == c.id) {
                    on.push((c.id, c.display_name));
                } else {
                    off.push((c.id, c.display_name));
                }
            }
            (Some(on), off)
        } else {
            (None, Vec::new())
        };
    Ok(PersonPage {
        care_team,
        clinicians,
        layout: layout(state, Some(who)).await?,
        flash,
        new_link,
        methods: methods_text(state, &user).await?,
        status: status(&user),
        enrolled,
        disabled: user.disabled_ms.is_some(),
        can_manage: allowed(who, Action::ChangeRole, target),
        can_revoke: allowed(who, Action::RevokeSessions, target),
        roles: ALL_ROLES.iter().map(|r| (r.as_str(), r.label())).collect(),
        role_label: role.label(),
        role: user.role.clone(),
        id: user.id,
        name: user.display_name,
        email: user.email,
    })
}

pub async fn person(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    let page = person_page(
        &state,
        &who,
        &id,
        q.done.as_deref().and_then(flash_for),
        None,
    )
    .await?;
    Ok(render(&page)?.into_response())
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// After an action on a person: back to their page, or to step-up when needed.
fn after(headers: &HeaderMap, id: &str, result: AppResult<&'static str>) -> AppResult<Response> {
    match result {
        Ok(done) => Ok(Redirect::to(&format!("/people/{id}?done={done}")).into_response()),
        Err(e) if e.code == ErrorCode::StepUpRequired && wants_html(headers) => {
            Ok(Redirect::to(&format!("/account/step-up?return_to=/people/{id}")).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

pub async fn change_role(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    Form(form): Form<RoleForm>,
) -> AppResult<Response> {
    let r = admin::change_role(&state, &meta, &who, &id, &form.role)
        .await
        .map(|()| "role");
    after(&headers, &id, r)
}

pub async fn disable(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let r = admin::set_disabled(&state, &meta, &who, &id, true)
        .await
        .map(|()| "disabled");
    after(&headers, &id, r)
}

pub async fn enable(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let r = admin::set_disabled(&state, &meta, &who, &id, false)
        .await
        .map(|()| "enabled");
    after(&headers, &id, r)
}

pub async fn revoke_sessions(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let r = admin::revoke_sessions(&state, &meta, &who, &id)
        .await
        .map(|_| "revoked");
    after(&headers, &id, r)
}

pub async fn reset(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
) -> AppResult<Response> {
    match admin::reset_credentials(&state, &meta, &who, &id).await {
        Ok(()) => {
            let flash = Some(
                "Their sign-in methods were removed, they were signed out, and a new set-up link was \
                 e-mailed to them."
                    .to_owned(),
            );
            Ok(render(&person_page(&state, &who, &id, flash, None).await?)?.into_response())
        }
        Err(e) => after(&headers, &id, Err(e)),
    }
}

pub async fn resend(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let link = admin::resend_invitation(&state, &meta, &who, &id).await?;
    let flash = Some("A new set-up link was made; earlier ones no longer work.".to_owned());
    Ok(render(&person_page(&state, &who, &id, flash, Some(link)).await?)?.into_response())
}

async fn invite_page(state: &AppState, who: &CurrentUser) -> AppResult<InvitePage> {
    let roles = invitable_roles(who);
    if roles.is_empty() {
        return Err(AppError::client(
            ErrorCode::Forbidden,
            "Your role cannot invite people.",
        ));
    }
    Ok(InvitePage {
        staff: roles.iter().any(|(r, _)| *r != Role::Patient.as_str()),
        layout: layout(state, Some(who)).await?,
        role: roles[0].0.to_owned(),
        roles,
        name: String::new(),
        email: String::new(),
        error: None,
        link: None,
        invited_name: String::new(),
        days: state.config.sessions.invitation_days,
    })
}

pub async fn invite_form(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
) -> AppResult<Response> {
    Ok(render(&invite_page(&state, &who).await?)?.into_response())
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

pub async fn invite(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedIn(who): SignedIn,
    Form(form): Form<InviteForm>,
) -> AppResult<Response> {
    let mut page = invite_page(&state, &who).await?;
    let result = match admin::validate_invite(&form.name, &form.email, &form.role) {
        Ok(invite) => admin::invite(&state, &meta, &who, invite).await,
        Err(message) => Err(AppError::client(ErrorCode::InvalidInput, message)),
    };
    match result {
        Ok((user, link)) => {
            page.link = Some(link);
            page.invited_name = user.display_name;
            Ok(render(&page)?.into_response())
        }
        Err(e) if e.code == ErrorCode::InvalidInput => {
            page.name = form.name.chars().take(120).collect();
            page.email = form.email.chars().take(254).collect();
            if page.roles.iter().any(|(r, _)| *r == form.role) {
                page.role = form.role;
            }
            page.error = Some(e.message);
            Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
        }
        Err(e) if e.code == ErrorCode::StepUpRequired && wants_html(&headers) => {
            Ok(Redirect::to("/account/step-up?return_to=/people/invite").into_response())
        }
        Err(e) => Err(e),
    }
}

pub async fn settings(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    require(&who, Action::ManageSettings, Target::Practice)?;
    let practice = state.db.practice().await?.ok_or_else(AppError::not_found)?;
    let page = SettingsPage {
        layout: layout(&state, Some(&who)).await?,
        flash: q.done.as_deref().and_then(flash_for),
        patient_auth: practice.patient_auth,
        self_registration: practice.self_registration,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    patient_auth: String,
    #[serde(default)]
    self_registration: Option<String>,
}

pub async fn save_settings(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedIn(who): SignedIn,
    Form(form): Form<SettingsForm>,
) -> AppResult<Response> {
    match admin::update_settings(
        &state,
        &meta,
        &who,
        &form.patient_auth,
        form.self_registration.is_some(),
    )
    .await
    {
        Ok(()) => Ok(Redirect::to("/settings?done=settings").into_response()),
        Err(e) if e.code == ErrorCode::StepUpRequired && wants_html(&headers) => {
            Ok(Redirect::to("/account/step-up?return_to=/settings").into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct CareForm {
    #[serde(default)]
    clinician: String,
}

/// `POST /people/{id}/care-team`: a clinician joins the patient's care team.
pub async fn add_care(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<CareForm>,
) -> AppResult<Response> {
    let result = crate::records::access::assign_care(&state, &meta, &who, &id, &f.clinician, true)
        .await
        .map(|()| "care-added");
    after(&headers, &id, result)
}

/// `POST /people/{id}/care-team/{clinician}/remove`.
pub async fn remove_care(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedIn(who): SignedIn,
    Path((id, clinician)): Path<(String, String)>,
) -> AppResult<Response> {
    let result = crate::records::access::assign_care(&state, &meta, &who, &id, &clinician, false)
        .await
        .map(|()| "care-removed");
    after(&headers, &id, result)
}
