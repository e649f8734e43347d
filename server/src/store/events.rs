//! The event queue's table: durable group-commit inserts with idempotency, safe claiming by
//! several workers and processes, completion, retry, dead-lettering and replay.
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction,
    EntityTrait, FromQueryResult, Order, QueryFilter, QueryOrder, QuerySelect, Statement,
    TransactionTrait, UpdateMany,
};
use std::collections::HashMap;

use super::entities::event::{self, Column, Entity as Events};
use super::{Store, StoreError, StoreResult};
use crate::domain::status::{EventSource, EventStatus};

/// An event to store, before it is acknowledged.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub id: String,
    pub source: EventSource,
    pub kind: String,
    pub webhook_id: String,
    pub body_hash: String,
    pub payload: String,
    pub received_at: i64,
    /// Who the event is about, recorded with it (issue 16).
    pub person: EventPerson,
}

/// Issue 16: the person an event is about, as indexes find them (an erasure or an export reads
/// no payload): the keyed hash of the candidate's normalised address in the payload (`""` when
/// it names none) and the candidate, when hirelay knew them as the event was stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventPerson {
    pub address_hash: String,
    pub candidate_id: Option<String>,
}

/// What storing one event of a batch came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Stored now, under the id it was given.
    Accepted,
    /// The same webhook id with the same body was stored before, as this event.
    Duplicate { event_id: String },
    /// The same webhook id was stored before with a different body.
    Conflict { event_id: String },
}

/// A page of events, newest first.
pub struct EventPage {
    pub items: Vec<event::Model>,
    pub next_cursor: Option<String>,
}

/// Which events a list shows or a bulk replay takes: each part given narrows it.
#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    pub status: Option<EventStatus>,
    pub source: Option<EventSource>,
    /// Received at or after (unix ms).
    pub since: Option<i64>,
    /// Received before (unix ms).
    pub until: Option<i64>,
}

impl EventFilter {
    /// Whether no part is given (the filter takes every event).
    pub fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.source.is_none()
            && self.since.is_none()
            && self.until.is_none()
    }

    /// The filter as a condition on the events table.
    fn condition(&self) -> sea_orm::Condition {
        let mut condition = sea_orm::Condition::all();
        if let Some(status) = self.status {
            condition = condition.add(Column::Status.eq(status.as_str()));
        }
        if let Some(source) = self.source {
            condition = condition.add(Column::Source.eq(source.as_str()));
        }
        if let Some(since) = self.since {
            condition = condition.add(Column::ReceivedAt.gte(since));
        }
        if let Some(until) = self.until {
            condition = condition.add(Column::ReceivedAt.lt(until));
        }
        condition
    }
}

/// Which events a bulk replay takes.
#[derive(Clone, Debug, Default)]
pub struct ReplayFilter {
    pub events: EventFilter,
    pub script_version: Option<(String, i32)>,
}

/// A record of something hirelay did itself (source `hirelay`), stored already finished.
#[derive(Clone, Debug)]
pub struct OwnEvent {
    pub kind: String,
    /// Idempotency key within the `hirelay` source: a second record with it is not stored.
    pub webhook_id: String,
    pub payload: serde_json::Value,
    /// `None`: the action succeeded (`done`); `Some`: it failed with this error (`failed`).
    pub error: Option<String>,
    /// The candidate the record is about (their erasure purges it).
    pub candidate_id: Option<String>,
}

/// Most rows one multi-row INSERT carries (SQLite allows 32,766 bound values; 12 a row).
const INSERT_CHUNK: usize = 2_000;

/// `LIKE` pattern of payloads purged by erasure or retention
/// ([`crate::domain::personal::purged_payload`]).
const PURGED_PAYLOADS: &str = "{\"purged\"%";

