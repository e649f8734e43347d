//! Issue 16: candidates can be erased (the row stays as a tombstone, so every total that counts
//! it stays right, with `erased_at` set and its values gone), and the audit log names the
//! candidate whose data an entry read or changed (`candidate_id`, indexed), so
//! `GET /v1/audit-log?candidate=…` answers who saw or changed one person's data.
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0017_candidate_erasure"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Candidates {
    Table,
    ErasedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum KpiRecords {
    Table,
    EventId,
}

#[derive(DeriveIden, Clone, Copy)]
enum MailOutbox {
    Table,
    Recipient,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditLog {
    Table,
    CandidateId,
}

const AUDIT_BY_CANDIDATE: &str = "audit_log_candidate";
/// An erasure finds the KPI points of a person's events, and the mails to their address.
const KPIS_BY_EVENT: &str = "kpi_records_event";
const MAILS_BY_RECIPIENT: &str = "mail_outbox_recipient";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Candidates::Table)
                .add_column(crate::col::millis_null(Candidates::ErasedAt))
                .to_owned(),
        )
        .await?;
        crate::alter::add_text_columns(m, AuditLog::Table, &[AuditLog::CandidateId]).await?;
        m.create_index(
            Index::create()
                .name(AUDIT_BY_CANDIDATE)
                .table(AuditLog::Table)
                .col(AuditLog::CandidateId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name(KPIS_BY_EVENT)
                .table(KpiRecords::Table)
                .col(KpiRecords::EventId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name(MAILS_BY_RECIPIENT)
                .table(MailOutbox::Table)
                .col(MailOutbox::Recipient)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name(MAILS_BY_RECIPIENT)
                .table(MailOutbox::Table)
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name(KPIS_BY_EVENT)
                .table(KpiRecords::Table)
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name(AUDIT_BY_CANDIDATE)
                .table(AuditLog::Table)
                .to_owned(),
        )
        .await?;
        crate::alter::drop_columns(m, AuditLog::Table, &[AuditLog::CandidateId]).await?;
        crate::alter::drop_columns(m, Candidates::Table, &[Candidates::ErasedAt]).await
    }
}
