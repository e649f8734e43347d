//! Jobs (求人) that applications are routed to.
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::entities::job;
use super::{Store, StoreError, StoreResult};
use crate::domain::ids::new_id;

impl Store {
    /// Creates a job; `409` when another job has this ATS job id.
    pub async fn create_job<C: ConnectionTrait>(
        db: &C,
        title: &str,
        ats_job_id: Option<&str>,
        now: i64,
    ) -> StoreResult<job::Model> {
        let model = job::Model {
            id: new_id("job"),
            title: title.to_owned(),
            ats_job_id: ats_job_id.map(str::to_owned),
            created_at: now,
        };
        let insert = job::Entity::insert(job::ActiveModel {
            id: Set(model.id.clone()),
            title: Set(model.title.clone()),
            ats_job_id: Set(model.ats_job_id.clone()),
            created_at: Set(now),
        })
        .exec(db)
        .await;
        match insert {
            Ok(_) => Ok(model),
            Err(e) if StoreError::is_unique_violation(&e) => Err(StoreError::Conflict(format!(
                "a job with ats_job_id `{}` exists already",
                ats_job_id.unwrap_or_default()
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Jobs in creation order, after the cursor (a job id).
    pub async fn list_jobs(&self, after: Option<&str>, limit: u64) -> StoreResult<Vec<job::Model>> {
        let mut query = job::Entity::find().order_by(job::Column::Id, Order::Asc);
        if let Some(after) = after {
            query = query.filter(job::Column::Id.gt(after));
        }
        Ok(query.limit(limit).all(&self.db).await?)
    }

    /// Renames a job (its id, ATS id and routing rules stay); not found for an unknown id.
    pub async fn rename_job<C: ConnectionTrait>(
        db: &C,
        id: &str,
        title: &str,
    ) -> StoreResult<job::Model> {
        let result = job::Entity::update_many()
            .col_expr(job::Column::Title, sea_orm::sea_query::Expr::value(title))
            .filter(job::Column::Id.eq(id))
            .exec(db)
            .await?;
        if result.rows_affected == 0 {
            return Err(StoreError::NotFound(format!("job `{id}`")));
        }
        Self::find_job(db, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("job `{id}`")))
    }

    /// One job, or `None`.
    pub async fn find_job<C: ConnectionTrait>(db: &C, id: &str) -> StoreResult<Option<job::Model>> {
        Ok(job::Entity::find_by_id(id).one(db).await?)
    }
}
