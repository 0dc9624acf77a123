//! Joining a consult: the call page, its ICE settings, and the two WebSockets (the
//! room of one appointment, and a clinician's waiting-room queue).

use axum::Json;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::HeaderMap;
use ledger::Outcome;
use proto::ErrorCode;
use store::consults::{AppointmentEvent, AppointmentRow};

use super::{can_join_at, person_name};
use crate::admin::require;
use crate::audit::{self, Actor};
use crate::consult::room::{Effect, In, Out, Side};
use crate::consult::{notes, schedule, socket, time, turn};
use crate::error::{AppError, AppResult};
use crate::http::csrf::is_same_origin;
use crate::http::meta::RequestMeta;
use crate::identity::Role;
use crate::identity::session::{CurrentUser, MaybeUser, SignedIn, token_hash};
use crate::policy::{Action, Target};
use crate::state::AppState;
use crate::web::pages::{layout, render};
use crate::web::templates::{CallPage, QueuePage};

/// Who is joining a consult: a signed-in participant, or a guest with a pass.
enum Joiner {
    User(Box<CurrentUser>),
    Guest,
}

/// Checks that the request may join `id`'s consult, and as which side.
async fn joiner(
    state: &AppState,
    headers: &HeaderMap,
    user: Option<CurrentUser>,
    id: &str,
) -> AppResult<(AppointmentRow, Side, Joiner)> {
    let refused = || AppError::not_found();
    let now = state.clock.now_ms();
    let a = match user.filter(|u| !u.session.mfa_pending) {
        Some(who) => {
            let a = schedule::load(state, &who, id, Action::JoinConsult).await?;
            let side = if who.role() == Role::Clinician {
                Side::Clinician
            } else {
                Side::Patient
            };
            return if can_join_at(&a, now) {
                Ok((a, side, Joiner::User(Box::new(who))))
            } else {
                Err(too_early_or_late())
            };
        }
        None => {
            let token = state
                .cookies
                .read(headers, "tw_guest")
                .ok_or_else(refused)?;
            let allowed = state
                .db
                .guest_session(&token_hash(&token), now)
                .await?
                .ok_or_else(refused)?;
            if allowed != id {
                return Err(refused());
            }
            state.db.appointment(id).await?.ok_or_else(refused)?
        }
    };
    if !can_join_at(&a, now) {
        return Err(too_early_or_late());
    }
    Ok((a, Side::Patient, Joiner::Guest))
}

fn too_early_or_late() -> AppError {
    AppError::client(
        ErrorCode::Forbidden,
        "This consult is not open now: you can join from an hour before it starts until half an hour after it ends.",
    )
}

pub async fn join_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    if user.is_none() && state.cookies.read(&headers, "tw_guest").is_none() {
        return Ok(Redirect::to("/sign-in").into_response());
    }
    let (a, side, joiner) = joiner(&state, &headers, user, &id).await?;
    let tz = schedule::practice_zone(&state).await?;
    let other = match side {
        Side::Clinician => person_name(&state, &a).await?,
        Side::Patient => state
            .db
            .user_by_id(&state.keyring, &a.clinician_id)
            .await?
            .map_or_else(|| "your clinician".into(), |u| u.display_name),
    };
    let current = match &joiner {
        Joiner::User(u) => Some(&**u),
        Joiner::Guest => None,
    };
    let (note, writes_notes) = match (side, current) {
        (Side::Clinician, Some(who)) => (
            notes::read(&state, who, &id)
                .await?
                .map(|(t, _)| t)
                .unwrap_or_default(),
            true,
        ),
        _ => (String::new(), false),
    };
    let page = CallPage {
        layout: layout(&state, current).await?,
        appointment: id,
        clinician: side == Side::Clinician,
        other,
        when: time::long(a.starts_ms, &tz),
        writes_notes,
        note,
    };
    Ok(render(&page)?.into_response())
}

