//! `/v1/templates`: email templates for marketers (and admins): read, edit (checked, then saved
//! as a new version and activated), versions, rollback, preview and test-send.
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::auth::{Auth, Marketer};
use super::error::{ApiError, ErrorCode};
use super::AppState;
use crate::domain::email::Email;
use crate::domain::ids::new_id;
use crate::domain::names::TemplateName;
use crate::domain::time::rfc3339;
use crate::mail::{Meta, OutgoingMail, Purpose, TemplateDoc};
use crate::store::Store;

/// Test-sends one token may make in an hour (M5: not a way to mail anyone, unmetered).
pub const TEST_SENDS_PER_HOUR: usize = 20;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/templates", web::get().to(list))
        .route("/v1/templates/{name}", web::get().to(get))
        .route(
            "/v1/templates/{name}/versions/{version}",
            web::get().to(version),
        )
        .route("/v1/templates/{name}", web::put().to(put))
        .route("/v1/templates/{name}/versions", web::get().to(versions))
        .route("/v1/templates/{name}/rollback", web::post().to(rollback))
        .route("/v1/templates/{name}/preview", web::post().to(preview))
        .route("/v1/templates/{name}/test-send", web::post().to(test_send));
}

fn template_name(raw: &str) -> Result<TemplateName, ApiError> {
    TemplateName::parse(raw).map_err(|_| ApiError::not_found(format!("template `{raw}`")))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TemplateSummary {
    pub name: String,
    pub version: i32,
    /// `transactional` or `marketing`.
    pub purpose: String,
    pub description: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TemplateList {
    pub items: Vec<TemplateSummary>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TemplateOut {
    pub name: String,
    pub version: i32,
    pub subject: String,
    pub html: String,
    pub text: String,
    #[schema(value_type = Object)]
    pub sample: Value,
    #[schema(value_type = Object)]
    pub meta: Value,
    pub author: String,
    pub created_at: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateIn {
    pub subject: String,
    pub html: String,
    pub text: String,
    /// The documented sample data; omitted: the current one is kept.
    #[schema(value_type = Option<Object>)]
    pub sample: Option<Value>,
    /// `{"purpose", "description", "variables"}`; omitted: the current one is kept.
    #[schema(value_type = Option<Object>)]
    pub meta: Option<Value>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VersionOut {
    pub version: i32,
    pub created_at: String,
    pub author: String,
    /// `api` or `file`.
    pub origin: String,
    /// Whether this version is the one mails are rendered from.
    pub active: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VersionList {
    pub items: Vec<VersionOut>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackIn {
    pub version: i32,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewIn {
    /// Values for the template's variables; what is missing comes from its sample data.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: Value,
    /// Issue 14: a draft to render instead of the active version (not saved). It is checked as
    /// `PUT` checks it first: `422 template_invalid` lists every problem, e.g. the legal
    /// display a promotional template lacks.
    pub template: Option<DraftIn>,
}

/// The parts of a template being edited.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftIn {
    pub subject: String,
    pub html: String,
    pub text: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PreviewOut {
    pub subject: String,
    pub html: String,
    pub text: String,
    pub warnings: Vec<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestSendIn {
    pub to: String,
    /// Values for the template's variables; what is missing comes from its sample data.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub data: Option<Value>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TestSendOut {
    pub outbox_id: String,
}

fn template_out(
    name: &TemplateName,
    doc: TemplateDoc,
    record: &crate::store::entities::document_version::Model,
) -> TemplateOut {
    TemplateOut {
        name: name.to_string(),
        version: record.version,
        subject: doc.subject,
        html: doc.html,
        text: doc.text,
        sample: doc.sample,
        meta: serde_json::to_value(&doc.meta).unwrap_or(Value::Null),
        author: record.author.clone(),
        created_at: rfc3339(record.created_at),
    }
}

/// Every template with its active version.
#[utoipa::path(get, path = "/v1/templates", tag = "templates",
    responses((status = 200, body = TemplateList)), security(("bearer" = [])))]
async fn list(_: Auth<Marketer>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let items = state
        .mailer
        .templates()
        .into_iter()
        .map(|(name, version, meta)| TemplateSummary {
            name,
            version,
            purpose: match meta.purpose {
                crate::mail::Purpose::Transactional => "transactional",
                crate::mail::Purpose::Marketing => "marketing",
            }
            .to_owned(),
            description: meta.description,
        })
        .collect();
    Ok(HttpResponse::Ok().json(TemplateList { items }))
}

/// The active version of a template: its parts, sample data and meta.
#[utoipa::path(get, path = "/v1/templates/{name}", tag = "templates",
    responses((status = 200, body = TemplateOut), (status = 404)), security(("bearer" = [])))]
async fn get(
    _: Auth<Marketer>,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let name = template_name(&name)?;
    let (doc, record) = state.mailer.active_version_record(&name).await?;
    Ok(HttpResponse::Ok()
        .insert_header(super::version_etag(record.version))
        .json(template_out(&name, doc, &record)))
}

/// Checks (syntax with line and column; every variable against the sample data), then saves a
/// new version and activates it. `422 template_invalid` leaves the active version as it was.
/// With `If-Match: "N"` (the `ETag` of the version read), `412 version_conflict` when a newer
/// version than N was saved meanwhile: nothing is saved.
#[utoipa::path(put, path = "/v1/templates/{name}", tag = "templates", request_body = TemplateIn,
    params(("If-Match" = Option<String>, Header, description = "the version the edit started from, e.g. `\"4\"`")),
    responses((status = 200, body = TemplateOut), (status = 400), (status = 412, body = super::error::ErrorBody),
        (status = 422, body = super::error::ErrorBody)),
    security(("bearer" = [])))]
async fn put(
    auth: Auth<Marketer>,
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Json<TemplateIn>,
) -> Result<HttpResponse, ApiError> {
    let name = TemplateName::parse(&name)
        .map_err(|e| ApiError::new(ErrorCode::BadRequest, e.to_string()))?;
    super::api_edits_allowed(
        &state.config,
        &state.config.templates_dir.join(name.as_str()),
    )?;
    let expected = super::if_match_version(&req)?;
    let current = state.mailer.active(&name).ok().map(|(_, doc)| doc);
    let body = body.into_inner();
    let sample = match body.sample {
        Some(sample) if sample.is_object() => sample,
        Some(_) => {
            return Err(ApiError::field(
                ErrorCode::InvalidField,
                "sample",
                "must be a JSON object",
            ))
        }
        None => current
            .as_ref()
            .map_or_else(|| Value::Object(Default::default()), |c| c.sample.clone()),
    };
    let meta = match body.meta {
        Some(meta) => serde_json::from_value::<Meta>(meta)
            .map_err(|e| ApiError::field(ErrorCode::InvalidField, "meta", e.to_string()))?,
        None => current.map(|c| c.meta).unwrap_or_default(),
    };
    let doc = TemplateDoc {
        subject: body.subject,
        html: body.html,
        text: body.text,
        sample,
        meta,
    };
    let saved = state
        .mailer
        .save(&name, doc.clone(), &auth.actor(), expected)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(super::version_etag(saved.version))
        .json(template_out(&name, doc, &saved)))
}

/// Every version, oldest first.
#[utoipa::path(get, path = "/v1/templates/{name}/versions", tag = "templates",
    responses((status = 200, body = VersionList), (status = 404)), security(("bearer" = [])))]
