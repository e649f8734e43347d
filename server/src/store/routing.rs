//! I7: routing rules, a BizReach position name (ポジション名(表示用)) to a job, by exact match.
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder,
};

use super::entities::{job, routing_rule};
use super::{Store, StoreError, StoreResult};
use crate::domain::ids::new_id;

/// A rule with the title of its job, for listing.
#[derive(Clone, Debug)]
pub struct RuleWithJob {
    pub rule: routing_rule::Model,
    pub job_title: Option<String>,
}

impl RuleWithJob {
    /// The rule's name as the inbox shows it (I8): `BizReach {position} → {job title}`.
    pub fn name(&self) -> String {
        format!(
            "BizReach {} → {}",
            self.rule.position_name,
            self.job_title.as_deref().unwrap_or(&self.rule.job_id)
        )
    }
}

impl Store {
    /// Creates a rule in `db` (the caller's transaction, for I8); `409` when the position
    /// already has one.
    pub async fn create_routing_rule<C: ConnectionTrait>(
        db: &C,
        position_name: &str,
        job_id: &str,
        created_by: &str,
        now: i64,
    ) -> StoreResult<routing_rule::Model> {
        // Checked first: on PostgreSQL a failed INSERT would spoil the caller's transaction.
        if let Some(existing) = routing_rule::Entity::find()
            .filter(routing_rule::Column::PositionName.eq(position_name))
            .one(db)
            .await?
        {
            return Err(duplicate(position_name, &existing.id));
        }
        let model = routing_rule::Model {
            id: new_id("rule"),
            position_name: position_name.to_owned(),
            job_id: job_id.to_owned(),
            created_by: created_by.to_owned(),
            created_at: now,
        };
        let insert = routing_rule::Entity::insert(routing_rule::ActiveModel {
            id: Set(model.id.clone()),
            position_name: Set(model.position_name.clone()),
            job_id: Set(model.job_id.clone()),
            created_by: Set(model.created_by.clone()),
            created_at: Set(now),
        })
        .exec(db)
        .await;
        match insert {
            Ok(_) => Ok(model),
            Err(e) if StoreError::is_unique_violation(&e) => Err(duplicate(position_name, "")),
            Err(e) => Err(e.into()),
        }
    }

    /// Every rule with its job's title, oldest first.
    pub async fn list_routing_rules(&self) -> StoreResult<Vec<RuleWithJob>> {
        let rules = routing_rule::Entity::find()
            .order_by(routing_rule::Column::CreatedAt, Order::Asc)
            .order_by(routing_rule::Column::Id, Order::Asc)
            .all(&self.db)
            .await?;
        let jobs = job::Entity::find()
            .filter(job::Column::Id.is_in(rules.iter().map(|r| r.job_id.clone())))
            .all(&self.db)
            .await?;
        Ok(rules
            .into_iter()
            .map(|rule| RuleWithJob {
                job_title: jobs
                    .iter()
                    .find(|j| j.id == rule.job_id)
                    .map(|j| j.title.clone()),
                rule,
            })
            .collect())
    }

    /// Deletes a rule; `404` when there is none.
    pub async fn delete_routing_rule<C: ConnectionTrait>(db: &C, id: &str) -> StoreResult<()> {
        let result = routing_rule::Entity::delete_by_id(id).exec(db).await?;
        if result.rows_affected == 0 {
            return Err(StoreError::NotFound(format!("routing rule `{id}`")));
        }
        Ok(())
    }

    /// I7: the job that a position name routes to, by exact match (byte for byte: full-width
    /// and half-width parentheses differ, as do letter cases and spaces).
    pub async fn routing_job_for<C: ConnectionTrait>(
        db: &C,
        position_name: &str,
    ) -> StoreResult<Option<String>> {
        Ok(Self::routing_jobs_for(db, &[position_name])
            .await?
            .remove(position_name))
    }

    /// [`Store::routing_job_for`] of several position names with one look-up: the job of
    /// each that a rule matches, by position name.
    pub async fn routing_jobs_for<C: ConnectionTrait>(
        db: &C,
        position_names: &[&str],
    ) -> StoreResult<std::collections::HashMap<String, String>> {
        let rules = routing_rule::Entity::find()
            .filter(routing_rule::Column::PositionName.is_in(position_names.iter().copied()))
            .all(db)
            .await?;
        // The database's `=` may be looser than bytes (collations); the rule is exact.
        Ok(rules
            .into_iter()
            .filter(|r| position_names.contains(&r.position_name.as_str()))
            .map(|r| (r.position_name, r.job_id))
            .collect())
    }
}

fn duplicate(position_name: &str, rule_id: &str) -> StoreError {
    let which = if rule_id.is_empty() {
        String::new()
    } else {
        format!(" ({rule_id})")
    };
    StoreError::Conflict(format!(
        "a routing rule for position `{position_name}` exists already{which}"
    ))
}
