//! The account security page, second-factor enrolment, and step-up.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode, header};
use proto::ErrorCode;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::PublicKeyCredential;
use zeroize::Zeroizing;

use crate::audit::Actor;
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::session::{CurrentUser, Method, SignedIn, SignedInAnyFactor};
use crate::identity::{account, second_factor, signin, step_up};
use crate::state::AppState;
use crate::web::enrol::NewPasskey;
use crate::web::forms::{Form, JsonBody, read_or_refuse};
use crate::web::pages::{Next, default_passkey_name, layout, render, safe_return};
use crate::web::signin::Challenge;
use crate::web::templates::{
    AccountSecurityPage, NoticeView, PasskeyView, SecondFactorPage, SessionView, StepUpPage,
};

#[derive(Deserialize, Default)]
pub struct SecurityQuery {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    welcome: Option<String>,
}

fn flash_for(done: &str) -> Option<String> {
    Some(
        match done {
            "passkey-added" => "Your new passkey is ready.",
            "passkey-renamed" => "The passkey was renamed.",
            "passkey-removed" => "The passkey was removed.",
            "totp-removed" => "The authenticator app is no longer used for your account.",
            "password-set" => "Your password was saved.",
            "password-removed" => "Your password was removed.",
            "session-revoked" => "That browser was signed out.",
            "others-revoked" => "Every other browser was signed out.",
            "step-up" => "Thank you: you can now make the change.",
            _ => return None,
        }
        .to_owned(),
    )
}

async fn security_page(
    state: &AppState,
    headers: &HeaderMap,
    who: &CurrentUser,
    flash: Option<String>,
    error: Option<String>,
    new_codes: Option<Vec<Zeroizing<String>>>,
) -> AppResult<AccountSecurityPage> {
    let methods = account::methods(state, &who.user).await?;
    let notices = state.db.notices_of_user(&who.user.id, 10).await?;
    let passkeys = state.db.passkeys_of_user(&who.user.id).await?;
    let now = state.clock.now_ms();
    let sessions = state
        .db
        .sessions_of_user(&who.user.id)
        .await?
        .into_iter()
        .filter(|s| {
            s.revoked_ms.is_none() && s.expires_ms > now && s.last_seen_ms + s.idle_timeout_ms > now
        })
        .map(|s| SessionView {
            handle: account::short(&s.id_hash),
            current: s.id_hash == who.session.id_hash,
            device: s.user_agent.clone(),
            method: Method::label(&s.method),
            created: clock::rfc3339_ms(s.created_ms),
            last_seen: clock::rfc3339_ms(s.last_seen_ms),
            source: s.source,
        })
        .collect();
    let page = AccountSecurityPage {
        layout: layout(state, Some(who)).await?,
        flash,
        error,
        notices: notices
            .into_iter()
            .map(|n| NoticeView {
                id: n.id,
                when: clock::rfc3339_ms(n.created_ms),
                message: n.message,
                unread: n.read_ms.is_none(),
            })
            .collect(),
        new_codes,
        passkeys: passkeys
            .into_iter()
            .map(|p| PasskeyView {
                id: p.id,
                name: p.name,
                created: clock::rfc3339_ms(p.created_ms),
                last_used: p.last_used_ms.map(clock::rfc3339_ms),
            })
            .collect(),
        default_passkey_name: default_passkey_name(headers),
        needs_step_up_to_add: !who.recently_authenticated(state),
        totp: methods.totp,
        password: methods.password,
        password_allowed: signin::password_allowed(state, &who.user).await?,
        recovery_left: methods.recovery_codes_left,
        sessions,
    };
    state.db.mark_notices_read(&who.user.id, now).await?;
    Ok(page)
}

pub async fn security(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedIn(who): SignedIn,
    Query(q): Query<SecurityQuery>,
) -> AppResult<Response> {
    // Right after enrolling, everyone gets recovery codes, once.
    let mut new_codes = None;
    let mut flash = q.done.as_deref().and_then(flash_for);
    // Only for a session that has just been created, and an account that has never had
    // codes: anything else renews codes through the step-up-protected form.
    let fresh = state.clock.now_ms() - who.session.created_ms < 10 * 60_000;
    if q.welcome.is_some() && fresh && state.db.recovery_codes_issued(&who.user.id).await? == 0 {
        let codes = state
            .audited(
                crate::audit::entry(
                    &meta,
                    &crate::audit::Actor::User(who.user.id.clone()),
                    "recovery_codes.renewed",
                    &format!("user:{}", who.user.id),
                    ledger::Outcome::Success,
                ),
                second_factor::renew_recovery_codes(&state, &who.user.id),
            )
            .await?;
        new_codes = Some(codes);
        flash = Some("Your account is ready. Keep your recovery codes safe.".into());
    }
    let page = security_page(&state, &headers, &who, flash, None, new_codes).await?;
    Ok(render(&page)?.into_response())
}

