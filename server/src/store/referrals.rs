//! Career Relay's side of the ledger: referrals, each a free slot used, with the outcomes Career
//! Relay reports for them (C1, C6), and the counts the ledger is computed from; and the
//! rejections of a period with how far each got, for the funnel (C5, C7).
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, Statement,
};

use super::entities::referral::{self, Column};
use super::{Store, StoreError, StoreResult};
use crate::domain::payload::ReferralOutcome;

/// What the ledger counts: rejected candidates who registered, and referrals by how far they got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReferralCounts {
    /// Candidates (each once, however many of their invitations) who registered with Career Relay.
    pub registered: u64,
    /// Referrals reported: each used one slot.
    pub referrals: u64,
    pub hired: u64,
    pub joined: u64,
    pub retained: u64,
    pub left: u64,
}

/// A rejected application and how far its candidate got down the funnel (times in unix ms).
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct Rejection {
    pub application_id: String,
    pub rejected_at: i64,
    /// The selection stage and the reason the ATS gave with the rejection.
    pub stage: Option<String>,
    pub reason: Option<String>,
    /// When the invitation email was sent (not only queued).
    pub invitation_sent_at: Option<i64>,
    pub link_clicked_at: Option<i64>,
    pub registered_at: Option<i64>,
    /// The candidate's attributes (JSON), for the breakdown by attribute (C7).
    pub candidate_attributes: Option<String>,
    /// The candidate, to find the registration that earned a slot (C1).
    pub candidate_id: Option<String>,
}

/// The rows and columns of [`REJECTIONS`], before its filter.
macro_rules! rejections_from {
    () => {
        "SELECT h.application_id, h.changed_at AS rejected_at, h.stage, h.reason, \
         m.sent_at AS invitation_sent_at, i.clicked_first_at AS link_clicked_at, i.registered_at, \
         c.attributes AS candidate_attributes, a.candidate_id \
         FROM application_history h \
         LEFT JOIN applications a ON a.id = h.application_id \
         LEFT JOIN candidates c ON c.id = a.candidate_id \
         LEFT JOIN invitations i ON i.application_id = h.application_id \
         LEFT JOIN mail_outbox m ON m.id = i.outbox_id AND m.status = 'sent' "
    };
}

/// Applied rejections with their invitation's progress; completed with a filter on `h` and
/// [`REJECTIONS_ORDER`].
pub(crate) const REJECTIONS: &str = concat!(
    rejections_from!(),
    "WHERE h.to_status = 'rejected' AND h.applied = ?"
);

/// [`REJECTIONS`] to complete with `AND h.application_id IN (…)`: the status is compared as an
/// expression, so no index on it serves the query and the applications' history index does.
/// Without that, SQLite (which has no statistics) read every rejection in the history by the
/// status index, for its order, to find a batch's few: each batch took longer than the last.
pub(crate) const REJECTIONS_OF_APPLICATIONS: &str = concat!(
    rejections_from!(),
    "WHERE h.to_status || '' = 'rejected' AND h.applied = ?"
);

/// The order [`first_of_each`] needs.
pub(crate) const REJECTIONS_ORDER: &str = "ORDER BY h.changed_at, h.id";

/// Each application once, at its first rejection, of rows in [`REJECTIONS_ORDER`].
pub(crate) fn first_of_each(rows: Vec<Rejection>) -> Vec<Rejection> {
    let mut seen = std::collections::HashSet::new();
    rows.into_iter()
        .filter(|r| seen.insert(r.application_id.clone()))
        .collect()
}

/// A candidate's first registration with Career Relay (unix ms): the ledger counts each
/// candidate once, from this time on (C1).
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct FirstRegistration {
    pub candidate_id: String,
    pub registered_at: i64,
}

/// The column that keeps when `outcome` was first reported.
fn column_of(outcome: ReferralOutcome) -> Column {
    match outcome {
        ReferralOutcome::SlotUsed => Column::SlotUsedAt,
        ReferralOutcome::Hired => Column::HiredAt,
        ReferralOutcome::Joined => Column::JoinedAt,
        ReferralOutcome::Retained => Column::RetainedAt,
        ReferralOutcome::Left => Column::LeftAt,
    }
}

impl Store {
    /// Records that Career Relay reported `outcome` for referral `id` at `at`. The referral is
    /// created by its first report, whichever outcome that is (a hire reported first still used
    /// a slot); each outcome keeps the time of its first report, so a redelivered or replayed
    /// report changes nothing.
    pub async fn record_referral_outcome<C: ConnectionTrait>(
        db: &C,
        id: &str,
        outcome: ReferralOutcome,
        at: i64,
        now: i64,
    ) -> StoreResult<()> {
        let new = referral::Model {
            id: id.to_owned(),
            slot_used_at: None,
            hired_at: None,
            joined_at: None,
            retained_at: None,
            left_at: None,
            created_at: now,
            updated_at: now,
        };
        referral::Entity::insert(referral::ActiveModel::from(new))
            .on_conflict(OnConflict::column(Column::Id).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
        let column = column_of(outcome);
        referral::Entity::update_many()
            .col_expr(column, Expr::value(at))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Id.eq(id))
            .filter(column.is_null())
            .exec(db)
            .await?;
        Ok(())
    }

