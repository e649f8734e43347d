//! Issue 13: each invitation records the basis it is sent on under 特定電子メール法 (consent, or
//! the exemption that applies) and the normalised address it goes to.
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0012_invitation_basis"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Invitations {
    Table,
    Basis,
    Recipient,
}

const COLUMNS: [Invitations; 2] = [Invitations::Basis, Invitations::Recipient];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS {
            // SQLite adds one column per ALTER TABLE.
            m.alter_table(
                Table::alter()
                    .table(Invitations::Table)
                    .add_column(crate::col::text_null(column))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS {
            m.alter_table(
                Table::alter()
                    .table(Invitations::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