/// Errors from a change are shown on the security page (403 step-up included, which the
/// page's script normally prevents by asking first).
async fn after_change(
    state: &AppState,
    headers: &HeaderMap,
    who: &CurrentUser,
    result: AppResult<&'static str>,
) -> AppResult<Response> {
    match result {
        Ok(done) => Ok(Redirect::to(&format!("/account/security?done={done}")).into_response()),
        Err(e) if e.code == ErrorCode::StepUpRequired && wants_html(headers) => {
            Ok(Redirect::to("/account/step-up?return_to=/account/security").into_response())
        }
        Err(e)
            if matches!(
                e.code,
                ErrorCode::InvalidInput | ErrorCode::Forbidden | ErrorCode::NotFound
            ) =>
        {
            let page =
                security_page(state, headers, who, None, Some(e.message.clone()), None).await?;
            Ok((e.status, render(&page)?).into_response())
        }
        Err(e) => Err(e),
    }
}

/// The body of a change to `who`'s own account, or its refusal (audited as `action`).
async fn own_body<T>(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    action: &str,
    body: Result<T, AppError>,
) -> AppResult<T> {
    let actor = Actor::User(who.user.id.clone());
    read_or_refuse(
        state,
        meta,
        &actor,
        action,
        &format!("user:{}", who.user.id),
        body,
    )
    .await
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    name: String,
}

pub async fn rename_passkey(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
    body: Result<Form<NameForm>, AppError>,
) -> AppResult<Response> {
    let Form(form) = own_body(&state, &meta, &who, "passkey.renamed", body).await?;
    let r = account::rename_passkey(&state, &meta, &who, &id, &form.name)
        .await
        .map(|()| "passkey-renamed");
    after_change(&state, &headers, &who, r).await
}

pub async fn remove_passkey(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedIn(who): SignedIn,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let r = account::remove_passkey(&state, &meta, &who, &id)
        .await
        .map(|()| "passkey-removed");
    after_change(&state, &headers, &who, r).await
}

pub async fn remove_totp(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedIn(who): SignedIn,
) -> AppResult<Response> {
    let r = account::remove_totp(&state, &meta, &who)
        .await
        .map(|()| "totp-removed");
    after_change(&state, &headers, &who, r).await
}

