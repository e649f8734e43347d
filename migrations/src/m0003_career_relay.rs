//! Career Relay invitations (C2, C4, C8): one per application, with the tracking token's hash,
//! when it was sent, clicked and registered.
use crate::col::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0003_career_relay"
    }
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    Id,
    ApplicationId,
    CandidateId,
    TokenHash,
    SendAt,
    OutboxId,
    EventId,
    CreatedAt,
    ClickedFirstAt,
    ClickedLastAt,
    Clicks,
    RegisteredAt,
    RegistrationAttributes,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Invitations::Table)
                .col(id(Invitations::Id))
                .col(
                    ColumnDef::new(Invitations::ApplicationId)
                        .string()
                        .not_null()
                        .unique_key(),
                )
                .col(ColumnDef::new(Invitations::CandidateId).string().not_null())
                .col(
                    ColumnDef::new(Invitations::TokenHash)
                        .string()
                        .not_null()
                        .unique_key(),
                )
                .col(millis(Invitations::SendAt))
                .col(text_null(Invitations::OutboxId))
                .col(text_null(Invitations::EventId))
                .col(millis(Invitations::CreatedAt))
                .col(millis_null(Invitations::ClickedFirstAt))
                .col(millis_null(Invitations::ClickedLastAt))
                .col(int(Invitations::Clicks))
                .col(millis_null(Invitations::RegisteredAt))
                .col(text_null(Invitations::RegistrationAttributes))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("invitations_candidate")
                .table(Invitations::Table)
                .col(Invitations::CandidateId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Invitations::Table).to_owned())
            .await
    }
}
