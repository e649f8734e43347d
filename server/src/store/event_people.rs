//! Issue 16: recording the person of events stored before m0018 gave each event its
//! `person_hash` and `candidate_id` (see [`crate::ingest::Ingest::record_people`]).
use std::collections::BTreeSet;

use sea_orm::{ConnectionTrait, FromQueryResult};

use super::entities::event;
use super::events::EventPerson;
use super::person_lookup::{exec, rows};
use super::{Store, StoreResult};
use crate::domain::payload::InboundEvent;
use crate::domain::status::EventSource;

#[derive(FromQueryResult)]
struct Unrecorded {
    id: String,
    source: String,
    payload: String,
}

#[derive(FromQueryResult)]
struct CandidateOf {
    candidate_id: Option<String>,
}

impl Store {
    /// The candidates event `id` is about, as its payload and decision show them: the one
    /// recorded with it, those whose applications' history it changed, and the holder of the
    /// address its payload names (none of these for a purged payload but the history's).
    pub async fn event_candidates<C: ConnectionTrait>(
        db: &C,
        event: &event::Model,
    ) -> StoreResult<BTreeSet<String>> {
        let mut found: Vec<CandidateOf> = rows(
            db,
            "SELECT a.candidate_id FROM application_history h \
             JOIN applications a ON a.id = h.application_id WHERE h.event_id = ?",
            vec![event.id.as_str().into()],
        )
        .await?;
        found.push(CandidateOf {
            candidate_id: event.candidate_id.clone(),
        });
        let address = EventSource::parse(&event.source)
            .ok()
            .and_then(|s| InboundEvent::parse(s, event.payload.as_bytes()).ok())
            .and_then(|e| e.candidate_email().cloned());
        if let Some(address) = address {
            found.extend(
                Store::candidate_by_email(db, &address)
                    .await?
                    .map(|c| CandidateOf {
                        candidate_id: Some(c.id),
                    }),
            );
        }
        Ok(found.into_iter().filter_map(|c| c.candidate_id).collect())
    }

    /// Up to `limit` events whose person is not recorded yet (`(id, source, payload)`), found
    /// through the `person_hash` index.
    pub async fn events_without_person(
        &self,
        limit: u64,
    ) -> StoreResult<Vec<(String, String, String)>> {
        let found: Vec<Unrecorded> = rows(
            &self.db,
            "SELECT id, source, payload FROM events WHERE person_hash IS NULL LIMIT ?",
            vec![(limit as i64).into()],
        )
        .await?;
        Ok(found
            .into_iter()
            .map(|e| (e.id, e.source, e.payload))
            .collect())
    }

    /// Records each event's person in one short transaction (a candidate recorded earlier
    /// stays); answers how many rows changed.
    pub async fn record_event_people(&self, people: &[(String, EventPerson)]) -> StoreResult<u64> {
        let _turn = self.write_turn().await;
        let txn = self.begin_writing().await?;
        let mut changed = 0;
        let result: StoreResult<()> = async {
            for (id, person) in people {
                changed += exec(
                    &txn,
                    "UPDATE events SET person_hash = ?, candidate_id = COALESCE(candidate_id, ?) \
                     WHERE id = ?",
                    vec![
                        person.address_hash.as_str().into(),
                        person.candidate_id.clone().into(),
                        id.as_str().into(),
                    ],
                )
                .await?;
            }
            Ok(())
        }
        .await;
        super::end_transaction(txn, result).await?;
        Ok(changed)
    }
}
