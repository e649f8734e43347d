//! I6, I8: the import inbox, BizReach applications no routing rule matched (`job_id` null),
//! and routing them to a job in bulk.
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::{application, candidate};
use super::{Store, StoreResult};

/// The system of applications imported from BizReach.
pub const BIZREACH: &str = "bizreach";

/// An inbox item with its candidate.
#[derive(Clone, Debug)]
pub struct InboxItem {
    pub application: application::Model,
    pub candidate: Option<candidate::Model>,
}

impl Store {
    /// A page of the inbox in import order, after the cursor (an application id).
    pub async fn inbox_page(&self, after: Option<&str>, limit: u64) -> StoreResult<Vec<InboxItem>> {
        let mut query = application::Entity::find()
            .filter(application::Column::SourceSystem.eq(BIZREACH))
            .filter(application::Column::JobId.is_null())
            .order_by(application::Column::Id, Order::Asc);
        if let Some(after) = after {
            query = query.filter(application::Column::Id.gt(after));
        }
        let apps = query.limit(limit).all(&self.db).await?;
        let candidates = candidate::Entity::find()
            .filter(candidate::Column::Id.is_in(apps.iter().map(|a| a.candidate_id.clone())))
            .all(&self.db)
            .await?;
        Ok(apps
            .into_iter()
            .map(|application| InboxItem {
                candidate: candidates
                    .iter()
                    .find(|c| c.id == application.candidate_id)
                    .cloned(),
                application,
            })
            .collect())
    }

    /// The applications with these ids (any that exist).
    pub async fn applications_by_ids<C: ConnectionTrait>(
        db: &C,
        ids: &[String],
    ) -> StoreResult<Vec<application::Model>> {
        Ok(application::Entity::find()
            .filter(application::Column::Id.is_in(ids.iter().cloned()))
            .all(db)
            .await?)
    }

    /// Routes inbox applications to `job_id` in the caller's transaction; answers how many
    /// were still in the inbox (and so were routed now).
    pub async fn route_applications<C: ConnectionTrait>(
        db: &C,
        ids: &[String],
        job_id: &str,
        now: i64,
    ) -> StoreResult<u64> {
        let result = application::Entity::update_many()
            .col_expr(application::Column::JobId, Expr::value(job_id))
            .col_expr(application::Column::UpdatedAt, Expr::value(now))
            .filter(application::Column::Id.is_in(ids.iter().cloned()))
            .filter(application::Column::SourceSystem.eq(BIZREACH))
            .filter(application::Column::JobId.is_null())
            .exec(db)
            .await?;
        Ok(result.rows_affected)
    }
}
