//! Issue 16 (APPI): what hirelay keeps only for a while. The `retention` job (daily, once
//! across instances) purges, in bounded batches so no statement holds a table for long:
//! stored webhook payloads of finished events (a purge marker stays, which replays and dry runs
//! report), mail bodies and template data of mails no longer to be sent, decision records'
//! script logs and contexts, candidates with no activity in their window (erased as
//! `DELETE /v1/candidates/{id}` erases, tombstones kept), and audit entries.
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::Serialize;

use super::{statement, Store, StoreResult};
use crate::crypto::AddressKey;
use crate::domain::personal::{purged_payload, PurgedBy};
use crate::domain::time::rfc3339;

/// Rows one statement changes: small enough that webhooks never wait long behind it.
pub const BATCH: u64 = 500;
/// Candidates erased per transaction.
const CANDIDATE_BATCH: u64 = 50;
/// The longest a batch waits for webhooks waiting to be stored (a busy server still purges).
const INGEST_WAIT: std::time::Duration = std::time::Duration::from_millis(250);
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The windows, in days; `0` keeps that kind of data forever.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct RetentionWindows {
    pub payload_days: u32,
    pub mail_body_days: u32,
    pub script_log_days: u32,
    pub candidate_days: u32,
    pub audit_days: u32,
}

/// What one run purged (or, in a dry run, would purge).
#[derive(Clone, Debug, Default, Serialize)]
pub struct RetentionReport {
    pub dry_run: bool,
    pub payloads: u64,
    pub mail_bodies: u64,
    pub script_logs: u64,
    pub candidates: u64,
    pub audit_entries: u64,
    /// Statements (or transactions) the run took: each changed at most [`BATCH`] rows.
    pub batches: u64,
}

#[derive(FromQueryResult)]
struct Count {
    n: i64,
}

#[derive(FromQueryResult)]
struct Id {
    id: String,
}

/// `now` less `days`, or `None` when the window keeps forever.
fn cutoff(now: i64, days: u32) -> Option<i64> {
    (days > 0).then(|| now - i64::from(days) * DAY_MS)
}

/// One kind of data under retention: which rows are due, and what purges them.
///
/// A `due` condition wraps indexed columns in expressions (`received_at + 0`, `status || ''`)
/// so the walk in id order goes through the primary key: SQLite otherwise takes the
/// `(status, …)` index, reads every finished event and sorts them, for every batch (over a
/// million events, 3.2 s a batch instead of 15 ms: quadratic).
struct Purge<'a> {
    table: &'a str,
    /// The condition of a due row, with `?` for the cut-off.
    due: &'a str,
    /// `UPDATE … SET …` or `DELETE FROM …`, to which `WHERE id IN (…)` is added; `values`
    /// are its own.
    apply: &'a str,
    values: Vec<Value>,
    /// Whether the table's `id` is a number (else time-ordered text: `evt_…`, `mail_…`).
    numbered: bool,
}

#[derive(FromQueryResult)]
struct NumberedId {
    id: i64,
}

async fn count<C: ConnectionTrait>(db: &C, purge: &Purge<'_>, at: i64) -> StoreResult<u64> {
    let sql = format!(
        "SELECT COUNT(*) AS n FROM {} WHERE {}",
        purge.table, purge.due
    );
    let found =
        Count::find_by_statement(statement(db.get_database_backend(), &sql, vec![at.into()]))
            .one(db)
            .await?;
    Ok(found.map_or(0, |c| u64::try_from(c.n).unwrap_or(0)))
}

/// The next due ids after `after`, in id order: the walk goes over the table once, however
/// many rows an earlier run left purged in place.
async fn next_due<C: ConnectionTrait>(
    db: &C,
    purge: &Purge<'_>,
    at: i64,
    after: &Value,
) -> StoreResult<Vec<Value>> {
    let sql = format!(
        "SELECT id FROM {} WHERE id > ? AND {} ORDER BY id LIMIT {BATCH}",
        purge.table, purge.due
    );
    let stmt = statement(
        db.get_database_backend(),
        &sql,
        vec![after.clone(), at.into()],
    );
    Ok(if purge.numbered {
        NumberedId::find_by_statement(stmt)
            .all(db)
            .await?
            .into_iter()
            .map(|r| r.id.into())
            .collect()
    } else {
        Id::find_by_statement(stmt)
            .all(db)
            .await?
            .into_iter()
            .map(|r| r.id.into())
            .collect()
    })
}

