//! `/v1/applications`: applications as the ATS side and HR see them, with their status history.
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{Auth, Viewer};
use super::error::{ApiError, ErrorCode};
use super::AppState;
use crate::domain::email::Email;
use crate::domain::message_kind::MessageKind;
use crate::domain::role::Role;
use crate::store::applications::BIZREACH;
use crate::store::audit::CandidateRead;
use crate::store::entities::application;
use crate::store::Store;
use crate::views::{application_json, history_json};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/applications", web::get().to(find))
        .route("/v1/applications/{id}", web::get().to(get));
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct FindQuery {
    /// The BizReach application id.
    pub source_application_id: Option<String>,
    pub ats_application_id: Option<String>,
}

/// The application with its candidate, and the candidate's opt-outs (C8: `opted_out` of
/// Career Relay invitations, and `opt_outs` of any kind, with time and channel).
///
/// Issue 16, least exposure: a viewer sees the candidate as a pseudonymous id only (no name,
/// address, phone or attributes); an admin's read of the personal data is audited
/// (`candidate.read`, with the token or user).
async fn with_candidate(
    state: &AppState,
    caller: &Auth<Viewer>,
    app: &application::Model,
) -> Result<Value, ApiError> {
    let candidate = Store::get_candidate(&state.store.db, &app.candidate_id).await?;
    if caller.caller.role != Role::Admin {
        let mut body = application_json(app, None);
        body["candidate"] = json!({"id": candidate.id, "erased": candidate.erased_at.is_some()});
        return Ok(body);
    }
    Store::audit_candidate_reads(
        &state.store.db,
        &caller.actor(),
        "GET /v1/applications",
        &[CandidateRead {
            target: &app.id,
            candidate: &candidate.id,
        }],
    )
    .await?;
    let mut body = application_json(app, Some(&candidate));
    let opt_outs = match Email::parse(&candidate.email) {
        Ok(address) => {
            let hash = state.secret_box.address_key().hash(&address);
            Store::opt_outs_of(&state.store.db, &hash).await?
        }
        Err(_) => Vec::new(),
    };
    body["candidate"]["opted_out"] = json!(opt_outs
        .iter()
        .any(|o| o.kind == MessageKind::CareerRelayInvitation.as_str()));
    body["candidate"]["opt_outs"] = json!(opt_outs
        .into_iter()
        .map(super::opt_outs::OptOutOut::from)
        .collect::<Vec<_>>());
    Ok(body)
}

/// Finds applications by their BizReach or ATS id.
#[utoipa::path(get, path = "/v1/applications", tag = "applications", params(FindQuery),
    responses((status = 200, description = "`{\"items\": [application], \"next_cursor\": null}`")), security(("bearer" = [])))]
async fn find(
    auth: Auth<Viewer>,
    state: web::Data<AppState>,
    query: web::Query<FindQuery>,
) -> Result<HttpResponse, ApiError> {
    let db = &state.store.db;
    let found = match (&query.source_application_id, &query.ats_application_id) {
        (Some(source), None) => Store::find_application_by_source(db, BIZREACH, source).await?,
        (None, Some(ats)) => Store::find_application_by_ats_id(db, ats).await?,
        _ => {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                "give exactly one of source_application_id, ats_application_id",
            ));
        }
    };
    let mut items = Vec::new();
    if let Some(app) = found {
        items.push(with_candidate(&state, &auth, &app).await?);
    }
    Ok(HttpResponse::Ok().json(json!({"items": items, "next_cursor": null})))
}

/// One application with its candidate (and their opt-outs), its status history (applied and
/// out-of-order changes) and its Career Relay invitation (`career_relay`: `invited`, `clicked`
/// or `registered`, C4, with the `basis` it is sent on; `null` when none).
#[utoipa::path(get, path = "/v1/applications/{id}", tag = "applications",
    responses((status = 200, description = "the application with `history`"), (status = 404)), security(("bearer" = [])))]
async fn get(
    auth: Auth<Viewer>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let app = Store::get_application(&state.store.db, &id).await?;
    let mut body = with_candidate(&state, &auth, &app).await?;
    let history: Vec<Value> = Store::application_history(&state.store.db, &app.id)
        .await?
        .iter()
        .map(history_json)
        .collect();
    body["history"] = Value::Array(history);
    body["career_relay"] = Store::invitation_for_application(&state.store.db, &app.id)
        .await?
        .as_ref()
        .map_or(Value::Null, crate::relay::invitation_json);
    Ok(HttpResponse::Ok().json(body))
}
