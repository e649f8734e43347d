//! Issue 13 (performance): the funnel (C5, C7) answered from counters instead of from every
//! rejection and every KPI point.
//!
//! - `funnel_rejections`: one narrow row per rejected application (its first applied
//!   rejection), with the time it reached each candidate-side step, kept up to date in the
//!   transaction that changes one of them.
//! - `funnel_days`: how many rejections reached each step on each day (JST), by stage and
//!   reason; a step that happened before its rejection is left out and the row flagged `early`
//!   (the funnel reads those rows one by one).
//! - `kpi_days`: the KPI points recorded each day (JST), by name: count and sum.
//! - an index on `invitations.outbox_id` (the sender looks an invitation up by its mail) and
//!   one on `invitations.registered_at` (the ledger's first registrations).
//!
//! The tables are filled from what is stored ([`rebuild`]), which a bulk load calls as well.
use crate::col::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0015_funnel_aggregates"
    }
}

#[derive(DeriveIden)]
enum FunnelRejections {
    Table,
    ApplicationId,
    CandidateId,
    Stage,
    Reason,
    RejectedAt,
    InvitationSentAt,
    LinkClickedAt,
    RegisteredAt,
    Early,
}

#[derive(DeriveIden)]
enum FunnelDays {
    Table,
    Day,
    Step,
    Stage,
    Reason,
    Count,
}

#[derive(DeriveIden)]
enum KpiDays {
    Table,
    Day,
    Name,
    Count,
    Sum,
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    OutboxId,
    RegisteredAt,
    CandidateId,
}