impl Store {
    /// Applies the windows at `now` (or counts what would go, with `dry_run`).
    pub async fn apply_retention(
        &self,
        windows: &RetentionWindows,
        key: &AddressKey,
        now: i64,
        dry_run: bool,
    ) -> StoreResult<RetentionReport> {
        let mut report = RetentionReport {
            dry_run,
            ..RetentionReport::default()
        };
        let marker = purged_payload(PurgedBy::Retention, &rfc3339(now));
        let purges = [
            (
                cutoff(now, windows.payload_days),
                Purge {
                    table: "events",
                    due: "received_at + 0 < ? AND status || '' IN ('done', 'dead') \
                          AND payload NOT LIKE '{\"purged\"%'",
                    apply: "UPDATE events SET payload = ?, last_error = NULL",
                    values: vec![marker.as_str().into()],
                    numbered: false,
                },
            ),
            (
                cutoff(now, windows.mail_body_days),
                Purge {
                    table: "mail_outbox",
                    due: "created_at + 0 < ? AND status || '' IN ('sent', 'cancelled', 'dead', 'failed') \
                          AND (html <> '' OR text_body <> '' OR data IS NOT NULL)",
                    apply: "UPDATE mail_outbox SET html = '', text_body = '', data = NULL",
                    values: Vec::new(),
                    numbered: false,
                },
            ),
            (
                cutoff(now, windows.script_log_days),
                Purge {
                    table: "decisions",
                    due: "decided_at < ? AND (log <> '[]' OR context IS NOT NULL)",
                    apply: "UPDATE decisions SET log = '[]', context = NULL",
                    values: Vec::new(),
                    numbered: true,
                },
            ),
            (
                cutoff(now, windows.audit_days),
                Purge {
                    table: "audit_log",
                    due: "at < ?",
                    apply: "DELETE FROM audit_log",
                    values: Vec::new(),
                    numbered: true,
                },
            ),
        ];
        let mut counts = [0u64; 4];
        for (slot, (at, purge)) in purges.iter().enumerate() {
            let Some(at) = *at else { continue };
            if dry_run {
                counts[slot] = count(&self.db, purge, at).await?;
                continue;
            }
            let mut after: Value = if purge.numbered {
                i64::MIN.into()
            } else {
                "".into()
            };
            loop {
                let due = next_due(&self.db, purge, at, &after).await?;
                let Some(last) = due.last().cloned() else {
                    break;
                };
                let sql = format!(
                    "{} WHERE id IN ({})",
                    purge.apply,
                    vec!["?"; due.len()].join(", ")
                );
                let mut values = purge.values.clone();
                values.extend(due.iter().cloned());
                // Webhooks first, as for processing: a batch waits while they wait to be stored.
                self.yield_to_ingest(INGEST_WAIT).await;
                let _turn = self.write_turn().await;
                counts[slot] += self
                    .db
                    .execute(statement(self.backend(), &sql, values))
                    .await?
                    .rows_affected();
                report.batches += 1;
                if (due.len() as u64) < BATCH {
                    break;
                }
                after = last;
            }
        }
        [
            report.payloads,
            report.mail_bodies,
            report.script_logs,
            report.audit_entries,
        ] = counts;
        if let Some(at) = cutoff(now, windows.candidate_days) {
            report.candidates = self
                .retire_candidates(at, key, now, dry_run, &mut report.batches)
                .await?;
        }
        if !dry_run {
            self.scrub_freed_space().await;
        }
        Ok(report)
    }

    /// Erases candidates with no activity since `at` (their row, their applications and
    /// invitations all older), [`CANDIDATE_BATCH`] per transaction.
    async fn retire_candidates(
        &self,
        at: i64,
        key: &AddressKey,
        now: i64,
        dry_run: bool,
        batches: &mut u64,
    ) -> StoreResult<u64> {
        const DUE: &str = "FROM candidates c WHERE c.erased_at IS NULL AND c.updated_at < ? \
             AND NOT EXISTS (SELECT 1 FROM applications a WHERE a.candidate_id = c.id AND a.updated_at >= ?) \
             AND NOT EXISTS (SELECT 1 FROM invitations i WHERE i.candidate_id = c.id AND \
                 (i.created_at >= ? OR i.clicked_last_at >= ? OR i.registered_at >= ?))";
        let values = || -> Vec<Value> { (0..5).map(|_| at.into()).collect() };
        if dry_run {
            let sql = format!("SELECT COUNT(*) AS n {DUE}");
            let found = Count::find_by_statement(statement(self.backend(), &sql, values()))
                .one(&self.db)
                .await?;
            return Ok(found.map_or(0, |c| u64::try_from(c.n).unwrap_or(0)));
        }
        let sql = format!("SELECT c.id AS id {DUE} ORDER BY c.id LIMIT {CANDIDATE_BATCH}");
        let mut erased = 0;
        loop {
            let due = Id::find_by_statement(statement(self.backend(), &sql, values()))
                .all(&self.db)
                .await?;
            if due.is_empty() {
                return Ok(erased);
            }
            self.yield_to_ingest(INGEST_WAIT).await;
            let _turn = self.write_turn().await;
            let txn = self.begin_writing().await?;
            for candidate in &due {
                super::erasure::erase_in(&txn, &candidate.id, "retention", key, now).await?;
                erased += 1;
            }
            txn.commit().await?;
            *batches += 1;
            if (due.len() as u64) < CANDIDATE_BATCH {
                return Ok(erased);
            }
        }
    }
}
