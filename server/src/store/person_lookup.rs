//! Issue 16: where one person's rows are, for an erasure ([`super::erasure`]) and an export
//! ([`super::personal_data`]): by their ids through indexes (stored events by the person
//! recorded with them), and by their values where only text names them (outbound deliveries,
//! audit details, events stored before m0018 not recorded yet), with one scan of each such
//! table for all the values.
use std::collections::BTreeSet;

use sea_orm::{ConnectionTrait, FromQueryResult, Value};

use super::{statement, StoreResult};
use crate::crypto::AddressKey;
use crate::domain::email::Email;
use crate::store::entities::candidate;

/// Rows per statement when a list of ids goes into `IN (…)`.
pub(super) const CHUNK: usize = 500;

#[derive(FromQueryResult)]
pub(super) struct Id {
    pub(super) id: String,
}

#[derive(FromQueryResult)]
pub(super) struct TextRow {
    pub(super) id: String,
    pub(super) text: Option<String>,
}

#[derive(FromQueryResult)]
pub(super) struct NumberedText {
    pub(super) id: i64,
    pub(super) text: Option<String>,
}

#[derive(FromQueryResult)]
pub(super) struct ApplicationIds {
    pub(super) id: String,
    pub(super) source_application_id: Option<String>,
    pub(super) ats_application_id: Option<String>,
}

#[derive(FromQueryResult)]
pub(super) struct InvitationIds {
    pub(super) outbox_id: Option<String>,
    pub(super) event_id: Option<String>,
    pub(super) registration_attributes: Option<String>,
}

/// `?, ?, …` for `n` values.
pub(super) fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// `text` for a `LIKE` pattern with `ESCAPE '!'` (its `%`, `_` and `!` escaped).
pub(super) fn escaped(text: &str) -> String {
    text.replace('!', "!!")
        .replace('%', "!%")
        .replace('_', "!_")
}

/// `(column LIKE ? ESCAPE '!' OR …)` for `n` patterns: one scan of the table for all of them.
pub(super) fn any_like(column: &str, n: usize) -> String {
    let each = format!("{column} LIKE ? ESCAPE '!'");
    format!("({})", vec![each; n].join(" OR "))
}

/// `LIKE` patterns (lowercase) finding a whole address in text: between quotes, spaces, angle
/// brackets or after a colon, so `b863@example.jp` never finds `b1863@example.jp`.
pub(super) fn address_patterns(address: &str) -> Vec<String> {
    let address = escaped(&address.to_lowercase());
    let mut patterns = Vec::new();
    for before in ["\"", " ", "<", ":"] {
        for after in ["\"", " ", ">", ","] {
            patterns.push(format!("%{before}{address}{after}%"));
        }
    }
    patterns
}

/// A `LIKE` pattern finding `text` as a whole JSON string (`"text"`).
pub(super) fn quoted(text: &str) -> String {
    contains(&format!("\"{text}\""))
}

/// A `LIKE` pattern finding `text` anywhere.
pub(super) fn contains(text: &str) -> String {
    format!("%{}%", escaped(text))
}

pub(super) async fn exec<C: ConnectionTrait>(
    db: &C,
    sql: &str,
    values: Vec<Value>,
) -> StoreResult<u64> {
    Ok(db
        .execute(statement(db.get_database_backend(), sql, values))
        .await?
        .rows_affected())
}

pub(super) async fn rows<T: FromQueryResult, C: ConnectionTrait>(
    db: &C,
    sql: &str,
    values: Vec<Value>,
) -> StoreResult<Vec<T>> {
    Ok(
        T::find_by_statement(statement(db.get_database_backend(), sql, values))
            .all(db)
            .await?,
    )
}

/// The rows of `select` (a query ending in `IN (`, which the marks and `)` complete) for one
/// chunk of event ids.
pub(super) async fn rows_of_events<T: FromQueryResult, C: ConnectionTrait>(
    db: &C,
    select: &str,
    events: &[String],
) -> StoreResult<Vec<T>> {
    let sql = format!("{select}{})", marks(events.len()));
    let ids = events.iter().map(|e| Value::from(e.as_str())).collect();
    rows(db, &sql, ids).await
}

/// Runs `sql` (with `{in}` where the list goes, after `before` values) over `ids` in chunks.
pub(super) async fn each_chunk<C: ConnectionTrait>(
    db: &C,
    sql: &str,
    before: &[Value],
    ids: &[String],
) -> StoreResult<u64> {
    let mut changed = 0;
    for chunk in ids.chunks(CHUNK) {
        let mut values = before.to_vec();
        values.extend(chunk.iter().map(|id| Value::from(id.as_str())));
        changed += exec(db, &sql.replace("{in}", &marks(chunk.len())), values).await?;
    }
    Ok(changed)
}

/// Ids answered by `sql` (selecting `id`, `{in}` for the list) over `ids` in chunks.
pub(super) async fn ids_by_chunk<C: ConnectionTrait>(
    db: &C,
    sql: &str,
    ids: &[String],
) -> StoreResult<Vec<String>> {
    let mut found = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let values = chunk.iter().map(|id| Value::from(id.as_str())).collect();
        let got: Vec<Id> = rows(db, &sql.replace("{in}", &marks(chunk.len())), values).await?;
        found.extend(got.into_iter().map(|r| r.id));
    }
    Ok(found)
}

/// The BizReach and ATS ids of applications.
pub(super) fn foreign_ids(applications: &[ApplicationIds]) -> Vec<String> {
    applications
        .iter()
        .flat_map(|a| [&a.source_application_id, &a.ats_application_id])
        .flatten()
        .cloned()
        .collect()
}

