//! The reports pages: the list, one report inside the app, its PDF and standalone
//! HTML downloads, and the evidence pack.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::admin::require;
use crate::assurance::{pack, reports};
use crate::error::AppResult;
use crate::http::meta::RequestMeta;
use crate::identity::session::SignedIn;
use crate::policy::{Action, Target};
use crate::state::AppState;
use crate::web::pages::{layout, render};
use crate::web::templates::Layout;

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    layout: Layout,
    reports: Vec<(&'static str, &'static str)>,
}

/// `GET /security/reports`.
pub async fn reports_page(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
) -> AppResult<Response> {
    require(&who, Action::ViewSecurity, Target::Practice)?;
    let page = ReportsPage {
        layout: layout(&state, Some(&who)).await?,
        reports: reports::KINDS
            .iter()
            .map(|k| (k.key(), k.title()))
            .collect(),
    };
    Ok(render(&page)?.into_response())
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    layout: Layout,
    key: &'static str,
    title: &'static str,
    body: String,
}

/// `GET /security/reports/{kind}`: the report inside the app.
pub async fn report(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(kind): Path<String>,
) -> AppResult<Response> {
    let kind = reports::Kind::parse(&kind)?;
    let doc = reports::report(&state, &meta, &who, kind, "page").await?;
    let page = ReportPage {
        layout: layout(&state, Some(&who)).await?,
        key: kind.key(),
        title: kind.title(),
        body: ::reports::html_fragment(&doc),
    };
    Ok(render(&page)?.into_response())
}

fn download(bytes: Vec<u8>, content_type: &'static str, name: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /security/reports/{kind}/pdf`.
pub async fn report_pdf(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(kind): Path<String>,
) -> AppResult<Response> {
    let kind = reports::Kind::parse(&kind)?;
    let doc = reports::report(&state, &meta, &who, kind, "pdf").await?;
    Ok(download(
        reports::pdf(&doc)?,
        "application/pdf",
        format!("{}.pdf", kind.key()),
    ))
}

/// `GET /security/reports/{kind}/html`: the standalone, printable file.
pub async fn report_html(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
    Path(kind): Path<String>,
) -> AppResult<Response> {
    let kind = reports::Kind::parse(&kind)?;
    let doc = reports::report(&state, &meta, &who, kind, "html").await?;
    Ok(download(
        ::reports::html_standalone(&doc).into_bytes(),
        "text/html; charset=utf-8",
        format!("{}.html", kind.key()),
    ))
}

/// `POST /security/reports/evidence-pack`: the auditor's archive; its hash goes to the
/// ledger first (a POST: it writes).
pub async fn evidence_pack(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(who): SignedIn,
) -> AppResult<Response> {
    let (archive, sha) = pack::evidence_pack(&state, &meta, &who).await?;
    let mut res = download(
        archive,
        "application/x-tar",
        format!("evidence-pack-{}.tar", &sha[..12.min(sha.len())]),
    );
    if let Ok(v) = header::HeaderValue::from_str(&sha) {
        res.headers_mut().insert("x-evidence-pack-sha256", v);
    }
    Ok(res)
}
