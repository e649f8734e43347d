//! C5, C7: the funnel read from the counters kept as things happen (`crate::store::funnel`):
//! the whole days of the period from the daily counters, the parts of a day at its ends (and
//! any step that happened before its own rejection) from the rejections one by one. It counts
//! what [`super::funnel`] counts from every rejection; a candidate attribute, which is not
//! counted ahead, is split that way.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use sea_orm::ConnectionTrait;

use super::grouping::group_name;
use super::steps::{self, steps_of, Slot};
use super::{month_of, slot_used_at, Funnel, FunnelData, Group, GroupBy, RecordedKpi, Settings};
use crate::domain::period::{day_of, day_start, Period};
use crate::store::entities::referral;
use crate::store::funnel::{step_times, KpiDay, StepDay};
use crate::store::referrals::Rejection;
use crate::store::{Store, StoreError};

/// The funnel of `period` from `db`, split by `group_by` if given.
pub async fn load<C: ConnectionTrait>(
    db: &C,
    settings: &Settings<'_>,
    period: Period,
    group_by: Option<GroupBy>,
) -> Result<Funnel, StoreError> {
    let referrals = Store::referrals(db).await?;
    let registrations = Store::first_registrations(db).await?;
    if let Some(GroupBy::Attribute(_)) = group_by {
        let rejections = Store::rejections_between(db, 0, period.to).await?;
        let recorded = Store::kpi_records_between(db, period.from, period.to, None).await?;
        let data = FunnelData {
            rejections: &rejections,
            referrals: &referrals,
            registrations: &registrations,
            recorded: &recorded,
        };
        return Ok(super::funnel(&data, settings, period, group_by));
    }
    let (days, parts) = period.whole_days();
    let mut cells = Store::step_days(db, days.clone()).await?;
    let ends: Vec<(i64, i64)> = parts.iter().map(|p| (p.from, p.to)).collect();
    for r in Store::funnel_rejections_reaching(db, &ends).await? {
        cells.extend(one_by_one(&r, period, &parts));
    }
    let mut recorded = Store::kpi_days(db, days).await?;
    for part in &parts {
        for total in Store::kpi_totals(db, part.from, part.to, None, None).await? {
            recorded.push(KpiDay {
                day: day_of(part.from),
                name: total.name,
                count: total.count,
                sum: total.sum,
            });
        }
    }
    let slots = steps::slots(&registrations, settings.ratio);
    let slot_rows = match group_by {
        Some(GroupBy::Stage | GroupBy::Reason) => {
            let candidates: Vec<&str> = slots
                .iter()
                .filter(|s| period.contains(s.at))
                .map(|s| s.candidate_id)
                .collect();
            Store::funnel_rejections_of(db, &candidates).await?
        }
        _ => Vec::new(),
    };
    let referrals: Vec<&referral::Model> = referrals.iter().collect();
    let counts = Counts {
        cells: &cells,
        recorded: &recorded,
        slots: &slots,
        slot_rows: &slot_rows,
        referrals: &referrals,
    };
    Ok(counts.funnel(settings, period, group_by))
}

/// What a rejection read one by one adds: its steps in the parts of the period outside whole
/// days (those in whole days are counted already), and its steps that happened before it was
/// rejected (never counted ahead) anywhere in the period, if it was rejected before the
/// period's end.
fn one_by_one(r: &Rejection, period: Period, parts: &[Period]) -> Vec<StepDay> {
    step_times(r)
        .into_iter()
        .enumerate()
        .filter_map(|(step, at)| {
            let at = at?;
            let counted = if at >= r.rejected_at {
                parts.iter().any(|p| p.contains(at))
            } else {
                period.contains(at) && r.rejected_at < period.to
            };
            counted.then(|| StepDay {
                day: day_of(at),
                step,
                stage: r.stage.clone(),
                reason: r.reason.clone(),
                count: 1,
            })
        })
        .collect()
}

/// What the counted funnel is computed from.
struct Counts<'a> {
    /// Rejections that reached each candidate step, by day, stage and reason, in the period.
    cells: &'a [StepDay],
    /// The KPIs recorded, by day and name, in the period.
    recorded: &'a [KpiDay],
    slots: &'a [Slot<'a>],
    /// The rejections of the candidates whose registration earned a slot in the period.
    slot_rows: &'a [Rejection],
    referrals: &'a [&'a referral::Model],
}

/// The candidate side's first four counts of `cells`.
fn candidate<'a>(cells: impl Iterator<Item = &'a StepDay>) -> [u64; 4] {
    let mut counts = [0; 4];
    for cell in cells {
        counts[cell.step] += cell.count;
    }
    counts
}

/// The KPIs of `days` by name, in name order.
fn recorded_totals<'a>(days: impl Iterator<Item = &'a KpiDay>) -> Vec<RecordedKpi> {
    super::recorded::by_name(days.map(|d| (d.name.as_str(), d.count.max(0) as u64, d.sum)))
}

