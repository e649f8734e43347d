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
        for column in COLUMNS {
            // SQLite adds one column per ALTER TABLE.
            m.alter_table(
                Table::alter()
                    .table(MailOutbox::Table)
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
                    .table(MailOutbox::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
