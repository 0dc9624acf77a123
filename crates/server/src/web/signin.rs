//! Sign-in pages and the passkey sign-in endpoints.

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, header};
use proto::ErrorCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use webauthn_rs::prelude::PublicKeyCredential;
use zeroize::Zeroizing;

use crate::audit::Actor;
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::session::MaybeUser;
use crate::identity::signin::{self, PasswordStep};
use crate::state::AppState;
use crate::web::forms::{Form, JsonBody, read_or_refuse};
use crate::web::pages::{layout, redirect_clearing, render, signed_in_json, signed_in_redirect};
use crate::web::templates::{SignInCodePage, SignInPage, SignInRecoveryPage};

async fn sign_in_page(
    state: &AppState,
    email: String,
    error: Option<String>,
) -> AppResult<SignInPage> {
    let practice = state.db.practice().await?;
    Ok(SignInPage {
        layout: layout(state, None).await?,
        email,
        error,
        passwords_possible: true,
        self_registration: practice.is_some_and(|p| p.self_registration),
    })
}

/// Errors a person can fix by trying again are shown on the form itself.
fn shown_on_form(e: &AppError) -> bool {
    matches!(
        e.code,
        ErrorCode::SignInFailed
            | ErrorCode::TooManyAttempts
            | ErrorCode::SecondFactorRequired
            | ErrorCode::SignInRequired
    )
}

pub async fn page(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
) -> AppResult<Response> {
    if user.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    Ok(render(&sign_in_page(&state, String::new(), None).await?)?.into_response())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: Zeroizing<String>,
}

pub async fn with_password(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Result<Form<PasswordForm>, AppError>,
) -> AppResult<Response> {
    let Form(form) = read_or_refuse(
        &state,
        &meta,
        &Actor::Anonymous,
        "signin.password",
        "account:unknown",
        body,
    )
    .await?;
    match signin::with_password(&state, &meta, &headers, &form.email, form.password).await {
        Ok(PasswordStep::Code(token)) => {
            let mut res = Redirect::to("/sign-in/code").into_response();
            res.headers_mut().append(
                header::SET_COOKIE,
                state.cookies.set("tw_pending", &token, Some(600))?,
            );
            Ok(res)
        }
        Ok(PasswordStep::EnrolSecondFactor(started)) => {
            signed_in_redirect(&state, &started, "/account/second-factor")
        }
        Err(e) if shown_on_form(&e) => {
            let status = e.status;
            let email = form.email.chars().take(254).collect();
            let page = sign_in_page(&state, email, Some(e.message)).await?;
            Ok((status, render(&page)?).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct CodeQuery {
    #[serde(default)]
    recovery: Option<String>,
}

pub async fn code_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CodeQuery>,
) -> AppResult<Response> {
    if state.cookies.read(&headers, "tw_pending").is_none() {
        return Ok(Redirect::to("/sign-in").into_response());
    }
    let page = SignInCodePage {
        layout: layout(&state, None).await?,
        recovery: q.recovery.is_some(),
        error: None,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    code: Zeroizing<String>,
}

pub async fn with_code(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Result<Form<CodeForm>, AppError>,
) -> AppResult<Response> {
    let Form(form) = read_or_refuse(
        &state,
        &meta,
        &Actor::Anonymous,
        "signin.code",
        "account:unknown",
        body,
    )
    .await?;
    let recovery = form.kind == "recovery";
    let Some(pending) = state.cookies.read(&headers, "tw_pending") else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    match signin::with_code(&state, &meta, &headers, &pending, &form.code, recovery).await {
        Ok(started) => {
            let to = if recovery { "/account/security" } else { "/" };
            let mut res = signed_in_redirect(&state, &started, to)?;
            res.headers_mut()
                .append(header::SET_COOKIE, state.cookies.clear("tw_pending"));
            Ok(res)
        }
        Err(e) if e.code == ErrorCode::SignInRequired => {
            let mut res = (
                e.status,
                render(&sign_in_page(&state, String::new(), Some(e.message)).await?)?,
            )
                .into_response();
            res.headers_mut()
                .append(header::SET_COOKIE, state.cookies.clear("tw_pending"));
            Ok(res)
        }
        Err(e) if shown_on_form(&e) => {
            let page = SignInCodePage {
                layout: layout(&state, None).await?,
                recovery,
                error: Some(e.message),
            };
            Ok((e.status, render(&page)?).into_response())
        }
        Err(e) => Err(e),
    }
}

pub async fn recovery_page(State(state): State<AppState>) -> AppResult<Response> {
    let page = SignInRecoveryPage {
        layout: layout(&state, None).await?,
        email: String::new(),
        error: None,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize)]
pub struct RecoveryForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    code: Zeroizing<String>,
}

pub async fn with_recovery_code(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Result<Form<RecoveryForm>, AppError>,
) -> AppResult<Response> {
    let Form(form) = read_or_refuse(
        &state,
        &meta,
        &Actor::Anonymous,
        "signin.recovery_code",
        "account:unknown",
        body,
    )
    .await?;
    match signin::with_recovery_code(&state, &meta, &headers, &form.email, &form.code).await {
        Ok(started) => signed_in_redirect(&state, &started, "/account/security"),
        Err(e) if shown_on_form(&e) => {
            let page = SignInRecoveryPage {
                layout: layout(&state, None).await?,
                email: form.email.chars().take(254).collect(),
                error: Some(e.message),
            };
            Ok((e.status, render(&page)?).into_response())
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
    Ok(redirect_clearing(&state, "/", "tw_session"))
}

/// A started WebAuthn ceremony: its id (to send back) and the browser options.
#[derive(Debug, Serialize)]
pub struct Challenge {
    pub ceremony_id: String,
    pub options: Value,
}

pub async fn passkey_start(
    State(state): State<AppState>,
    meta: RequestMeta,
) -> AppResult<Json<Challenge>> {
    signin::check_source(&state, &meta)?;
    let (ceremony_id, options) = state.passkeys.start_sign_in(&state).await?;
    Ok(Json(Challenge {
        ceremony_id,
        options,
    }))
}

#[derive(Deserialize)]
pub struct PasskeyAnswer {
    pub ceremony_id: String,
    pub credential: PublicKeyCredential,
}

pub async fn passkey_finish(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Result<JsonBody<PasskeyAnswer>, AppError>,
) -> AppResult<Response> {
    let JsonBody(answer) = read_or_refuse(
        &state,
        &meta,
        &Actor::Anonymous,
        "signin.passkey",
        "account:unknown",
        body,
    )
    .await?;
    let started = signin::with_passkey(
        &state,
        &meta,
        &headers,
        &answer.ceremony_id,
        &answer.credential,
    )
    .await?;
    signed_in_json(&state, &started, "/")
}