pub async fn ice(
    State(state): State<AppState>,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
) -> AppResult<Json<turn::IceConfig>> {
    let (_, side, _) = joiner(&state, &headers, user, &id).await?;
    // An opaque id: the appointment and side, hashed — nothing personal reaches coturn's logs.
    let who = &token_hash(&format!("{id}/{side:?}"))[..16];
    Ok(Json(turn::config(
        &state.config.turn,
        who,
        state.clock.now_ms(),
    )))
}

fn refuse_cross_site(state: &AppState, headers: &HeaderMap, https: bool) -> AppResult<()> {
    // Browsers send cookies with cross-site WebSocket handshakes; only our pages may open one.
    if is_same_origin(headers, &state.origin, https) {
        Ok(())
    } else {
        Err(AppError::client(
            ErrorCode::CrossOriginRequest,
            "Only Telewarden's own pages may open this connection.",
        ))
    }
}

/// The consult socket: waiting room, then signalling.
pub async fn room_socket(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
    Path(id): Path<String>,
    ws: WebSocketUpgrade,
) -> AppResult<Response> {
    refuse_cross_site(&state, &headers, meta.https)?;
    let (a, side, joiner) = joiner(&state, &headers, user, &id).await?;
    let actor = match &joiner {
        Joiner::User(u) => Actor::User(u.user.id.clone()),
        Joiner::Guest => Actor::Anonymous,
    };
    // The waiting room lists the patient (or guest), whoever opens the room first.
    let label = person_name(&state, &a).await?;
    let side_name = if side == Side::Clinician {
        "clinician"
    } else {
        "patient"
    };
    let target = format!("appointment:{id}");
    let joined = audit::entry(&meta, &actor, "consult.joined", &target, Outcome::Success)
        .detail("side", side_name);
    state.audit(joined).await?;
    Ok(socket::configure(ws).on_upgrade(move |socket| async move {
        let conn = state.rooms.connection_id();
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        state.rooms.join(
            &id,
            &a.clinician_id,
            &label,
            a.starts_ms,
            side,
            conn,
            tx,
            state.clock.now_ms(),
        );
        let (effects_tx, mut effects_rx) = tokio::sync::mpsc::unbounded_channel::<Effect>();
        let rooms_state = state.clone();
        let room_id = id.clone();
        let effects = tokio::spawn({
            let state = state.clone();
            let meta = meta.clone();
            let actor = actor.clone();
            let id = id.clone();
            async move {
                while let Some(effect) = effects_rx.recv().await {
                    record(&state, &meta, &actor, &id, effect).await;
                }
            }
        });
        let watched = socket::Watched {
            sentinel: state.sentinel.clone(),
            source: meta.client_ip,
            session: match &joiner {
                Joiner::User(u) => u.sentinel_session,
                Joiner::Guest => state.sentinel.session_key(&format!("guest-socket:{conn}")),
            },
        };
        socket::pump(
            socket,
            watched,
            rx,
            state.rooms.closing(),
            move |message| match message {
                Ok(
                    In::Admit {
                        appointment: Some(other),
                    }
                    | In::Message {
                        appointment: Some(other),
                        ..
                    }
                    | In::Remove {
                        appointment: Some(other),
                    },
                ) if other != room_id => Some(Out::Error {
                    code: "other-room",
                    message: "This connection is for one consult only.",
                }),
                Ok(m) => match rooms_state.rooms.handle(&room_id, side, conn, m) {
                    Ok(Effect::None) => None,
                    Ok(effect) => {
                        let _ = effects_tx.send(effect);
                        None
                    }
                    Err((code, message)) => Some(Out::Error { code, message }),
                },
                Err(code) => Some(Out::Error {
                    code,
                    message: "That message was refused.",
                }),
            },
        )
        .await;
        state.rooms.leave(&id, side, conn);
        let _ = effects.await;
        let left = audit::entry(&meta, &actor, "consult.left", &target, Outcome::Success)
            .detail("side", side_name);
        if let Err(e) = state.audit(left).await {
            tracing::warn!(error = %e, "could not record leaving a consult");
        }
    }))
}

