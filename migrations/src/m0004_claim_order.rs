//! The claim indexes of the three queues (events, mail outbox, webhook deliveries) end with `id`,
//! so a claim's `ORDER BY next_attempt_at, id LIMIT n` reads the first `n` entries of the index
//! in order. Without `id` the database sorted every due row to find them: on PostgreSQL a sort
//! of whole event rows that spilled to disk once ten thousand events were pending.
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0004_claim_order"
    }
}

/// `(table, index before, index after)` of each queue: the new index is built before the old
/// one is dropped, so claims are never without one.
const CLAIM_INDEXES: [(&str, &str, &str); 3] = [
    ("events", "events_claim", "events_due"),
    ("mail_outbox", "mail_outbox_claim", "mail_outbox_due"),
    (
        "webhook_deliveries",
        "webhook_deliveries_claim",
        "webhook_deliveries_due",
    ),
];

/// Creates `name` on `table` (`status, next_attempt_at`, then `id` if `with_id`).
async fn create(
    m: &SchemaManager<'_>,
    table: &str,
    name: &str,
    with_id: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index
        .name(name)
        .table(Alias::new(table))
        .col(Alias::new("status"))
        .col(Alias::new("next_attempt_at"));
    if with_id {
        index.col(Alias::new("id"));
    }
    m.create_index(index.to_owned()).await
}

async fn drop(m: &SchemaManager<'_>, table: &str, name: &str) -> Result<(), DbErr> {
    m.drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, before, after) in CLAIM_INDEXES {
            create(m, table, after, true).await?;
            drop(m, table, before).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, before, after) in CLAIM_INDEXES {
            create(m, table, before, false).await?;
            drop(m, table, after).await?;
        }
        Ok(())
    }
}
