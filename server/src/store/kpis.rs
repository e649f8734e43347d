//! KPI records that scripts write: one row per data point, counted once however often its
//! event is replayed (the dedupe key).
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

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
        let inserted = kpi_record::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(kpi_record::Column::DedupeKey)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        Ok(inserted)
    }

    /// Every data point of a KPI (for reports and tests), oldest first.
    pub async fn kpi_records<C: ConnectionTrait>(
        db: &C,
        name: &str,
    ) -> StoreResult<Vec<kpi_record::Model>> {
        use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
        Ok(kpi_record::Entity::find()
            .filter(kpi_record::Column::Name.eq(name))
            .order_by_asc(kpi_record::Column::Id)
            .all(db)
            .await?)
    }
}
