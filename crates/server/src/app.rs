//! The one place that builds the routers.

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use http::{StatusCode, header};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

use crate::config::SentinelMode;
use crate::consult::notes;
use crate::error::AppError;
use crate::health;
use crate::http::{csrf, errors, headers, meta, observe};
use crate::state::AppState;
use crate::web::{
    account, assets, assurance, consult, enrol, fhir, incidents, messaging, openapi, pages, people,
    phishing, records, reports, risks, security, signin, training,
};

/// The web app: pages, health endpoints and static files behind the full middleware
/// stack (see [`crate::http`] for the order).
pub fn router(state: AppState) -> Router {
    let limits = &state.config.limits;
    let app = Router::new()
        .route("/", get(pages::home))
        .route("/sign-in", get(signin::page).post(signin::with_password))
        .route(
            "/sign-in/code",
            get(signin::code_page).post(signin::with_code),
        )
        .route(
            "/sign-in/recovery",
            get(signin::recovery_page).post(signin::with_recovery_code),
        )
        .route("/sign-out", post(signin::sign_out))
        .route("/api/sign-in/passkey/start", post(signin::passkey_start))
        .route("/api/sign-in/passkey/finish", post(signin::passkey_finish))
        .route(
            "/setup/{token}",
            get(enrol::setup_form).post(enrol::setup_submit),
        )
        .route("/enrol/{token}", get(enrol::enrol))
        .route("/enrol/{token}/password", post(enrol::enrol_password))
        .route(
            "/api/enrol/{token}/passkey/start",
            post(enrol::enrol_passkey_start),
        )
        .route(
            "/api/enrol/{token}/passkey/finish",
            post(enrol::enrol_passkey_finish),
        )
        .route("/register", get(enrol::register_form).post(enrol::register))
        .route("/account/security", get(account::security))
        .route(
            "/account/second-factor",
            get(account::second_factor).post(account::confirm_second_factor),
        )
        .route(
            "/account/passkeys/{id}/rename",
            post(account::rename_passkey),
        )
        .route(
            "/account/passkeys/{id}/remove",
            post(account::remove_passkey),
        )
        .route(
            "/api/account/passkeys/start",
            post(account::add_passkey_start),
        )
        .route(
            "/api/account/passkeys/finish",
            post(account::add_passkey_finish),
        )
        .route("/account/totp/remove", post(account::remove_totp))
        .route(
            "/account/recovery-codes",
            post(account::renew_recovery_codes),
        )
        .route("/account/password", post(account::set_password))
        .route("/account/password/remove", post(account::remove_password))
        .route(
            "/account/sessions/{handle}/revoke",
            post(account::revoke_session),
        )
        .route(
            "/account/sessions/revoke-others",
            post(account::revoke_other_sessions),
        )
        .route(
            "/account/step-up",
            get(account::step_up_page).post(account::step_up_with_password),
        )
        .route("/api/step-up/status", get(account::step_up_status_json))
        .route("/api/me", get(account::me))
        .route(
            "/api/step-up/passkey/start",
            post(account::step_up_passkey_start),
        )
        .route(
            "/api/step-up/passkey/finish",
            post(account::step_up_passkey_finish),
        )
        .route("/people", get(people::list))
        .route(
            "/people/invite",
            get(people::invite_form).post(people::invite),
        )
        .route("/people/{id}", get(people::person))
        .route("/people/{id}/role", post(people::change_role))
        .route("/people/{id}/disable", post(people::disable))
        .route("/people/{id}/enable", post(people::enable))
        .route(
            "/people/{id}/revoke-sessions",
            post(people::revoke_sessions),
        )
        .route("/people/{id}/reset", post(people::reset))
        .route("/people/{id}/care-team", post(people::add_care))
        .route(
            "/people/{id}/care-team/{clinician}/remove",
            post(people::remove_care),
        )
        .route("/people/{id}/resend", post(people::resend))
        .route(
            "/settings",
            get(people::settings).post(people::save_settings),
        )
        .route("/appointments", get(consult::appointments))
        .route("/appointments/slots", post(consult::publish))
        .route("/appointments/slots/{id}/withdraw", post(consult::withdraw))
        .route("/appointments/book", post(consult::book))
        .route("/appointments/{id}", get(consult::appointment))
        .route("/appointments/{id}/cancel", post(consult::cancel))
        .route("/appointments/{id}/move", post(consult::reschedule))
        .route("/appointments/{id}/notes", post(consult::save_notes))
        .route("/appointments/{id}/join", get(consult::join_page))
        .route("/api/appointments/{id}/ice", get(consult::ice))
        .route("/ws/appointments/{id}", get(consult::room_socket))
        .route("/waiting-room", get(consult::queue_page))
        .route("/ws/queue", get(consult::queue_socket))
        .route("/messages", get(messaging::page))
        .route("/messages/devices", get(messaging::devices_page))
        .route(
            "/api/messaging/devices",
            get(messaging::list_devices).post(messaging::register_device),
        )
        .route("/api/messaging/backups", get(messaging::list_backups))
        .route(
            "/api/messaging/devices/{id}/key-packages",
            post(messaging::add_key_packages),
        )
        .route(
            "/api/messaging/devices/{id}/remove",
            post(messaging::remove_device),
        )
        .route(
            "/api/messaging/devices/{id}/key-proof",
            get(messaging::key_proof),
        )
        .route(
            "/api/messaging/key-log/consistency",
            get(messaging::key_log_consistency),
        )
        .route(
            "/api/messaging/conversations",
            get(messaging::conversations).post(messaging::start_conversation),
        )
        .route(
            "/api/messaging/conversations/{id}",
            get(messaging::conversation),
        )
        .route(
            "/api/messaging/conversations/{id}/claim",
            post(messaging::claim),
        )
        .route(
            "/api/messaging/conversations/{id}/commits",
            post(messaging::commit),
        )
        .route(
            "/api/messaging/conversations/{id}/messages",
            get(messaging::read).post(messaging::send),
        )
        .route("/api/messaging/welcomes", get(messaging::welcomes))
        .route("/api/messaging/blobs/{id}", get(messaging::get_blob))
        .route("/ws/messaging", get(messaging::socket))
        .route(
            "/guest/{token}",
            get(consult::guest_page).post(consult::guest_redeem),
        )
        .route("/records", get(records::records))
        .route("/records/patients/{id}", get(records::record))
        .route(
            "/records/patients/{id}/break-glass",
            post(records::break_glass),
        )
        .route("/records/patients/{id}/export", post(records::export))
        .route("/records/patients/{id}/access", get(records::access_page))
        .route("/records/access", get(records::own_access))
        .route("/records/access/{seq}/proof", get(records::proof))
        .route("/ledger/public-key", get(records::public_key))
        .route("/security", get(security::dashboard))
        .route("/security/dashboard.json", get(security::dashboard_json))
        .route("/security/health", get(security::health_page))
        .route(
            "/security/alerts/{id}/acknowledge",
            post(security::acknowledge),
        )
        .route("/security/alerts/{id}/resolve", post(security::resolve))
        .route("/security/block", post(security::block))
        .route("/security/unblock", post(security::unblock))
        .route("/security/accounts/{id}/release", post(security::release))
        .route("/security/assurance", get(assurance::dashboard))
        .route("/security/assurance.json", get(assurance::dashboard_json))
        .route("/security/assurance/run", post(assurance::run))
        .route("/security/assurance/checks/{key}", get(assurance::check))
        .route(
            "/security/assurance/questionnaire",
            get(assurance::questionnaire),
        )
        .route(
            "/security/assurance/questions/{id}/delegate",
            post(assurance::delegate),
        )
        .route("/assessment", get(assurance::my_questions))
        .route("/assessment/questions/{id}/answer", post(assurance::answer))
        .route("/security/assurance/risks", get(risks::risks))
        .route("/security/assurance/risks/{id}", get(risks::risk))
        .route(
            "/security/assurance/risks/{id}/treatment",
            post(risks::treat),
        )
        .route("/security/assurance/risks/{id}/verify", post(risks::verify))
        .route(
            "/security/assurance/reviews",
            post(assurance::request_review),
        )
        .route(
            "/security/assurance/reviews/{id}/complete",
            post(assurance::complete_review),
        )
        .route("/security/reports", get(reports::reports_page))
        .route(
            "/security/reports/evidence-pack",
            post(reports::evidence_pack),
        )
        .route("/security/reports/{kind}", get(reports::report))
        .route("/security/reports/{kind}/pdf", get(reports::report_pdf))
        .route("/security/reports/{kind}/html", get(reports::report_html))
        .route(
            "/security/incidents",
            get(incidents::list).post(incidents::open),
        )
        .route("/security/incidents/contact", post(incidents::set_contact))
        .route("/security/incidents/{id}", get(incidents::show))
        .route("/security/incidents/{id}/{what}", post(incidents::change))
        .route("/training", get(training::home))
        .route(
            "/training/lessons/{id}",
            get(training::lesson).post(training::quiz),
        )
        .route(
            "/training/policy",
            get(training::policy).post(training::acknowledge),
        )
        .route("/training/staff", get(training::staff))
        .route("/training/staff/remind", post(training::remind))
        .route("/security/break-glass", get(records::queue))
        .route("/security/break-glass/{id}/review", post(records::review))
        .route("/training/simulations", get(phishing::list))
        .route("/training/simulations.json", get(phishing::list_json))
        .route("/training/simulations/opt-in", post(phishing::opt_in))
        .route("/training/simulations/campaigns", post(phishing::create))
        .route("/training/simulations/{id}", get(phishing::campaign))
        .route(
            "/training/simulations/{id}/metrics.json",
            get(phishing::campaign_json),
        )
        .route("/t/{campaign}/{recipient}/{token}", get(phishing::tracked))
        .route(
            "/t/{campaign}/{recipient}/{token}/open.gif",
            get(phishing::open_pixel),
        )
        .route(
            "/t/{campaign}/{recipient}/{token}/beacon",
            post(phishing::beacon),
        )
        .route(
            "/t/{campaign}/{recipient}/{token}/submit",
            post(phishing::submit),
        )
        .route(
            "/report-suspicious",
            get(phishing::report_page).post(phishing::report_submit),
        )
        .route("/fhir/metadata", get(fhir::metadata))
        .route("/fhir/openapi.json", get(openapi::openapi))
        .route("/fhir/AuditEvent", get(fhir::audit_events))
        .route("/fhir/AuditEvent/{id}", get(fhir::audit_event_read))
        .route("/fhir/Patient/{id}/$everything", get(fhir::everything))
        .route("/fhir/Patient/{id}/$break-glass", post(fhir::break_glass))
        .route("/fhir/{type}", get(fhir::search).post(fhir::create))
        .route(
            "/fhir/{type}/{id}",
            get(fhir::read).put(fhir::update).delete(fhir::delete),
        )
        .route("/fhir/{type}/{id}/_history", get(fhir::history))
        .route("/fhir/{type}/{id}/_history/{version}", get(fhir::vread))
        .route("/static/{name}", get(assets::serve))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        // A file shared in a call may be larger than any form.
        .route(
            "/api/appointments/{id}/files",
            post(consult::keep_file).layer((
                DefaultBodyLimit::disable(),
                RequestBodyLimitLayer::new(notes::MAX_FILE_BYTES),
            )),
        )
        // Encrypted attachments have their own, larger limit.
        .route(
            "/api/messaging/conversations/{id}/blobs",
            post(messaging::put_blob).layer((
                DefaultBodyLimit::disable(),
                RequestBodyLimitLayer::new(state.config.messaging.max_attachment_bytes),
            )),
        )
        // An encrypted device backup (base64 in JSON) is larger than any form.
        .route(
            "/api/messaging/devices/{id}/backup",
            get(messaging::get_backup)
                .put(messaging::put_backup)
                .layer((
                    DefaultBodyLimit::disable(),
                    RequestBodyLimitLayer::new(crate::messaging::backup::MAX_BACKUP_REQUEST_BYTES),
                )),
        )
        .fallback(pages::not_found)
        .layer(from_fn_with_state(state.clone(), csrf::protect))
        .layer(RequestBodyTimeoutLayer::new(Duration::from_secs(
            limits.body_read_timeout_secs,
        )))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(limits.request_timeout_secs),
        ))
        .layer(from_fn_with_state(state.clone(), observe::record))
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                AppError::internal("a request handler panicked").into_response()
            },
        ));
    // The sentinel sees every request (with its route template, which routing has
    // found by now) and turns away blocked, throttled and, under load, the least
    // trusted ones before any work is done for them.
    let app = if state.config.sentinel.mode != SentinelMode::Off {
        app.layer(state.sentinel.layer())
    } else {
        app
    };
    app.layer(from_fn_with_state(state.clone(), errors::render))
        .layer(from_fn_with_state(state.clone(), headers::set))
        .layer(from_fn_with_state(state.clone(), meta::resolve))
        .with_state(state)
}

/// The metrics listener: Prometheus text on `/metrics`, nothing else.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .with_state(state)
}

async fn metrics(State(state): State<AppState>) -> Response {
    let body = state
        .metrics
        .render(&state.ledger.stats(), state.rooms.open_rooms());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// The plain-HTTP listener beside TLS: every request is sent to the HTTPS origin.
pub fn redirect_router(state: AppState) -> Router {
    Router::new()
        .fallback(redirect_to_https)
        .layer(from_fn_with_state(state.clone(), headers::set))
        .with_state(state)
}

async fn redirect_to_https(State(state): State<AppState>, req: Request) -> Redirect {
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    Redirect::permanent(&format!("{}{path}", state.origin))
}
