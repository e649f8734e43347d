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
        crate::alter::add_text_columns(m, Invitations::Table, &COLUMNS).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::alter::drop_columns(m, Invitations::Table, &COLUMNS).await
    }
}
