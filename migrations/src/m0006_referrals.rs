//! Career Relay referrals (C1, C6): each referral Career Relay reports is one free slot used,
//! followed through hire, joining and retention (or leaving) for the programme's ROI; and the
//! indexes the reports find a period's rejections (the funnel, C5) and KPI points by.
use crate::col::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0006_referrals"
    }
}

#[derive(DeriveIden)]
enum Referrals {
    Table,
    Id,
    SlotUsedAt,
    HiredAt,
    JoinedAt,
    RetainedAt,
    LeftAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ApplicationHistory {
    Table,
    ToStatus,
    ChangedAt,
}

#[derive(DeriveIden)]
enum KpiRecords {
    Table,
    RecordedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Referrals::Table)
                .col(id(Referrals::Id))
                .col(millis_null(Referrals::SlotUsedAt))
                .col(millis_null(Referrals::HiredAt))
                .col(millis_null(Referrals::JoinedAt))
                .col(millis_null(Referrals::RetainedAt))
                .col(millis_null(Referrals::LeftAt))
                .col(millis(Referrals::CreatedAt))
                .col(millis(Referrals::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("application_history_status_changed")
                .table(ApplicationHistory::Table)
                .col(ApplicationHistory::ToStatus)
                .col(ApplicationHistory::ChangedAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("kpi_records_recorded_at")
                .table(KpiRecords::Table)
                .col(KpiRecords::RecordedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("kpi_records_recorded_at")
                .table(KpiRecords::Table)
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("application_history_status_changed")
                .table(ApplicationHistory::Table)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(Referrals::Table).to_owned())
            .await
    }
}
