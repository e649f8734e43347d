//! Recruiting data: BizReach credentials and group accounts, link approvals, candidates, jobs,
//! routing rules, applications with their status history, and notification subscriptions.
use crate::col::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0002_recruiting"
    }
}

#[derive(DeriveIden)]
enum BizreachCredentials {
    Table,
    Id,
    Email,
    PasswordEnc,
    AccountName,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum GroupAccounts {
    Table,
    Id,
    Name,
    AdminEmail,
    Status,
    LinkedAt,
    ProgressSync,
    PollCursor,
    PollSince,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum LinkApprovals {
    Table,
    TokenHash,
    GroupAccountId,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Candidates {
    Table,
    Id,
    Email,
    Name,
    Phone,
    Attributes,
    BizreachCandidateId,
    OptedOutAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    Title,
    AtsJobId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RoutingRules {
    Table,
    Id,
    PositionName,
    JobId,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Applications {
    Table,
    Id,
    SourceSystem,
    SourceApplicationId,
    AtsApplicationId,
    GroupAccountId,
    Channel,
    PositionName,
    SourceStatus,
    Status,
    StatusChangedAt,
    Stage,
    Reason,
    JobId,
    CandidateId,
    AppliedAt,
    ImportedVia,
    Labels,
    SyncedStatus,
    SyncedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ApplicationHistory {
    Table,
    Id,
    ApplicationId,
    EventId,
    FromStatus,
    ToStatus,
    Stage,
    Reason,
    ChangedAt,
    Applied,
    RecordedAt,
}

#[derive(DeriveIden)]
enum NotificationSubscriptions {
    Table,
    TokenId,
    BizreachApplication,
    Email,
    UpdatedAt,
}

fn index(
    name: &str,
    table: impl IntoIden + 'static,
    cols: &[&str],
    unique: bool,
) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for c in cols {
        index.col(Alias::new(*c));
    }
    if unique {
        index.unique();
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(BizreachCredentials::Table)
                .col(
                    ColumnDef::new(BizreachCredentials::Id)
                        .integer()
                        .not_null()
                        .primary_key(),
                )
                .col(text(BizreachCredentials::Email))
                .col(text(BizreachCredentials::PasswordEnc))
                .col(text(BizreachCredentials::AccountName))
                .col(millis(BizreachCredentials::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(GroupAccounts::Table)
                .col(id(GroupAccounts::Id))
                .col(text(GroupAccounts::Name))
                .col(text(GroupAccounts::AdminEmail))
                .col(ColumnDef::new(GroupAccounts::Status).string().not_null())
                .col(millis_null(GroupAccounts::LinkedAt))
                .col(flag(GroupAccounts::ProgressSync))
                .col(text_null(GroupAccounts::PollCursor))
                .col(millis_null(GroupAccounts::PollSince))
                .col(millis(GroupAccounts::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(LinkApprovals::Table)
                .col(id(LinkApprovals::TokenHash))
                .col(text(LinkApprovals::GroupAccountId))
                .col(millis(LinkApprovals::CreatedAt))
                .col(millis(LinkApprovals::ExpiresAt))
                .col(millis_null(LinkApprovals::UsedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Candidates::Table)
                .col(id(Candidates::Id))
                .col(
                    ColumnDef::new(Candidates::Email)
                        .string()
                        .not_null()
                        .unique_key(),
                )
                .col(text(Candidates::Name))
                .col(text_null(Candidates::Phone))
                .col(text(Candidates::Attributes))
                .col(text_null(Candidates::BizreachCandidateId))
                .col(millis_null(Candidates::OptedOutAt))
                .col(millis(Candidates::CreatedAt))
                .col(millis(Candidates::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Jobs::Table)
                .col(id(Jobs::Id))
                .col(text(Jobs::Title))
                .col(ColumnDef::new(Jobs::AtsJobId).string().null().unique_key())
                .col(millis(Jobs::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RoutingRules::Table)
                .col(id(RoutingRules::Id))
                .col(
                    ColumnDef::new(RoutingRules::PositionName)
                        .string()
                        .not_null()
                        .unique_key(),
                )
                .col(ColumnDef::new(RoutingRules::JobId).string().not_null())
                .col(text(RoutingRules::CreatedBy))
                .col(millis(RoutingRules::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Applications::Table)
                .col(id(Applications::Id))
                .col(ColumnDef::new(Applications::SourceSystem).string().null())
                .col(
                    ColumnDef::new(Applications::SourceApplicationId)
                        .string()
                        .null(),
                )
                .col(
                    ColumnDef::new(Applications::AtsApplicationId)
                        .string()
                        .null(),
                )
                .col(ColumnDef::new(Applications::GroupAccountId).string().null())
                .col(ColumnDef::new(Applications::Channel).string().null())
                .col(text_null(Applications::PositionName))
                .col(ColumnDef::new(Applications::SourceStatus).string().null())
                .col(ColumnDef::new(Applications::Status).string().not_null())
                .col(millis_null(Applications::StatusChangedAt))
                .col(text_null(Applications::Stage))
                .col(text_null(Applications::Reason))
                .col(ColumnDef::new(Applications::JobId).string().null())
                .col(
                    ColumnDef::new(Applications::CandidateId)
                        .string()
                        .not_null(),
                )
                .col(millis_null(Applications::AppliedAt))
                .col(ColumnDef::new(Applications::ImportedVia).string().null())
                .col(text(Applications::Labels))
                .col(ColumnDef::new(Applications::SyncedStatus).string().null())
                .col(millis_null(Applications::SyncedAt))
                .col(millis(Applications::CreatedAt))
                .col(millis(Applications::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "applications_source",
            Applications::Table,
            &["source_system", "source_application_id"],
            true,
        ))
        .await?;
        m.create_index(index(
            "applications_ats",
            Applications::Table,
            &["ats_application_id"],
            true,
        ))
        .await?;
        m.create_index(index(
            "applications_inbox",
            Applications::Table,
            &["job_id", "created_at"],
            false,
        ))
        .await?;
        m.create_index(index(
            "applications_group",
            Applications::Table,
            &["group_account_id", "applied_at"],
            false,
        ))
        .await?;
        m.create_index(index(
            "applications_candidate",
            Applications::Table,
            &["candidate_id"],
            false,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(ApplicationHistory::Table)
                .col(serial(ApplicationHistory::Id))
                .col(
                    ColumnDef::new(ApplicationHistory::ApplicationId)
                        .string()
                        .not_null(),
                )
                .col(text_null(ApplicationHistory::EventId))
                .col(
                    ColumnDef::new(ApplicationHistory::FromStatus)
                        .string()
                        .null(),
                )
                .col(
                    ColumnDef::new(ApplicationHistory::ToStatus)
                        .string()
                        .not_null(),
                )
                .col(text_null(ApplicationHistory::Stage))
                .col(text_null(ApplicationHistory::Reason))
                .col(millis(ApplicationHistory::ChangedAt))
                .col(flag(ApplicationHistory::Applied))
                .col(millis(ApplicationHistory::RecordedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "application_history_app",
            ApplicationHistory::Table,
            &["application_id", "changed_at"],
            false,
        ))
        .await?;
        m.create_index(index(
            "application_history_event",
            ApplicationHistory::Table,
            &["event_id"],
            false,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(NotificationSubscriptions::Table)
                .col(id(NotificationSubscriptions::TokenId))
                .col(flag(NotificationSubscriptions::BizreachApplication))
                .col(text(NotificationSubscriptions::Email))
                .col(millis(NotificationSubscriptions::UpdatedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            NotificationSubscriptions::Table.into_iden(),
            ApplicationHistory::Table.into_iden(),
            Applications::Table.into_iden(),
            RoutingRules::Table.into_iden(),
            Jobs::Table.into_iden(),
            Candidates::Table.into_iden(),
            LinkApprovals::Table.into_iden(),
            GroupAccounts::Table.into_iden(),
            BizreachCredentials::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
