//! BizReach sign-in and group accounts (L1–L3, L4's request, P1's switch, B1–B4).
use actix_web::{web, HttpResponse};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::auth::{Admin, Auth};
use super::error::{ApiError, ErrorCode};
use super::AppState;
use crate::bizreach::backfill::{Backfill, BackfillReport};
use crate::bizreach::linking::{self, LinkRequest};
use crate::bizreach::{BizreachClient, BizreachError};
use crate::domain::email::Email;
use crate::domain::link::{LinkAction, LinkState};
use crate::domain::time::{now_millis, rfc3339};
use crate::store::entities::group_account;
use crate::store::Store;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/bizreach/session", web::post().to(sign_in))
        .route("/v1/group-accounts", web::get().to(list))
        .route("/v1/group-accounts/{id}/link", web::post().to(link))
        .route("/v1/group-accounts/{id}/suspend", web::post().to(suspend))
        .route("/v1/group-accounts/{id}/resume", web::post().to(resume))
        .route(
            "/v1/group-accounts/{id}/progress-sync",
            web::put().to(progress_sync),
        )
        .route("/v1/group-accounts/{id}/backfill", web::post().to(backfill));
}

/// The BizReach client, or 503 naming the variable to set.
pub fn client(state: &AppState) -> Result<&BizreachClient, ApiError> {
    state
        .bizreach
        .as_ref()
        .ok_or_else(|| BizreachError::NotConfigured.into())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionIn {
    /// The BizReach organisation-admin account's email (need not be the hirelay user's).
    pub email: String,
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct GroupAccountOut {
    pub id: String,
    pub name: String,
    pub admin_email: String,
    /// `unlinked`, `pending_approval`, `linked` or `suspended`.
    pub status: String,
    pub linked_at: Option<String>,
    pub progress_sync: bool,
    /// Where the next poll starts (`applied_at`, RFC 3339).
    pub poll_since: Option<String>,
}

impl From<&group_account::Model> for GroupAccountOut {
    fn from(g: &group_account::Model) -> Self {
        GroupAccountOut {
            id: g.id.clone(),
            name: g.name.clone(),
            admin_email: g.admin_email.clone(),
            status: g.status.clone(),
            linked_at: g.linked_at.map(rfc3339),
            progress_sync: g.progress_sync,
            poll_since: g.poll_since.map(rfc3339),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionOut {
    pub account_name: String,
    pub group_accounts: Vec<GroupAccountOut>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct GroupAccountList {
    pub items: Vec<GroupAccountOut>,
    pub next_cursor: Option<String>,
}

/// L1, L2: signs in to BizReach with an organisation-admin account and lists its group accounts.
/// The password is stored encrypted and never logged.
#[utoipa::path(post, path = "/v1/bizreach/session", tag = "bizreach", request_body = SessionIn,
    responses((status = 200, body = SessionOut), (status = 400, body = super::error::ErrorBody),
        (status = 422, description = "BizReach refused the credentials"), (status = 502), (status = 503)),
    security(("bearer" = [])))]
async fn sign_in(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    body: web::Json<SessionIn>,
) -> Result<HttpResponse, ApiError> {
    let email = Email::parse(&body.email)
        .map_err(|e| ApiError::field(ErrorCode::InvalidField, "email", format!("`email` {e}")))?;
    if body.password.expose_secret().is_empty() {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            "password",
            "`password` must not be empty",
        ));
    }
    let signed_in = linking::sign_in(
        client(&state)?,
        &state.store,
        &state.secret_box,
        &email,
        &body.password,
        &auth.actor(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(SessionOut {
        account_name: signed_in.account_name,
        group_accounts: signed_in
            .group_accounts
            .iter()
            .map(GroupAccountOut::from)
            .collect(),
    }))
}

/// L2, L3: every group account hirelay knows, with its link state.
#[utoipa::path(get, path = "/v1/group-accounts", tag = "bizreach",
    responses((status = 200, body = GroupAccountList)), security(("bearer" = [])))]
async fn list(_: Auth<Admin>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let groups = state.store.group_accounts().await?;
    Ok(HttpResponse::Ok().json(GroupAccountList {
        items: groups.iter().map(GroupAccountOut::from).collect(),
        next_cursor: None,
    }))
}

/// L4: asks the group's administrator to approve the link (→ `pending_approval`, approval email
/// with a single-use link that expires in 72 hours). Asking again sends a new link.
#[utoipa::path(post, path = "/v1/group-accounts/{id}/link", tag = "bizreach",
    responses((status = 200, body = GroupAccountOut), (status = 404), (status = 409)), security(("bearer" = [])))]