async fn versions(
    _: Auth<Marketer>,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let name = template_name(&name)?;
    let active = state.mailer.active(&name).ok().map(|(v, _)| v);
    let items = state
        .mailer
        .versions(&name)
        .await?
        .into_iter()
        .map(|v| VersionOut {
            active: Some(v.version) == active,
            version: v.version,
            created_at: rfc3339(v.created_at),
            author: v.author,
            origin: v.origin,
        })
        .collect();
    Ok(HttpResponse::Ok().json(VersionList { items }))
}

/// Saves an earlier version again as the newest and activates it.
#[utoipa::path(post, path = "/v1/templates/{name}/rollback", tag = "templates", request_body = RollbackIn,
    responses((status = 200, body = TemplateOut), (status = 404), (status = 422)), security(("bearer" = [])))]
async fn rollback(
    auth: Auth<Marketer>,
    state: web::Data<AppState>,
    name: web::Path<String>,
    body: web::Json<RollbackIn>,
) -> Result<HttpResponse, ApiError> {
    let name = template_name(&name)?;
    super::api_edits_allowed(
        &state.config,
        &state.config.templates_dir.join(name.as_str()),
    )?;
    let saved = state
        .mailer
        .rollback(&name, body.version, &auth.actor())
        .await?;
    let (doc, _) = state.mailer.active_version_record(&name).await?;
    Ok(HttpResponse::Ok().json(template_out(&name, doc, &saved)))
}

/// Renders the active version (or the draft `template`) with `data` laid over the sample data,
/// with warnings for variables the result lacks and data the template does not use.
#[utoipa::path(post, path = "/v1/templates/{name}/preview", tag = "templates", request_body = PreviewIn,
    responses((status = 200, body = PreviewOut), (status = 404), (status = 422)), security(("bearer" = [])))]
