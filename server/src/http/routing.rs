//! `/v1/routing-rules` (I7): a BizReach position name routed to a job by exact match.
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::auth::{Admin, Auth};
use super::error::{ApiError, ErrorCode};
use super::AppState;
use crate::domain::time::{now_millis, rfc3339};
use crate::store::routing::RuleWithJob;
use crate::store::{Store, StoreError};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/routing-rules", web::get().to(list))
        .route("/v1/routing-rules", web::post().to(create))
        .route("/v1/routing-rules/{id}", web::delete().to(delete));
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutingRuleIn {
    /// BizReach's ポジション名(表示用), exactly as BizReach shows it.
    pub position_name: String,
    pub job_id: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RoutingRuleOut {
    pub id: String,
    /// `BizReach {position} → {job title}`.
    pub name: String,
    pub position_name: String,
    pub job_id: String,
    pub job_title: Option<String>,
    pub created_by: String,
    pub created_at: String,
}

impl From<&RuleWithJob> for RoutingRuleOut {
    fn from(r: &RuleWithJob) -> Self {
        RoutingRuleOut {
            id: r.rule.id.clone(),
            name: r.name(),
            position_name: r.rule.position_name.clone(),
            job_id: r.rule.job_id.clone(),
            job_title: r.job_title.clone(),
            created_by: r.rule.created_by.clone(),
            created_at: rfc3339(r.rule.created_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RoutingRuleList {
    pub items: Vec<RoutingRuleOut>,
    pub next_cursor: Option<String>,
}

/// Every routing rule, oldest first.
#[utoipa::path(get, path = "/v1/routing-rules", tag = "routing",
    responses((status = 200, body = RoutingRuleList)), security(("bearer" = [])))]
async fn list(_: Auth<Admin>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let rules = state.store.list_routing_rules().await?;
    Ok(HttpResponse::Ok().json(RoutingRuleList {
        items: rules.iter().map(RoutingRuleOut::from).collect(),
        next_cursor: None,
    }))
}

/// Creates a rule. The position name is stored exactly as given (no trimming, no width or case
/// folding): `422` for an unknown job, `409` when the position has a rule already.
#[utoipa::path(post, path = "/v1/routing-rules", tag = "routing", request_body = RoutingRuleIn,
    responses((status = 201, body = RoutingRuleOut), (status = 400), (status = 409), (status = 422)),
    security(("bearer" = [])))]
async fn create(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    body: web::Json<RoutingRuleIn>,
) -> Result<HttpResponse, ApiError> {
    let position = body.position_name.as_str();
    if position.trim().is_empty() {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            "position_name",
            "`position_name` must not be empty",
        ));
    }
    if position.trim() != position {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            "position_name",
            "`position_name` has leading or trailing spaces; the match is exact, so give it exactly as BizReach shows it",
        ));
    }
    let job = Store::find_job(&state.store.db, &body.job_id)
        .await?
        .ok_or_else(|| {
            ApiError::field(
                ErrorCode::Unprocessable,
                "job_id",
                format!("job `{}` does not exist", body.job_id),
            )
        })?;
    let actor = auth.actor();
    let out = state
        .store
        .in_transaction(async |txn| {
            let rule =
                Store::create_routing_rule(txn, position, &job.id, &actor, now_millis()).await?;
            let out = RuleWithJob {
                rule,
                job_title: Some(job.title.clone()),
            };
            let detail = serde_json::json!({"name": out.name()});
            Store::audit(txn, &actor, "routing_rule.create", &out.rule.id, detail).await?;
            Ok::<_, StoreError>(out)
        })
        .await?;
    Ok(HttpResponse::Created().json(RoutingRuleOut::from(&out)))
}

/// Deletes a rule.
#[utoipa::path(delete, path = "/v1/routing-rules/{id}", tag = "routing",
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
async fn delete(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state
        .store
        .in_transaction(async |txn| {
            Store::delete_routing_rule(txn, &id).await?;
            let detail = serde_json::json!({});
            Store::audit(txn, &auth.actor(), "routing_rule.delete", &id, detail).await
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
