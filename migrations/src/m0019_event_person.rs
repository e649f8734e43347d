//! Issue 16: each stored event names its person by index, so an erasure or an export finds a
//! person's events without reading every payload. `person_hash` is the keyed hash of the
//! candidate's normalised address in the payload (as opt-outs keep it; `''` when the payload
//! names no address), set when the event is stored; `candidate_id` the candidate the event is
//! about when hirelay knows it (an ATS change or a Career Relay registration naming a known
//! application or invitation). The key lives in the server, not here: rows stored before this
//! migration keep `person_hash` NULL until the server records them (`Ingest::record_people`);
//! their `candidate_id` is filled here from the history and invitations that name them.
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0019_event_person"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Events {
    Table,
    PersonHash,
    CandidateId,
}

const EVENTS_BY_PERSON: &str = "events_person_hash";
const EVENTS_BY_CANDIDATE: &str = "events_candidate";

/// The candidate of each older event whose history row or invitation names it.
const BACKFILL: [&str; 2] = [
    "UPDATE events SET candidate_id = (SELECT a.candidate_id FROM application_history h \
     JOIN applications a ON a.id = h.application_id WHERE h.event_id = events.id LIMIT 1) \
     WHERE candidate_id IS NULL AND id IN (SELECT event_id FROM application_history \
     WHERE event_id IS NOT NULL)",
    "UPDATE events SET candidate_id = (SELECT i.candidate_id FROM invitations i \
     WHERE i.event_id = events.id LIMIT 1) \
     WHERE candidate_id IS NULL AND id IN (SELECT event_id FROM invitations \
     WHERE event_id IS NOT NULL)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::alter::add_text_columns(
            m,
            Events::Table,
            &[Events::PersonHash, Events::CandidateId],
        )
        .await?;
        for (name, column) in [
            (EVENTS_BY_PERSON, Events::PersonHash),
            (EVENTS_BY_CANDIDATE, Events::CandidateId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Events::Table)
                    .col(column)
                    .to_owned(),
            )
            .await?;
        }
        for sql in BACKFILL {
            m.get_connection().execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for name in [EVENTS_BY_CANDIDATE, EVENTS_BY_PERSON] {
            m.drop_index(Index::drop().name(name).table(Events::Table).to_owned())
                .await?;
        }
        crate::alter::drop_columns(m, Events::Table, &[Events::CandidateId, Events::PersonHash])
            .await
    }
}
