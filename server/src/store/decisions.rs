//! Decision records: for every processed event, which script version ran, the actions it
//! returned, its log, and its error.
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder,
};

use super::entities::decision;
use super::{Store, StoreResult};

/// A decision as recorded.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DecisionRecord {
    pub event_id: String,
    pub script: String,
    pub script_version: i32,
    pub actions: serde_json::Value,
    pub log: Vec<String>,
    pub error: Option<String>,
    pub duration_us: i64,
    pub decided_at: i64,
    /// What the script read besides the payload (`ctx`, `now`, the application), for dry runs
    /// over history; `None` for decisions recorded before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<serde_json::Value>,
}

impl Store {
    pub async fn insert_decision<C: ConnectionTrait>(
        db: &C,
        record: &DecisionRecord,
    ) -> StoreResult<()> {
        Self::insert_decisions(db, std::slice::from_ref(record)).await
    }

    /// Keeps the decisions of a batch with one statement.
    pub async fn insert_decisions<C: ConnectionTrait>(
        db: &C,
        records: &[DecisionRecord],
    ) -> StoreResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        let rows = records.iter().map(|record| decision::ActiveModel {
            id: Default::default(),
            event_id: Set(record.event_id.clone()),
            script: Set(record.script.clone()),
            script_version: Set(record.script_version),
            actions: Set(record.actions.to_string()),
            log: Set(serde_json::to_string(&record.log).unwrap_or_else(|_| "[]".into())),
            error: Set(record.error.clone()),
            duration_us: Set(record.duration_us),
            decided_at: Set(record.decided_at),
            context: Set(record.context.as_ref().map(|c| c.to_string())),
        });
        decision::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
        Ok(())
    }

    /// Every decision recorded for an event, oldest first (a replay adds one).
    pub async fn decisions_for<C: ConnectionTrait>(
        db: &C,
        event_id: &str,
    ) -> StoreResult<Vec<DecisionRecord>> {
        let rows = decision::Entity::find()
            .filter(decision::Column::EventId.eq(event_id))
            .order_by(decision::Column::Id, Order::Asc)
            .all(db)
            .await?;
        rows.into_iter()
            .map(|d| {
                Ok(DecisionRecord {
                    actions: super::json_column(&d.actions, "decision actions")?,
                    log: super::json_column(&d.log, "decision log")?,
                    event_id: d.event_id,
                    script: d.script,
                    script_version: d.script_version,
                    error: d.error,
                    duration_us: d.duration_us,
                    decided_at: d.decided_at,
                    context: match &d.context {
                        Some(c) => Some(super::json_column(c, "decision context")?),
                        None => None,
                    },
                })
            })
            .collect()
    }
}
