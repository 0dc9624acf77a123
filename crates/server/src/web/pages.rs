//! Page handlers. Thin: parse the request, call the domain function, render.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use http::{StatusCode, header};
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::session::{CurrentUser, MaybeUser};
use crate::identity::{Role, password, signin};
use crate::setup::{self, SetupForm, SetupRefused, TIME_ZONES};
use crate::state::AppState;
use crate::web::forms::{FieldErrors, Form};
use crate::web::templates::{HomePage, Layout, SetupDonePage, SetupPage, SetupValues, SignInPage};

fn render(page: &impl Template) -> AppResult<Html<String>> {
    page.render()
        .map(Html)
        .map_err(|e| AppError::internal(format!("template: {e}")))
}

async fn layout(state: &AppState, user: Option<&CurrentUser>) -> AppResult<Layout> {
    Ok(Layout {
        practice: state.db.practice().await?.map(|p| p.name),
        user: user.map(|u| u.user.display_name.clone()),
    })
}

pub async fn home(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
) -> AppResult<Html<String>> {
    let layout = layout(&state, user.as_ref()).await?;
    let page = HomePage {
        setup_pending: layout.practice.is_none(),
        role_label: user
            .as_ref()
            .and_then(|u| Role::parse(&u.user.role))
            .map(Role::label),
        layout,
    };
    render(&page)
}

pub async fn sign_in_page(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
) -> AppResult<Response> {
    if user.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let page = SignInPage {
        layout: layout(&state, None).await?,
        email: String::new(),
        error: None,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: Zeroizing<String>,
}

pub async fn sign_in(
    State(state): State<AppState>,
    meta: RequestMeta,
    Form(form): Form<SignInForm>,
) -> AppResult<Response> {
    match signin::with_password(&state, &meta, &form.email, form.password).await {
        Ok(signed_in) => Ok((
            [(header::SET_COOKIE, state.cookies.set(&signed_in.token)?)],
            Redirect::to("/"),
        )
            .into_response()),
        Err(e) if e.code == proto::ErrorCode::SignInFailed => {
            let page = SignInPage {
                layout: layout(&state, None).await?,
                email: form.email.chars().take(254).collect(),
                error: Some(signin::FAILED),
            };
            Ok((StatusCode::UNAUTHORIZED, render(&page)?).into_response())
        }
        Err(e) => Err(e),
    }
}

pub async fn sign_out(
    State(state): State<AppState>,
    meta: RequestMeta,
    MaybeUser(user): MaybeUser,
) -> AppResult<Response> {
    signin::sign_out(&state, &meta, user).await?;
    Ok((
        [(header::SET_COOKIE, state.cookies.clear())],
        Redirect::to("/"),
    )
        .into_response())
}

fn setup_page(layout: Layout, values: SetupValues, errors: FieldErrors) -> SetupPage {
    SetupPage {
        layout,
        values,
        errors,
        time_zones: TIME_ZONES,
        min_password_chars: password::MIN_CHARS,
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
    render(&setup_page(
        Layout::default(),
        values,
        FieldErrors::default(),
    ))
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
        Ok(session_token) => {
            let page = SetupDonePage {
                layout: layout(&state, None).await?,
            };
            Ok((
                [(header::SET_COOKIE, state.cookies.set(&session_token)?)],
                render(&page)?,
            )
                .into_response())
        }
        Err(SetupRefused::Invalid(errors)) => {
            let page = setup_page(Layout::default(), values, errors);
            Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
        }
        Err(SetupRefused::Error(e)) => Err(e),
    }
}

pub async fn not_found() -> AppError {
    AppError::not_found()
}
