//! Issue 16 (APPI): erasing one person from every copy hirelay keeps, in one transaction.
//!
//! Rows that totals count stay, as tombstones without the person's values: the candidate
//! (`erased_at` set, address replaced by `erased:{id}` so a later import of the address is a new
//! person), their applications (without the BizReach and ATS ids, so progress sync never
//! touches them again), status history (it holds no values), invitations (without recipient
//! and registration attributes), mails (without recipient, subject and bodies; scheduled ones
//! cancelled), KPI points (their tags redacted). Stored webhook payloads are replaced by a
//! purge marker ([`crate::domain::personal::purged_payload`]); decision records lose their log
//! and context, their actions and error are redacted; outbound deliveries, audit details are
//! redacted. Consents under the address go; opt-outs stay (a keyed hash, so a person who
//! refused is never invited again).
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult, Value};
use serde::Serialize;

use super::person_lookup::{
    address_patterns, any_like, application_ids, contains, each_chunk, exec, foreign_ids,
    invitation_ids, marks, person_events, person_mails, quoted, rows, rows_of_events, NumberedText,
    TextRow, CHUNK,
};
use super::{Store, StoreError, StoreResult};
use crate::crypto::AddressKey;
use crate::domain::email::Email;
use crate::domain::personal::{purged_payload, PersonalValues, PurgedBy, ERASED};
use crate::domain::time::rfc3339;
use crate::store::entities::candidate;

/// What an erasure changed, by place (counts only: never the values).
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Erasure {
    pub candidate_id: String,
    /// The candidate had been erased before: nothing was left to change.
    pub already_erased: bool,
    pub applications: u64,
    pub events: u64,
    pub decisions: u64,
    pub invitations: u64,
    pub mails: u64,
    pub kpi_records: u64,
    pub webhook_deliveries: u64,
    pub audit_entries: u64,
    pub consents: u64,
    /// `.eml` files removed from the data directory (after the commit).
    pub files: u64,
    /// The outbox rows whose files are removed after the commit.
    #[serde(skip)]
    pub mail_ids: Vec<String>,
    /// The person's address, to find files of mails written before they were named by row.
    #[serde(skip)]
    pub address: String,
}

#[derive(FromQueryResult)]
struct DecisionText {
    id: i64,
    actions: String,
    error: Option<String>,
}

impl Store {
    /// Erases candidate `id` (see the [module](self)), recording who did it in the audit log
    /// without the values. `NotFound` for an unknown id; an erased one answers
    /// `already_erased`.
    pub async fn erase_candidate(
        &self,
        id: &str,
        actor: &str,
        key: &AddressKey,
        now: i64,
    ) -> StoreResult<Erasure> {
        let _turn = self.write_turn().await;
        let txn = self.begin_writing().await?;
        let erasure = erase_in(&txn, id, actor, key, now).await?;
        txn.commit().await?;
        if !erasure.already_erased {
            self.scrub_freed_space().await;
        }
        Ok(erasure)
    }

    /// The candidate with this normalised address, if hirelay holds one.
    pub async fn candidate_by_email<C: ConnectionTrait>(
        db: &C,
        email: &Email,
    ) -> StoreResult<Option<candidate::Model>> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        Ok(candidate::Entity::find()
            .filter(candidate::Column::Email.eq(email.as_str()))
            .one(db)
            .await?)
    }

    /// SQLite keeps the pages a transaction replaced in its write-ahead log until a checkpoint:
    /// after an erasure the log is checkpointed and truncated so no copy of the old pages stays
    /// on disk (freed space inside the database is zeroed as it is freed: `secure_delete`).
    /// Best effort: a reader holding an old snapshot makes the truncation wait for the next.
    pub(super) async fn scrub_freed_space(&self) {
        if self.is_postgres() {
            return;
        }
        for _ in 0..5 {
            let done = self
                .db
                .query_one(sea_orm::Statement::from_string(
                    self.backend(),
                    "PRAGMA wal_checkpoint(TRUNCATE)",
                ))
                .await;
            match done {
                Ok(Some(row)) if row.try_get_by_index::<i32>(0).unwrap_or(1) == 0 => return,
                Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
                Err(e) => {
                    tracing::warn!(error = %e, "checkpoint after an erasure failed");
                    return;
                }
            }
        }
        tracing::warn!("the write-ahead log could not be truncated after an erasure: readers held it; the next checkpoint will");
    }
}

