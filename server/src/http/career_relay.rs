//! What HR managers read of the Career Relay programme: the ledger of free referral slots (C1,
//! C6), the funnel from rejection to a referred hire (C5, C7) and its CSV export for BI (C8).
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::auth::{Auth, Viewer};
use super::error::ApiError;
use super::AppState;
use crate::domain::period::{invalid, Period, QueryError};
use crate::domain::time::now_millis;
use crate::relay::funnel::{self, Funnel, GroupBy};
use crate::relay::ledger::Ledger;
use crate::relay::report::{month_report, ReportMonth};
use crate::relay::report_html;
use crate::store::Store;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/career-relay/ledger", web::get().to(ledger))
        .route("/v1/career-relay/report", web::get().to(report))
        .route("/v1/kpis/funnel", web::get().to(funnel))
        .route("/v1/kpis/funnel/attributes", web::get().to(attributes))
        .route("/v1/kpis/export.csv", web::get().to(export_csv));
}

/// C1: registered rejected candidates, the ratio, and the slots they earned, used and left.
#[utoipa::path(get, path = "/v1/career-relay/ledger", tag = "career_relay",
    responses((status = 200, body = Ledger)), security(("bearer" = [])))]
async fn ledger(_: Auth<Viewer>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let counts = Store::referral_counts(&state.store.db).await?;
    Ok(HttpResponse::Ok().json(Ledger::new(counts, state.config.career_relay_ratio)))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct FunnelQuery {
    /// A day in JST (`2026-11-01`) or an RFC 3339 time; default: from the beginning.
    pub from: Option<String>,
    /// A day in JST (included) or an RFC 3339 time (excluded); default: now.
    pub to: Option<String>,
    /// `month`, `stage`, `reason` or `attribute:KEY` (a candidate attribute, e.g. `attribute:age`).
    pub group_by: Option<String>,
}

/// C5, C7: the funnel of the period: rejected, invitation_sent, link_clicked (a registration
/// implies its click), registered, slot_earned (what the ledger earned in the period),
/// slot_used, hired, joined, retained, each counted in the period by the time it happened, with
/// the rate from the step before; and `recorded`, the KPIs the scripts recorded in the period
/// (by month too, when grouped by month).
#[utoipa::path(get, path = "/v1/kpis/funnel", tag = "career_relay", params(FunnelQuery),
    responses((status = 200, body = Funnel), (status = 400, body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn funnel(
    _: Auth<Viewer>,
    state: web::Data<AppState>,
    query: web::Query<FunnelQuery>,
) -> Result<HttpResponse, ApiError> {
    let period = Period::parse(query.from.as_deref(), query.to.as_deref(), now_millis())?;
    let group_by = query.group_by.as_deref().map(GroupBy::parse).transpose()?;
    let settings = funnel::Settings {
        ratio: state.config.career_relay_ratio,
        targets: &state.config.career_relay_targets,
    };
    let answer = funnel::load(&state.store.db, &settings, period, group_by).await?;
    Ok(HttpResponse::Ok().json(answer))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ExportQuery {
    /// A day in JST (`2026-11-01`) or an RFC 3339 time; default: from the beginning.
    pub from: Option<String>,
    /// A day in JST (included) or an RFC 3339 time (excluded); default: now.
    pub to: Option<String>,
    /// `1`: start with a UTF-8 byte order mark, so that Excel reads Japanese text right
    /// (`0` or absent: no byte order mark, for other tools).
    #[param(value_type = Option<String>, example = "1")]
    pub excel: Option<String>,
}

impl ExportQuery {
    fn excel(&self) -> Result<bool, QueryError> {
        match self.excel.as_deref() {
            None | Some("0") | Some("false") => Ok(false),
            Some("1") | Some("true") => Ok(true),
            Some(other) => Err(invalid("excel", format!("`{other}` is not 1 or 0"))),
        }
    }
}

/// C8: one CSV row per application rejected in the period, with the time it reached each
/// step (no names or addresses); streamed, and with `excel=1` after a UTF-8 byte order mark.
#[utoipa::path(get, path = "/v1/kpis/export.csv", tag = "career_relay", params(ExportQuery),
    responses((status = 200, content_type = "text/csv", description = "application_id, rejected_at, stage, reason, invitation_sent_at, link_clicked_at, registered_at; with `excel=1` the body starts with a UTF-8 byte order mark (EF BB BF)"),
        (status = 400, body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn export_csv(
    _: Auth<Viewer>,
    state: web::Data<AppState>,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let period = Period::parse(query.from.as_deref(), query.to.as_deref(), now_millis())?;
    let bom = query.excel()?;
    let rejections = Store::rejections_between(&state.store.db, period.from, period.to).await?;
    Ok(super::csv_attachment(
        "career-relay-funnel.csv",
        funnel::export_csv(rejections, bom),
    ))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AttributeList {
    /// The names, sorted (`age`, `years_of_experience`, …).
    pub items: Vec<String>,
    pub next_cursor: Option<String>,
}

/// C7: the candidate attributes the funnel can be split by (`group_by=attribute:KEY`): every
/// name a rejected candidate carries, each once.
#[utoipa::path(get, path = "/v1/kpis/funnel/attributes", tag = "career_relay",
    responses((status = 200, body = AttributeList)), security(("bearer" = [])))]
async fn attributes(_: Auth<Viewer>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let rejections = Store::rejections_between(&state.store.db, 0, i64::MAX).await?;
    Ok(HttpResponse::Ok().json(AttributeList {
        items: funnel::attribute_keys(&rejections),
        next_cursor: None,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ReportQuery {
    /// `YYYY-MM` (JST); default: the month before this one.
    pub month: Option<String>,
}

/// C8: a month's Career Relay report, the same self-contained HTML file that
/// `hirelay report --month` writes and the monthly email summarises (counts only).
#[utoipa::path(get, path = "/v1/career-relay/report", tag = "career_relay", params(ReportQuery),
    responses((status = 200, content_type = "text/html", description = "the report as one HTML file (attachment)"),
        (status = 400, body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn report(
    _: Auth<Viewer>,
    state: web::Data<AppState>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let month = match query.month.as_deref() {
        Some(m) => ReportMonth::parse(m).map_err(|e| invalid("month", e.to_string()))?,
        None => ReportMonth::before(now_millis()),
    };
    let report = month_report(&state.store.db, &state.config, month).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"{}\"",
                report_html::default_file_name(&report)
            ),
        ))
        .body(report_html::render(&report)))
}