/// The indexes of `funnel_rejections`: one per step time (the part days of a period are read
/// by them), the candidate (slots earned by group) and the flag.
const FACT_INDEXES: [(&str, FunnelRejections); 6] = [
    ("funnel_rejections_rejected", FunnelRejections::RejectedAt),
    ("funnel_rejections_sent", FunnelRejections::InvitationSentAt),
    ("funnel_rejections_clicked", FunnelRejections::LinkClickedAt),
    (
        "funnel_rejections_registered",
        FunnelRejections::RegisteredAt,
    ),
    ("funnel_rejections_candidate", FunnelRejections::CandidateId),
    ("funnel_rejections_early", FunnelRejections::Early),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(FunnelRejections::Table)
                .col(id(FunnelRejections::ApplicationId))
                .col(text_null(FunnelRejections::CandidateId))
                .col(text_null(FunnelRejections::Stage))
                .col(text_null(FunnelRejections::Reason))
                .col(millis(FunnelRejections::RejectedAt))
                .col(millis_null(FunnelRejections::InvitationSentAt))
                .col(millis_null(FunnelRejections::LinkClickedAt))
                .col(millis_null(FunnelRejections::RegisteredAt))
                .col(flag(FunnelRejections::Early))
                .to_owned(),
        )
        .await?;
        for (name, column) in FACT_INDEXES {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(FunnelRejections::Table)
                    .col(column)
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(FunnelDays::Table)
                .col(ColumnDef::new(FunnelDays::Day).big_integer().not_null())
                .col(text(FunnelDays::Step))
                .col(text(FunnelDays::Stage))
                .col(text(FunnelDays::Reason))
                .col(ColumnDef::new(FunnelDays::Count).big_integer().not_null())
                .primary_key(
                    Index::create()
                        .col(FunnelDays::Day)
                        .col(FunnelDays::Step)
                        .col(FunnelDays::Stage)
                        .col(FunnelDays::Reason),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(KpiDays::Table)
                .col(ColumnDef::new(KpiDays::Day).big_integer().not_null())
                .col(text(KpiDays::Name))
                .col(ColumnDef::new(KpiDays::Count).big_integer().not_null())
                .col(ColumnDef::new(KpiDays::Sum).double().not_null())
                .primary_key(Index::create().col(KpiDays::Day).col(KpiDays::Name))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("invitations_outbox")
                .table(Invitations::Table)
                .col(Invitations::OutboxId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("invitations_registered")
                .table(Invitations::Table)
                .col(Invitations::RegisteredAt)
                .col(Invitations::CandidateId)
                .to_owned(),
        )
        .await?;
        rebuild(m.get_connection()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for name in ["invitations_registered", "invitations_outbox"] {
            m.drop_index(
                Index::drop()
                    .name(name)
                    .table(Invitations::Table)
                    .to_owned(),
            )
            .await?;
        }
        m.drop_table(Table::drop().table(KpiDays::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(FunnelDays::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(FunnelRejections::Table).to_owned())
            .await
    }
}

/// A time's day in JST (UTC+9, no daylight saving), as SQL: days since 1970-01-01 JST.
const DAY_OF: &str = "((({t}) + 32400000) / 86400000)";

fn day_of(t: &str) -> String {
    DAY_OF.replace("{t}", t)
}

/// Fills the funnel's and the KPIs' counters from what is stored, replacing what they held:
/// each rejected application once (at its first applied rejection, with its stage and
/// reason), when its invitation's mail was sent, when its link was first clicked (or its
/// candidate registered, if earlier: a registration implies the click) and when it registered.
pub async fn rebuild<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    for table in ["funnel_rejections", "funnel_days", "kpi_days"] {
        db.execute_unprepared(&format!("DELETE FROM {table}"))
            .await?;
    }
    let applied = match db.get_database_backend() {
        sea_orm_migration::sea_orm::DatabaseBackend::Postgres => "TRUE",
        _ => "1",
    };
    db.execute_unprepared(&format!(
        "INSERT INTO funnel_rejections (application_id, candidate_id, stage, reason, rejected_at, \
         invitation_sent_at, link_clicked_at, registered_at, early) \
         SELECT f.application_id, a.candidate_id, f.stage, f.reason, f.rejected_at, m.sent_at, \
         CASE WHEN i.clicked_first_at IS NULL THEN i.registered_at \
              WHEN i.registered_at IS NULL OR i.clicked_first_at < i.registered_at THEN i.clicked_first_at \
              ELSE i.registered_at END, \
         i.registered_at, \
         (m.sent_at < f.rejected_at OR COALESCE(i.clicked_first_at, i.registered_at) < f.rejected_at \
          OR i.registered_at < f.rejected_at) IS TRUE \
         FROM (SELECT h.application_id, h.stage, h.reason, h.changed_at AS rejected_at, \
               ROW_NUMBER() OVER (PARTITION BY h.application_id ORDER BY h.changed_at, h.id) AS n \
               FROM application_history h WHERE h.to_status = 'rejected' AND h.applied = {applied}) f \
         LEFT JOIN applications a ON a.id = f.application_id \
         LEFT JOIN invitations i ON i.application_id = f.application_id \
         LEFT JOIN mail_outbox m ON m.id = i.outbox_id AND m.status = 'sent' \
         WHERE f.n = 1"
    ))
    .await?;
    let steps = [
        ("rejected", "rejected_at"),
        ("invitation_sent", "invitation_sent_at"),
        ("link_clicked", "link_clicked_at"),
        ("registered", "registered_at"),
    ];
    for (step, column) in steps {
        db.execute_unprepared(&format!(
            "INSERT INTO funnel_days (day, step, stage, reason, count) \
             SELECT {day}, '{step}', COALESCE(stage, ''), COALESCE(reason, ''), COUNT(*) \
             FROM funnel_rejections WHERE {column} >= rejected_at \
             GROUP BY {day}, COALESCE(stage, ''), COALESCE(reason, '')",
            day = day_of(column),
        ))
        .await?;
    }
    db.execute_unprepared(&format!(
        "INSERT INTO kpi_days (day, name, count, sum) \
         SELECT {day}, name, COUNT(*), SUM(value) FROM kpi_records GROUP BY {day}, name",
        day = day_of("recorded_at"),
    ))
    .await?;
    Ok(())
}
