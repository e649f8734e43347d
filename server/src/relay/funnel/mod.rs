//! C5, C7: the Career Relay funnel, from rejection to a referred hire who stayed.
//!
//! Each step counts what happened in the period, at the time it happened (see [`steps`]):
//! applications rejected, invitations sent, links clicked (a registration implies its click),
//! candidates registered, slots earned (on the registration of every `ratio`-th registered
//! candidate, so a period's slots are what the ledger earned in it, C1), and what Career Relay
//! reported: slots used (a referral's first report), hires, joinings, retentions. Beside the
//! steps, the KPIs the scripts record ([`recorded`]). Grouped by month, each month holds both
//! sides and its recorded KPIs; grouped by selection stage, rejection reason (C7: where
//! candidates drop off) or a candidate attribute (C7: who registers more), only the candidate
//! side, which alone is known per rejection ([`grouping`]).
mod counted;
mod export;
mod grouping;
pub mod recorded;
pub mod steps;
mod targets;

use chrono::TimeZone;
use serde::Serialize;

use crate::domain::period::{invalid, Period, QueryError};
use crate::domain::time::jst;
use crate::store::entities::{kpi_record, referral};
use crate::store::referrals::{FirstRegistration, Rejection};
pub use counted::load;
pub use export::export_csv;
pub use grouping::attribute_keys;
use grouping::{attribute_of, by_key, by_month, Happenings};
pub use recorded::RecordedKpi;
pub use targets::Targets;

/// The steps, in order.
pub const STEPS: [&str; 9] = [
    "rejected",
    "invitation_sent",
    "link_clicked",
    "registered",
    "slot_earned",
    "slot_used",
    "hired",
    "joined",
    "retained",
];

/// A step's name as people read it (the console and the monthly report show these).
fn label(step: &'static str) -> &'static str {
    match step {
        "rejected" => "不合格",
        "invitation_sent" => "案内メール送信",
        "link_clicked" => "リンククリック",
        "registered" => "紹介登録済",
        "slot_earned" => "紹介枠獲得",
        "slot_used" => "紹介枠利用",
        "hired" => "採用",
        "joined" => "入社",
        "retained" => "定着",
        other => other,
    }
}

/// How many of [`STEPS`] are the candidate side (known per rejection).
const CANDIDATE_STEPS: usize = 5;

/// What the funnel is split by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupBy {
    /// Calendar months in JST.
    Month,
    /// The selection stage the ATS gave with the rejection (C7: where candidates drop off).
    Stage,
    /// The rejection reason the ATS gave.
    Reason,
    /// C7: a candidate attribute (`attribute:age`): which rejected candidates register more.
    Attribute(String),
}

impl GroupBy {
    /// From the query's `group_by`: `month`, `stage`, `reason` or `attribute:KEY`.
    pub fn parse(s: &str) -> Result<GroupBy, QueryError> {
        match s {
            "month" => Ok(GroupBy::Month),
            "stage" => Ok(GroupBy::Stage),
            "reason" => Ok(GroupBy::Reason),
            other => match other.strip_prefix("attribute:") {
                Some(key)
                    if !key.trim().is_empty()
                        && key.chars().count() <= 64
                        && !key.chars().any(char::is_control) =>
                {
                    Ok(GroupBy::Attribute(key.to_owned()))
                }
                _ => Err(invalid(
                    "group_by",
                    format!("`{other}` is not one of month, stage, reason, attribute:KEY"),
                )),
            },
        }
    }

    /// As the query names it.
    pub fn as_string(&self) -> String {
        match self {
            GroupBy::Month => "month".into(),
            GroupBy::Stage => "stage".into(),
            GroupBy::Reason => "reason".into(),
            GroupBy::Attribute(key) => format!("attribute:{key}"),
        }
    }
}

/// One step of the funnel with its count in the period.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Step {
    /// One of [`STEPS`].
    pub name: &'static str,
    /// The step as people read it (Japanese), e.g. 紹介登録済.
    pub label: &'static str,
    pub count: u64,
    /// `count` over the previous step's; `null` for the first step or after a step of 0.
    pub rate_from_previous: Option<f64>,
    /// The rate this step should reach, when one is configured (`HIRELAY_CAREER_RELAY_TARGETS`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_rate: Option<f64>,
    /// Whether `rate_from_previous` reaches `target_rate` (`null` without a rate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_target: Option<bool>,
}

