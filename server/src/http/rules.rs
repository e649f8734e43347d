//! `/v1/rules`: the rule scripts as admins manage them: read, save (validated, versioned,
//! audited, activated at once), versions, rollback, and dry runs on one event or on history.
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::auth::{Admin, Auth};
use super::error::{ApiError, ErrorCode};
use super::AppState;
use crate::domain::names::ScriptName;
use crate::domain::time::{parse_rfc3339, rfc3339};
use crate::scripting::registry::ActiveScript;
use crate::scripting::{Action, HistoryQuery, Hook, ScriptInput};
use crate::store::documents::DocumentKind;

/// The largest script text accepted.
pub const MAX_SCRIPT_BYTES: usize = 256 * 1024;

/// The header carrying the version of a script answered as text.
pub const VERSION_HEADER: &str = "x-hirelay-version";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/rules", web::get().to(list))
        .route("/v1/rules/{name}", web::get().to(get))
        .route("/v1/rules/{name}", web::put().to(put))
        .route("/v1/rules/{name}/versions", web::get().to(versions))
        .route(
            "/v1/rules/{name}/versions/{version}",
            web::get().to(version),
        )
        .route("/v1/rules/{name}/check", web::post().to(check))
        .route("/v1/rules/{name}/rollback", web::post().to(rollback))
        .route("/v1/rules/{name}/dry-run", web::post().to(dry_run));
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RuleOut {
    pub name: String,
    pub version: i32,
    pub author: String,
    pub created_at: String,
    /// Whether hirelay runs it on its own (`import`, `status`, `career_relay`).
    pub hook: bool,
}

