//! Access log and request metrics. Only the route template is recorded, never the raw
//! path or query (they can carry tokens or personal data).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::http::meta::RequestMeta;
use crate::state::AppState;

pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(unmatched)".to_owned(), |p| p.as_str().to_owned());
    let (request_id, client_ip) = req
        .extensions()
        .get::<RequestMeta>()
        .map(|m| (m.request_id.clone(), Some(m.client_ip)))
        .unwrap_or_default();
    let client = client_ip.map(|ip| ip.to_string()).unwrap_or_default();
    let res = next.run(req).await;
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    // A body that never finished arriving, or a request that outran its time.
    if status == 408
        && let Some(source) = client_ip
    {
        state
            .sentinel
            .record(sentinel::Event::SlowRequest(sentinel::SlowRequestEvent {
                at_ms: state.clock.now_ms(),
                source,
            }));
    }
    state
        .metrics
        .observe_request(method.as_str(), &route, status, elapsed);
    tracing::info!(
        target: "telewarden::access",
        method = %method,
        route = %route,
        status,
        ms = elapsed.as_secs_f64() * 1000.0,
        request_id = %request_id,
        client = %client,
        "request"
    );
    res
}
