//! Issue 19: each decision keeps the context its script ran with (`ctx`, `now`, the application
//! as the script saw it), so that a dry run over history compares like with like. Decisions
//! recorded before have none (`NULL`); dry runs rebuild theirs and say so.
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0014_decision_context"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Decisions {
    Table,
    Context,
}

const COLUMNS: [Decisions; 1] = [Decisions::Context];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::alter::add_text_columns(m, Decisions::Table, &COLUMNS).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::alter::drop_columns(m, Decisions::Table, &COLUMNS).await
    }
}