pub async fn renew_recovery_codes(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedIn(who): SignedIn,
) -> AppResult<Response> {
    match account::renew_recovery_codes(&state, &meta, &who).await {
        Ok(codes) => {
            let flash =
                Some("New recovery codes are below; the old ones no longer work.".to_owned());
            let page = security_page(&state, &headers, &who, flash, None, Some(codes)).await?;
            Ok(render(&page)?.into_response())
        }
        Err(e) => after_change(&state, &headers, &who, Err(e)).await,
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: Zeroizing<String>,
    #[serde(default)]
    confirm: Zeroizing<String>,
}

pub async fn set_password(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedIn(who): SignedIn,
    body: Result<Form<PasswordForm>, AppError>,
) -> AppResult<Response> {
    let Form(form) = own_body(&state, &meta, &who, "password.set", body).await?;
    let r = account::set_password(&state, &meta, &who, form.password, form.confirm)
        .await
        .map(|()| "password-set");
    after_change(&state, &headers, &who, r).await
}

pub async fn remove_password(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedIn(who): SignedIn,
) -> AppResult<Response> {
    let r = account::remove_password(&state, &meta, &who)
        .await
        .map(|()| "password-removed");
    after_change(&state, &headers, &who, r).await
}

pub async fn revoke_session(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedIn(who): SignedIn,
    Path(handle): Path<String>,
) -> AppResult<Response> {
    let sessions = state.db.sessions_of_user(&who.user.id).await?;
    let r = match sessions
        .iter()
        .find(|s| account::short(&s.id_hash) == handle && handle.len() == 16)
    {
        Some(s) => account::revoke_session(&state, &meta, &who, &s.id_hash)
            .await
            .map(|()| "session-revoked"),
        None => Err(AppError::not_found()),
    };
    after_change(&state, &headers, &who, r).await
}

pub async fn revoke_other_sessions(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedIn(who): SignedIn,
) -> AppResult<Response> {
    let r = account::revoke_other_sessions(&state, &meta, &who)
        .await
        .map(|_| "others-revoked");
    after_change(&state, &headers, &who, r).await
}

async fn second_factor_page(
    state: &AppState,
    headers: &HeaderMap,
    who: &CurrentUser,
    error: Option<String>,
) -> AppResult<SecondFactorPage> {
    // An authenticator app is the second step of a password: offered only with one.
    let totp = if who.user.password_hash.is_some() {
        let issuer = state
            .db
            .practice()
            .await?
            .map_or_else(|| "Telewarden".to_owned(), |p| p.name);
        Some(second_factor::enrolment(state, &who.user, &issuer).await?)
    } else {
        None
    };
    Ok(SecondFactorPage {
        layout: layout(state, Some(who)).await?,
        forced: who.session.mfa_pending,
        totp,
        default_passkey_name: default_passkey_name(headers),
        error,
    })
}

pub async fn second_factor(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedInAnyFactor(who): SignedInAnyFactor,
) -> AppResult<Response> {
    if second_factor::confirmed_totp(&state, &who.user.id)
        .await?
        .is_some()
    {
        return Ok(Redirect::to("/account/security").into_response());
    }
    if !who.session.mfa_pending && !who.recently_authenticated(&state) {
        return Ok(
            Redirect::to("/account/step-up?return_to=/account/second-factor").into_response(),
        );
    }
    Ok(render(&second_factor_page(&state, &headers, &who, None).await?)?.into_response())
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: Zeroizing<String>,
}

pub async fn confirm_second_factor(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedInAnyFactor(who): SignedInAnyFactor,
    body: Result<Form<CodeForm>, AppError>,
) -> AppResult<Response> {
    let Form(form) = own_body(&state, &meta, &who, "totp.enabled", body).await?;
    match account::confirm_totp(&state, &meta, &who, &form.code).await {
        Ok(confirmed) => {
            let flash = Some("Your authenticator app is set up.".to_owned());
            // The session may have just become a full one (with a new id).
            let who = CurrentUser {
                session: store::sessions::SessionRow {
                    mfa_pending: false,
                    ..who.session
                },
                user: who.user,
                sentinel_session: who.sentinel_session,
                client_ip: who.client_ip,
            };
            let page = security_page(&state, &headers, &who, flash, None, confirmed.codes).await?;
            let res = render(&page)?.into_response();
            match confirmed.rotated {
                Some(token) => with_rotated_cookie(&state, res, &token),
                None => Ok(res),
            }
        }
        Err(e) if e.code == ErrorCode::SecondFactorRequired => {
            let page = second_factor_page(&state, &headers, &who, Some(e.message.clone())).await?;
            Ok((StatusCode::UNAUTHORIZED, render(&page)?).into_response())
        }
        Err(e) => Err(e),
    }
}

pub async fn add_passkey_start(
    State(state): State<AppState>,
    SignedInAnyFactor(who): SignedInAnyFactor,
) -> AppResult<Json<Challenge>> {
    if !who.session.mfa_pending {
        who.require_recent(&state)?;
    }
    let (ceremony_id, options) = state.passkeys.start_registration(&state, &who.user).await?;
    Ok(Json(Challenge {
        ceremony_id,
        options,
    }))
}

pub async fn add_passkey_finish(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedInAnyFactor(who): SignedInAnyFactor,
    body: Result<JsonBody<NewPasskey>, AppError>,
) -> AppResult<Response> {
    let JsonBody(answer) = own_body(&state, &meta, &who, "passkey.added", body).await?;
    let rotated = account::add_passkey(
        &state,
        &meta,
        &who,
        &answer.ceremony_id,
        &answer.credential,
        &answer.name,
    )
    .await?;
    let to = if who.session.mfa_pending {
        "/account/security?welcome=1"
    } else {
        "/account/security?done=passkey-added"
    };
    let res = Json(Next {
        redirect: to.to_owned(),
    })
    .into_response();
    match rotated {
        Some(token) => with_rotated_cookie(&state, res, &token),
        None => Ok(res),
    }
}

/// What the step-up dialog needs to know.
#[derive(Debug, Serialize)]
pub struct StepUpStatus {
    pub recent: bool,
    pub passkey: bool,
    pub password: bool,
}

async fn step_up_status(state: &AppState, who: &CurrentUser) -> AppResult<StepUpStatus> {
    let methods = account::methods(state, &who.user).await?;
    Ok(StepUpStatus {
        recent: who.recently_authenticated(state),
        passkey: methods.passkeys > 0,
        password: methods.password && methods.totp,
    })
}

/// Who the session belongs to: what a native client needs to name its account (e.g.
/// in its messaging device's credential). No name or address.
#[derive(Serialize)]
pub struct Me {
    user_id: String,
    role: &'static str,
}

pub async fn me(SignedIn(who): SignedIn) -> Json<Me> {
    Json(Me {
        role: who.role().as_str(),
        user_id: who.user.id,
    })
}

pub async fn step_up_status_json(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
) -> AppResult<Json<StepUpStatus>> {
    Ok(Json(step_up_status(&state, &who).await?))
}

#[derive(Deserialize)]
pub struct ReturnQuery {
    #[serde(default)]
    return_to: Option<String>,
}

pub async fn step_up_page(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
    Query(q): Query<ReturnQuery>,
) -> AppResult<Response> {
    let status = step_up_status(&state, &who).await?;
    let page = StepUpPage {
        layout: layout(&state, Some(&who)).await?,
        return_to: safe_return(q.return_to.as_deref().unwrap_or("/account/security")).to_owned(),
        passkey: status.passkey,
        password: status.password,
        error: None,
    };
    Ok(render(&page)?.into_response())
}

fn with_rotated_cookie(state: &AppState, mut res: Response, token: &str) -> AppResult<Response> {
    res.headers_mut().append(
        header::SET_COOKIE,
        state.cookies.set("tw_session", token, None)?,
    );
    Ok(res)
}

#[derive(Deserialize)]
pub struct StepUpForm {
    #[serde(default)]
    password: Zeroizing<String>,
    #[serde(default)]
    code: Zeroizing<String>,
    #[serde(default)]
    return_to: String,
}

pub async fn step_up_with_password(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedIn(who): SignedIn,
    body: Result<Form<StepUpForm>, AppError>,
) -> AppResult<Response> {
    let Form(form) = own_body(&state, &meta, &who, "stepup", body).await?;
    let back = safe_return(&form.return_to).to_owned();
    match step_up::with_password(&state, &meta, &headers, &who, form.password, &form.code).await {
        Ok(token) if wants_html(&headers) => {
            let res = Redirect::to(&back).into_response();
            with_rotated_cookie(&state, res, &token)
        }
        Ok(token) => with_rotated_cookie(
            &state,
            Json(Next { redirect: back }).into_response(),
            &token,
        ),
        Err(e)
            if wants_html(&headers)
                && matches!(
                    e.code,
                    ErrorCode::StepUpRequired | ErrorCode::TooManyAttempts
                ) =>
        {
            let status = step_up_status(&state, &who).await?;
            let page = StepUpPage {
                layout: layout(&state, Some(&who)).await?,
                return_to: back,
                passkey: status.passkey,
                password: status.password,
                error: Some(e.message.clone()),
            };
            Ok((StatusCode::UNAUTHORIZED, render(&page)?).into_response())
        }
        Err(e) => Err(e),
    }
}

pub async fn step_up_passkey_start(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
) -> AppResult<Json<Challenge>> {
    let (ceremony_id, options) = state.passkeys.start_step_up(&state, &who.user).await?;
    Ok(Json(Challenge {
        ceremony_id,
        options,
    }))
}

#[derive(Deserialize)]
pub struct StepUpAnswer {
    pub ceremony_id: String,
    pub credential: PublicKeyCredential,
}

pub async fn step_up_passkey_finish(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    body: Result<JsonBody<StepUpAnswer>, AppError>,
) -> AppResult<Response> {
    let JsonBody(answer) = own_body(&state, &meta, &who, "stepup", body).await?;
    let token =
        step_up::with_passkey(&state, &meta, &who, &answer.ceremony_id, &answer.credential).await?;
    with_rotated_cookie(
        &state,
        Json(Next {
            redirect: "/account/security?done=step-up".into(),
        })
        .into_response(),
        &token,
    )
}
