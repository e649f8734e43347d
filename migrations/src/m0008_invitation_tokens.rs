//! Issue 18: an invitation's tracking, unsubscribe and Career Relay tokens are separate
//! capabilities, each stored as its own hash. Invitations made before keep working with their
//! one token (both columns null).
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0008_invitation_tokens"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Invitations {
    Table,
    UnsubscribeTokenHash,
    RelayTokenHash,
}

const INDEXES: [(&str, Invitations); 2] = [
    (
        "invitations_unsubscribe_token",
        Invitations::UnsubscribeTokenHash,
    ),
    ("invitations_relay_token", Invitations::RelayTokenHash),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let columns = INDEXES.map(|(_, column)| column);
        crate::alter::add_text_columns(m, Invitations::Table, &columns).await?;
        for (index, column) in INDEXES {
            m.create_index(
                Index::create()
                    .name(index)
                    .table(Invitations::Table)
                    .col(column)
                    .unique()
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (index, _) in INDEXES {
            m.drop_index(
                Index::drop()
                    .name(index)
                    .table(Invitations::Table)
                    .to_owned(),
            )
            .await?;
        }
        let columns = INDEXES.map(|(_, column)| column);
        crate::alter::drop_columns(m, Invitations::Table, &columns).await
    }
}
