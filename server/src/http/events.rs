//! `/v1/events`: the queue as admins see it, with each event's decision record, and replay.
//!
//! Issue 15: an integrator token bound to a source reads and replays that source's events
//! only; another source's event is `404`, as an unknown id, so that ids do not leak, and a
//! filter naming another source is `403`. It sees an event's decisions without the context the
//! script ran with (the application as hirelay holds it). A token bound to no source reads no
//! event (`403`).
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::auth::{Auth, EventReader};
use super::error::{ApiError, ErrorCode};
use super::AppState;
use crate::domain::role::Scope;
use crate::domain::status::{EventSource, EventStatus};
use crate::domain::time::{now_millis, parse_rfc3339, rfc3339};
use crate::store::audit::CandidateRead;
use crate::store::decisions::DecisionRecord;
use crate::store::entities::event;
use crate::store::events::{EventFilter, ReplayFilter};
use crate::store::{Store, StoreError};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/events", web::get().to(list))
        .route("/v1/events/replay", web::post().to(replay_many))
        .route("/v1/events/{id}", web::get().to(get))
        .route("/v1/events/{id}/replay", web::post().to(replay_one));
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// `pending`, `processing`, `done`, `failed` or `dead`.
    pub status: Option<String>,
    /// `bizreach`, `ats`, `career_relay` or `hirelay`.
    pub source: Option<String>,
    /// RFC 3339; events received at or after.
    pub since: Option<String>,
    /// RFC 3339; events received before.
    pub until: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventOut {
    pub id: String,
    pub source: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub webhook_id: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub received_at: String,
    pub processed_at: Option<String>,
    pub next_attempt_at: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventDetailOut {
    #[serde(flatten)]
    pub event: EventOut,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// The newest decision: script and version, actions, log, error, and the context the
    /// script ran with (`ctx`, `now`, `application`).
    #[schema(value_type = Object)]
    pub decision: Option<DecisionRecord>,
    /// Every decision, oldest first (a replay adds one).
    #[schema(value_type = Vec<Object>)]
    pub decisions: Vec<DecisionRecord>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventList {
    pub items: Vec<EventOut>,
    pub next_cursor: Option<String>,
}

impl From<&event::Model> for EventOut {
    fn from(e: &event::Model) -> Self {
        EventOut {
            id: e.id.clone(),
            source: e.source.clone(),
            kind: e.kind.clone(),
            webhook_id: e.webhook_id.clone(),
            status: e.status.clone(),
            attempts: e.attempts,
            last_error: e.last_error.clone(),
            received_at: rfc3339(e.received_at),
            processed_at: e.processed_at.map(rfc3339),
            next_attempt_at: (e.status == EventStatus::Pending.as_str())
                .then(|| rfc3339(e.next_attempt_at)),
        }
    }
}

/// Parses an optional status filter, naming the field.
pub fn status_param(status: Option<&str>) -> Result<Option<EventStatus>, ApiError> {
    status
        .map(|s| {
            EventStatus::parse(s).map_err(|e| ApiError::field(ErrorCode::InvalidField, "status", e))
        })
        .transpose()
}

/// The filter that `status`, `source`, `since` and `until` give, naming the field at fault.
fn event_filter(
    status: Option<&str>,
    source: Option<&str>,
    since: Option<&str>,
    until: Option<&str>,
) -> Result<EventFilter, ApiError> {
    let time = |field: &str, v: Option<&str>| -> Result<Option<i64>, ApiError> {
        v.map(|s| {
            parse_rfc3339(s).map_err(|e| {
                ApiError::field(
                    ErrorCode::InvalidField,
                    field,
                    format!("`{s}` is not RFC 3339: {e}"),
                )
            })
        })
        .transpose()
    };
    let source = source
        .map(|s| {
            EventSource::parse(s).map_err(|e| ApiError::field(ErrorCode::InvalidField, "source", e))
        })
        .transpose()?;
    Ok(EventFilter {
        status: status_param(status)?,
        source,
        since: time("since", since)?,
        until: time("until", until)?,
    })
}

/// The source filter within `scope`: an integrator's own source whatever it asked, `403` when
/// it asked for another or has none.
fn scoped_source(
    scope: Scope,
    asked: Option<EventSource>,
) -> Result<Option<EventSource>, ApiError> {
    match (scope, asked) {
        (Scope::All, asked) => Ok(asked),
        (Scope::Source(own), Some(asked)) if asked != own => Err(ApiError::field(
            ErrorCode::Forbidden,
            "source",
            format!("this token reads only the events of the source `{own}`"),
        )),
        (Scope::Source(own), _) => Ok(Some(own)),
        (Scope::Unbound, _) => Err(ApiError::new(
            ErrorCode::Forbidden,
            "this integrator token is bound to no source, so it reads no event; an admin makes \
             one that is with `hirelay token create --role integrator --source …`",
        )),
    }
}

/// An event `scope` reaches; `404` for one it does not, as for an unknown id.
async fn event_in(store: &Store, scope: Scope, id: &str) -> Result<event::Model, ApiError> {
    let event = store.get_event(id).await?;
    if scope.sees_event(&event.source) {
        Ok(event)
    } else {
        Err(ApiError::not_found(format!("event {id}")))
    }
}

/// Events newest first, filtered by status, source and the time they were received. An
/// integrator token bound to a source lists that source's events only.
#[utoipa::path(get, path = "/v1/events", tag = "events", params(ListQuery),
    responses((status = 200, body = EventList),
        (status = 403, description = "a role other than admin or integrator; an integrator token bound to no source, or `source` naming another source than the token's", body = super::error::ErrorBody)),
    security(("bearer" = [])))]
