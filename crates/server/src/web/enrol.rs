//! First-run setup, enrolment by invitation link, and patient self-registration.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode};
use proto::ErrorCode;
use serde::Deserialize;
use webauthn_rs::prelude::RegisterPublicKeyCredential;
use zeroize::Zeroizing;

use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::session::{self, Method};
use crate::identity::{Role, account, enrolment, password_policy, signin};
use crate::setup::{self, SetupForm, SetupRefused, TIME_ZONES};
use crate::state::AppState;
use crate::web::forms::{FieldErrors, Form, JsonBody, read_or_refuse};
use crate::web::pages::{default_passkey_name, layout, render, signed_in_json, signed_in_redirect};
use crate::web::signin::Challenge;
use crate::web::templates::{EnrolPage, Layout, RegisterPage, SetupPage, SetupValues};

fn setup_page(values: SetupValues, errors: FieldErrors) -> SetupPage {
    SetupPage {
        layout: Layout::default(),
        values,
        errors,
        time_zones: TIME_ZONES,
    }
}

pub async fn setup_form(
    State(state): State<AppState>,
    meta: RequestMeta,
    Path(token): Path<String>,
) -> AppResult<Html<String>> {
    setup::check_link(&state, &meta, &token).await?;
    let values = SetupValues {
        time_zone: TIME_ZONES[0].0.to_owned(),
        ..SetupValues::default()
    };
    render(&setup_page(values, FieldErrors::default()))
}

pub async fn setup_submit(
    State(state): State<AppState>,
    meta: RequestMeta,
    Path(token): Path<String>,
    Form(form): Form<SetupForm>,
) -> AppResult<Response> {
    let values = SetupValues {
        practice_name: form.practice_name.chars().take(200).collect(),
        time_zone: form.time_zone.chars().take(64).collect(),
        admin_name: form.admin_name.chars().take(200).collect(),
        email: form.email.chars().take(254).collect(),
    };
    match setup::complete(&state, &meta, &token, form).await {
        Ok(enrol_token) => {
            Ok(Redirect::to(&format!("/enrol/{}", enrol_token.as_str())).into_response())
        }
        Err(SetupRefused::Invalid(errors)) => Ok((
            StatusCode::BAD_REQUEST,
            render(&setup_page(values, errors))?,
        )
            .into_response()),
        Err(SetupRefused::Error(e)) => Err(e),
    }
}

async fn enrol_page(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    user: &store::accounts::UserRow,
    error: Option<String>,
) -> AppResult<EnrolPage> {
    let role = Role::parse(&user.role).unwrap_or(Role::Patient);
    Ok(EnrolPage {
        layout: layout(state, None).await?,
        token: token.to_owned(),
        name: user.display_name.clone(),
        role_label: role.label(),
        password_allowed: signin::password_allowed(state, user).await?,
        min_password_chars: password_policy::MIN_CHARS,
        default_passkey_name: default_passkey_name(headers),
        error,
    })
}

