//! `/v1/opt-outs` and `/v1/consents` (admin, C8, 特定電子メール法): what an address said about a
//! kind of promotional mail. Both are kept under the keyed hash of the normalised address, so
//! they are looked up by address and never listed: nobody can read addresses out of them.
//!
//! An admin records an opt-out someone asked for by mail or phone (channel `admin`), and
//! withdraws one only when the person asks to receive the mail again; an integrator's consent
//! comes with the candidate in a webhook (`marketing_consent`) or an admin records it here.
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::auth::{Admin, Auth};
use super::error::{ApiError, ErrorCode};
use super::AppState;
use crate::crypto::AddressHash;
use crate::domain::email::Email;
use crate::domain::invitation_policy::{Consent, ConsentMethod};
use crate::domain::message_kind::{MessageKind, OptOutChannel};
use crate::domain::time::{now_millis, parse_rfc3339, rfc3339};
use crate::store::entities::{consent, opt_out};
use crate::store::opt_outs::NewOptOut;
use crate::store::Store;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/opt-outs", web::get().to(list))
        .route("/v1/opt-outs", web::post().to(record))
        .route("/v1/opt-outs", web::delete().to(withdraw))
        .route("/v1/consents", web::get().to(list_consents))
        .route("/v1/consents", web::post().to(record_consent));
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptOutIn {
    /// The address, in any case and spacing: it is normalised.
    pub email: String,
    /// The kind of mail refused: `career_relay_invitation` (transactional mail cannot be
    /// refused, so no opt-out blocks a link approval or a notice).
    pub kind: String,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct AddressQuery {
    /// The address to look up.
    pub email: Option<String>,
    /// `DELETE` only: the kind whose opt-out is withdrawn.
    pub kind: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OptOutOut {
    pub kind: String,
    pub opted_out_at: String,
    /// `one_click`, `confirmation_page`, `admin`, or `legacy` (recorded before hirelay kept
    /// the channel).
    pub channel: String,
    /// The admin who recorded it (channel `admin`).
    pub recorded_by: Option<String>,
}

impl From<opt_out::Model> for OptOutOut {
    fn from(m: opt_out::Model) -> Self {
        OptOutOut {
            kind: m.kind,
            opted_out_at: rfc3339(m.opted_out_at),
            channel: m.channel,
            recorded_by: m.recorded_by,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OptOutList {
    /// The normalised address looked up.
    pub email: String,
    pub items: Vec<OptOutOut>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentIn {
    pub email: String,
    /// The kind of mail consented to: `career_relay_invitation`.
    pub kind: String,
    /// RFC 3339, not in the future: when the person consented.
    pub given_at: String,
    /// How they consented (1–200 characters), e.g. `説明会の申込フォームで同意`.
    pub method: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ConsentOut {
    pub kind: String,
    pub given_at: String,
    pub method: String,
    pub recorded_at: String,
    /// The admin, or the webhook event, that recorded it.
    pub recorded_by: String,
}

impl From<consent::Model> for ConsentOut {
    fn from(m: consent::Model) -> Self {
        ConsentOut {
            kind: m.kind,
            given_at: rfc3339(m.given_at),
            method: m.method,
            recorded_at: rfc3339(m.recorded_at),
            recorded_by: m.recorded_by,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ConsentList {
    pub email: String,
    pub items: Vec<ConsentOut>,
    pub next_cursor: Option<String>,
}

fn address(given: Option<&str>) -> Result<Email, ApiError> {
    let given = given.ok_or_else(|| {
        ApiError::field(
            ErrorCode::InvalidField,
            "email",
            "give the address to look up",
        )
    })?;
    Email::parse(given).map_err(|e| {
        ApiError::field(
            ErrorCode::InvalidField,
            "email",
            format!("`{}` {e}", crate::domain::email::redact_invalid(given)),
        )
    })
}

fn kind(given: Option<&str>) -> Result<MessageKind, ApiError> {
    let given = given
        .ok_or_else(|| ApiError::field(ErrorCode::InvalidField, "kind", "give the kind of mail"))?;
    MessageKind::parse_refusable(given)
        .map_err(|e| ApiError::field(ErrorCode::Unprocessable, "kind", e))
}

fn hash(state: &AppState, address: &Email) -> AddressHash {
    state.secret_box.address_key().hash(address)
}

/// Whether and when an address opted out, of which kinds (looked up by the address's hash).
#[utoipa::path(get, path = "/v1/opt-outs", tag = "career_relay", params(AddressQuery),
    responses((status = 200, body = OptOutList), (status = 400)), security(("bearer" = [])))]
async fn list(
    _: Auth<Admin>,
    state: web::Data<AppState>,
    query: web::Query<AddressQuery>,
) -> Result<HttpResponse, ApiError> {
    let email = address(query.email.as_deref())?;
    let found = Store::opt_outs_of(&state.store.db, &hash(&state, &email)).await?;
    Ok(HttpResponse::Ok().json(OptOutList {
        email: email.as_str().to_owned(),
        items: found.into_iter().map(OptOutOut::from).collect(),
        next_cursor: None,
    }))
}

/// Records an opt-out the person asked for outside the email's link (channel `admin`,
/// audited with the admin): `201`, or `200` with the opt-out kept before (the first is the
/// record).
#[utoipa::path(post, path = "/v1/opt-outs", tag = "career_relay", request_body = OptOutIn,
    responses((status = 201, body = OptOutOut), (status = 200, body = OptOutOut), (status = 400), (status = 422)),
    security(("bearer" = [])))]
async fn record(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    body: web::Json<OptOutIn>,
) -> Result<HttpResponse, ApiError> {
    let email = address(Some(&body.email))?;
    let kind = kind(Some(&body.kind))?;
    let address = hash(&state, &email);
    let actor = auth.actor();
    let (kept, recorded) = state
        .store
        .in_transaction(async |txn| {
            let (kept, recorded) = Store::record_opt_out(
                txn,
                NewOptOut {
                    address: &address,
                    kind,
                    at: now_millis(),
                    channel: OptOutChannel::Admin,
                    recorded_by: Some(&actor),
                },
            )
            .await?;
            if recorded {
                Store::audit(
                    txn,
                    &actor,
                    "opt_out.record",
                    address.as_str(),
                    serde_json::json!({"kind": kind.as_str(), "channel": OptOutChannel::Admin.as_str(), "to_domain": email.domain()}),
                )
                .await?;
            }
            Ok::<_, ApiError>((kept, recorded))
        })
        .await?;
    if !recorded {
        return Ok(HttpResponse::Ok().json(OptOutOut::from(kept)));
    }
    Ok(HttpResponse::Created().json(OptOutOut::from(kept)))
}

/// Withdraws an opt-out, only when the person asked to receive that mail again (audited with
/// the admin): `200` with what was withdrawn, `404` when there was none.
#[utoipa::path(delete, path = "/v1/opt-outs", tag = "career_relay", params(AddressQuery),
    responses((status = 200, body = OptOutOut), (status = 400), (status = 404), (status = 422)),
    security(("bearer" = [])))]
async fn withdraw(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    query: web::Query<AddressQuery>,
) -> Result<HttpResponse, ApiError> {
    let email = address(query.email.as_deref())?;
    let kind = kind(query.kind.as_deref())?;
    let address = hash(&state, &email);
    let withdrawn = state
        .store
        .in_transaction(async |txn| {
            let Some(withdrawn) = Store::withdraw_opt_out(txn, &address, kind).await? else {
                return Err(ApiError::new(
                    ErrorCode::NotFound,
                    format!("the address has no opt-out of `{kind}`"),
                ));
            };
            Store::audit(
                txn,
                &auth.actor(),
                "opt_out.withdraw",
                address.as_str(),
                serde_json::json!({"kind": kind.as_str(), "opted_out_at": rfc3339(withdrawn.opted_out_at), "channel": withdrawn.channel}),
            )
            .await?;
            Ok(withdrawn)
        })
        .await?;
    Ok(HttpResponse::Ok().json(OptOutOut::from(withdrawn)))
}

/// The consent an address gave, by kind (looked up by the address's hash).
#[utoipa::path(get, path = "/v1/consents", tag = "career_relay", params(AddressQuery),
    responses((status = 200, body = ConsentList), (status = 400)), security(("bearer" = [])))]
async fn list_consents(
    _: Auth<Admin>,
    state: web::Data<AppState>,
    query: web::Query<AddressQuery>,
) -> Result<HttpResponse, ApiError> {
    let email = address(query.email.as_deref())?;
    let found = Store::consents_of(&state.store.db, &hash(&state, &email)).await?;
    Ok(HttpResponse::Ok().json(ConsentList {
        email: email.as_str().to_owned(),
        items: found.into_iter().map(ConsentOut::from).collect(),
        next_cursor: None,
    }))
}

/// Records an address's consent, with when and how it was given (a later one replaces it);
/// invitations planned from then on are sent on it, unless the address opted out. Audited.
#[utoipa::path(post, path = "/v1/consents", tag = "career_relay", request_body = ConsentIn,
    responses((status = 201, body = ConsentOut), (status = 400), (status = 422)), security(("bearer" = [])))]
