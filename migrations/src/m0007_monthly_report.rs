//! C8: monthly reports: a token's user may ask for the Career Relay report each month.
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0007_monthly_report"
    }
}

#[derive(DeriveIden)]
enum NotificationSubscriptions {
    Table,
    MonthlyReport,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(NotificationSubscriptions::Table)
                .add_column(crate::col::flag(NotificationSubscriptions::MonthlyReport))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(NotificationSubscriptions::Table)
                .drop_column(NotificationSubscriptions::MonthlyReport)
                .to_owned(),
        )
        .await
    }
}
