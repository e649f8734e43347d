//! The funnel's counters (migration `m0015_funnel_aggregates`), so that `GET /v1/kpis/funnel`
//! reads a few hundred counters instead of every rejection and KPI point:
//!
//! - `funnel_rejections`: each rejected application once, with the time it reached each
//!   candidate-side step, as [`Store::rejections_between`] derives it from the history, the
//!   invitation and its mail. Every write that can change one of those
//!   ([`Store::insert_history`], a mail marked sent, a click, a registration, an invitation
//!   pointed at another mail) calls [`Store::refresh_funnel`] in its own transaction.
//! - `funnel_days`: per day (JST), step, stage and reason, how many rejections reached the step
//!   then. A step that happened before its own rejection (an ATS clock ahead of ours) is not
//!   counted there: its row is flagged `early` and read one by one.
//! - `kpi_days`: per day and name, the KPI points recorded ([`Store::record_kpis`]).
use std::collections::{BTreeMap, HashMap};

use sea_orm::{ConnectionTrait, FromQueryResult, Value};

use super::referrals::{first_of_each, Rejection, REJECTIONS_OF_APPLICATIONS, REJECTIONS_ORDER};
use super::{Store, StoreResult};
use crate::domain::period::day_of;

/// The candidate-side steps the funnel counts per rejection, in order, as `funnel_days.step`.
pub const CANDIDATE_STEPS: [&str; 4] =
    ["rejected", "invitation_sent", "link_clicked", "registered"];

/// The `funnel_rejections` column of each of [`CANDIDATE_STEPS`].
const STEP_COLUMNS: [&str; 4] = [
    "rejected_at",
    "invitation_sent_at",
    "link_clicked_at",
    "registered_at",
];

const FACT_COLUMNS: &str = "application_id, rejected_at, stage, reason, invitation_sent_at, \
     link_clicked_at, registered_at, CAST(NULL AS TEXT) AS candidate_attributes, candidate_id";

/// Rows per statement when looking rows up by a list of ids.
const CHUNK: usize = 500;

/// C2: when a rejected candidate reached the `link_clicked` step: their first click, or their
/// registration if that was earlier (a registration implies the click, even one hirelay never
/// saw).
pub fn click_step(clicked: Option<i64>, registered: Option<i64>) -> Option<i64> {
    match (clicked, registered) {
        (Some(clicked), Some(registered)) => Some(clicked.min(registered)),
        (clicked, registered) => clicked.or(registered),
    }
}

/// When a rejection reached each of [`CANDIDATE_STEPS`].
pub fn step_times(r: &Rejection) -> [Option<i64>; 4] {
    [
        Some(r.rejected_at),
        r.invitation_sent_at,
        click_step(r.link_clicked_at, r.registered_at),
        r.registered_at,
    ]
}

/// Whether a rejection reached a step before it was rejected: such a step is not in
/// `funnel_days`.
pub fn is_early(r: &Rejection) -> bool {
    step_times(r)
        .into_iter()
        .flatten()
        .any(|at| at < r.rejected_at)
}

/// One counter of `funnel_days`: rejections of `stage` and `reason` (`None` when the ATS gave
/// none) that reached step `step` (an index into [`CANDIDATE_STEPS`]) on day `day`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepDay {
    pub day: i64,
    pub step: usize,
    pub stage: Option<String>,
    pub reason: Option<String>,
    pub count: u64,
}

/// One counter of `kpi_days`.
#[derive(Clone, Debug, PartialEq, FromQueryResult)]
pub struct KpiDay {
    pub day: i64,
    pub name: String,
    pub count: i64,
    pub sum: f64,
}

#[derive(FromQueryResult)]
struct StepDayRow {
    day: i64,
    step: String,
    stage: String,
    reason: String,
    count: i64,
}

