//! `/v1/imports` (I6, I8): the import inbox and bulk routing from it.
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::auth::{Admin, Auth};
use super::error::ApiError;
use super::AppState;
use crate::bizreach::inbox::{route_from_inbox, RouteRequest};
use crate::domain::period::Period;
use crate::domain::time::{now_millis, rfc3339};
use crate::store::audit::CandidateRead;
use crate::store::inbox::{InboxFilter, InboxItem};
use crate::store::Store;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/imports", web::get().to(list))
        .route("/v1/imports/route", web::post().to(route));
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InboxCandidateOut {
    pub id: String,
    pub name: String,
    pub email: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InboxItemOut {
    pub id: String,
    pub source_application_id: Option<String>,
    pub group_account_id: Option<String>,
    pub channel: Option<String>,
    pub position_name: Option<String>,
    pub status: String,
    pub source_status: Option<String>,
    pub applied_at: Option<String>,
    pub labels: Vec<String>,
    pub job_id: Option<String>,
    pub candidate: Option<InboxCandidateOut>,
    pub created_at: String,
}

impl From<&InboxItem> for InboxItemOut {
    fn from(item: &InboxItem) -> Self {
        let a = &item.application;
        InboxItemOut {
            id: a.id.clone(),
            source_application_id: a.source_application_id.clone(),
            group_account_id: a.group_account_id.clone(),
            channel: a.channel.clone(),
            position_name: a.position_name.clone(),
            status: a.status.clone(),
            source_status: a.source_status.clone(),
            applied_at: a.applied_at.map(rfc3339),
            labels: serde_json::from_str(&a.labels).unwrap_or_default(),
            job_id: a.job_id.clone(),
            candidate: item.candidate.as_ref().map(|c| InboxCandidateOut {
                id: c.id.clone(),
                name: c.name.clone(),
                email: c.email.clone(),
            }),
            created_at: rfc3339(a.created_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InboxPage {
    pub items: Vec<InboxItemOut>,
    pub next_cursor: Option<String>,
    /// How many applications the filters admit, on every page together.
    pub count: u64,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct InboxQuery {
    /// Only this group account's applications.
    pub group_account_id: Option<String>,
    /// Only this BizReach position name (exact match).
    pub position_name: Option<String>,
    /// Only this channel (`direct`, `scout`, …).
    pub channel: Option<String>,
    /// Applied on or after: a day in JST (`2026-11-01`) or an RFC 3339 time.
    pub from: Option<String>,
    /// Applied before: a day in JST (included) or an RFC 3339 time (excluded).
    pub to: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u64>,
}

impl InboxQuery {
    /// The filter the query asks for; an empty parameter (an unset form field) filters nothing.
    fn filter(&self) -> Result<InboxFilter, ApiError> {
        let given = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
        let (from, to) = (given(&self.from), given(&self.to));
        let applied = if from.is_some() || to.is_some() {
            let period = Period::parse(from.as_deref(), to.as_deref(), now_millis())?;
            Some((period.from, period.to))
        } else {
            None
        };
        Ok(InboxFilter {
            group_account_id: given(&self.group_account_id),
            position_name: given(&self.position_name),
            channel: given(&self.channel),
            applied,
        })
    }
}

/// I6: imported BizReach applications that no routing rule matched, in import order, filtered
/// by group account, position, channel and application date, with their count.
#[utoipa::path(get, path = "/v1/imports", tag = "routing", params(InboxQuery),
    responses((status = 200, body = InboxPage), (status = 400, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
async fn list(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    query: web::Query<InboxQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.filter()?;
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    let items = state
        .store
        .inbox_page(&filter, query.cursor.as_deref(), limit)
        .await?;
    let count = state.store.inbox_count(&filter).await?;
    // Issue 16: the page shows each candidate's name and address.
    let reads: Vec<CandidateRead> = items
        .iter()
        .filter_map(|i| {
            i.candidate.as_ref().map(|c| CandidateRead {
                target: &i.application.id,
                candidate: &c.id,
            })
        })
        .collect();
    Store::audit_candidate_reads(&state.store.db, &auth.actor(), "GET /v1/imports", &reads).await?;
    let next_cursor = if items.len() as u64 == limit {
        items.last().map(|i| i.application.id.clone())
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(InboxPage {
        items: items.iter().map(InboxItemOut::from).collect(),
        next_cursor,
        count,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteIn {
    pub application_ids: Vec<String>,
    pub job_id: String,
    /// Also create the rule `BizReach {position} → {job}` (the applications must share one position).
    #[serde(default)]
    pub register_rule: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RouteOut {
    pub routed: u64,
    pub rule_id: Option<String>,
    /// `BizReach {position} → {job title}` when a rule was registered.
    pub rule_name: Option<String>,
}

/// I8: routes the chosen inbox applications to a job in one transaction, optionally registering
/// the routing rule, and queues an `application.routed` webhook per application.
#[utoipa::path(post, path = "/v1/imports/route", tag = "routing", request_body = RouteIn,
    responses((status = 200, body = RouteOut), (status = 400), (status = 409), (status = 422, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
async fn route(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    body: web::Json<RouteIn>,
) -> Result<HttpResponse, ApiError> {
    let outcome = route_from_inbox(
        &state.store,
        RouteRequest {
            application_ids: &body.application_ids,
            job_id: &body.job_id,
            register_rule: body.register_rule,
            actor: &auth.actor(),
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(RouteOut {
        routed: outcome.routed,
        rule_id: outcome.rule_id,
        rule_name: outcome.rule_name,
    }))
}