/// Writes what happened in a room to the database and the ledger (never content).
async fn record(state: &AppState, meta: &RequestMeta, actor: &Actor, id: &str, effect: Effect) {
    let now = state.clock.now_ms();
    let (action, event) = match effect {
        Effect::Admitted => ("consult.admitted", Some(AppointmentEvent::Started)),
        Effect::Removed => ("consult.removed", None),
        Effect::Verified => ("consult.verified", Some(AppointmentEvent::Verified)),
        Effect::Ended => ("consult.ended", Some(AppointmentEvent::Ended)),
        Effect::None => return,
    };
    let mut entry = audit::entry(
        meta,
        actor,
        action,
        &format!("appointment:{id}"),
        Outcome::Success,
    );
    if effect == Effect::Ended
        && let Ok(Some(a)) = state.db.appointment(id).await
        && let Some(started) = a.started_ms
    {
        entry = entry.detail("duration_secs", (now - started) / 1000);
    }
    let result = async {
        state.audit(entry).await?;
        if let Some(event) = event {
            state.db.mark_appointment(id, event, now).await?;
        }
        Ok::<(), AppError>(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not record a consult event");
    }
}

/// The clinician's live waiting-room queue.
pub async fn queue_page(
    State(state): State<AppState>,
    SignedIn(who): SignedIn,
) -> AppResult<Response> {
    require(&who, Action::ManageOwnSchedule, Target::Practice)?;
    let page = QueuePage {
        layout: layout(&state, Some(&who)).await?,
    };
    Ok(render(&page)?.into_response())
}

pub async fn queue_socket(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    SignedIn(who): SignedIn,
    ws: WebSocketUpgrade,
) -> AppResult<Response> {
    refuse_cross_site(&state, &headers, meta.https)?;
    require(&who, Action::ManageOwnSchedule, Target::Practice)?;
    Ok(socket::configure(ws).on_upgrade(move |socket| async move {
        let conn = state.rooms.connection_id();
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        state.rooms.watch_queue(&who.user.id, conn, tx);
        let source = meta.client_ip;
        let (effects_tx, mut effects_rx) =
            tokio::sync::mpsc::unbounded_channel::<(String, Effect)>();
        let effects = tokio::spawn({
            let state = state.clone();
            let actor = Actor::User(who.user.id.clone());
            async move {
                while let Some((id, effect)) = effects_rx.recv().await {
                    record(&state, &meta, &actor, &id, effect).await;
                }
            }
        });
        let rooms_state = state.clone();
        let me = who.user.id.clone();
        let watched = socket::Watched {
            sentinel: state.sentinel.clone(),
            source,
            session: who.sentinel_session,
        };
        socket::pump(socket, watched, rx, state.rooms.closing(), move |message| {
            let target = match &message {
                Ok(
                    In::Admit { appointment }
                    | In::Message { appointment, .. }
                    | In::Remove { appointment },
                ) => appointment.clone(),
                Ok(In::Ping) => return None,
                _ => None,
            };
            let Some(id) = target else {
                return Some(Out::Error {
                    code: "malformed",
                    message: "That message was refused.",
                });
            };
            // Only the clinician's own rooms.
            if rooms_state.rooms.clinician_of(&id).as_deref() != Some(me.as_str()) {
                return Some(Out::Error {
                    code: "not-yours",
                    message: "That patient is not waiting for you.",
                });
            }
            let Ok(m) = message else { return None };
            match rooms_state.rooms.handle(&id, Side::Clinician, u64::MAX, m) {
                Ok(Effect::None) => None,
                Ok(effect) => {
                    let _ = effects_tx.send((id, effect));
                    None
                }
                Err((code, message)) => Some(Out::Error { code, message }),
            }
        })
        .await;
        state.rooms.unwatch_queue(&who.user.id, conn);
        drop(effects);
    }))
}
