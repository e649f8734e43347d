//! Look-ups on recruiting data that the ingestion path needs.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

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

    /// The candidate of the application known by its source reference or its ATS id, if any.
    pub async fn application_candidate(
        &self,
        source: Option<(&str, &str)>,
        ats_id: Option<&str>,
    ) -> StoreResult<Option<String>> {
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
            .one(&self.db)
            .await?
            .map(|a| a.candidate_id))
    }
}

impl Store {
    /// Of these BizReach application ids, the ones hirelay has already: an application with
    /// that source id, or a stored event for it (pulled `pull:{id}:…` or backfilled
    /// `backfill:{id}`), even if not processed yet.
    pub async fn imported_bizreach_ids(
        &self,
        ids: &[String],
    ) -> StoreResult<std::collections::HashSet<String>> {
        use super::entities::event;
        let mut found = std::collections::HashSet::new();
        for chunk in ids.chunks(200) {
            let known: Vec<Option<String>> = application::Entity::find()
                .select_only()
                .column(application::Column::SourceApplicationId)
                .filter(application::Column::SourceSystem.eq("bizreach"))
                .filter(application::Column::SourceApplicationId.is_in(chunk.iter().cloned()))
                .into_tuple()
                .all(&self.db)
                .await?;
            found.extend(known.into_iter().flatten());
            let mut stored = sea_orm::Condition::any();
            for id in chunk {
                stored = stored
                    .add(event::Column::WebhookId.eq(format!("backfill:{id}")))
                    .add(event::Column::WebhookId.starts_with(format!("pull:{id}:")));
            }
            let webhook_ids: Vec<String> = event::Entity::find()
                .select_only()
                .column(event::Column::WebhookId)
                .filter(event::Column::Source.eq("bizreach"))
                .filter(stored)
                .into_tuple()
                .all(&self.db)
                .await?;
            found.extend(webhook_ids.iter().filter_map(|w| {
                let rest = w
                    .strip_prefix("backfill:")
                    .or_else(|| w.strip_prefix("pull:"))?;
                Some(rest.split(':').next().unwrap_or(rest).to_owned())
            }));
        }
        found.retain(|id| ids.contains(id));
        Ok(found)
    }
}