pub(super) async fn erase_in(
    txn: &DatabaseTransaction,
    id: &str,
    actor: &str,
    key: &AddressKey,
    now: i64,
) -> StoreResult<Erasure> {
    use sea_orm::EntityTrait;
    let person = candidate::Entity::find_by_id(id.to_owned())
        .one(txn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("candidate `{id}`")))?;
    let mut erasure = Erasure {
        candidate_id: person.id.clone(),
        ..Erasure::default()
    };
    if person.erased_at.is_some() {
        erasure.already_erased = true;
        return Ok(erasure);
    }
    let applications = application_ids(txn, &person.id).await?;
    let invitations = invitation_ids(txn, &person.id).await?;
    let app_ids: Vec<String> = applications.iter().map(|a| a.id.clone()).collect();

    let registrations: Vec<&str> = invitations
        .iter()
        .filter_map(|i| i.registration_attributes.as_deref())
        .collect();
    let mut attributes = vec![person.attributes.as_str()];
    attributes.extend(registrations);
    let mut values = PersonalValues::of(
        &person.email,
        &person.name,
        person.phone.as_deref(),
        person.bizreach_candidate_id.as_deref(),
        &attributes,
    );
    let foreign_ids = foreign_ids(&applications);
    foreign_ids.iter().for_each(|id| values.add(id));

    let events = person_events(txn, &person, key, &app_ids, &foreign_ids, &invitations).await?;
    erasure.events = purge_events(txn, &events, now).await?;
    erasure.decisions = redact_decisions(txn, &events, &values).await?;
    erasure.kpi_records = redact_kpis(txn, &events, &values).await?;
    erasure.mail_ids = person_mails(txn, &person, &app_ids, &events, &invitations).await?;
    erasure.mails = erase_mails(txn, &erasure.mail_ids).await?;
    erasure.webhook_deliveries = redact_deliveries(txn, &app_ids, &person, &values).await?;
    erasure.invitations = exec(
        txn,
        "UPDATE invitations SET recipient = NULL, registration_attributes = NULL, \
         consent_method = NULL WHERE candidate_id = ?",
        vec![person.id.as_str().into()],
    )
    .await?;
    erasure.applications = exec(
        txn,
        "UPDATE applications SET source_application_id = NULL, ats_application_id = NULL, \
         updated_at = ? WHERE candidate_id = ?",
        vec![now.into(), person.id.as_str().into()],
    )
    .await?;
    if let Ok(address) = Email::parse(&person.email) {
        erasure.consents = exec(
            txn,
            "DELETE FROM consents WHERE address_hash = ?",
            vec![key.hash(&address).as_str().into()],
        )
        .await?;
    }
    exec(
        txn,
        "UPDATE candidates SET email = ?, name = '', phone = NULL, attributes = '{}', \
         bizreach_candidate_id = NULL, erased_at = ?, updated_at = ? WHERE id = ?",
        vec![
            format!("erased:{}", person.id).into(),
            now.into(),
            now.into(),
            person.id.as_str().into(),
        ],
    )
    .await?;
    erasure.audit_entries = redact_audit(txn, &person, &app_ids, &values).await?;
    Store::audit_candidate(
        txn,
        actor,
        "candidate.erase",
        &person.id,
        Some(&person.id),
        serde_json::to_value(&erasure).unwrap_or_default(),
    )
    .await?;
    erasure.address = person.email.clone();
    Ok(erasure)
}

async fn purge_events<C: ConnectionTrait>(db: &C, events: &[String], now: i64) -> StoreResult<u64> {
    let marker = purged_payload(PurgedBy::Erasure, &rfc3339(now));
    each_chunk(
        db,
        "UPDATE events SET payload = ?, last_error = NULL WHERE id IN ({in}) \
         AND payload NOT LIKE '{\"purged\"%'",
        &[marker.into()],
        events,
    )
    .await
}

/// Decision records of the person's events: no log, no context; actions and error redacted.
async fn redact_decisions<C: ConnectionTrait>(
    db: &C,
    events: &[String],
    values: &PersonalValues,
) -> StoreResult<u64> {
    let mut changed = 0;
    for chunk in events.chunks(CHUNK) {
        let found: Vec<DecisionText> = rows_of_events(
            db,
            "SELECT id, actions, error FROM decisions WHERE event_id IN (",
            chunk,
        )
        .await?;
        for d in found {
            changed += exec(
                db,
                "UPDATE decisions SET log = '[]', context = NULL, actions = ?, error = ? WHERE id = ?",
                vec![
                    values.redact_stored(&d.actions).into(),
                    d.error.map(|e| values.redact_text(&e)).into(),
                    d.id.into(),
                ],
            )
            .await?;
        }
    }
    Ok(changed)
}