/// The funnel of one month, stage, reason or attribute value.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Group {
    /// The month (`2026-11`, JST), stage or reason; `(none)` when the ATS gave none.
    pub key: String,
    pub steps: Vec<Step>,
    /// By month only: the KPIs the scripts recorded in the month.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded: Option<Vec<RecordedKpi>>,
}

/// The funnel of a period, as `GET /v1/kpis/funnel` answers it.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Funnel {
    pub steps: Vec<Step>,
    /// The KPIs the scripts recorded in the period (`kpi()`), by name: count and sum. A point
    /// counts when it was recorded, as in `GET /v1/kpis`.
    pub recorded: Vec<RecordedKpi>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<Group>>,
}

/// What a funnel is computed with besides its data: the ratio of registrations per slot and
/// the target rates.
pub struct Settings<'a> {
    /// Registrations per slot (`HIRELAY_CAREER_RELAY_RATIO`).
    pub ratio: u32,
    /// `HIRELAY_CAREER_RELAY_TARGETS`.
    pub targets: &'a Targets,
}

/// What a funnel is computed from.
pub struct FunnelData<'a> {
    /// Applications rejected up to the period's end (each at its first rejection) with how
    /// far each got: `Store::rejections_between(db, 0, period.to)`.
    pub rejections: &'a [Rejection],
    /// Every referral.
    pub referrals: &'a [referral::Model],
    /// Every registered candidate's first registration (`Store::first_registrations`).
    pub registrations: &'a [FirstRegistration],
    /// The KPIs recorded in the period.
    pub recorded: &'a [kpi_record::Model],
}

/// The funnel of `period`, split by `group_by` if given.
pub fn funnel(
    data: &FunnelData<'_>,
    settings: &Settings<'_>,
    period: Period,
    group_by: Option<GroupBy>,
) -> Funnel {
    let in_period = |at: i64| period.contains(at);
    let rows: Vec<&Rejection> = data
        .rejections
        .iter()
        .filter(|r| steps::reached_any(r, &in_period))
        .collect();
    let slots = steps::slots(data.registrations, settings.ratio);
    let referrals: Vec<&referral::Model> = data.referrals.iter().collect();
    let slots_earned = slots.iter().filter(|s| in_period(s.at)).count() as u64;
    let all_steps = steps::steps(&rows, slots_earned, Some(&referrals), settings, &in_period);
    let groups = group_by.as_ref().map(|by| match by {
        GroupBy::Month => {
            let happenings = Happenings {
                rows: &rows,
                slots: &slots,
                referrals: &referrals,
                recorded: data.recorded,
            };
            by_month(&happenings, settings, period)
        }
        GroupBy::Stage => by_key(&rows, &slots, settings, period, |r| r.stage.clone()),
        GroupBy::Reason => by_key(&rows, &slots, settings, period, |r| r.reason.clone()),
        GroupBy::Attribute(key) => {
            by_key(&rows, &slots, settings, period, |r| attribute_of(r, key))
        }
    });
    Funnel {
        steps: all_steps,
        recorded: recorded::totals(data.recorded, &in_period),
        group_by: group_by.as_ref().map(GroupBy::as_string),
        groups,
    }
}

/// The month (JST) of a time, as `2026-11`.
pub(crate) fn month_of(at: i64) -> String {
    jst()
        .timestamp_millis_opt(at)
        .single()
        .map(|t| t.format("%Y-%m").to_string())
        .unwrap_or_default()
}

