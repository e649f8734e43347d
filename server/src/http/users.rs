//! `/v1/users`: personal user accounts (issue 14), for admins: list; create with an invitation
//! mail (a single-use link to choose a password) or with an initial password the user must
//! change; change name, role, disabled or reset the password. A disabled user's sessions end at
//! once.
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
use crate::store::{Store, StoreError};

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
    /// Invited, and the password not chosen yet.
    pub invitation_pending: bool,
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
            invitation_pending: u.invite_token_hash.is_some(),
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

/// A new user: invited by mail, or given an initial password to change at the first sign-in.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserIn {
    pub email: String,
    /// `admin`, `integrator`, `marketer` or `viewer`.
    pub role: String,
    /// Shown in the console and the audit log; default the address's local part.
    pub name: Option<String>,
    /// At least 12 characters. Left out (or empty): the user gets an invitation email with a
    /// single-use link (valid 72 hours) to choose their own.
    pub password: Option<String>,
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

/// Creates a user: with an initial password, or (without one) invited by mail to choose their
/// own (`409` when the address has an account).
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
    let now = now_millis();
    let user = match body.password.as_deref().filter(|p| !p.is_empty()) {
        Some(password) => {
            let password = SecretString::from(password.to_owned());
            state
                .accounts
                .create_user(&body.email, name, role, password, true, now)
                .await?
        }
        None => {
            let (user, invitation) = state
                .accounts
                .invite_user(&body.email, name, role, now)
                .await?;
            send_invitation(&state, &auth.caller.name, &user, &invitation).await?;
            user
        }
    };
    Store::audit(
        &state.store.db,
        &auth.actor(),
        "user.create",
        &user.id,
        serde_json::json!({"email": user.email, "role": user.role,
            "invited": user.invite_token_hash.is_some()}),
    )
    .await?;
    Ok(HttpResponse::Created().json(UserOut::from(&user)))
}

/// How the invitation names a role.
fn role_label(role: &str) -> &'static str {
    match role {
        "admin" => "管理者",
        "viewer" => "閲覧者",
        "marketer" => "マーケター",
        _ => "連携担当",
    }
}

/// Queues the `user_invitation` mail with the link to `/console#/welcome/{token}` (in the
/// fragment, which browsers never send to a server or a referrer).
async fn send_invitation(
    state: &AppState,
    inviter: &str,
    user: &user::Model,
    invitation: &crate::accounts::Invitation,
) -> Result<(), ApiError> {
    let template =
        crate::domain::names::TemplateName::parse("user_invitation").map_err(ApiError::internal)?;
    let to = crate::domain::email::Email::parse(&user.email).map_err(ApiError::internal)?;
    let mail = crate::mail::OutgoingMail {
        template,
        to,
        data: serde_json::json!({
            "user_name": user.name,
            "inviter_name": inviter,
            "role": role_label(&user.role),
            "set_password_url": format!("{}/console#/welcome/{}", state.config.public_url, invitation.token),
            "expires_at": rfc3339(invitation.expires_at),
        }),
        send_at: None,
        dedupe_key: format!("user-invitation:{}", user.id),
        list_unsubscribe: None,
    };
    state.mailer.enqueue(&state.store.db, mail).await?;
    state.mailer.wake();
    Ok(())
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
    // The change, the end of the user's sessions (a disabled user is signed out at once) and
    // the audit entry: all of them or none.
    let user = state
        .store
        .in_transaction(async |txn| {
            let user = Store::update_user(txn, &id, change, now_millis()).await?;
            if ends_sessions {
                Store::end_sessions_of(txn, &user.id).await?;
            }
            Store::audit(txn, &auth.actor(), "user.update", &user.id, detail).await?;
            Ok::<_, StoreError>(user)
        })
        .await?;
    Ok(HttpResponse::Ok().json(UserOut::from(&user)))
}