/// KPI points of the person's events: values kept (totals stay), tags redacted, and the
/// dedupe key (which holds the tags) replaced.
async fn redact_kpis<C: ConnectionTrait>(
    db: &C,
    events: &[String],
    values: &PersonalValues,
) -> StoreResult<u64> {
    let mut changed = 0;
    for chunk in events.chunks(CHUNK) {
        let found: Vec<NumberedText> = rows_of_events(
            db,
            "SELECT id, tags AS text FROM kpi_records WHERE event_id IN (",
            chunk,
        )
        .await?;
        for k in found {
            let tags = values.redact_stored(k.text.as_deref().unwrap_or("{}"));
            changed += exec(
                db,
                "UPDATE kpi_records SET tags = ?, dedupe_key = ? WHERE id = ?",
                vec![tags.into(), format!("erased:{}", k.id).into(), k.id.into()],
            )
            .await?;
        }
    }
    Ok(changed)
}

/// Mails keep their status and times (the funnel counts sent invitations); scheduled ones
/// are cancelled.
async fn erase_mails<C: ConnectionTrait>(db: &C, mails: &[String]) -> StoreResult<u64> {
    each_chunk(
        db,
        "UPDATE mail_outbox SET recipient = ?, subject = '', html = '', text_body = '', \
         headers = '{}', data = NULL, last_error = NULL, dedupe_key = 'erased:' || id, \
         cancel_reason = CASE WHEN status = 'scheduled' THEN 'the candidate was erased' ELSE cancel_reason END, \
         status = CASE WHEN status = 'scheduled' THEN 'cancelled' ELSE status END \
         WHERE id IN ({in})",
        &[ERASED.into()],
        mails,
    )
    .await
}

/// Outbound deliveries about the person: payload redacted; pending ones are not sent.
async fn redact_deliveries<C: ConnectionTrait>(
    db: &C,
    app_ids: &[String],
    person: &candidate::Model,
    values: &PersonalValues,
) -> StoreResult<u64> {
    let mut patterns: Vec<String> = app_ids.iter().map(|a| quoted(a).to_lowercase()).collect();
    patterns.extend(address_patterns(&person.email));
    patterns.push(quoted(&person.id).to_lowercase());
    let mut found: Vec<TextRow> = Vec::new();
    for chunk in patterns.chunks(CHUNK) {
        let sql = format!(
            "SELECT id, payload AS text FROM webhook_deliveries WHERE {}",
            any_like("LOWER(payload)", chunk.len())
        );
        found.extend(
            rows::<TextRow, _>(db, &sql, chunk.iter().map(|p| p.as_str().into()).collect()).await?,
        );
    }
    found.sort_by(|a, b| a.id.cmp(&b.id));
    found.dedup_by(|a, b| a.id == b.id);
    let mut changed = 0;
    for d in found {
        changed += exec(
            db,
            "UPDATE webhook_deliveries SET payload = ?, last_error = NULL, \
             status = CASE WHEN status = 'pending' THEN 'dead' ELSE status END WHERE id = ?",
            vec![
                values
                    .redact_stored(d.text.as_deref().unwrap_or("{}"))
                    .into(),
                d.id.into(),
            ],
        )
        .await?;
    }
    Ok(changed)
}

/// Audit entries about the person (by candidate or application, or naming a value): details
/// redacted; who did what and when stays.
async fn redact_audit<C: ConnectionTrait>(
    db: &C,
    person: &candidate::Model,
    app_ids: &[String],
    values: &PersonalValues,
) -> StoreResult<u64> {
    // An empty name would match every entry: it is looked for only when it is a value.
    let name = Some(person.name.trim()).filter(|n| values.found_in(n) && !n.is_empty());
    let mut patterns: Vec<Value> = address_patterns(&person.email)
        .into_iter()
        .map(Value::from)
        .collect();
    patterns.extend(name.map(|n| Value::from(contains(n))));
    let sql = format!(
        "SELECT id, detail AS text FROM audit_log WHERE candidate_id = ? OR {}",
        any_like("LOWER(detail)", patterns.len())
    );
    let mut values_in = vec![Value::from(person.id.as_str())];
    values_in.extend(patterns);
    let mut found: Vec<NumberedText> = rows(db, &sql, values_in).await?;
    for chunk in app_ids.chunks(CHUNK) {
        found.extend(
            rows::<NumberedText, _>(
                db,
                &format!(
                    "SELECT id, detail AS text FROM audit_log WHERE target IN ({})",
                    marks(chunk.len())
                ),
                chunk.iter().map(|a| Value::from(a.as_str())).collect(),
            )
            .await?,
        );
    }
    let mut changed = 0;
    for entry in found {
        let detail = entry.text.unwrap_or_default();
        let redacted = values.redact_stored(&detail);
        if redacted != detail {
            changed += exec(
                db,
                "UPDATE audit_log SET detail = ? WHERE id = ?",
                vec![redacted.into(), entry.id.into()],
            )
            .await?;
        }
    }
    Ok(changed)
}
