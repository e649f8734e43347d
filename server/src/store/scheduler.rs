//! Scheduler ticks: each `(job, tick)` is claimed by one instance, so a job runs once per tick
//! however many instances share the database.
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, Order, QueryFilter, QueryOrder};

use super::entities::scheduler_run::{self, Column, Entity as Runs};
use super::{Store, StoreResult};

impl Store {
    /// Claims a tick for `instance`; `false` when another instance already has it.
    pub async fn claim_tick(
        &self,
        job: &str,
        tick: i64,
        instance: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let _turn = self.write_turn().await;
        let result = Runs::insert(scheduler_run::ActiveModel {
            job: Set(job.to_owned()),
            tick: Set(tick),
            instance: Set(instance.to_owned()),
            started_at: Set(now),
            finished_at: Set(None),
            result: Set(None),
        })
        .on_conflict(
            OnConflict::columns([Column::Job, Column::Tick])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        Ok(result == 1)
    }

    /// Records what a claimed tick did.
    pub async fn finish_tick(
        &self,
        job: &str,
        tick: i64,
        result: &serde_json::Value,
        now: i64,
    ) -> StoreResult<()> {
        let _turn = self.write_turn().await;
        Runs::update_many()
            .col_expr(Column::FinishedAt, Expr::value(now))
            .col_expr(Column::Result, Expr::value(result.to_string()))
            .filter(Column::Job.eq(job))
            .filter(Column::Tick.eq(tick))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// The claimed ticks of `job`, oldest first.
    pub async fn scheduler_runs(&self, job: &str) -> StoreResult<Vec<scheduler_run::Model>> {
        Ok(Runs::find()
            .filter(Column::Job.eq(job))
            .order_by(Column::Tick, Order::Asc)
            .all(&self.db)
            .await?)
    }
}