impl Store {
    /// Stores a batch in one transaction (group commit) and says, for each event in order,
    /// whether it was accepted, a duplicate, or an idempotency conflict. Answers only once the
    /// transaction committed; on an error nothing of the batch is stored. (The ingest writer
    /// on an SQLite file uses [`Store::sqlite_batch_writer`] instead, with the same answers.)
    pub async fn insert_events(&self, batch: &[NewEvent]) -> StoreResult<Vec<InsertOutcome>> {
        let _turn = self.write_turn().await;
        if batch.len() <= INSERT_CHUNK {
            // One statement is its own transaction: no BEGIN and COMMIT round trips.
            return Self::insert_events_within(&self.db, batch).await;
        }
        let txn = self.db.begin().await?;
        let stored = Self::insert_events_within(&txn, batch).await;
        super::end_transaction(txn, stored).await
    }

    /// [`Store::insert_events`] within `db` (a transaction of the caller's, or autocommit for
    /// a batch of at most one statement).
    pub async fn insert_events_within<C: ConnectionTrait>(
        db: &C,
        batch: &[NewEvent],
    ) -> StoreResult<Vec<InsertOutcome>> {
        let backend = db.get_database_backend();
        let mut inserted = 0;
        for chunk in batch.chunks(INSERT_CHUNK) {
            inserted += db
                .execute(insert_statement(backend, chunk))
                .await?
                .rows_affected();
        }
        let stored = stored_after_insert(db, batch, inserted).await?;
        Ok(batch
            .iter()
            .map(
                |e| match stored.get(&(e.source.as_str().to_owned(), e.webhook_id.clone())) {
                    Some((id, _)) if *id == e.id => InsertOutcome::Accepted,
                    Some((id, hash)) if *hash == e.body_hash => InsertOutcome::Duplicate {
                        event_id: id.clone(),
                    },
                    Some((id, _)) => InsertOutcome::Conflict {
                        event_id: id.clone(),
                    },
                    // Neither inserted nor found: cannot happen (rows are never deleted).
                    None => InsertOutcome::Conflict {
                        event_id: String::new(),
                    },
                },
            )
            .collect())
    }

    /// Within `txn` (a batch's transaction, which holds SQLite's write lock from its start),
    /// takes up to `limit` due events, oldest first. On PostgreSQL `FOR UPDATE SKIP LOCKED`
    /// gives each event to one transaction however many processes work; on SQLite the single
    /// writer does the same. They stay `pending` until [`Store::finish_taken_events`] marks them
    /// done in the same transaction: a batch that rolls back (or a worker that dies) leaves
    /// them as they were, and each event row is written once per batch.
    pub async fn take_due_events(
        txn: &DatabaseTransaction,
        now: i64,
        limit: u64,
    ) -> StoreResult<Vec<event::Model>> {
        events_of(
            txn,
            "SELECT * FROM events WHERE status = 'pending' AND next_attempt_at <= ? \
             ORDER BY next_attempt_at, id LIMIT ?{lock}",
            vec![now.into(), (limit as i64).into()],
        )
        .await
    }

