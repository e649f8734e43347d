//! Issue 15: an integrator token is bound to one webhook source (`ats`, `bizreach`,
//! `career_relay`) and reads and replays only that source's events; a webhook subscription
//! belongs to the source of the integrator token that made it, and is seen by that source's
//! tokens (and admins) only. Both columns are null for what existed before: tokens bound to no
//! source, and subscriptions shared by admins and such tokens, as before.
use sea_orm_migration::prelude::*;

use crate::alter::{add_text_columns, drop_columns};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0018_integrator_sources"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum ApiTokens {
    Table,
    Source,
}

#[derive(DeriveIden, Clone, Copy)]
enum WebhookSubscriptions {
    Table,
    OwnerSource,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_text_columns(m, ApiTokens::Table, &[ApiTokens::Source]).await?;
        add_text_columns(
            m,
            WebhookSubscriptions::Table,
            &[WebhookSubscriptions::OwnerSource],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(
            m,
            WebhookSubscriptions::Table,
            &[WebhookSubscriptions::OwnerSource],
        )
        .await?;
        drop_columns(m, ApiTokens::Table, &[ApiTokens::Source]).await
    }
}
