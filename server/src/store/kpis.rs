//! KPI records that scripts write: one row per data point, counted once however often its
//! event is replayed (the dedupe key).
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QueryTrait,
};

use super::entities::kpi_record;
use super::{Store, StoreResult};

/// A KPI data point.
#[derive(Clone, Debug)]
pub struct NewKpi {
    pub dedupe_key: String,
    pub name: String,
    pub value: f64,
    pub tags: serde_json::Map<String, serde_json::Value>,
    pub event_id: Option<String>,
    pub at: i64,
}

/// A KPI's data points in a period, split by the value of one tag if asked: how many and their
/// sum.
#[derive(Clone, Debug, PartialEq, FromQueryResult, serde::Serialize, utoipa::ToSchema)]
pub struct KpiTotal {
    pub name: String,
    /// The tag's value (as text), when split by a tag; `null` for points without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_value: Option<String>,
    pub count: i64,
    pub sum: f64,
}

impl Store {
    /// Records data points with one statement; a dedupe key recorded before is skipped.
    /// Answers how many were new.
    pub async fn record_kpis<C: ConnectionTrait>(db: &C, kpis: &[NewKpi]) -> StoreResult<u64> {
        if kpis.is_empty() {
            return Ok(0);
        }
        let rows = kpis.iter().map(|kpi| kpi_record::ActiveModel {
            id: Default::default(),
            dedupe_key: Set(kpi.dedupe_key.clone()),
            name: Set(kpi.name.clone()),
            value: Set(kpi.value),
            tags: Set(serde_json::Value::Object(kpi.tags.clone()).to_string()),
            event_id: Set(kpi.event_id.clone()),
            recorded_at: Set(kpi.at),
        });
        let mut insert = kpi_record::Entity::insert_many(rows).on_conflict(
            OnConflict::column(kpi_record::Column::DedupeKey)
                .do_nothing()
                .to_owned(),
        );
        // The points inserted (not those recorded before) go to the daily counters the funnel
        // reads, in this transaction.
        insert.query().returning(Query::returning().columns([
            kpi_record::Column::Name,
            kpi_record::Column::Value,
            kpi_record::Column::RecordedAt,
        ]));
        let inserted: Vec<(String, f64, i64)> = db
            .query_all(insert.build(db.get_database_backend()))
            .await?
            .iter()
            .map(|row| {
                Ok((
                    row.try_get::<String>("", "name")?,
                    row.try_get::<f64>("", "value")?,
                    row.try_get::<i64>("", "recorded_at")?,
                ))
            })
            .collect::<Result<_, sea_orm::DbErr>>()?;
        Self::add_to_kpi_days(db, &inserted).await?;
        Ok(inserted.len() as u64)
    }

    /// The totals of every KPI (or of `name`) recorded in `[from, to)`, split by the value of
    /// tag `tag` if given (a key of letters, digits and `_`, checked by the caller), by name
    /// and tag value.
    pub async fn kpi_totals<C: ConnectionTrait>(
        db: &C,
        from: i64,
        to: i64,
        name: Option<&str>,
        tag: Option<&str>,
    ) -> StoreResult<Vec<KpiTotal>> {
        let backend = db.get_database_backend();
        let mut values: Vec<sea_orm::Value> = Vec::new();
        let tag_value = match (tag, backend) {
            (None, _) => "CAST(NULL AS TEXT)",
            (Some(key), DatabaseBackend::Postgres) => {
                values.push(key.into());
                "(tags::jsonb ->> ?)"
            }
            (Some(key), _) => {
                values.push(format!("$.\"{key}\"").into());
                "CAST(json_extract(tags, ?) AS TEXT)"
            }
        };
        values.extend([from.into(), to.into()]);
        let name_filter = match name {
            Some(name) => {
                values.push(name.into());
                " AND name = ?"
            }
            None => "",
        };
        let sql = format!(
            "SELECT name, {tag_value} AS tag_value, COUNT(*) AS count, SUM(value) AS sum \
             FROM kpi_records WHERE recorded_at >= ? AND recorded_at < ?{name_filter} \
             GROUP BY name, tag_value ORDER BY name, tag_value"
        );
        Ok(
            KpiTotal::find_by_statement(super::statement(backend, &sql, values))
                .all(db)
                .await?,
        )
    }

    /// The data points recorded in `[from, to)` (of `name` only, if given), oldest first.
    pub async fn kpi_records_between<C: ConnectionTrait>(
        db: &C,
        from: i64,
        to: i64,
        name: Option<&str>,
    ) -> StoreResult<Vec<kpi_record::Model>> {
        use kpi_record::Column;
        let mut query = kpi_record::Entity::find()
            .filter(Column::RecordedAt.gte(from))
            .filter(Column::RecordedAt.lt(to));
        if let Some(name) = name {
            query = query.filter(Column::Name.eq(name));
        }
        Ok(query
            .order_by_asc(Column::RecordedAt)
            .order_by_asc(Column::Id)
            .all(db)
            .await?)
    }

    /// Every data point of a KPI (for reports and tests), oldest first.
    pub async fn kpi_records<C: ConnectionTrait>(
        db: &C,
        name: &str,
    ) -> StoreResult<Vec<kpi_record::Model>> {
        Ok(kpi_record::Entity::find()
            .filter(kpi_record::Column::Name.eq(name))
            .order_by_asc(kpi_record::Column::Id)
            .all(db)
            .await?)
    }
}