    /// Within the transaction that took them ([`Store::take_due_events`]), marks events done
    /// after one more attempt; answers how many were still pending.
    pub async fn finish_taken_events(
        txn: &DatabaseTransaction,
        ids: &[&str],
        now: i64,
    ) -> StoreResult<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let result = Events::update_many()
            .col_expr(Column::Status, Expr::value(EventStatus::Done.as_str()))
            .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
            .col_expr(Column::LastError, Expr::value(Option::<String>::None))
            .col_expr(Column::ProcessedAt, Expr::value(now))
            .filter(Column::Id.is_in(ids.iter().copied()))
            .filter(Column::Status.eq(EventStatus::Pending.as_str()))
            .exec(txn)
            .await?;
        Ok(result.rows_affected)
    }

    /// Claims the events `ids` that are still pending for `worker`, leased until `lease_until`
    /// (`processing`, one attempt more; `FOR UPDATE SKIP LOCKED` on PostgreSQL): a batch handled
    /// again one event per transaction, after its own transaction rolled back. The lease fences
    /// each event's transaction and returns the event to the queue if the worker dies.
    pub async fn claim_listed_events<C: ConnectionTrait>(
        db: &C,
        ids: &[&str],
        worker: &str,
        lease_until: i64,
    ) -> StoreResult<Vec<event::Model>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let listed = format!(
            "status = 'pending' AND id IN ({})",
            vec!["?"; ids.len()].join(", ")
        );
        let ids = ids.iter().map(|id| (*id).into()).collect();
        claim(db, &listed, worker, lease_until, ids).await
    }

    /// Puts events whose lease ran out (their worker died) back in the queue.
    pub async fn release_expired_leases(&self, now: i64) -> StoreResult<u64> {
        let _turn = self.write_turn().await;
        if self.is_postgres() {
            // Rows a live worker is finishing are locked by its transaction: skip them rather
            // than wait, so reclaiming never blocks on (or deadlocks with) a working worker.
            let sql = "UPDATE events SET status = 'pending', locked_until = NULL, locked_by = NULL \
                       WHERE id IN (SELECT id FROM events WHERE status = 'processing' AND locked_until < $1 \
                       FOR UPDATE SKIP LOCKED)";
            let result = self
                .db
                .execute(Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    sql,
                    [now.into()],
                ))
                .await?;
            return Ok(result.rows_affected());
        }
        let result = Events::update_many()
            .col_expr(Column::Status, Expr::value(EventStatus::Pending.as_str()))
            .col_expr(Column::LockedUntil, Expr::value(Option::<i64>::None))
            .col_expr(Column::LockedBy, Expr::value(Option::<String>::None))
            .filter(Column::Status.eq(EventStatus::Processing.as_str()))
            .filter(Column::LockedUntil.lt(now))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected)
    }

    /// Marks a claimed event finished with `status` (pending again when `retry_at` is given);
    /// answers 0 when `worker` no longer holds it (its lease ran out and another worker took
    /// it: the caller rolls its effects back).
    pub async fn finish_event<C: ConnectionTrait>(
        db: &C,
        event_id: &str,
        worker: &str,
        status: EventStatus,
        error: Option<String>,
        retry_at: Option<i64>,
        now: i64,
    ) -> StoreResult<u64> {
        let mut update = release_held(&[event_id], worker, status)
            .col_expr(Column::LastError, Expr::value(error));
        update = match retry_at {
            Some(at) => update.col_expr(Column::NextAttemptAt, Expr::value(at)),
            None => update.col_expr(Column::ProcessedAt, Expr::value(now)),
        };
        Ok(update.exec(db).await?.rows_affected)
    }

    /// Gives claimed events back to the queue, due now (a worker that stops a batch early).
    pub async fn release_events<C: ConnectionTrait>(
        db: &C,
        ids: &[&str],
        worker: &str,
    ) -> StoreResult<u64> {
        let result = release_held(ids, worker, EventStatus::Pending)
            .col_expr(Column::Attempts, Expr::col(Column::Attempts).sub(1))
            .exec(db)
            .await?;
        Ok(result.rows_affected)
    }

    pub async fn get_event(&self, id: &str) -> StoreResult<event::Model> {
        event_by_id(&self.db, id).await
    }

    /// Events newest first, optionally of one status; `cursor` is the last id of the previous page.
    pub async fn list_events(
        &self,
        filter: &EventFilter,
        cursor: Option<&str>,
        limit: u64,
    ) -> StoreResult<EventPage> {
        let mut query = Events::find()
            .filter(filter.condition())
            .order_by(Column::Id, Order::Desc)
            .limit(limit + 1);
        if let Some(cursor) = cursor {
            query = query.filter(Column::Id.lt(cursor));
        }
        let mut items = query.all(&self.db).await?;
        let next_cursor = if items.len() as u64 > limit {
            items.truncate(limit as usize);
            items.last().map(|e| e.id.clone())
        } else {
            None
        };
        Ok(EventPage { items, next_cursor })
    }

    /// Puts one finished event back in the queue, due now. A `processing` event is left alone,
    /// and so is a record of hirelay's own (it is not processed).
    pub async fn replay_event<C: ConnectionTrait>(
        db: &C,
        id: &str,
        now: i64,
    ) -> StoreResult<event::Model> {
        let event = event_by_id(db, id).await?;
        if event.status == EventStatus::Processing.as_str() {
            return Err(StoreError::Conflict(format!(
                "event {id} is being processed right now"
            )));
        }
        if event.source == EventSource::Hirelay.as_str() {
            return Err(StoreError::Conflict(format!(
                "event {id} records what hirelay did itself; it is not processed, so it cannot be replayed"
            )));
        }
        if let Some(note) = crate::domain::personal::purge_note(&event.payload) {
            return Err(StoreError::Conflict(format!("event {id}: {note}")));
        }
        requeue(db, Column::Id.eq(id), now).await?;
        event_by_id(db, id).await
    }

    /// Puts every finished event that matches `filter` back in the queue (not those whose
    /// payload was purged); answers how many.
    pub async fn replay_events<C: ConnectionTrait>(
        db: &C,
        filter: &ReplayFilter,
        now: i64,
    ) -> StoreResult<u64> {
        let mut condition = filter
            .events
            .condition()
            .add(Column::Status.ne(EventStatus::Processing.as_str()))
            .add(Column::Source.ne(EventSource::Hirelay.as_str()))
            // Issue 16: an event whose payload was purged has nothing left to process.
            .add(Column::Payload.not_like(PURGED_PAYLOADS));
        if let Some((script, version)) = &filter.script_version {
            use super::entities::decision;
            let mut decided = Query::select()
                .column(decision::Column::EventId)
                .from(decision::Entity)
                .and_where(decision::Column::ScriptVersion.eq(*version))
                .to_owned();
            if !script.is_empty() {
                decided.and_where(decision::Column::Script.eq(script.as_str()));
            }
            condition = condition.add(Column::Id.in_subquery(decided));
        }
        requeue(db, condition, now).await
    }

    /// Whether any event waits for a worker or is in one's hands (`pending`, `processing`):
    /// false once the queue has drained. Reads the first entry of the status index's open
    /// part, so it stays cheap however many events wait (counting them took 4 ms with 10,000
    /// pending on PostgreSQL, which a benchmark asking every 20 ms took from the workers).
    pub async fn has_open_events(&self) -> StoreResult<bool> {
        let first: Option<String> = Events::find()
            .select_only()
            .column(Column::Id)
            .filter(Column::Status.is_in([
                EventStatus::Pending.as_str(),
                EventStatus::Processing.as_str(),
            ]))
            .limit(1)
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(first.is_some())
    }

    /// How many events are in each status, for `/metrics`.
    pub async fn count_events_by_status(&self) -> StoreResult<HashMap<String, i64>> {
        #[derive(FromQueryResult)]
        struct Row {
            status: String,
            n: i64,
        }
        let rows = Events::find()
            .select_only()
            .column(Column::Status)
            // COUNT(*), not COUNT(id): the count then reads only the status index.
            .column_as(Expr::cust("COUNT(*)"), "n")
            .group_by(Column::Status)
            .into_model::<Row>()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|r| (r.status, r.n)).collect())
    }

    /// Events received within `[since, …)`, oldest first, for dry runs on history.
    pub async fn events_since(
        &self,
        since: Option<i64>,
        source: Option<EventSource>,
        limit: u64,
    ) -> StoreResult<Vec<event::Model>> {
        let mut query = Events::find()
            .order_by(Column::ReceivedAt, Order::Asc)
            .order_by(Column::Id, Order::Asc)
            .limit(limit);
        if let Some(since) = since {
            query = query.filter(Column::ReceivedAt.gte(since));
        }
        if let Some(source) = source {
            query = query.filter(Column::Source.eq(source.as_str()));
        }
        Ok(query.all(&self.db).await?)
    }

    /// Stores a single event outside the ingestion path (events hirelay makes itself, e.g. an
    /// import pulled by the poller). Idempotent on `(source, webhook_id)`.
    pub async fn insert_event(&self, event: NewEvent) -> StoreResult<InsertOutcome> {
        let mut outcomes = self.insert_events(std::slice::from_ref(&event)).await?;
        Ok(outcomes.pop().unwrap_or(InsertOutcome::Accepted))
    }

    /// Records, in `db` (the caller's transaction), something hirelay did itself: an event of
    /// source `hirelay` stored already `done` (or `failed` with the error), so the workers never
    /// claim it and `GET /v1/events` shows it. Answers the event id, or `None` when a record
    /// with the same `webhook_id` exists.
    pub async fn record_own_event<C: ConnectionTrait>(
        db: &C,
        own: OwnEvent,
        now: i64,
    ) -> StoreResult<Option<String>> {
        let id = crate::domain::ids::new_id("evt");
        let payload = own.payload.to_string();
        let status = match own.error {
            None => EventStatus::Done,
            Some(_) => EventStatus::Failed,
        };
        let inserted = Events::insert(event::ActiveModel {
            id: Set(id.clone()),
            source: Set(EventSource::Hirelay.as_str().to_owned()),
            kind: Set(own.kind),
            webhook_id: Set(own.webhook_id),
            body_hash: Set(crate::domain::ids::token_hash_bytes(payload.as_bytes())),
            payload: Set(payload),
            status: Set(status.as_str().to_owned()),
            attempts: Set(1),
            next_attempt_at: Set(now),
            locked_until: Set(None),
            locked_by: Set(None),
            last_error: Set(own.error),
            received_at: Set(now),
            processed_at: Set(Some(now)),
            person_hash: Set(Some(String::new())),
            candidate_id: Set(own.candidate_id),
        })
        .on_conflict(
            OnConflict::columns([Column::Source, Column::WebhookId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
        Ok((inserted == 1).then_some(id))
    }

    /// A fresh model for tests and internal callers.
    pub fn event_active_model(e: &NewEvent) -> event::ActiveModel {
        event::ActiveModel {
            id: Set(e.id.clone()),
            source: Set(e.source.as_str().to_owned()),
            kind: Set(e.kind.clone()),
            webhook_id: Set(e.webhook_id.clone()),
            body_hash: Set(e.body_hash.clone()),
            payload: Set(e.payload.clone()),
            status: Set(EventStatus::Pending.as_str().to_owned()),
            attempts: Set(0),
            next_attempt_at: Set(e.received_at),
            locked_until: Set(None),
            locked_by: Set(None),
            last_error: Set(None),
            received_at: Set(e.received_at),
            processed_at: Set(None),
            person_hash: Set(Some(e.person.address_hash.clone())),
            candidate_id: Set(e.person.candidate_id.clone()),
        }
    }
}

async fn requeue<C: ConnectionTrait>(
    db: &C,
    condition: impl sea_orm::sea_query::IntoCondition,
    now: i64,
) -> StoreResult<u64> {
    let result = Events::update_many()
        .col_expr(Column::Status, Expr::value(EventStatus::Pending.as_str()))
        .col_expr(Column::Attempts, Expr::value(0))
        .col_expr(Column::NextAttemptAt, Expr::value(now))
        .col_expr(Column::LastError, Expr::value(Option::<String>::None))
        .filter(condition)
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// `UPDATE … RETURNING` of the events `which` selects (`?` placeholders for `values`): they
/// become `processing`, held by `worker` until `lease_until`, one attempt more. Oldest first.
async fn claim<C: ConnectionTrait>(
    db: &C,
    which: &str,
    worker: &str,
    lease_until: i64,
    values: Vec<sea_orm::Value>,
) -> StoreResult<Vec<event::Model>> {
    let sql = format!(
        "UPDATE events SET status = 'processing', locked_until = ?, locked_by = ?, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM events WHERE {which}{{lock}}) RETURNING *"
    );
    let values = [lease_until.into(), worker.into()]
        .into_iter()
        .chain(values);
    events_of(db, &sql, values.collect()).await
}

/// The events `sql` answers, oldest first (`?` placeholders for `values`, `{lock}` where
/// PostgreSQL takes row locks: see [`super::statement`]).
async fn events_of<C: ConnectionTrait>(
    db: &C,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> StoreResult<Vec<event::Model>> {
    let statement = super::statement(db.get_database_backend(), sql, values);
    let mut events = event::Model::find_by_statement(statement).all(db).await?;
    events.sort_by(|a, b| (a.received_at, &a.id).cmp(&(b.received_at, &b.id)));
    Ok(events)
}

/// `(source, webhook_id) → (event id, body hash)` of what is stored for the batch's keys.
/// An update of the events `ids` that `worker` still holds: their lease ends and they move to
/// `status` (the caller sets what else changes). Rows another worker took are left alone.
fn release_held(ids: &[&str], worker: &str, status: EventStatus) -> UpdateMany<Events> {
    Events::update_many()
        .col_expr(Column::Status, Expr::value(status.as_str()))
        .col_expr(Column::LockedUntil, Expr::value(Option::<i64>::None))
        .col_expr(Column::LockedBy, Expr::value(Option::<String>::None))
        .filter(Column::Id.is_in(ids.iter().copied()))
        .filter(Column::LockedBy.eq(worker))
        .filter(Column::Status.eq(EventStatus::Processing.as_str()))
}

/// The stored `(id, body_hash)` of each `(source, webhook_id)` of `batch`.
type StoredKeys = HashMap<(String, String), (String, String)>;

/// `INSERT … ON CONFLICT (source, webhook_id) DO NOTHING` of `events` as new pending events.
fn insert_statement(backend: DatabaseBackend, events: &[NewEvent]) -> Statement {
    let mut insert = Query::insert();
    insert.into_table(Events).columns([
        Column::Id,
        Column::Source,
        Column::Kind,
        Column::WebhookId,
        Column::BodyHash,
        Column::Payload,
        Column::Status,
        Column::Attempts,
        Column::NextAttemptAt,
        Column::ReceivedAt,
        Column::PersonHash,
        Column::CandidateId,
    ]);
    for e in events {
        insert.values_panic([
            e.id.clone().into(),
            e.source.as_str().into(),
            e.kind.clone().into(),
            e.webhook_id.clone().into(),
            e.body_hash.clone().into(),
            e.payload.clone().into(),
            EventStatus::Pending.as_str().into(),
            0i32.into(),
            e.received_at.into(),
            e.received_at.into(),
            e.person.address_hash.clone().into(),
            e.person.candidate_id.clone().into(),
        ]);
    }
    insert.on_conflict(
        OnConflict::columns([Column::Source, Column::WebhookId])
            .do_nothing()
            .to_owned(),
    );
    backend.build(&insert)
}

/// What is stored for each event of `batch` after `inserted` of its rows were new: when all
/// were (the usual case) nothing needs reading back.
async fn stored_after_insert<C: ConnectionTrait>(
    db: &C,
    batch: &[NewEvent],
    inserted: u64,
) -> StoreResult<StoredKeys> {
    if inserted == batch.len() as u64 {
        return Ok(batch
            .iter()
            .map(|e| {
                let key = (e.source.as_str().to_owned(), e.webhook_id.clone());
                (key, (e.id.clone(), e.body_hash.clone()))
            })
            .collect());
    }
    stored_keys(db, batch).await
}

async fn stored_keys<C: ConnectionTrait>(db: &C, batch: &[NewEvent]) -> StoreResult<StoredKeys> {
    let mut found = HashMap::with_capacity(batch.len());
    for chunk in batch.chunks(INSERT_CHUNK) {
        let ids: Vec<&str> = chunk.iter().map(|e| e.webhook_id.as_str()).collect();
        let mut sources: Vec<&str> = chunk.iter().map(|e| e.source.as_str()).collect();
        sources.sort_unstable();
        sources.dedup();
        let rows: Vec<(String, String, String, String)> = Events::find()
            .select_only()
            .columns([
                Column::Source,
                Column::WebhookId,
                Column::Id,
                Column::BodyHash,
            ])
            .filter(Column::Source.is_in(sources.iter().copied()))
            .filter(Column::WebhookId.is_in(ids))
            .into_tuple()
            .all(db)
            .await?;
        for (source, webhook_id, id, hash) in rows {
            found.insert((source, webhook_id), (id, hash));
        }
    }
    Ok(found)
}

/// One event; `NotFound` for an unknown id.
async fn event_by_id<C: ConnectionTrait>(db: &C, id: &str) -> StoreResult<event::Model> {
    Events::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("event {id}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::store;

    fn pending(n: usize) -> Vec<NewEvent> {
        (0..n)
            .map(|i| NewEvent {
                id: format!("evt_{i}"),
                source: EventSource::Ats,
                kind: "application.status_changed".into(),
                webhook_id: format!("msg_{i}"),
                body_hash: crate::ingest::body_hash(b"{}"),
                payload: "{}".into(),
                received_at: 1_700_000_000_000 + i as i64,
                person: Default::default(),
            })
            .collect()
    }

    /// `(status, attempts)` of each event, by id.
    async fn states(store: &Store) -> Vec<(String, String, i32)> {
        let mut rows: Vec<(String, String, i32)> = Events::find()
            .select_only()
            .columns([Column::Id, Column::Status, Column::Attempts])
            .into_tuple()
            .all(&store.db)
            .await
            .unwrap();
        rows.sort();
        rows
    }

    #[tokio::test]
    async fn events_taken_by_a_batch_stay_pending_until_it_commits_them_done() {
        let (_dir, store) = store().await;
        store.insert_events(&pending(3)).await.unwrap();
        let txn = store.begin_processing().await.unwrap();
        let taken = Store::take_due_events(&txn, i64::MAX, 2).await.unwrap();
        let ids: Vec<&str> = taken.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["evt_0", "evt_1"], "oldest first, up to the limit");
        // The worker fails (or dies) before it commits: nothing to release, no lease to wait for.
        txn.rollback().await.unwrap();
        let all_pending: Vec<_> = (0..3)
            .map(|i| (format!("evt_{i}"), "pending".to_owned(), 0))
            .collect();
        assert_eq!(states(&store).await, all_pending);
        // Committed: done after one attempt; an event no longer pending is not counted.
        let txn = store.begin_processing().await.unwrap();
        let taken = Store::take_due_events(&txn, i64::MAX, 2).await.unwrap();
        let ids: Vec<&str> = taken.iter().map(|e| e.id.as_str()).collect();
        let finished = Store::finish_taken_events(&txn, &ids, 1).await.unwrap();
        assert_eq!(finished, 2);
        assert_eq!(
            Store::finish_taken_events(&txn, &ids, 1).await.unwrap(),
            0,
            "done already"
        );
        txn.commit().await.unwrap();
        assert_eq!(
            states(&store).await,
            [
                ("evt_0".into(), "done".into(), 1),
                ("evt_1".into(), "done".into(), 1),
                ("evt_2".into(), "pending".into(), 0),
            ]
        );
    }

    #[tokio::test]
    async fn open_events_are_those_pending_or_in_a_workers_hands() {
        let (_dir, store) = store().await;
        store.insert_events(&pending(3)).await.unwrap();
        assert!(store.has_open_events().await.unwrap());
        let txn = store.begin_processing().await.unwrap();
        Store::claim_listed_events(&txn, &["evt_0"], "w1", i64::MAX)
            .await
            .unwrap();
        let taken = Store::take_due_events(&txn, i64::MAX, 3).await.unwrap();
        let ids: Vec<&str> = taken.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["evt_1", "evt_2"]);
        Store::finish_taken_events(&txn, &ids, 1).await.unwrap();
        txn.commit().await.unwrap();
        assert!(
            store.has_open_events().await.unwrap(),
            "evt_0 is in a worker's hands"
        );
        let txn = store.begin_processing().await.unwrap();
        Store::release_events(&txn, &["evt_0"], "w1").await.unwrap();
        txn.commit().await.unwrap();
        assert!(store.has_open_events().await.unwrap(), "evt_0 is pending");
        let txn = store.begin_processing().await.unwrap();
        let taken = Store::take_due_events(&txn, i64::MAX, 3).await.unwrap();
        assert_eq!(taken.len(), 1);
        Store::finish_taken_events(&txn, &["evt_0"], 1)
            .await
            .unwrap();
        txn.commit().await.unwrap();
        assert!(
            !store.has_open_events().await.unwrap(),
            "all three are done"
        );
    }

    /// The three queues' claims (`ORDER BY next_attempt_at, id LIMIT n`) read their index in
    /// order: no sort of every due row, however many are waiting.
    #[tokio::test]
    async fn claims_read_the_due_index_in_order_without_sorting() {
        use sea_orm::{ConnectionTrait, Statement};
        let (_dir, store) = store().await;
        for table in ["events", "mail_outbox", "webhook_deliveries"] {
            let plan: Vec<String> = store
                .db
                .query_all(Statement::from_string(
                    store.backend(),
                    format!(
                        "EXPLAIN QUERY PLAN SELECT * FROM {table} WHERE status = 'pending' \
                         AND next_attempt_at <= 0 ORDER BY next_attempt_at, id LIMIT 10"
                    ),
                ))
                .await
                .unwrap()
                .iter()
                .map(|row| row.try_get_by_index::<String>(3).unwrap())
                .collect();
            assert_eq!(
                plan,
                [format!(
                    "SEARCH {table} USING INDEX {table}_due (status=? AND next_attempt_at<?)"
                )],
                "{table}"
            );
        }
    }

    /// `m0004_claim_order` can be undone and redone: each queue has exactly one claim index
    /// either way.
    #[tokio::test]
    async fn the_claim_index_migration_rolls_back_and_forward() {
        use migrations::{Migrator, MigratorTrait};
        use sea_orm::{ConnectionTrait, Statement};
        let (_dir, store) = store().await;
        let claim_indexes = || async {
            let rows = store
                .db
                .query_all(Statement::from_string(
                    store.backend(),
                    "SELECT name FROM sqlite_master WHERE type = 'index' \
                     AND (name LIKE '%\\_claim' ESCAPE '\\' OR name LIKE '%\\_due' ESCAPE '\\') ORDER BY name",
                ))
                .await
                .unwrap();
            rows.iter()
                .map(|r| r.try_get_by_index::<String>(0).unwrap())
                .collect::<Vec<_>>()
        };
        let due = ["events_due", "mail_outbox_due", "webhook_deliveries_due"];
        assert_eq!(claim_indexes().await, due);
        // Back to where m0003 left the schema.
        let after_m0003 = Migrator::migrations().len() as u32 - 3;
        Migrator::down(&store.db, Some(after_m0003)).await.unwrap();
        assert_eq!(
            claim_indexes().await,
            [
                "events_claim",
                "mail_outbox_claim",
                "webhook_deliveries_claim"
            ]
        );
        Migrator::up(&store.db, None).await.unwrap();
        assert_eq!(claim_indexes().await, due);
    }

    #[tokio::test]
    async fn only_listed_events_still_pending_are_claimed_again() {
        let (_dir, store) = store().await;
        store.insert_events(&pending(3)).await.unwrap();
        let claim = |ids: &'static [&'static str]| {
            let store = store.clone();
            async move {
                let txn = store.begin_processing().await.unwrap();
                let claimed = Store::claim_listed_events(&txn, ids, "w1", i64::MAX)
                    .await
                    .unwrap();
                txn.commit().await.unwrap();
                claimed.into_iter().map(|e| e.id).collect::<Vec<_>>()
            }
        };
        assert_eq!(claim(&["evt_2", "evt_0"]).await, ["evt_0", "evt_2"]);
        // Already held: nobody claims them twice.
        assert_eq!(claim(&["evt_0", "evt_1"]).await, ["evt_1"]);
        assert_eq!(
            states(&store).await,
            [
                ("evt_0".into(), "processing".into(), 1),
                ("evt_1".into(), "processing".into(), 1),
                ("evt_2".into(), "processing".into(), 1),
            ]
        );
    }
}
