//! Issue 18: API tokens may expire, and `hirelay token list` shows when each was last used.
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0010_token_expiry"
    }
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    ExpiresAt,
    LastUsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for column in [ApiTokens::ExpiresAt, ApiTokens::LastUsedAt] {
            m.alter_table(
                Table::alter()
                    .table(ApiTokens::Table)
                    .add_column(crate::col::millis_null(column))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [ApiTokens::LastUsedAt, ApiTokens::ExpiresAt] {
            m.alter_table(
                Table::alter()
                    .table(ApiTokens::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
