//! Issue 13: opt-outs per kind of mail and recorded consent, each kept under a keyed hash of
//! the normalised address (never the address), so they survive the candidate's erasure; and
//! the consent an invitation was sent on, with when and how.
//!
//! `candidates.opted_out_at` stays for now: its rows are moved into `opt_outs` at start-up,
//! in Rust, because the hash needs the instance's key (`store::opt_outs`). The index lets that
//! start-up check find them without reading every candidate.
//!
//! Going down refuses while either table holds a row: they are legal records (who refused
//! mail, who consented) that the earlier schema has no place for, and dropping them would
//! let an opted-out address be invited again.
use crate::col::*;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0013_opt_outs_and_consent"
    }
}

#[derive(DeriveIden)]
enum OptOuts {
    Table,
    AddressHash,
    Kind,
    OptedOutAt,
    Channel,
    RecordedBy,
}

#[derive(DeriveIden)]
enum Consents {
    Table,
    AddressHash,
    Kind,
    GivenAt,
    Method,
    RecordedAt,
    RecordedBy,
}

#[derive(DeriveIden, Clone, Copy)]
enum Invitations {
    Table,
    ConsentGivenAt,
    ConsentMethod,
}

#[derive(DeriveIden)]
enum Candidates {
    Table,
    OptedOutAt,
}

const LEGACY_INDEX: &str = "candidates_opted_out_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(OptOuts::Table)
                .col(text(OptOuts::AddressHash))
                .col(text(OptOuts::Kind))
                .col(millis(OptOuts::OptedOutAt))
                .col(text(OptOuts::Channel))
                .col(text_null(OptOuts::RecordedBy))
                .primary_key(Index::create().col(OptOuts::AddressHash).col(OptOuts::Kind))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Consents::Table)
                .col(text(Consents::AddressHash))
                .col(text(Consents::Kind))
                .col(millis(Consents::GivenAt))
                .col(text(Consents::Method))
                .col(millis(Consents::RecordedAt))
                .col(text(Consents::RecordedBy))
                .primary_key(
                    Index::create()
                        .col(Consents::AddressHash)
                        .col(Consents::Kind),
                )
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Invitations::Table)
                .add_column(millis_null(Invitations::ConsentGivenAt))
                .to_owned(),
        )
        .await?;
        crate::alter::add_text_columns(m, Invitations::Table, &[Invitations::ConsentMethod])
            .await?;
        m.create_index(
            Index::create()
                .name(LEGACY_INDEX)
                .table(Candidates::Table)
                .col(Candidates::OptedOutAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["opt_outs", "consents"] {
            let held = m
                .get_connection()
                .query_one(sea_orm_migration::sea_orm::Statement::from_string(
                    m.get_database_backend(),
                    format!("SELECT 1 FROM {table} LIMIT 1"),
                ))
                .await?;
            if held.is_some() {
                return Err(DbErr::Migration(format!(
                    "m0013_opt_outs_and_consent: `{table}` holds records of refused or consented mail, \
                     which the earlier schema cannot keep; rolling back would forget them"
                )));
            }
        }
        m.drop_index(
            Index::drop()
                .name(LEGACY_INDEX)
                .table(Candidates::Table)
                .to_owned(),
        )
        .await?;
        crate::alter::drop_columns(
            m,
            Invitations::Table,
            &[Invitations::ConsentGivenAt, Invitations::ConsentMethod],
        )
        .await?;
        m.drop_table(Table::drop().table(Consents::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(OptOuts::Table).to_owned())
            .await
    }
}