impl From<&ActiveScript> for RuleOut {
    fn from(s: &ActiveScript) -> Self {
        RuleOut {
            name: s.name.clone(),
            version: s.version,
            author: s.author.clone(),
            created_at: rfc3339(s.created_at),
            hook: Hook::named(s.name.as_str()).is_some(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RuleList {
    pub items: Vec<RuleOut>,
    pub next_cursor: Option<String>,
    /// Files or versions that were refused, by file: `{"import.rhai": "import.rhai:3:7: …"}`.
    #[schema(value_type = Object)]
    pub problems: std::collections::BTreeMap<String, String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RuleSourceOut {
    pub name: String,
    pub version: i32,
    pub source: String,
    pub author: String,
    pub created_at: String,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct GetQuery {
    /// `json` for `{"name","version","source","author","created_at"}`; text/plain otherwise.
    pub format: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VersionOut {
    pub version: i32,
    pub created_at: String,
    pub author: String,
    /// `api` or `file`.
    pub origin: String,
    pub active: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VersionList {
    pub items: Vec<VersionOut>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackIn {
    pub version: i32,
}

/// Which stored events a history dry run takes.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsIn {
    /// RFC 3339; events received at or after.
    pub since: Option<String>,
    /// Default 100, at most 1000.
    pub limit: Option<u64>,
}

/// Either one event (`event`, optionally with `script` as a draft) or a draft over stored
/// events (`script` and `events`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DryRunIn {
    #[schema(value_type = Option<Object>)]
    pub event: Option<serde_json::Value>,
    /// Default: the event's `type`.
    pub event_type: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub application: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub candidate: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub context: Option<serde_json::Value>,
    /// RFC 3339; default the present.
    pub now: Option<String>,
    /// A draft to run instead of the active version.
    pub script: Option<String>,
    pub events: Option<EventsIn>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DryRunOut {
    pub script: String,
    /// The version that ran; null for a draft.
    pub version: Option<i32>,
    #[schema(value_type = Vec<Object>)]
    pub actions: Vec<Action>,
    pub log: Vec<String>,
}

fn script_name(name: &str) -> Result<ScriptName, ApiError> {
    ScriptName::parse(name)
        .map_err(|e| ApiError::field(ErrorCode::InvalidField, "name", e.to_string()))
}

fn active_or_404(state: &AppState, name: &str) -> Result<Arc<ActiveScript>, ApiError> {
    state
        .scripts
        .active(name)
        .ok_or_else(|| ApiError::not_found(format!("rule script `{name}`")))
}

fn saved(script: &ActiveScript) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((VERSION_HEADER, script.version.to_string()))
        .insert_header(super::version_etag(script.version))
        .json(RuleOut::from(script))
}

/// Every script with its active version, and the files or versions that were refused.
#[utoipa::path(get, path = "/v1/rules", tag = "rules",
    responses((status = 200, body = RuleList)), security(("bearer" = [])))]
async fn list(_: Auth<Admin>, state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(RuleList {
        items: state
            .scripts
            .list()
            .iter()
            .map(|s| RuleOut::from(s.as_ref()))
            .collect(),
        next_cursor: None,
        problems: state.scripts.problems(),
    })
}

/// The active version's text (`text/plain`, version in `x-hirelay-version`), or JSON with
/// `?format=json`.
#[utoipa::path(get, path = "/v1/rules/{name}", tag = "rules", params(GetQuery),
    responses((status = 200, content_type = "text/plain", body = String), (status = 404)), security(("bearer" = [])))]
async fn get(
    _: Auth<Admin>,
    state: web::Data<AppState>,
    name: web::Path<String>,
    query: web::Query<GetQuery>,
) -> Result<HttpResponse, ApiError> {
    let script = active_or_404(&state, &name)?;
    match query.format.as_deref() {
        Some("json") => Ok(HttpResponse::Ok()
            .insert_header((VERSION_HEADER, script.version.to_string()))
            .insert_header(super::version_etag(script.version))
            .json(RuleSourceOut {
                name: script.name.clone(),
                version: script.version,
                source: script.source.clone(),
                author: script.author.clone(),
                created_at: rfc3339(script.created_at),
            })),
        None | Some("text") => Ok(HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .insert_header((VERSION_HEADER, script.version.to_string()))
            .insert_header(super::version_etag(script.version))
            .body(script.source.clone())),
        Some(other) => Err(ApiError::field(
            ErrorCode::InvalidField,
            "format",
            format!("unknown format `{other}`; allowed: json, text"),
        )),
    }
}

/// Saves a new version (body: the script as `text/plain`) after validating it, and activates
/// it. `422 script_invalid` with `details.line`/`details.column` when it does not compile.
/// With `If-Match: "N"` (the `ETag` of the version read), `412 version_conflict` when a newer
/// version than N was saved meanwhile: nothing is saved.
#[utoipa::path(put, path = "/v1/rules/{name}", tag = "rules",
    params(("If-Match" = Option<String>, Header, description = "the version the edit started from, e.g. `\"4\"`")),
    request_body(content = String, content_type = "text/plain"),
    responses((status = 200, body = RuleOut), (status = 412, body = super::error::ErrorBody),
        (status = 422, body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn put(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let name = script_name(&name)?;
    super::api_edits_allowed(&state.config, &rule_file(&state, &name))?;
    let expected = super::if_match_version(&req)?;
    let source = read_text(body, MAX_SCRIPT_BYTES).await?;
    let script = state
        .scripts
        .save(&name, &source, &auth.actor(), expected)
        .await?;
    Ok(saved(&script))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CheckOut {
    pub name: String,
    /// Always true: a script with a problem is answered `422 script_invalid`.
    pub ok: bool,
}

/// Issue 14: checks a draft (body: the script as `text/plain`) as a save would (syntax and
/// every call), saving nothing: `200 {"ok": true}`, or `422 script_invalid` with
/// `details.line`/`details.column`.
#[utoipa::path(post, path = "/v1/rules/{name}/check", tag = "rules",
    request_body(content = String, content_type = "text/plain"),
    responses((status = 200, body = CheckOut), (status = 422, body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn check(
    _: Auth<Admin>,
    state: web::Data<AppState>,
    name: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let name = script_name(&name)?;
    let source = read_text(body, MAX_SCRIPT_BYTES).await?;
    state.scripts.check_draft(&name, &source).await?;
    Ok(HttpResponse::Ok().json(CheckOut {
        name: name.to_string(),
        ok: true,
    }))
}

/// Every version, oldest first, numbered from 1.
#[utoipa::path(get, path = "/v1/rules/{name}/versions", tag = "rules",
    responses((status = 200, body = VersionList), (status = 404)), security(("bearer" = [])))]
async fn versions(
    _: Auth<Admin>,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let all = state
        .store
        .document_versions(DocumentKind::Rule, &name)
        .await?;
    if all.is_empty() {
        return Err(ApiError::not_found(format!("rule script `{name}`")));
    }
    let active = state.scripts.active(&name).map(|s| s.version);
    Ok(HttpResponse::Ok().json(VersionList {
        items: all
            .into_iter()
            .map(|v| VersionOut {
                active: Some(v.version) == active,
                version: v.version,
                created_at: rfc3339(v.created_at),
                author: v.author,
                origin: v.origin,
            })
            .collect(),
        next_cursor: None,
    }))
}

/// Saves the text of an earlier version as the newest version and activates it.
#[utoipa::path(post, path = "/v1/rules/{name}/rollback", tag = "rules", request_body = RollbackIn,
    responses((status = 200, body = RuleOut), (status = 404), (status = 422)), security(("bearer" = [])))]
async fn rollback(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    name: web::Path<String>,
    body: web::Json<RollbackIn>,
) -> Result<HttpResponse, ApiError> {
    let name = script_name(&name)?;
    super::api_edits_allowed(&state.config, &rule_file(&state, &name))?;
    let script = state
        .scripts
        .rollback(&name, body.version, &auth.actor())
        .await?;
    Ok(saved(&script))
}

/// Runs a script with no effect: on one event (`{"event": …}`) → its actions and log; or a
/// draft over stored events (`{"script": …, "events": {"since", "limit"}}`) → per event the
/// recorded actions beside the draft's, and a summary.
#[utoipa::path(post, path = "/v1/rules/{name}/dry-run", tag = "rules", request_body = DryRunIn,
    responses((status = 200, body = DryRunOut, description = "one event; for `events`: {results, summary}"),
        (status = 400), (status = 404), (status = 422, body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn dry_run(
    _: Auth<Admin>,
    state: web::Data<AppState>,
    name: web::Path<String>,
    body: web::Json<DryRunIn>,
) -> Result<HttpResponse, ApiError> {
    let name = script_name(&name)?;
    let body = body.into_inner();
    if let Some(events) = body.events {
        let draft = match body.script {
            Some(s) => s,
            None => active_or_404(&state, name.as_str())?.source.clone(),
        };
        let since = events
            .since
            .as_deref()
            .map(|s| {
                parse_rfc3339(s).map_err(|e| {
                    ApiError::field(
                        ErrorCode::InvalidField,
                        "events.since",
                        format!("`{s}` is not RFC 3339: {e}"),
                    )
                })
            })
            .transpose()?;
        let query = HistoryQuery {
            since,
            limit: events.limit,
        };
        let report = state.scripts.dry_run_history(&name, &draft, &query).await?;
        return Ok(HttpResponse::Ok().json(report));
    }
    let event = body.event.ok_or_else(|| {
        ApiError::new(
            ErrorCode::BadRequest,
            "give `event` (one event) or `events` (a draft over stored events)",
        )
    })?;
    let input = ScriptInput {
        event_type: body
            .event_type
            .or_else(|| event["type"].as_str().map(str::to_owned))
            .unwrap_or_default(),
        application: body.application,
        candidate: body.candidate,
        context: match Hook::named(name.as_str()) {
            Some(hook) => hook
                .context_with(body.context)
                .map_err(|e| ApiError::field(ErrorCode::InvalidField, "context", e))?,
            None => body
                .context
                .unwrap_or_else(|| serde_json::Value::Object(Default::default())),
        },
        now: match body.now.as_deref() {
            Some(s) => crate::scripting::calendar::parse(s)
                .map_err(|e| ApiError::field(ErrorCode::InvalidField, "now", e))?,
            None => chrono::Utc::now(),
        },
        event,
    };
    if body.script.is_none() {
        active_or_404(&state, name.as_str())?;
    }
    let scripts = state.scripts.clone();
    let draft = body.script;
    let decision = web::block(move || match draft {
        Some(source) => scripts.run_draft(&name, &source, &input),
        None => scripts.run(&name, &input),
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(HttpResponse::Ok().json(DryRunOut {
        version: (decision.version > 0).then_some(decision.version),
        script: decision.script,
        actions: decision.actions,
        log: decision.log,
    }))
}

/// Reads a UTF-8 body of at most `limit` bytes.
async fn read_text(mut body: web::Payload, limit: usize) -> Result<String, ApiError> {
    let mut bytes = web::BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| ApiError::new(ErrorCode::BadRequest, e.to_string()))?;
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("a script may have at most {limit} bytes"),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::new(ErrorCode::BadRequest, "the script is not UTF-8 text"))
}

/// The file a rule script is edited in.
fn rule_file(state: &AppState, name: &ScriptName) -> std::path::PathBuf {
    state
        .config
        .rules_dir
        .join(crate::scripting::registry::file_name(name.as_str()))
}

/// One stored version of a rule script, with its source.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RuleVersionOut {
    pub name: String,
    pub version: i32,
    pub created_at: String,
    pub author: String,
    /// `api` or `file`.
    pub origin: String,
    /// Whether this version is the one that runs.
    pub active: bool,
    pub source: String,
}

/// Issue 19: reads an old version (or any), to compare or to roll back knowingly; `404` naming
/// the version when there is none.
#[utoipa::path(get, path = "/v1/rules/{name}/versions/{version}", tag = "rules",
    params(("name" = String, Path), ("version" = i32, Path, description = "numbered from 1")),
    responses((status = 200, body = RuleVersionOut), (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn version(
    _: Auth<Admin>,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (name, version) = path.into_inner();
    let what = format!("rule script `{name}`");
    let found =
        super::stored_version(&state.store, DocumentKind::Rule, &what, &name, &version).await?;
    let active = state.scripts.active(&name).map(|s| s.version);
    Ok(HttpResponse::Ok().json(RuleVersionOut {
        active: active == Some(found.version),
        name: found.name,
        version: found.version,
        created_at: rfc3339(found.created_at),
        author: found.author,
        origin: found.origin,
        source: found.body,
    }))
}