async fn preview(
    _: Auth<Marketer>,
    state: web::Data<AppState>,
    name: web::Path<String>,
    body: web::Json<PreviewIn>,
) -> Result<HttpResponse, ApiError> {
    let name = template_name(&name)?;
    let data = match &body.data {
        Value::Null => Value::Object(Default::default()),
        Value::Object(_) => body.data.clone(),
        _ => {
            return Err(ApiError::field(
                ErrorCode::InvalidField,
                "data",
                "must be a JSON object",
            ))
        }
    };
    let configured = configured_values(&state).await;
    let r = match body.into_inner().template {
        None => state.mailer.render(&name, configured, data).await?,
        Some(draft) => {
            let (_, active) = state.mailer.active(&name)?;
            let doc = TemplateDoc {
                subject: draft.subject,
                html: draft.html,
                text: draft.text,
                ..active
            };
            state
                .mailer
                .render_draft(&name, doc, configured, data)
                .await?
        }
    };
    Ok(HttpResponse::Ok().json(PreviewOut {
        subject: r.subject,
        html: r.html,
        text: r.text,
        warnings: r.warnings,
    }))
}

/// Renders (sample data under `data`) and sends through the outbox at once: `202` with the
/// outbox id; the mail leaves within a second or so.
#[utoipa::path(post, path = "/v1/templates/{name}/test-send", tag = "templates", request_body = TestSendIn,
    responses((status = 202, body = TestSendOut), (status = 400), (status = 404)), security(("bearer" = [])))]
async fn test_send(
    auth: Auth<Marketer>,
    state: web::Data<AppState>,
    name: web::Path<String>,
    body: web::Json<TestSendIn>,
) -> Result<HttpResponse, ApiError> {
    let name = template_name(&name)?;
    let to = Email::parse(&body.to)
        .map_err(|e| ApiError::field(ErrorCode::InvalidField, "to", format!("`to` {e}")))?;
    let allowed = &state.config.test_recipients;
    if !allowed.allows(&to) {
        return Err(ApiError::field(
            ErrorCode::Unprocessable,
            "to",
            format!("`to` is not a test recipient: test-sends go to {allowed} (HIRELAY_TEST_RECIPIENTS)"),
        ));
    }
    state
        .test_sends
        .hit(&auth.caller.id, std::time::Instant::now())
        .map_err(|wait| {
            ApiError::too_many_requests(
                format!("at most {TEST_SENDS_PER_HOUR} test-sends an hour per token"),
                wait,
            )
        })?;
    let given = match &body.data {
        None | Some(Value::Null) => Value::Object(Default::default()),
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => {
            return Err(ApiError::field(
                ErrorCode::InvalidField,
                "data",
                "must be a JSON object",
            ))
        }
    };
    let data = state
        .mailer
        .with_sample(&name, &configured_values(&state).await, &given)?;
    let purpose = state.mailer.active(&name)?.1.meta.purpose;
    let outcome = state
        .mailer
        .enqueue(
            &state.store.db,
            OutgoingMail {
                template: name.clone(),
                to: to.clone(),
                data,
                send_at: None,
                dedupe_key: format!("test-send:{}", new_id("ts")),
                // A promotional template goes out as it would to a candidate; this link's
                // token is no candidate's, so a click on it opts nobody out.
                list_unsubscribe: (purpose == Purpose::Marketing)
                    .then(|| format!("{}/v1/unsubscribe/test-send", state.config.public_url)),
            },
        )
        .await?;
    state.mailer.wake();
    Store::audit(
        &state.store.db,
        &auth.actor(),
        "template.test_send",
        name.as_str(),
        serde_json::json!({"outbox_id": outcome.outbox_id(), "to": to.as_str()}),
    )
    .await?;
    Ok(HttpResponse::Accepted().json(TestSendOut {
        outbox_id: outcome.outbox_id().to_owned(),
    }))
}

/// Issue 19: what the configuration gives a candidate's mail (the company's name, the sender's
/// legal display), shown by previews and test-sends instead of the sample's.
async fn configured_values(state: &AppState) -> Value {
    let company = crate::relay::company_name(&state.store.db, &state.config).await;
    state.mailer.configured_values(&company)
}

/// One stored version of a template.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TemplateVersionOut {
    #[serde(flatten)]
    pub template: TemplateOut,
    /// `api` or `file`.
    pub origin: String,
    /// Whether this version is the one mails are rendered from.
    pub active: bool,
}

/// Issue 19: reads an old version (or any): its subject, parts, sample and meta; `404` naming
/// the version when there is none.
#[utoipa::path(get, path = "/v1/templates/{name}/versions/{version}", tag = "templates",
    params(("name" = String, Path), ("version" = i32, Path, description = "numbered from 1")),
    responses((status = 200, body = TemplateVersionOut), (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn version(
    _: Auth<Marketer>,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (name, version) = path.into_inner();
    let name = template_name(&name)?;
    let what = format!("template `{name}`");
    let found = super::stored_version(
        &state.store,
        crate::store::documents::DocumentKind::Template,
        &what,
        name.as_str(),
        &version,
    )
    .await?;
    let doc = TemplateDoc::from_json(&found.body).map_err(ApiError::internal)?;
    let active = state.mailer.active(&name).ok().map(|(v, _)| v);
    Ok(HttpResponse::Ok().json(TemplateVersionOut {
        active: active == Some(found.version),
        origin: found.origin.clone(),
        template: template_out(&name, doc, &found),
    }))
}