type CounterKey = (i64, &'static str, String, String);

/// What a fact adds to `funnel_days`.
fn counted(r: &Rejection) -> impl Iterator<Item = CounterKey> + '_ {
    CANDIDATE_STEPS
        .iter()
        .zip(step_times(r))
        .filter_map(move |(step, at)| {
            let at = at.filter(|at| *at >= r.rejected_at)?;
            Some((
                day_of(at),
                *step,
                r.stage.clone().unwrap_or_default(),
                r.reason.clone().unwrap_or_default(),
            ))
        })
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

impl Store {
    /// Brings the funnel's counters in line with what is stored for `application_ids` (their
    /// rejection, invitation, mail): in the caller's transaction, so that they always agree.
    pub async fn refresh_funnel<C: ConnectionTrait>(
        db: &C,
        application_ids: &[&str],
    ) -> StoreResult<()> {
        let mut ids = application_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        for chunk in ids.chunks(CHUNK) {
            Self::refresh_funnel_chunk(db, chunk).await?;
        }
        Ok(())
    }

    async fn refresh_funnel_chunk<C: ConnectionTrait>(db: &C, ids: &[&str]) -> StoreResult<()> {
        let backend = db.get_database_backend();
        let list = placeholders(ids.len());
        let id_values = || ids.iter().map(|id| Value::from(*id));
        let sql = format!(
            "{REJECTIONS_OF_APPLICATIONS} AND h.application_id IN ({list}) {REJECTIONS_ORDER}"
        );
        let values = std::iter::once(true.into()).chain(id_values()).collect();
        let now: HashMap<String, Rejection> = first_of_each(
            Rejection::find_by_statement(super::statement(backend, &sql, values))
                .all(db)
                .await?,
        )
        .into_iter()
        .map(|mut r| {
            r.candidate_attributes = None;
            r.link_clicked_at = click_step(r.link_clicked_at, r.registered_at);
            (r.application_id.clone(), r)
        })
        .collect();
        let sql = format!(
            "SELECT {FACT_COLUMNS} FROM funnel_rejections WHERE application_id IN ({list})"
        );
        let stored: HashMap<String, Rejection> =
            Rejection::find_by_statement(super::statement(backend, &sql, id_values().collect()))
                .all(db)
                .await?
                .into_iter()
                .map(|r| (r.application_id.clone(), r))
                .collect();
        let mut deltas: BTreeMap<CounterKey, i64> = BTreeMap::new();
        let mut changed = Vec::new();
        for id in ids {
            let (old, new) = (stored.get(*id), now.get(*id));
            if old == new {
                continue;
            }
            for key in old.into_iter().flat_map(counted) {
                *deltas.entry(key).or_default() -= 1;
            }
            for key in new.into_iter().flat_map(counted) {
                *deltas.entry(key).or_default() += 1;
            }
            // A rejection is never unmade (history is only added to): a fact only changes.
            changed.extend(new);
        }
        Self::store_facts(db, &changed).await?;
        Self::add_to_step_days(db, deltas).await
    }

    async fn store_facts<C: ConnectionTrait>(db: &C, facts: &[&Rejection]) -> StoreResult<()> {
        if facts.is_empty() {
            return Ok(());
        }
        let rows = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?)"; facts.len()].join(", ");
        let sql = format!(
            "INSERT INTO funnel_rejections (application_id, candidate_id, stage, reason, rejected_at, \
             invitation_sent_at, link_clicked_at, registered_at, early) VALUES {rows} \
             ON CONFLICT (application_id) DO UPDATE SET candidate_id = excluded.candidate_id, \
             stage = excluded.stage, reason = excluded.reason, rejected_at = excluded.rejected_at, \
             invitation_sent_at = excluded.invitation_sent_at, link_clicked_at = excluded.link_clicked_at, \
             registered_at = excluded.registered_at, early = excluded.early"
        );
        let mut values: Vec<Value> = Vec::with_capacity(facts.len() * 9);
        for r in facts {
            values.extend([
                r.application_id.clone().into(),
                r.candidate_id.clone().into(),
                r.stage.clone().into(),
                r.reason.clone().into(),
                r.rejected_at.into(),
                r.invitation_sent_at.into(),
                r.link_clicked_at.into(),
                r.registered_at.into(),
                is_early(r).into(),
            ]);
        }
        db.execute(super::statement(db.get_database_backend(), &sql, values))
            .await?;
        Ok(())
    }

    async fn add_to_step_days<C: ConnectionTrait>(
        db: &C,
        deltas: BTreeMap<CounterKey, i64>,
    ) -> StoreResult<()> {
        let deltas: Vec<(CounterKey, i64)> = deltas.into_iter().filter(|(_, d)| *d != 0).collect();
        if deltas.is_empty() {
            return Ok(());
        }
        let rows = vec!["(?, ?, ?, ?, ?)"; deltas.len()].join(", ");
        let sql = format!(
            "INSERT INTO funnel_days (day, step, stage, reason, count) VALUES {rows} \
             ON CONFLICT (day, step, stage, reason) DO UPDATE SET count = funnel_days.count + excluded.count"
        );
        let mut values: Vec<Value> = Vec::with_capacity(deltas.len() * 5);
        for ((day, step, stage, reason), delta) in deltas {
            values.extend([
                day.into(),
                step.into(),
                stage.into(),
                reason.into(),
                delta.into(),
            ]);
        }
        db.execute(super::statement(db.get_database_backend(), &sql, values))
            .await?;
        Ok(())
    }

    /// Adds KPI points just recorded (name, value, time) to `kpi_days`.
    pub(crate) async fn add_to_kpi_days<C: ConnectionTrait>(
        db: &C,
        points: &[(String, f64, i64)],
    ) -> StoreResult<()> {
        let mut days: BTreeMap<(i64, &str), (i64, f64)> = BTreeMap::new();
        for (name, value, at) in points {
            let day = days.entry((day_of(*at), name.as_str())).or_default();
            day.0 += 1;
            day.1 += value;
        }
        if days.is_empty() {
            return Ok(());
        }
        let rows = vec!["(?, ?, ?, ?)"; days.len()].join(", ");
        let sql = format!(
            "INSERT INTO kpi_days (day, name, count, sum) VALUES {rows} \
             ON CONFLICT (day, name) DO UPDATE SET count = kpi_days.count + excluded.count, \
             sum = kpi_days.sum + excluded.sum"
        );
        let mut values: Vec<Value> = Vec::with_capacity(days.len() * 4);
        for ((day, name), (count, sum)) in days {
            values.extend([day.into(), name.into(), count.into(), sum.into()]);
        }
        db.execute(super::statement(db.get_database_backend(), &sql, values))
            .await?;
        Ok(())
    }

    /// The funnel's counters of the days `[first, end)` (see [`day_of`]), none of zero.
    pub async fn step_days<C: ConnectionTrait>(
        db: &C,
        days: std::ops::Range<i64>,
    ) -> StoreResult<Vec<StepDay>> {
        let sql = "SELECT day, step, stage, reason, count FROM funnel_days \
             WHERE day >= ? AND day < ? AND count <> 0";
        let values = vec![days.start.into(), days.end.into()];
        let rows =
            StepDayRow::find_by_statement(super::statement(db.get_database_backend(), sql, values))
                .all(db)
                .await?;
        let text = |s: String| (!s.is_empty()).then_some(s);
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(StepDay {
                    day: r.day,
                    step: CANDIDATE_STEPS.iter().position(|s| *s == r.step)?,
                    stage: text(r.stage),
                    reason: text(r.reason),
                    count: r.count.max(0) as u64,
                })
            })
            .collect())
    }

    /// The KPI counters of the days `[first, end)`.
    pub async fn kpi_days<C: ConnectionTrait>(
        db: &C,
        days: std::ops::Range<i64>,
    ) -> StoreResult<Vec<KpiDay>> {
        let sql = "SELECT day, name, count, sum FROM kpi_days \
             WHERE day >= ? AND day < ? AND count <> 0 ORDER BY day, name";
        let values = vec![days.start.into(), days.end.into()];
        Ok(
            KpiDay::find_by_statement(super::statement(db.get_database_backend(), sql, values))
                .all(db)
                .await?,
        )
    }

    /// The funnel's rejections (as [`Store::rejections_between`] gives them, without the
    /// candidate's attributes, and `link_clicked_at` already the step's time) that reached a
    /// step in one of `parts` (`[from, to)` each), or that are flagged early, each once.
    pub async fn funnel_rejections_reaching<C: ConnectionTrait>(
        db: &C,
        parts: &[(i64, i64)],
    ) -> StoreResult<Vec<Rejection>> {
        let backend = db.get_database_backend();
        let mut found: BTreeMap<String, Rejection> = BTreeMap::new();
        for (column, (from, to)) in STEP_COLUMNS
            .iter()
            .flat_map(|c| parts.iter().map(move |p| (c, *p)))
        {
            let sql = format!(
                "SELECT {FACT_COLUMNS} FROM funnel_rejections WHERE {column} >= ? AND {column} < ?"
            );
            let rows = Rejection::find_by_statement(super::statement(
                backend,
                &sql,
                vec![from.into(), to.into()],
            ))
            .all(db)
            .await?;
            found.extend(rows.into_iter().map(|r| (r.application_id.clone(), r)));
        }
        let sql = format!("SELECT {FACT_COLUMNS} FROM funnel_rejections WHERE early = ?");
        let early =
            Rejection::find_by_statement(super::statement(backend, &sql, vec![true.into()]))
                .all(db)
                .await?;
        found.extend(early.into_iter().map(|r| (r.application_id.clone(), r)));
        Ok(found.into_values().collect())
    }

    /// The funnel's rejections of `candidate_ids` (as [`Store::funnel_rejections_reaching`]).
    pub async fn funnel_rejections_of<C: ConnectionTrait>(
        db: &C,
        candidate_ids: &[&str],
    ) -> StoreResult<Vec<Rejection>> {
        let mut found = Vec::new();
        for chunk in candidate_ids.chunks(CHUNK) {
            let sql = format!(
                "SELECT {FACT_COLUMNS} FROM funnel_rejections WHERE candidate_id IN ({})",
                placeholders(chunk.len())
            );
            let values = chunk.iter().map(|id| Value::from(*id)).collect();
            found.extend(
                Rejection::find_by_statement(super::statement(
                    db.get_database_backend(),
                    &sql,
                    values,
                ))
                .all(db)
                .await?,
            );
        }
        Ok(found)
    }

    /// Refills the funnel's and the KPIs' counters from what is stored (after a bulk load).
    pub async fn rebuild_funnel<C: ConnectionTrait>(db: &C) -> StoreResult<()> {
        migrations::rebuild_funnel_aggregates(db).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::store;

    /// C5, C7: refreshing the counters of a batch's applications reads their history by the
    /// applications' index, not every rejection by the status index (which SQLite, without
    /// statistics, preferred for the order: each batch then read the whole history, and
    /// processing slowed as rejections piled up).
    #[tokio::test]
    async fn c5_c7_the_refresh_reads_only_the_batchs_applications_history() {
        use sea_orm::Statement;
        let (_dir, store) = store().await;
        let sql = format!(
            "EXPLAIN QUERY PLAN {REJECTIONS_OF_APPLICATIONS} AND h.application_id IN (?, ?) \
             {REJECTIONS_ORDER}"
        );
        let plan: Vec<String> = store
            .db
            .query_all(Statement::from_sql_and_values(
                store.backend(),
                sql,
                [true.into(), "app_1".into(), "app_2".into()],
            ))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get_by_index::<String>(3).unwrap())
            .collect();
        assert_eq!(
            plan.first().map(String::as_str),
            Some("SEARCH h USING INDEX application_history_app (application_id=?)"),
            "{plan:#?}"
        );
    }
}