async fn list(
    auth: Auth<EventReader>,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut filter = event_filter(
        query.status.as_deref(),
        query.source.as_deref(),
        query.since.as_deref(),
        query.until.as_deref(),
    )?;
    filter.source = scoped_source(auth.scope(), filter.source)?;
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let page = state
        .store
        .list_events(&filter, query.cursor.as_deref(), limit)
        .await?;
    Ok(HttpResponse::Ok().json(EventList {
        items: page.items.iter().map(EventOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One event with its payload and decision record (for an integrator, without the decision's
/// context).
#[utoipa::path(get, path = "/v1/events/{id}", tag = "events",
    responses((status = 200, body = EventDetailOut),
        (status = 404, description = "unknown, or another source's than the integrator token's")),
    security(("bearer" = [])))]
async fn get(
    auth: Auth<EventReader>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let event = event_in(&state.store, auth.scope(), &id).await?;
    // Issue 16: the payload and the decision's context show the candidates the event is about.
    let candidates = Store::event_candidates(&state.store.db, &event).await?;
    let reads: Vec<CandidateRead> = candidates
        .iter()
        .map(|candidate| CandidateRead {
            target: &id,
            candidate,
        })
        .collect();
    Store::audit_candidate_reads(
        &state.store.db,
        &auth.actor(),
        "GET /v1/events/{id}",
        &reads,
    )
    .await?;
    Ok(HttpResponse::Ok().json(detail(&state.store, auth.scope(), event).await?))
}

async fn detail(
    store: &Store,
    scope: Scope,
    event: event::Model,
) -> Result<EventDetailOut, ApiError> {
    let mut decisions = Store::decisions_for(&store.db, &event.id).await?;
    if scope != Scope::All {
        // What the script read of hirelay's own records is not the integrator's to see.
        for decision in &mut decisions {
            decision.context = None;
        }
    }
    Ok(EventDetailOut {
        payload: serde_json::from_str(&event.payload).unwrap_or(serde_json::Value::Null),
        event: EventOut::from(&event),
        decision: decisions.last().cloned(),
        decisions,
    })
}

/// Puts one event back in the queue (after fixing the script that failed it, say).
#[utoipa::path(post, path = "/v1/events/{id}/replay", tag = "events",
    responses((status = 202, body = EventOut),
        (status = 404, description = "unknown, or another source's than the integrator token's"),
        (status = 409)),
    security(("bearer" = [])))]
async fn replay_one(
    auth: Auth<EventReader>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    event_in(&state.store, auth.scope(), &id).await?;
    let event = state
        .store
        .in_transaction(async |txn| {
            let event = Store::replay_event(txn, &id, now_millis()).await?;
            let detail = serde_json::json!({});
            Store::audit(txn, &auth.actor(), "event.replay", &id, detail).await?;
            Ok::<_, StoreError>(event)
        })
        .await?;
    state.queue_wake.notify_waiters();
    Ok(HttpResponse::Accepted().json(EventOut::from(&event)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayIn {
    pub status: Option<String>,
    /// `bizreach`, `ats` or `career_relay`.
    pub source: Option<String>,
    /// RFC 3339; events received at or after.
    pub since: Option<String>,
    /// RFC 3339; events received before.
    pub until: Option<String>,
    /// Events decided by this version of `script` (default script: any).
    pub script_version: Option<i32>,
    pub script: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReplayOut {
    pub replayed: u64,
}

/// Re-runs every event that matches the filter (e.g. all that a bad script version decided);
/// for an integrator token, of its own source only.
#[utoipa::path(post, path = "/v1/events/replay", tag = "events", request_body = ReplayIn,
    responses((status = 202, body = ReplayOut), (status = 400),
        (status = 403, description = "an integrator token bound to no source, or `source` naming another source")),
    security(("bearer" = [])))]
async fn replay_many(
    auth: Auth<EventReader>,
    state: web::Data<AppState>,
    body: web::Json<ReplayIn>,
) -> Result<HttpResponse, ApiError> {
    let mut events = event_filter(
        body.status.as_deref(),
        body.source.as_deref(),
        body.since.as_deref(),
        body.until.as_deref(),
    )?;
    if events.is_empty() && body.script_version.is_none() {
        return Err(ApiError::new(ErrorCode::BadRequest, "give at least one of status, source, since, until, script_version: replaying everything is not done by accident"));
    }
    events.source = scoped_source(auth.scope(), events.source)?;
    let filter = ReplayFilter {
        events,
        script_version: match (body.script_version, &body.script) {
            (Some(v), Some(s)) => Some((s.clone(), v)),
            (Some(v), None) => Some((String::new(), v)),
            (None, _) => None,
        },
    };
    let replayed = state
        .store
        .in_transaction(async |txn| {
            let replayed = Store::replay_events(txn, &filter, now_millis()).await?;
            let detail = serde_json::json!({"replayed": replayed});
            Store::audit(txn, &auth.actor(), "event.replay_many", "events", detail).await?;
            Ok::<_, StoreError>(replayed)
        })
        .await?;
    state.queue_wake.notify_waiters();
    Ok(HttpResponse::Accepted().json(ReplayOut { replayed }))
}