/// The person's applications' ids.
pub(super) async fn application_ids<C: ConnectionTrait>(
    db: &C,
    candidate: &str,
) -> StoreResult<Vec<ApplicationIds>> {
    rows(
        db,
        "SELECT id, source_application_id, ats_application_id FROM applications WHERE candidate_id = ?",
        vec![candidate.into()],
    )
    .await
}

/// What the person's invitations point at.
pub(super) async fn invitation_ids<C: ConnectionTrait>(
    db: &C,
    candidate: &str,
) -> StoreResult<Vec<InvitationIds>> {
    rows(
        db,
        "SELECT outbox_id, event_id, registration_attributes FROM invitations WHERE candidate_id = ?",
        vec![candidate.into()],
    )
    .await
}

/// Every stored event about the person, by index: those their applications' history and
/// invitations name, those recorded as theirs when stored (`candidate_id`) or as naming their
/// address (`person_hash`, m0018). Events stored before m0018 whose person is not recorded yet
/// (`person_hash` NULL, found through the same index) are found by their text: payloads holding
/// the address or the applications' foreign ids, decision contexts naming an application.
pub(super) async fn person_events<C: ConnectionTrait>(
    db: &C,
    person: &candidate::Model,
    key: &AddressKey,
    app_ids: &[String],
    foreign_ids: &[String],
    invitations: &[InvitationIds],
) -> StoreResult<Vec<String>> {
    let mut events: BTreeSet<String> = invitations
        .iter()
        .filter_map(|i| i.event_id.clone())
        .collect();
    events.extend(
        ids_by_chunk(
            db,
            "SELECT DISTINCT event_id AS id FROM application_history \
             WHERE application_id IN ({in}) AND event_id IS NOT NULL",
            app_ids,
        )
        .await?,
    );
    let mut recorded: Vec<Id> = rows(
        db,
        "SELECT id FROM events WHERE candidate_id = ?",
        vec![person.id.as_str().into()],
    )
    .await?;
    if let Ok(address) = Email::parse(&person.email) {
        recorded.extend(
            rows::<Id, _>(
                db,
                "SELECT id FROM events WHERE person_hash = ?",
                vec![key.hash(&address).as_str().into()],
            )
            .await?,
        );
    }
    events.extend(recorded.into_iter().map(|r| r.id));
    events.extend(unrecorded_events(db, person, app_ids, foreign_ids).await?);
    Ok(events.into_iter().collect())
}

/// Of the events whose person is not recorded yet, those naming the person in their text.
async fn unrecorded_events<C: ConnectionTrait>(
    db: &C,
    person: &candidate::Model,
    app_ids: &[String],
    foreign_ids: &[String],
) -> StoreResult<Vec<String>> {
    let mut events = Vec::new();
    // Ids as JSON strings, quotes included: `app_b1` is not `app_b12`.
    let contexts: Vec<String> = app_ids.iter().map(|a| quoted(a)).collect();
    for chunk in contexts.chunks(CHUNK) {
        let sql = format!(
            "SELECT d.event_id AS id FROM events e JOIN decisions d ON d.event_id = e.id \
             WHERE e.person_hash IS NULL AND {}",
            any_like("d.context", chunk.len())
        );
        let named: Vec<Id> =
            rows(db, &sql, chunk.iter().map(|p| p.as_str().into()).collect()).await?;
        events.extend(named.into_iter().map(|r| r.id));
    }
    let mut patterns = address_patterns(&person.email);
    patterns.extend(foreign_ids.iter().map(|id| quoted(id).to_lowercase()));
    let sql = format!(
        "SELECT id FROM events WHERE person_hash IS NULL AND {}",
        any_like("LOWER(payload)", patterns.len())
    );
    let found: Vec<Id> = rows(db, &sql, patterns.into_iter().map(Value::from).collect()).await?;
    events.extend(found.into_iter().map(|r| r.id));
    Ok(events)
}

/// The outbox rows about the person: their invitations' mails, mails to their address, and
/// mails their events queued (notifications of their application, a script's `email`).
pub(super) async fn person_mails<C: ConnectionTrait>(
    db: &C,
    person: &candidate::Model,
    app_ids: &[String],
    events: &[String],
    invitations: &[InvitationIds],
) -> StoreResult<Vec<String>> {
    let mut mails: BTreeSet<String> = invitations
        .iter()
        .filter_map(|i| i.outbox_id.clone())
        .collect();
    let to: Vec<Id> = rows(
        db,
        "SELECT id FROM mail_outbox WHERE recipient = ?",
        vec![person.email.as_str().into()],
    )
    .await?;
    mails.extend(to.into_iter().map(|r| r.id));
    let keys: Vec<String> = app_ids.iter().map(|a| format!("invite:{a}")).collect();
    mails.extend(
        ids_by_chunk(
            db,
            "SELECT id FROM mail_outbox WHERE dedupe_key IN ({in})",
            &keys,
        )
        .await?,
    );
    for event in events {
        // `{event}:…` as a range of the unique index (`;` follows `:`).
        let queued: Vec<Id> = rows(
            db,
            "SELECT id FROM mail_outbox WHERE dedupe_key > ? AND dedupe_key < ?",
            vec![format!("{event}:").into(), format!("{event};").into()],
        )
        .await?;
        mails.extend(queued.into_iter().map(|r| r.id));
    }
    Ok(mails.into_iter().collect())
}