async fn record_consent(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    body: web::Json<ConsentIn>,
) -> Result<HttpResponse, ApiError> {
    let email = address(Some(&body.email))?;
    let kind = kind(Some(&body.kind))?;
    let now = now_millis();
    let given_at = parse_rfc3339(&body.given_at).map_err(|e| {
        ApiError::field(
            ErrorCode::InvalidField,
            "given_at",
            format!(
                "`{}` is not RFC 3339 (e.g. 2026-11-01T10:00:00+09:00): {e}",
                body.given_at
            ),
        )
    })?;
    if given_at > now {
        return Err(ApiError::field(
            ErrorCode::Unprocessable,
            "given_at",
            "is in the future: record consent once it was given",
        ));
    }
    let method = ConsentMethod::parse(&body.method)
        .map_err(|e| ApiError::field(ErrorCode::InvalidField, "method", e))?;
    let consent = Consent { given_at, method };
    let address = hash(&state, &email);
    let actor = auth.actor();
    state
        .store
        .in_transaction(async |txn| {
            Store::record_consent(txn, &address, kind, &consent, &actor, now).await?;
            Store::audit(
                txn,
                &actor,
                "consent.record",
                address.as_str(),
                serde_json::json!({"kind": kind.as_str(), "given_at": rfc3339(given_at), "method": consent.method.as_str(), "to_domain": email.domain()}),
            )
            .await
        })
        .await?;
    Ok(HttpResponse::Created().json(ConsentOut {
        kind: kind.as_str().to_owned(),
        given_at: rfc3339(given_at),
        method: consent.method.as_str().to_owned(),
        recorded_at: rfc3339(now),
        recorded_by: actor,
    }))
}
