//! C5: the KPIs the rule scripts record (`kpi(name, value, tags)`), shown beside the funnel, so
//! what an admin chooses to record reaches the dashboard.
use std::collections::BTreeMap;

use serde::Serialize;

use crate::store::entities::kpi_record;

/// A KPI recorded in a period: how many data points and their sum.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RecordedKpi {
    /// The name the script gave it (`kpi("registered", …)`).
    pub name: String,
    pub count: u64,
    pub sum: f64,
}

/// The totals of `records` recorded at times `counted` accepts, by name in name order.
pub fn totals(records: &[kpi_record::Model], counted: &dyn Fn(i64) -> bool) -> Vec<RecordedKpi> {
    by_name(
        records
            .iter()
            .filter(|r| counted(r.recorded_at))
            .map(|r| (r.name.as_str(), 1, r.value)),
    )
}

/// Adds up `(name, count, sum)` parts (single points or whole days) by name, in name order.
pub fn by_name<'a>(parts: impl Iterator<Item = (&'a str, u64, f64)>) -> Vec<RecordedKpi> {
    let mut totals: BTreeMap<&str, (u64, f64)> = BTreeMap::new();
    for (name, count, sum) in parts {
        let total = totals.entry(name).or_default();
        total.0 += count;
        total.1 += sum;
    }
    totals
        .into_iter()
        .map(|(name, (count, sum))| RecordedKpi {
            name: name.to_owned(),
            count,
            sum,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, value: f64, at: i64) -> kpi_record::Model {
        kpi_record::Model {
            id: at,
            dedupe_key: format!("{name}:{at}"),
            name: name.into(),
            value,
            tags: "{}".into(),
            event_id: None,
            recorded_at: at,
        }
    }

    /// C5: each KPI once, with its count and sum, of the points in the period only.
    #[test]
    fn c5_recorded_kpis_are_totalled_by_name_in_the_period() {
        let records = [
            record("rejected", 1.0, 10),
            record("registered", 1.0, 11),
            record("rejected", 2.5, 12),
            record("rejected", 1.0, 99),
        ];
        let totals = totals(&records, &|at| at < 50);
        assert_eq!(
            totals,
            [
                RecordedKpi {
                    name: "registered".into(),
                    count: 1,
                    sum: 1.0
                },
                RecordedKpi {
                    name: "rejected".into(),
                    count: 2,
                    sum: 3.5
                },
            ]
        );
    }
}
