//! Issue 13: a queued mail keeps the data it is rendered from, so it is rendered (again) when it
//! is sent and a template fix reaches mails already scheduled; a mail can be cancelled, with the
//! reason (an opt-out, a registration, an application no longer rejected, an admin).
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0011_outbox_send_time"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum MailOutbox {
    Table,
    Data,
    CancelReason,
}

const COLUMNS: [MailOutbox; 2] = [MailOutbox::Data, MailOutbox::CancelReason];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::alter::add_text_columns(m, MailOutbox::Table, &COLUMNS).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::alter::drop_columns(m, MailOutbox::Table, &COLUMNS).await
    }
}