impl Counts<'_> {
    fn funnel(&self, settings: &Settings<'_>, period: Period, group_by: Option<GroupBy>) -> Funnel {
        let in_period = |at: i64| period.contains(at);
        let slots_earned = self.slots.iter().filter(|s| in_period(s.at)).count() as u64;
        let all = candidate(self.cells.iter());
        let groups = group_by.as_ref().map(|by| match by {
            GroupBy::Month => self.by_month(settings, period),
            GroupBy::Stage => {
                self.by_key(settings, period, |c| c.stage.clone(), |r| r.stage.clone())
            }
            GroupBy::Reason => {
                self.by_key(settings, period, |c| c.reason.clone(), |r| r.reason.clone())
            }
            // Read from every rejection by `load`.
            GroupBy::Attribute(_) => Vec::new(),
        });
        Funnel {
            steps: steps_of(
                all,
                slots_earned,
                Some(self.referrals),
                settings,
                &in_period,
            ),
            recorded: recorded_totals(self.recorded.iter()),
            group_by: group_by.as_ref().map(GroupBy::as_string),
            groups,
        }
    }

    fn by_month(&self, settings: &Settings<'_>, period: Period) -> Vec<Group> {
        // Each day's month once (formatting a date is most of the work otherwise).
        let mut months_of_days: HashMap<i64, String> = HashMap::new();
        for day in self
            .cells
            .iter()
            .map(|c| c.day)
            .chain(self.recorded.iter().map(|r| r.day))
        {
            months_of_days
                .entry(day)
                .or_insert_with(|| month_of(day_start(day)));
        }
        let month_of_day = |day: i64| {
            months_of_days
                .get(&day)
                .cloned()
                .unwrap_or_else(|| month_of(day_start(day)))
        };
        let mut months: BTreeSet<String> = self
            .cells
            .iter()
            .filter(|c| c.count > 0)
            .map(|c| month_of_day(c.day))
            .chain(self.recorded.iter().map(|r| month_of_day(r.day)))
            .collect();
        let times = self
            .slots
            .iter()
            .map(|s| s.at)
            .chain(self.referrals.iter().flat_map(|r| {
                [slot_used_at(r), r.hired_at, r.joined_at, r.retained_at]
                    .into_iter()
                    .flatten()
            }));
        months.extend(times.filter(|at| period.contains(*at)).map(month_of));
        months
            .into_iter()
            .map(|month| {
                let within = |at: i64| period.contains(at) && month_of(at) == month;
                let in_month = |day: i64| months_of_days.get(&day).is_some_and(|m| *m == month);
                let counts = candidate(self.cells.iter().filter(|c| in_month(c.day)));
                let slots_earned = self.slots.iter().filter(|s| within(s.at)).count() as u64;
                Group {
                    steps: steps_of(
                        counts,
                        slots_earned,
                        Some(self.referrals),
                        settings,
                        &within,
                    ),
                    recorded: Some(recorded_totals(
                        self.recorded.iter().filter(|r| in_month(r.day)),
                    )),
                    key: month,
                }
            })
            .collect()
    }

    /// One group per stage or reason (`key` of a counter, `key_of` of a rejection).
    fn by_key(
        &self,
        settings: &Settings<'_>,
        period: Period,
        key: impl Fn(&StepDay) -> Option<String>,
        key_of: impl Fn(&Rejection) -> Option<String>,
    ) -> Vec<Group> {
        let mut groups: BTreeMap<String, Vec<&StepDay>> = BTreeMap::new();
        for cell in self.cells.iter().filter(|c| c.count > 0) {
            groups.entry(group_name(key(cell))).or_default().push(cell);
        }
        // A group's slots: its registrations that completed a slot in the period.
        let slot_of: HashMap<&str, i64> = self
            .slots
            .iter()
            .filter(|s| period.contains(s.at))
            .map(|s| (s.candidate_id, s.at))
            .collect();
        let mut slots_of: HashMap<String, u64> = HashMap::new();
        for r in self.slot_rows {
            let completed = r
                .candidate_id
                .as_deref()
                .and_then(|c| slot_of.get(c))
                .is_some_and(|at| r.registered_at == Some(*at));
            if completed && r.rejected_at < period.to {
                *slots_of.entry(group_name(key_of(r))).or_default() += 1;
            }
        }
        let in_period = |at: i64| period.contains(at);
        groups
            .into_iter()
            .map(|(k, cells)| {
                let slots_earned = slots_of.get(&k).copied().unwrap_or(0);
                Group {
                    steps: steps_of(
                        candidate(cells.into_iter()),
                        slots_earned,
                        None,
                        settings,
                        &in_period,
                    ),
                    recorded: None,
                    key: k,
                }
            })
            .collect()
    }
}