    pub async fn get_referral<C: ConnectionTrait>(
        db: &C,
        id: &str,
    ) -> StoreResult<Option<referral::Model>> {
        Ok(referral::Entity::find_by_id(id).one(db).await?)
    }

    /// The applications rejected in `[from, to)` (each at its first rejection there), oldest
    /// first, with their invitation's progress.
    pub async fn rejections_between<C: ConnectionTrait>(
        db: &C,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<Rejection>> {
        let sql =
            format!("{REJECTIONS} AND h.changed_at >= ? AND h.changed_at < ? {REJECTIONS_ORDER}");
        let values = vec![true.into(), from.into(), to.into()];
        let rows =
            Rejection::find_by_statement(super::statement(db.get_database_backend(), &sql, values))
                .all(db)
                .await?;
        Ok(first_of_each(rows))
    }

    /// Every registered candidate's first registration, in the order they registered (ties by
    /// candidate): the `ratio`-th, `2·ratio`-th … of them earned the slots (C1).
    pub async fn first_registrations<C: ConnectionTrait>(
        db: &C,
    ) -> StoreResult<Vec<FirstRegistration>> {
        // Every registration by the `invitations_registered` index, the first of each
        // candidate kept here: grouped in SQL, SQLite walked every invitation in candidate
        // order (0.5 s over a million invitations).
        let sql = "SELECT candidate_id, registered_at FROM invitations \
             WHERE registered_at IS NOT NULL ORDER BY registered_at, candidate_id";
        let rows = FirstRegistration::find_by_statement(Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .all(db)
        .await?;
        let mut seen = std::collections::HashSet::new();
        Ok(rows
            .into_iter()
            .filter(|r| seen.insert(r.candidate_id.clone()))
            .collect())
    }

    /// Every referral, oldest first.
    pub async fn referrals<C: ConnectionTrait>(db: &C) -> StoreResult<Vec<referral::Model>> {
        Ok(referral::Entity::find()
            .order_by_asc(Column::CreatedAt)
            .all(db)
            .await?)
    }

    /// Rejected candidates (each once) who had registered with Career Relay before `to`: the
    /// ledger's `registered` as it stood then (the monthly report's ledger at the month's end).
    pub async fn registered_candidates_before<C: ConnectionTrait>(
        db: &C,
        to: i64,
    ) -> StoreResult<u64> {
        let sql = "SELECT COUNT(DISTINCT candidate_id) FROM invitations \
             WHERE registered_at IS NOT NULL AND registered_at < ?";
        let statement = super::statement(db.get_database_backend(), sql, vec![to.into()]);
        let row = db
            .query_one(statement)
            .await?
            .ok_or_else(|| StoreError::Corrupt("a count answered no row".into()))?;
        Ok(row.try_get_by_index::<i64>(0)?.max(0) as u64)
    }

    /// The counts of the Career Relay ledger, read in one statement.
    pub async fn referral_counts<C: ConnectionTrait>(db: &C) -> StoreResult<ReferralCounts> {
        let sql = "SELECT \
             (SELECT COUNT(DISTINCT candidate_id) FROM invitations WHERE registered_at IS NOT NULL), \
             COUNT(*), COUNT(hired_at), COUNT(joined_at), COUNT(retained_at), COUNT(left_at) \
             FROM referrals";
        let row = db
            .query_one(Statement::from_string(db.get_database_backend(), sql))
            .await?
            .ok_or_else(|| StoreError::Corrupt("the ledger's counts answered no row".into()))?;
        let count =
            |i: usize| -> StoreResult<u64> { Ok(row.try_get_by_index::<i64>(i)?.max(0) as u64) };
        Ok(ReferralCounts {
            registered: count(0)?,
            referrals: count(1)?,
            hired: count(2)?,
            joined: count(3)?,
            retained: count(4)?,
            left: count(5)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::store;

    /// C6: each outcome keeps its first report; a repeated report changes nothing; a hire
    /// reported before any `slot_used` still counts as a referral.
    #[tokio::test]
    async fn c6_referral_outcomes_keep_their_first_report() {
        let (_dir, store) = store().await;
        let db = &store.db;
        Store::record_referral_outcome(db, "r1", ReferralOutcome::SlotUsed, 100, 1)
            .await
            .unwrap();
        Store::record_referral_outcome(db, "r1", ReferralOutcome::Hired, 200, 2)
            .await
            .unwrap();
        Store::record_referral_outcome(db, "r1", ReferralOutcome::Hired, 300, 3)
            .await
            .unwrap();
        Store::record_referral_outcome(db, "r2", ReferralOutcome::Hired, 400, 4)
            .await
            .unwrap();
        let r1 = Store::get_referral(db, "r1").await.unwrap().unwrap();
        assert_eq!((r1.slot_used_at, r1.hired_at), (Some(100), Some(200)));
        assert_eq!((r1.created_at, r1.updated_at), (1, 2));
        let counts = Store::referral_counts(db).await.unwrap();
        assert_eq!(
            counts,
            ReferralCounts {
                registered: 0,
                referrals: 2,
                hired: 2,
                ..ReferralCounts::default()
            }
        );
    }
}
