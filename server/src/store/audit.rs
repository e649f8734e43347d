//! The audit log: who changed which script, template or setting.
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, Order, QueryOrder, QuerySelect};

use super::entities::audit_entry;
use super::{Store, StoreResult};

impl Store {
    /// Appends an entry, inside the caller's transaction when it passes one.
    pub async fn audit<C: ConnectionTrait>(
        db: &C,
        actor: &str,
        action: &str,
        target: &str,
        detail: serde_json::Value,
    ) -> StoreResult<()> {
        audit_entry::Entity::insert(audit_entry::ActiveModel {
            id: Default::default(),
            at: Set(crate::domain::time::now_millis()),
            actor: Set(actor.to_owned()),
            action: Set(action.to_owned()),
            target: Set(target.to_owned()),
            detail: Set(detail.to_string()),
        })
        .exec(db)
        .await?;
        Ok(())
    }

    /// The newest entries first.
    pub async fn audit_entries(&self, limit: u64) -> StoreResult<Vec<audit_entry::Model>> {
        Ok(audit_entry::Entity::find()
            .order_by(audit_entry::Column::Id, Order::Desc)
            .limit(limit)
            .all(&self.db)
            .await?)
    }
}
