//! hirelay's schema, one migration per change. Migrations are append-only: a landed file is never
//! edited; a change to the schema is a new file. Every migration is written with sea-query so the
//! same set runs on SQLite and PostgreSQL.
//!
//! Conventions: timestamps are `BIGINT` unix milliseconds (portable, orderable on both databases);
//! JSON documents are `TEXT`; public ids are prefixed text (`evt_…`, `app_…`).
pub use sea_orm_migration::prelude::*;

mod m0001_platform;
mod m0002_recruiting;
mod m0003_career_relay;
mod m0004_claim_order;
mod m0005_outbox_inline;
mod m0006_referrals;
mod m0007_monthly_report;
mod m0008_invitation_tokens;
mod m0009_purge_sent_mail_bodies;
mod m0010_token_expiry;
mod m0011_outbox_send_time;
mod m0012_invitation_basis;
mod m0013_opt_outs_and_consent;
mod m0014_decision_context;
mod m0015_funnel_aggregates;
mod m0016_user_accounts;
mod m0017_candidate_erasure;
mod m0018_integrator_sources;
mod m0019_event_person;

/// Refills the funnel's and the KPIs' counters from the stored facts (after a bulk load).
pub use m0015_funnel_aggregates::rebuild as rebuild_funnel_aggregates;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_platform::Migration),
            Box::new(m0002_recruiting::Migration),
            Box::new(m0003_career_relay::Migration),
            Box::new(m0004_claim_order::Migration),
            Box::new(m0005_outbox_inline::Migration),
            Box::new(m0006_referrals::Migration),
            Box::new(m0007_monthly_report::Migration),
            Box::new(m0008_invitation_tokens::Migration),
            Box::new(m0009_purge_sent_mail_bodies::Migration),
            Box::new(m0010_token_expiry::Migration),
            Box::new(m0011_outbox_send_time::Migration),
            Box::new(m0012_invitation_basis::Migration),
            Box::new(m0013_opt_outs_and_consent::Migration),
            Box::new(m0014_decision_context::Migration),
            Box::new(m0015_funnel_aggregates::Migration),
            Box::new(m0016_user_accounts::Migration),
            Box::new(m0017_candidate_erasure::Migration),
            Box::new(m0018_integrator_sources::Migration),
            Box::new(m0019_event_person::Migration),
        ]
    }
}

/// Adding and dropping nullable text columns, one `ALTER TABLE` each (SQLite adds one column
/// per statement).
pub(crate) mod alter {
    use sea_orm_migration::prelude::*;

    pub async fn add_text_columns<T: IntoIden + Copy + 'static, C: IntoIden + Copy + 'static>(
        m: &SchemaManager<'_>,
        table: T,
        columns: &[C],
    ) -> Result<(), DbErr> {
        for column in columns {
            m.alter_table(
                Table::alter()
                    .table(table)
                    .add_column(crate::col::text_null(*column))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    pub async fn drop_columns<T: IntoIden + Copy + 'static, C: IntoIden + Copy + 'static>(
        m: &SchemaManager<'_>,
        table: T,
        columns: &[C],
    ) -> Result<(), DbErr> {
        for column in columns {
            m.alter_table(Table::alter().table(table).drop_column(*column).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Column helpers shared by every migration, so each table reads as a list of its fields.
pub(crate) mod col {
    use sea_orm_migration::prelude::*;

    pub fn id<T: IntoIden>(name: T) -> ColumnDef {
        ColumnDef::new(name)
            .string()
            .not_null()
            .primary_key()
            .take()
    }
    pub fn serial<T: IntoIden>(name: T) -> ColumnDef {
        ColumnDef::new(name)
            .big_integer()
            .not_null()
            .auto_increment()
            .primary_key()
            .take()
    }
    pub fn text<T: IntoIden>(name: T) -> ColumnDef {
        ColumnDef::new(name).text().not_null().take()
    }
    pub fn text_null<T: IntoIden>(name: T) -> ColumnDef {
        ColumnDef::new(name).text().null().take()
    }
    pub fn millis<T: IntoIden>(name: T) -> ColumnDef {
        ColumnDef::new(name).big_integer().not_null().take()
    }
    pub fn millis_null<T: IntoIden>(name: T) -> ColumnDef {
        ColumnDef::new(name).big_integer().null().take()
    }
    pub fn int<T: IntoIden>(name: T) -> ColumnDef {
        ColumnDef::new(name).integer().not_null().default(0).take()
    }
    pub fn flag<T: IntoIden>(name: T) -> ColumnDef {
        ColumnDef::new(name)
            .boolean()
            .not_null()
            .default(false)
            .take()
    }
}
