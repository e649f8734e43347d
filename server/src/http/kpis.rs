//! `/v1/kpis`: the KPIs the rule scripts record (`kpi(name, value, tags)`), summed over a
//! period and split by a tag, and their data points as CSV for BI (C8). The Career Relay
//! funnel is in `career_relay`.
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::auth::{Auth, Viewer};
use super::error::ApiError;
use super::AppState;
use crate::domain::period::{invalid, Period, QueryError};
use crate::domain::time::{now_millis, rfc3339};
use crate::export::{chunks, Csv, Field};
use crate::store::entities::kpi_record;
use crate::store::Store;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/kpis", web::get().to(totals))
        .route("/v1/kpis/records.csv", web::get().to(records_csv));
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct KpiQuery {
    /// A day in JST (`2026-11-01`) or an RFC 3339 time; default: from the beginning.
    pub from: Option<String>,
    /// A day in JST (included) or an RFC 3339 time (excluded); default: now.
    pub to: Option<String>,
    /// Only this KPI.
    pub name: Option<String>,
    /// Split each KPI by the value of this tag (letters, digits, `_`).
    pub tag: Option<String>,
}

impl KpiQuery {
    fn period(&self) -> Result<Period, QueryError> {
        Period::parse(self.from.as_deref(), self.to.as_deref(), now_millis())
    }

    fn tag(&self) -> Result<Option<&str>, QueryError> {
        match self.tag.as_deref() {
            Some(tag)
                if tag.is_empty()
                    || tag.len() > 64
                    || !tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                Err(invalid(
                    "tag",
                    format!("`{tag}` is not a tag key (letters, digits and _)"),
                ))
            }
            tag => Ok(tag),
        }
    }
}

/// Every KPI recorded in the period (or the one named): how many data points and their sum,
/// split by the value of `tag` if given.
#[utoipa::path(get, path = "/v1/kpis", tag = "kpis", params(KpiQuery),
    responses((status = 200, description = "`{\"from\", \"to\", \"items\": [{\"name\", \"tag_value\"?, \"count\", \"sum\"}], \"next_cursor\": null}`"),
        (status = 400, body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn totals(
    _: Auth<Viewer>,
    state: web::Data<AppState>,
    query: web::Query<KpiQuery>,
) -> Result<HttpResponse, ApiError> {
    let period = query.period()?;
    let tag = query.tag()?;
    let items = Store::kpi_totals(
        &state.store.db,
        period.from,
        period.to,
        query.name.as_deref(),
        tag,
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "from": rfc3339(period.from),
        "to": rfc3339(period.to),
        "items": items,
        "next_cursor": null,
    })))
}

/// The data points recorded in the period (of `name` only, if given), oldest first, as CSV:
/// name, value, tags (JSON), event_id, recorded_at.
#[utoipa::path(get, path = "/v1/kpis/records.csv", tag = "kpis", params(KpiQuery),
    responses((status = 200, content_type = "text/csv", description = "name, value, tags, event_id, recorded_at"),
        (status = 400, body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn records_csv(
    _: Auth<Viewer>,
    state: web::Data<AppState>,
    query: web::Query<KpiQuery>,
) -> Result<HttpResponse, ApiError> {
    let period = query.period()?;
    let records = Store::kpi_records_between(
        &state.store.db,
        period.from,
        period.to,
        query.name.as_deref(),
    )
    .await?;
    Ok(super::csv_attachment(
        "kpi-records.csv",
        chunks(&RECORD_HEADER, records, false, record_row),
    ))
}

const RECORD_HEADER: [&str; 5] = ["name", "value", "tags", "event_id", "recorded_at"];

fn record_row(csv: &mut Csv, r: &kpi_record::Model) {
    csv.row(&[
        Field::Text(&r.name),
        Field::Value(r.value.to_string()),
        Field::Text(&r.tags),
        Field::Value(r.event_id.clone().unwrap_or_default()),
        Field::Value(rfc3339(r.recorded_at)),
    ]);
}