async fn link(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let group = linking::request_link(
        &state.store,
        &state.mailer,
        LinkRequest {
            group_account_id: &id,
            user_name: &requester_name(&auth.caller, state.config.admin_name.as_deref()),
            public_url: &state.config.public_url,
            actor: &auth.actor(),
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(GroupAccountOut::from(&group)))
}

/// Stops importing from a linked group account (→ `suspended`).
#[utoipa::path(post, path = "/v1/group-accounts/{id}/suspend", tag = "bizreach",
    responses((status = 200, body = GroupAccountOut), (status = 404), (status = 409)), security(("bearer" = [])))]
async fn suspend(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let group =
        linking::suspend_or_resume(&state.store, &id, LinkAction::Suspend, &auth.actor()).await?;
    Ok(HttpResponse::Ok().json(GroupAccountOut::from(&group)))
}

/// Imports again from a suspended group account (→ `linked`), from now on.
#[utoipa::path(post, path = "/v1/group-accounts/{id}/resume", tag = "bizreach",
    responses((status = 200, body = GroupAccountOut), (status = 404), (status = 409)), security(("bearer" = [])))]
async fn resume(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let group =
        linking::suspend_or_resume(&state.store, &id, LinkAction::Resume, &auth.actor()).await?;
    Ok(HttpResponse::Ok().json(GroupAccountOut::from(&group)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgressSyncIn {
    pub enabled: bool,
}

/// P1: switches progress sync for a group account (on only while it is linked).
#[utoipa::path(put, path = "/v1/group-accounts/{id}/progress-sync", tag = "bizreach", request_body = ProgressSyncIn,
    responses((status = 200, body = GroupAccountOut), (status = 404), (status = 409)), security(("bearer" = [])))]
async fn progress_sync(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<ProgressSyncIn>,
) -> Result<HttpResponse, ApiError> {
    let group = Store::group_account(&state.store.db, &id).await?;
    let current = linking::current_state(&group)?;
    if body.enabled && current != LinkState::Linked {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "group account `{id}` is {current} ({}): progress sync can be switched on only for a linked group account",
                current.japanese()
            ),
        ));
    }
    state
        .store
        .in_transaction(async |txn| {
            Store::set_progress_sync(txn, &id, body.enabled, now_millis()).await?;
            let detail = serde_json::json!({"enabled": body.enabled});
            Store::audit(
                txn,
                &auth.actor(),
                "group_account.progress_sync",
                &id,
                detail,
            )
            .await
        })
        .await?;
    let group = Store::group_account(&state.store.db, &id).await?;
    Ok(HttpResponse::Ok().json(GroupAccountOut::from(&group)))
}

/// B1–B4: imports the group's earlier applications (latest 500 within a year, not rejected,
/// declined or hired; none twice) and answers when done. `409` unless linked, and while
/// progress sync is on.
#[utoipa::path(post, path = "/v1/group-accounts/{id}/backfill", tag = "bizreach",
    responses((status = 200, body = BackfillReport), (status = 404), (status = 409), (status = 502), (status = 503)),
    security(("bearer" = [])))]
async fn backfill(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let key = state.secret_box.address_key();
    let report = Backfill {
        store: &state.store,
        client: state.bizreach.as_ref(),
        queue_wake: &state.queue_wake,
        key: &key,
    }
    .run(&id, &auth.actor())
    .await?;
    Ok(HttpResponse::Ok().json(report))
}

/// L4, issue 19: the ユーザー名 the approval email shows, a person's rather than a token's: the
/// bootstrap token's `HIRELAY_ADMIN_NAME`, another token's name; never "bootstrap admin",
/// for which the company's 採用担当 asks (the email reads "{company}の採用担当様より").
fn requester_name(
    caller: &crate::store::tokens::TokenIdentity,
    admin_name: Option<&str>,
) -> String {
    const NOBODY: &str = "採用担当";
    let name = if caller.id == super::auth::BOOTSTRAP_ID {
        admin_name.unwrap_or(NOBODY)
    } else {
        caller.name.as_str()
    };
    if name.trim().is_empty() || name.trim().eq_ignore_ascii_case("bootstrap admin") {
        NOBODY.to_owned()
    } else {
        name.trim().to_owned()
    }
}