pub async fn enrol(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> AppResult<Html<String>> {
    let (_, user) = enrolment::check(&state, &meta, &token).await?;
    render(&enrol_page(&state, &headers, &token, &user, None).await?)
}

pub async fn enrol_passkey_start(
    State(state): State<AppState>,
    meta: RequestMeta,
    Path(token): Path<String>,
) -> AppResult<Json<Challenge>> {
    let (_, user) = enrolment::check(&state, &meta, &token).await?;
    let (ceremony_id, options) = state.passkeys.start_registration(&state, &user).await?;
    Ok(Json(Challenge {
        ceremony_id,
        options,
    }))
}

#[derive(Deserialize)]
pub struct NewPasskey {
    pub ceremony_id: String,
    pub credential: RegisterPublicKeyCredential,
    #[serde(default)]
    pub name: String,
}

pub async fn enrol_passkey_finish(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    Path(token): Path<String>,
    body: Result<JsonBody<NewPasskey>, AppError>,
) -> AppResult<Response> {
    let (invitation, user) = enrolment::check(&state, &meta, &token).await?;
    let actor = crate::audit::Actor::User(user.id.clone());
    let target = format!("user:{}", user.id);
    let JsonBody(answer) =
        read_or_refuse(&state, &meta, &actor, "enrolment.passkey", &target, body).await?;
    let name = match account::passkey_name(&answer.name) {
        Ok(name) => name,
        Err(e) => {
            let entry = crate::audit::entry(
                &meta,
                &actor,
                "enrolment.passkey",
                &target,
                ledger::Outcome::Denied,
            )
            .detail("reason", "invalid_name");
            state.audit(entry).await?;
            return Err(e);
        }
    };
    let passkey = match state
        .passkeys
        .verify_registration(&state, &user, &answer.ceremony_id, &answer.credential)
        .await
    {
        Ok(p) => p,
        Err(e) => {
            let entry = crate::audit::entry(
                &meta,
                &crate::audit::Actor::User(user.id.clone()),
                "enrolment.passkey",
                &format!("user:{}", user.id),
                ledger::Outcome::Failure,
            )
            .detail("reason", e.code.as_str());
            state.audit(entry).await?;
            return Err(e);
        }
    };
    let row = crate::identity::passkeys::Passkeys::row(&state, &user, &passkey, &name)?;
    enrolment::complete(
        &state,
        &meta,
        &invitation,
        &user,
        enrolment::FirstCredential::Passkey(row),
    )
    .await?;
    let started = session::start(&state, &meta, &headers, &user, Method::Passkey, false).await?;
    // First thing after enrolling: recovery codes, shown once on the security page.
    signed_in_json(&state, &started, "/account/security?welcome=1")
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: Zeroizing<String>,
    #[serde(default)]
    confirm: Zeroizing<String>,
}

pub async fn enrol_password(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    Path(token): Path<String>,
    body: Result<Form<PasswordForm>, AppError>,
) -> AppResult<Response> {
    let (invitation, user) = enrolment::check(&state, &meta, &token).await?;
    let actor = crate::audit::Actor::User(user.id.clone());
    let target = format!("user:{}", user.id);
    let Form(form) =
        read_or_refuse(&state, &meta, &actor, "enrolment.password", &target, body).await?;
    let refused = |reason: &'static str| {
        crate::audit::entry(
            &meta,
            &actor,
            "enrolment.password",
            &target,
            ledger::Outcome::Denied,
        )
        .detail("reason", reason)
    };
    if !signin::password_allowed(&state, &user).await? {
        state.audit(refused("passkeys_only")).await?;
        return Err(AppError::client(
            ErrorCode::Forbidden,
            "Your account signs in with passkeys only. Please create a passkey.",
        ));
    }
    if let Err(e) = account::check_new_password(&user, &form.password, &form.confirm) {
        state
            .audit(refused(account::password_refusal_reason(&form.password)))
            .await?;
        let page = enrol_page(&state, &headers, &token, &user, Some(e.message)).await?;
        return Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response());
    }
    let hash = state.passwords.hash(form.password).await?;
    enrolment::complete(
        &state,
        &meta,
        &invitation,
        &user,
        enrolment::FirstCredential::Password(hash),
    )
    .await?;
    // A password alone is one factor: the session may only set up the second.
    let started = session::start(&state, &meta, &headers, &user, Method::Password, true).await?;
    signed_in_redirect(&state, &started, "/account/second-factor")
}

async fn register_page(
    state: &AppState,
    sent: bool,
    name: String,
    email: String,
    error: Option<String>,
) -> AppResult<RegisterPage> {
    Ok(RegisterPage {
        layout: layout(state, None).await?,
        sent,
        days: state.config.sessions.invitation_days,
        name,
        email,
        error,
    })
}

async fn require_self_registration(state: &AppState) -> AppResult<()> {
    if state
        .db
        .practice()
        .await?
        .is_some_and(|p| p.self_registration)
    {
        Ok(())
    } else {
        Err(AppError::client(
            ErrorCode::NotFound,
            "This practice creates patient accounts itself. Please contact the practice.",
        ))
    }
}

pub async fn register_form(State(state): State<AppState>) -> AppResult<Html<String>> {
    require_self_registration(&state).await?;
    render(&register_page(&state, false, String::new(), String::new(), None).await?)
}

#[derive(Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
}

pub async fn register(
    State(state): State<AppState>,
    meta: RequestMeta,
    body: Result<Form<RegisterForm>, AppError>,
) -> AppResult<Response> {
    require_self_registration(&state).await?;
    let Form(form) = read_or_refuse(
        &state,
        &meta,
        &crate::audit::Actor::Anonymous,
        "account.self_registered",
        "account:unknown",
        body,
    )
    .await?;
    signin::count_source(&state, &meta)?;
    match crate::admin::self_register(&state, &meta, &form.name, &form.email).await {
        Ok(()) => Ok(render(
            &register_page(&state, true, String::new(), String::new(), None).await?,
        )?
        .into_response()),
        Err(e) if e.code == ErrorCode::InvalidInput => {
            let page = register_page(
                &state,
                false,
                form.name.chars().take(120).collect(),
                form.email.chars().take(254).collect(),
                Some(e.message),
            )
            .await?;
            Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
        }
        Err(e) => Err(e),
    }
}
