//! Progress sync's queries (P1, P4): the groups it runs for, the applications it covers, and
//! recording what was pushed.
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::{application, candidate, group_account};
use super::inbox::BIZREACH;
use super::{Store, StoreResult};
use crate::domain::link::LinkState;
use crate::domain::status::{AtsStatus, BizreachStatus};

/// A covered application with its candidate's name, for the preview.
#[derive(Clone, Debug)]
pub struct CoveredApplication {
    pub application: application::Model,
    pub candidate_name: Option<String>,
}

/// P4: the ATS statuses whose applications are not covered, as stored.
fn not_covered_statuses() -> Vec<&'static str> {
    AtsStatus::ALL
        .iter()
        .filter(|s| s.leaves_progress_sync())
        .map(|s| s.as_str())
        .collect()
}

/// P4: the applications of `groups` imported through the integration, not deleted, not in
/// the talent pool.
fn covered(groups: &[String]) -> sea_orm::Select<application::Entity> {
    application::Entity::find()
        .filter(application::Column::SourceSystem.eq(BIZREACH))
        .filter(application::Column::SourceApplicationId.is_not_null())
        .filter(application::Column::GroupAccountId.is_in(groups.iter().cloned()))
        .filter(application::Column::Status.is_not_in(not_covered_statuses()))
}

impl Store {
    /// P1: the group accounts progress sync runs for: linked, with sync switched on.
    pub async fn progress_sync_groups(&self) -> StoreResult<Vec<group_account::Model>> {
        Ok(group_account::Entity::find()
            .filter(group_account::Column::Status.eq(LinkState::Linked.as_str()))
            .filter(group_account::Column::ProgressSync.eq(true))
            .order_by(group_account::Column::Id, Order::Asc)
            .all(&self.db)
            .await?)
    }

    /// A page of the applications of `groups` that progress sync covers (P4), by id, after
    /// `after`.
    pub async fn covered_applications_page(
        &self,
        groups: &[String],
        after: Option<&str>,
        limit: u64,
    ) -> StoreResult<Vec<application::Model>> {
        let mut query = covered(groups).order_by(application::Column::Id, Order::Asc);
        if let Some(after) = after {
            query = query.filter(application::Column::Id.gt(after));
        }
        Ok(query.limit(limit).all(&self.db).await?)
    }

    /// Every application of `group` that progress sync covers (P4), with its candidate's name,
    /// oldest status change first.
    pub async fn covered_applications_of_group(
        &self,
        group: &str,
    ) -> StoreResult<Vec<CoveredApplication>> {
        let apps = covered(&[group.to_owned()])
            .order_by(application::Column::CreatedAt, Order::Asc)
            .order_by(application::Column::Id, Order::Asc)
            .all(&self.db)
            .await?;
        let mut names: std::collections::HashMap<String, String> = Default::default();
        for chunk in apps.chunks(500) {
            let ids: Vec<String> = chunk.iter().map(|a| a.candidate_id.clone()).collect();
            names.extend(
                candidate::Entity::find()
                    .select_only()
                    .columns([candidate::Column::Id, candidate::Column::Name])
                    .filter(candidate::Column::Id.is_in(ids))
                    .into_tuple::<(String, String)>()
                    .all(&self.db)
                    .await?,
            );
        }
        Ok(apps
            .into_iter()
            .map(|application| CoveredApplication {
                candidate_name: names.get(&application.candidate_id).cloned(),
                application,
            })
            .collect())
    }

    /// Records that `pushed` was pushed for an application: it is what was last synced and
    /// what BizReach shows now.
    pub async fn mark_progress_synced<C: ConnectionTrait>(
        db: &C,
        application_id: &str,
        pushed: BizreachStatus,
        now: i64,
    ) -> StoreResult<()> {
        application::Entity::update_many()
            .col_expr(
                application::Column::SyncedStatus,
                Expr::value(pushed.as_str()),
            )
            .col_expr(application::Column::SyncedAt, Expr::value(now))
            .col_expr(
                application::Column::SourceStatus,
                Expr::value(pushed.as_str()),
            )
            .col_expr(application::Column::UpdatedAt, Expr::value(now))
            .filter(application::Column::Id.eq(application_id))
            .exec(db)
            .await?;
        Ok(())
    }
}
