//! KPI records that scripts write: one row per data point, counted once however often its
//! event is replayed (the dedupe key).
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use super::entities::kpi_record;
use super::{Store, StoreResult};

/// A KPI data point.
pub struct KpiIn<'a> {
    pub dedupe_key: &'a str,
    pub name: &'a str,
    pub value: f64,
    pub tags: &'a serde_json::Map<String, serde_json::Value>,
    pub event_id: Option<&'a str>,
    pub at: i64,
}

impl Store {
    /// Records a data point; `false` when its dedupe key was recorded before.
    pub async fn record_kpi<C: ConnectionTrait>(db: &C, kpi: KpiIn<'_>) -> StoreResult<bool> {
        let inserted = kpi_record::Entity::insert(kpi_record::ActiveModel {
            id: Default::default(),
            dedupe_key: Set(kpi.dedupe_key.to_owned()),
            name: Set(kpi.name.to_owned()),
            value: Set(kpi.value),
            tags: Set(serde_json::Value::Object(kpi.tags.clone()).to_string()),
            event_id: Set(kpi.event_id.map(str::to_owned)),
            recorded_at: Set(kpi.at),
        })
        .on_conflict(
            OnConflict::column(kpi_record::Column::DedupeKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
        Ok(inserted == 1)
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
