//! Look-ups on recruiting data that the ingestion path needs.
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};

use super::entities::{application, group_account};
use super::{Store, StoreResult};

impl Store {
    /// The link state of a group account, or `None` when hirelay has never seen it.
    pub async fn group_account_status(&self, id: &str) -> StoreResult<Option<String>> {
        Ok(group_account::Entity::find_by_id(id)
            .select_only()
            .column(group_account::Column::Status)
            .into_tuple::<String>()
            .one(&self.db)
            .await?)
    }

    /// Whether an application is known by its source reference or its ATS id.
    pub async fn application_known(
        &self,
        source: Option<(&str, &str)>,
        ats_id: Option<&str>,
    ) -> StoreResult<bool> {
        let mut condition = sea_orm::Condition::any();
        if let Some((system, id)) = source {
            condition = condition.add(
                application::Column::SourceSystem
                    .eq(system)
                    .and(application::Column::SourceApplicationId.eq(id)),
            );
        }
        if let Some(ats) = ats_id {
            condition = condition.add(application::Column::AtsApplicationId.eq(ats));
        }
        Ok(application::Entity::find()
            .filter(condition)
            .count(&self.db)
            .await?
            > 0)
    }
}
