//! `/v1/users`: personal user accounts (issue 14), for admins: list, create with an initial
//! password the user must change, change name, role, disabled or reset the password. A
//! disabled user's sessions end at once.
use actix_web::{web, HttpResponse};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::auth::{Admin, Auth};
use super::error::{ApiError, ErrorCode};
use super::AppState;
use crate::domain::account::DisplayName;
use crate::domain::role::Role;
use crate::domain::time::{now_millis, rfc3339};
use crate::store::entities::user;
use crate::store::users::UserChange;
use crate::store::Store;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/users", web::get().to(list))
        .route("/v1/users", web::post().to(create))
        .route("/v1/users/{id}", web::patch().to(update));
}

/// A user as the API shows it (never the password or its hash).
#[derive(Serialize, utoipa::ToSchema)]
pub struct UserOut {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub disabled: bool,
    /// The user must choose a new password before anything else.
    pub password_change_required: bool,
    /// Set while too many failed sign-ins lock the account.
    pub locked_until: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&user::Model> for UserOut {
    fn from(u: &user::Model) -> Self {
        UserOut {
            id: u.id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role.clone(),
            disabled: u.disabled,
            password_change_required: u.password_change_required,
            locked_until: u.locked_until.filter(|at| *at > now_millis()).map(rfc3339),
            created_at: rfc3339(u.created_at),
            updated_at: rfc3339(u.updated_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserList {
    pub items: Vec<UserOut>,
    pub next_cursor: Option<String>,
}

/// A new user: the password is an initial one the user must change at the first sign-in.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserIn {
    pub email: String,
    /// `admin`, `integrator`, `marketer` or `viewer`.
    pub role: String,
    /// Shown in the console and the audit log; default the address's local part.
    pub name: Option<String>,
    /// At least 12 characters.
    pub password: String,
}

/// What to change; fields left out stay as they are.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub role: Option<String>,
    pub name: Option<String>,
    pub disabled: Option<bool>,
    /// A new initial password the user must change at the next sign-in.
    pub password: Option<String>,
}

fn role(raw: &str) -> Result<Role, ApiError> {
    raw.parse()
        .map_err(|e: String| ApiError::field(ErrorCode::InvalidField, "role", e))
}

/// Every user, oldest first.
#[utoipa::path(get, path = "/v1/users", tag = "console",
    responses((status = 200, body = UserList), (status = 401), (status = 403)),
    security(("bearer" = [])))]
async fn list(_: Auth<Admin>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let users = state.store.list_users().await?;
    Ok(HttpResponse::Ok().json(UserList {
        items: users.iter().map(UserOut::from).collect(),
        next_cursor: None,
    }))
}

/// Creates a user with an initial password (`409` when the address has an account).
#[utoipa::path(post, path = "/v1/users", tag = "console", request_body = UserIn,
    responses((status = 201, body = UserOut), (status = 400, body = super::error::ErrorBody),
        (status = 401), (status = 403), (status = 409, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
async fn create(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    body: web::Json<UserIn>,
) -> Result<HttpResponse, ApiError> {
    let role = role(&body.role)?;
    let name = body.name.as_deref().filter(|n| !n.trim().is_empty());
    let password = SecretString::from(body.password.clone());
    let user = state
        .accounts
        .create_user(&body.email, name, role, password, true, now_millis())
        .await?;
    Store::audit(
        &state.store.db,
        &auth.actor(),
        "user.create",
        &user.id,
        serde_json::json!({"email": user.email, "role": user.role}),
    )
    .await?;
    Ok(HttpResponse::Created().json(UserOut::from(&user)))
}

/// Changes a user's name, role, disabled flag or password. Admins cannot disable or demote
/// themselves (another admin must), so a console never loses its last way in by a slip.
#[utoipa::path(patch, path = "/v1/users/{id}", tag = "console", request_body = UserPatch,
    params(("id" = String, Path, description = "the user's id (`usr_…`)")),
    responses((status = 200, body = UserOut), (status = 400, body = super::error::ErrorBody),
        (status = 401), (status = 403), (status = 404, body = super::error::ErrorBody),
        (status = 422, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
async fn update(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<UserPatch>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let body = body.into_inner();
    let role = body.role.as_deref().map(role).transpose()?;
    let name = body
        .name
        .as_deref()
        .map(DisplayName::parse)
        .transpose()
        .map_err(|e| ApiError::field(ErrorCode::InvalidField, "name", format!("`name` {e}")))?;
    if id == auth.caller.id {
        if body.disabled == Some(true) {
            return Err(ApiError::field(
                ErrorCode::Unprocessable,
                "disabled",
                "you cannot disable your own account; another admin can",
            ));
        }
        if role.is_some_and(|r| r != Role::Admin) {
            return Err(ApiError::field(
                ErrorCode::Unprocessable,
                "role",
                "you cannot take the admin role from yourself; another admin can",
            ));
        }
    }
    let password = match body.password {
        Some(p) => Some(state.accounts.reset_password(SecretString::from(p)).await?),
        None => None,
    };
    let ends_sessions = body.disabled == Some(true) || password.is_some();
    let change = UserChange {
        name,
        role,
        disabled: body.disabled,
        password,
    };
    let detail = serde_json::json!({
        "role": change.role.map(Role::as_str),
        "name": change.name.as_ref().map(DisplayName::as_str),
        "disabled": change.disabled,
        "password_reset": change.password.is_some(),
    });
    let user = state.store.update_user(&id, change, now_millis()).await?;
    if ends_sessions {
        state.store.end_sessions_of(&user.id).await?;
    }
    Store::audit(
        &state.store.db,
        &auth.actor(),
        "user.update",
        &user.id,
        detail,
    )
    .await?;
    Ok(HttpResponse::Ok().json(UserOut::from(&user)))
}
