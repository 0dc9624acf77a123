//! The one place that builds the routers.

use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use http::{StatusCode, header};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

use crate::error::AppError;
use crate::health;
use crate::http::{csrf, errors, headers, meta, observe};
use crate::state::AppState;
use crate::web::{assets, pages};

/// The web app: pages, health endpoints and static files behind the full middleware
/// stack (see [`crate::http`] for the order).
pub fn router(state: AppState) -> Router {
    let limits = &state.config.limits;
    Router::new()
        .route("/", get(pages::home))
        .route("/sign-in", get(pages::sign_in_page).post(pages::sign_in))
        .route("/sign-out", post(pages::sign_out))
        .route(
            "/setup/{token}",
            get(pages::setup_form).post(pages::setup_submit),
        )
        .route("/static/{name}", get(assets::serve))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .fallback(pages::not_found)
        .layer(from_fn_with_state(state.clone(), csrf::protect))
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
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
        ))
        .layer(from_fn_with_state(state.clone(), errors::render))
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
    let body = state.metrics.render(&state.ledger.stats());
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
