//! I6, I8: the import inbox, BizReach applications no routing rule matched (`job_id` null),
//! and routing them to a job in bulk.
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
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

/// Which inbox items to show: each given field must match exactly; `applied` is
/// `[from, to)` of the BizReach application time, in unix milliseconds.
#[derive(Clone, Debug, Default)]
pub struct InboxFilter {
    pub group_account_id: Option<String>,
    pub position_name: Option<String>,
    pub channel: Option<String>,
    pub applied: Option<(i64, i64)>,
}

impl InboxFilter {
    /// The unrouted BizReach applications this filter admits.
    fn select(&self) -> Select<application::Entity> {
        use application::Column;
        let mut query = application::Entity::find()
            .filter(Column::SourceSystem.eq(BIZREACH))
            .filter(Column::JobId.is_null());
        for (column, value) in [
            (Column::GroupAccountId, &self.group_account_id),
            (Column::PositionName, &self.position_name),
            (Column::Channel, &self.channel),
        ] {
            if let Some(value) = value {
                query = query.filter(column.eq(value.as_str()));
            }
        }
        if let Some((from, to)) = self.applied {
            query = query
                .filter(Column::AppliedAt.gte(from))
                .filter(Column::AppliedAt.lt(to));
        }
        query
    }
}

impl Store {
    /// How many applications of the inbox the filter admits.
    pub async fn inbox_count(&self, filter: &InboxFilter) -> StoreResult<u64> {
        Ok(filter.select().count(&self.db).await?)
    }

    /// A page of the inbox in import order, after the cursor (an application id).
    pub async fn inbox_page(
        &self,
        filter: &InboxFilter,
        after: Option<&str>,
        limit: u64,
    ) -> StoreResult<Vec<InboxItem>> {
        let mut query = filter
            .select()
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