/// When a referral used its slot: its first reported outcome.
pub(crate) fn slot_used_at(r: &referral::Model) -> Option<i64> {
    [
        r.slot_used_at,
        r.hired_at,
        r.joined_at,
        r.retained_at,
        r.left_at,
    ]
    .into_iter()
    .flatten()
    .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;
    /// 2026-11-01T00:00:00+09:00.
    pub(crate) const NOV_1: i64 = 1_793_458_800_000;

    /// A rejection of candidate `c-{id}` at `at` that reached `reached` steps after it, each a
    /// millisecond after the one before.
    pub(crate) fn rejection(id: &str, at: i64, stage: &str, reached: usize) -> Rejection {
        let step = |n: usize| (reached >= n).then_some(at + n as i64);
        Rejection {
            application_id: id.into(),
            rejected_at: at,
            stage: Some(stage.into()),
            reason: None,
            invitation_sent_at: step(1),
            link_clicked_at: step(2),
            registered_at: step(3),
            candidate_attributes: None,
            candidate_id: Some(format!("c-{id}")),
        }
    }

    /// The first registrations of the candidates of `rows`.
    fn registrations(rows: &[Rejection]) -> Vec<FirstRegistration> {
        rows.iter()
            .filter_map(|r| {
                Some(FirstRegistration {
                    candidate_id: r.candidate_id.clone()?,
                    registered_at: r.registered_at?,
                })
            })
            .collect()
    }

    /// The funnel of `rejections` and `referrals`, with the registrations of `rejections`.
    fn funnel_of(
        rejections: &[Rejection],
        referrals: &[referral::Model],
        settings: &Settings<'_>,
        period: Period,
        group_by: Option<GroupBy>,
    ) -> Funnel {
        let registrations = registrations(rejections);
        let data = FunnelData {
            rejections,
            referrals,
            registrations: &registrations,
            recorded: &[],
        };
        funnel(&data, settings, period, group_by)
    }

    use crate::store::test_support::referral;

    fn counts(steps: &[Step]) -> Vec<u64> {
        steps.iter().map(|s| s.count).collect()
    }

    /// Each group's key and step counts.
    fn group_counts(f: Funnel) -> Vec<(String, Vec<u64>)> {
        f.groups
            .expect("groups")
            .into_iter()
            .map(|g| (g.key, counts(&g.steps)))
            .collect()
    }

    #[test]
    fn c7_group_by_names_a_month_stage_reason_or_attribute() {
        assert_eq!(GroupBy::parse("stage").unwrap(), GroupBy::Stage);
        assert_eq!(GroupBy::parse("week").unwrap_err().field, "group_by");
        assert_eq!(
            GroupBy::parse("attribute:age").unwrap(),
            GroupBy::Attribute("age".into())
        );
        assert!(GroupBy::parse("attribute:").is_err());
    }

    /// C5: each step of what happened in the period, with the rate from
    /// the step before; slots earned at the ratio.
    #[test]
    fn c5_the_funnel_counts_each_step_with_its_rate() {
        let rejections: Vec<Rejection> = (0..4)
            .map(|i| rejection(&format!("a{i}"), NOV_1 + i as i64, "一次面接", i))
            .collect();
        let referrals = [
            referral("r1", NOV_1 + DAY, Some(NOV_1 + 2 * DAY)),
            referral("r0", NOV_1 - DAY, None),
        ];
        let period = Period::parse(Some("2026-11-01"), Some("2026-11-30"), 0).unwrap();
        let targets: Targets = "invitation_sent=0.7, link_clicked=0.9".parse().unwrap();
        let settings = Settings {
            ratio: 1,
            targets: &targets,
        };
        let f = funnel_of(&rejections, &referrals, &settings, period, None);
        assert_eq!(counts(&f.steps), [4, 3, 2, 1, 1, 1, 1, 0, 0]);
        assert_eq!(f.steps[0].rate_from_previous, None);
        assert_eq!(f.steps[1].rate_from_previous, Some(0.75));
        assert_eq!(f.steps[2].rate_from_previous, Some(0.6667));
        assert_eq!(f.steps[8].rate_from_previous, None, "after a step of 0");
        let targets: Vec<_> = f.steps[..4]
            .iter()
            .map(|s| (s.target_rate, s.on_target))
            .collect();
        assert_eq!(
            targets,
            [
                (None, None),
                (Some(0.7), Some(true)),
                (Some(0.9), Some(false)),
                (None, None)
            ]
        );
        let names: Vec<&str> = f.steps.iter().map(|s| s.name).collect();
        assert_eq!(names, STEPS);
    }

    /// C7: split by stage, the candidate side of each stage; by month, both sides.
    #[test]
    fn c7_the_funnel_splits_by_stage_and_by_month() {
        let rejections = [
            rejection("a", NOV_1, "書類選考", 3),
            rejection("b", NOV_1 + 1, "一次面接", 1),
            rejection("c", NOV_1 + 2, "一次面接", 0),
            rejection("d", NOV_1 + 31 * DAY, "", 2),
        ];
        let referrals = [referral("r1", NOV_1 + 31 * DAY, None)];
        let period = Period::parse(Some("2026-11-01"), Some("2026-12-31"), 0).unwrap();
        let targets = Targets::default();
        let settings = Settings {
            ratio: 10,
            targets: &targets,
        };
        let f = funnel_of(
            &rejections,
            &referrals,
            &settings,
            period,
            Some(GroupBy::Stage),
        );
        assert_eq!(
            group_counts(f),
            [
                ("(none)".into(), vec![1, 1, 1, 0, 0]),
                ("一次面接".into(), vec![2, 1, 0, 0, 0]),
                ("書類選考".into(), vec![1, 1, 1, 1, 0]),
            ]
        );
        let f = funnel_of(
            &rejections,
            &referrals,
            &settings,
            period,
            Some(GroupBy::Month),
        );
        assert_eq!(
            group_counts(f),
            [
                ("2026-11".into(), vec![3, 2, 1, 1, 0, 0, 0, 0, 0]),
                ("2026-12".into(), vec![1, 1, 1, 0, 0, 1, 0, 0, 0]),
            ]
        );
    }

    /// C7: by a candidate attribute, which rejected candidates register more; a candidate
    /// without it (or without attributes) is `(none)`.
    #[test]
    fn c7_the_funnel_splits_by_a_candidate_attribute() {
        let with = |id: &str, reached: usize, attributes: &str| Rejection {
            candidate_attributes: Some(attributes.into()),
            ..rejection(id, NOV_1, "一次面接", reached)
        };
        let rejections = [
            with("a", 3, r#"{"age": 35, "prefecture": "東京都"}"#),
            with("b", 0, r#"{"age": 35}"#),
            with("c", 3, r#"{"age": 28}"#),
            with("d", 1, r#"{}"#),
            rejection("e", NOV_1, "一次面接", 0),
        ];
        let targets = Targets::default();
        let settings = Settings {
            ratio: 10,
            targets: &targets,
        };
        let period = Period::parse(Some("2026-11-01"), Some("2026-11-30"), 0).unwrap();
        let by = GroupBy::Attribute("age".into());
        let f = funnel_of(&rejections, &[], &settings, period, Some(by));
        assert_eq!(f.group_by.as_deref(), Some("attribute:age"));
        assert_eq!(
            group_counts(f),
            [
                ("(none)".into(), vec![2, 1, 0, 0, 0]),
                ("28".into(), vec![1, 1, 1, 1, 0]),
                ("35".into(), vec![2, 1, 1, 1, 0]),
            ]
        );
    }

    /// C7: the names the breakdown's menu offers are every attribute a rejected candidate
    /// carries, each once and sorted; no attributes, or attributes that are not an object, add none.
    #[test]
    fn c7_attribute_keys_lists_each_name_once() {
        let with = |id: &str, attributes: &str| Rejection {
            candidate_attributes: Some(attributes.into()),
            ..rejection(id, NOV_1, "一次面接", 0)
        };
        let rows = [
            with("a", r#"{"age": 35, "prefecture": "東京都"}"#),
            with("b", r#"{"age": 28, "years_of_experience": 8}"#),
            with("c", r#"[1, 2]"#),
            with("d", "not json"),
            rejection("e", NOV_1, "一次面接", 0),
        ];
        assert_eq!(
            attribute_keys(&rows),
            ["age", "prefecture", "years_of_experience"]
        );
        assert!(attribute_keys(&[]).is_empty());
    }
}
