//! C5, C7: the funnel split by month (both sides, each thing in the month it happened) or by
//! selection stage, rejection reason or a candidate attribute (the candidate side only, which
//! alone is known per rejection).
use std::collections::HashMap;

use super::recorded::totals;
use super::steps::{reached_any, steps, times, Slot};
use super::{month_of, slot_used_at, Group, Settings};
use crate::domain::period::Period;
use crate::store::entities::{kpi_record, referral};
use crate::store::referrals::Rejection;

/// What the month groups are computed from: the rejections that reached a step in the period,
/// the slots earned, every referral and the KPIs recorded in the period.
pub(crate) struct Happenings<'a> {
    pub rows: &'a [&'a Rejection],
    pub slots: &'a [Slot<'a>],
    pub referrals: &'a [&'a referral::Model],
    pub recorded: &'a [kpi_record::Model],
}

/// One group per month (JST) in which anything of the funnel happened in the period, in order.
pub(crate) fn by_month(h: &Happenings<'_>, settings: &Settings<'_>, period: Period) -> Vec<Group> {
    let mut months: Vec<String> = h
        .rows
        .iter()
        .flat_map(|r| times(r))
        .chain(h.slots.iter().map(|s| s.at))
        .chain(h.referrals.iter().flat_map(|r| {
            [slot_used_at(r), r.hired_at, r.joined_at, r.retained_at]
                .into_iter()
                .flatten()
        }))
        .chain(h.recorded.iter().map(|r| r.recorded_at))
        .filter(|at| period.contains(*at))
        .map(month_of)
        .collect();
    months.sort();
    months.dedup();
    months
        .into_iter()
        .map(|month| {
            let within = |at: i64| period.contains(at) && month_of(at) == month;
            let rows: Vec<&Rejection> = h
                .rows
                .iter()
                .copied()
                .filter(|r| reached_any(r, &within))
                .collect();
            let slots_earned = h.slots.iter().filter(|s| within(s.at)).count() as u64;
            let steps = steps(&rows, slots_earned, Some(h.referrals), settings, &within);
            let recorded = Some(totals(h.recorded, &within));
            Group {
                key: month,
                steps,
                recorded,
            }
        })
        .collect()
}

/// One group per value of `key` among the rejections that reached a step in the period. A
/// group's `slot_earned` counts the slots its own registrations completed in the period.
pub(crate) fn by_key(
    rows: &[&Rejection],
    slots: &[Slot<'_>],
    settings: &Settings<'_>,
    period: Period,
    key: impl Fn(&Rejection) -> Option<String>,
) -> Vec<Group> {
    let name = |r: &Rejection| group_name(key(r));
    let slot_of: HashMap<&str, i64> = slots
        .iter()
        .filter(|s| period.contains(s.at))
        .map(|s| (s.candidate_id, s.at))
        .collect();
    let completed_a_slot = |r: &Rejection| {
        r.candidate_id
            .as_deref()
            .and_then(|c| slot_of.get(c))
            .is_some_and(|at| r.registered_at == Some(*at))
    };
    let mut keys: Vec<String> = rows.iter().map(|r| name(r)).collect();
    keys.sort();
    keys.dedup();
    let in_period = |at: i64| period.contains(at);
    keys.into_iter()
        .map(|k| {
            let members: Vec<&Rejection> = rows.iter().copied().filter(|r| name(r) == k).collect();
            let slots_earned = members.iter().filter(|r| completed_a_slot(r)).count() as u64;
            Group {
                key: k,
                steps: steps(&members, slots_earned, None, settings, &in_period),
                recorded: None,
            }
        })
        .collect()
}

/// A group's key as the funnel shows it: `(none)` for no value or a blank one.
pub(crate) fn group_name(key: Option<String>) -> String {
    key.filter(|k| !k.trim().is_empty())
        .unwrap_or_else(|| "(none)".to_owned())
}

/// C7: the attribute names the rejected candidates carry, sorted and each once: what the
/// funnel can be split by (`attribute:KEY`).
pub fn attribute_keys(rows: &[Rejection]) -> Vec<String> {
    let keys: std::collections::BTreeSet<String> = rows
        .iter()
        .filter_map(|r| serde_json::from_str(r.candidate_attributes.as_deref()?).ok())
        .filter_map(|v: serde_json::Value| match v {
            serde_json::Value::Object(map) => Some(map.into_iter().map(|(k, _)| k)),
            _ => None,
        })
        .flatten()
        .collect();
    keys.into_iter().collect()
}

/// The value of attribute `key` of a rejected candidate, as text.
pub(crate) fn attribute_of(r: &Rejection, key: &str) -> Option<String> {
    let attributes: serde_json::Value =
        serde_json::from_str(r.candidate_attributes.as_deref()?).ok()?;
    match attributes.get(key)? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}
