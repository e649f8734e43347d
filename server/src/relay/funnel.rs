//! C5, C7: the Career Relay funnel, from rejection to a referred hire who stayed.
//!
//! The candidate side follows the **cohort** of applications rejected in the period: of them,
//! how many were sent an invitation, clicked its link, registered, and the slots those
//! registrations earn (`registered / ratio`). The company side counts what Career Relay
//! reported in the period: slots used (a referral's first report), hires, joinings, retentions.
//! Grouped by month, each month holds both sides; grouped by selection stage, rejection
//! reason (C7: where candidates drop off) or a candidate attribute (C7: who registers more),
//! only the candidate side, which alone is known per rejection.
use chrono::TimeZone;
use serde::Serialize;

use crate::domain::period::{invalid, Period, QueryError};
use crate::domain::time::jst;
use crate::export::{Csv, Field};
use crate::store::entities::referral;
use crate::store::referrals::Rejection;

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
    Month,
    Stage,
    Reason,
    /// C7: a candidate attribute (`attribute:age`): which rejected candidates register more.
    Attribute(String),
}

impl GroupBy {
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

    pub fn as_string(&self) -> String {
        match self {
            GroupBy::Month => "month".into(),
            GroupBy::Stage => "stage".into(),
            GroupBy::Reason => "reason".into(),
            GroupBy::Attribute(key) => format!("attribute:{key}"),
        }
    }
}

/// The value of attribute `key` of a rejected candidate, as text.
fn attribute_of(r: &Rejection, key: &str) -> Option<String> {
    let attributes: serde_json::Value =
        serde_json::from_str(r.candidate_attributes.as_deref()?).ok()?;
    match attributes.get(key)? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Step {
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

/// C5: the rate each step should reach from the one before, e.g.
/// `invitation_sent=0.95,link_clicked=0.3,registered=0.2`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Targets(Vec<(&'static str, f64)>);

impl Targets {
    fn of(&self, step: &str) -> Option<f64> {
        self.0
            .iter()
            .find(|(name, _)| *name == step)
            .map(|(_, rate)| *rate)
    }
}

impl std::str::FromStr for Targets {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut targets = Vec::new();
        for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (step, rate) = entry
                .split_once('=')
                .ok_or_else(|| format!("`{entry}` is not step=rate"))?;
            let step = STEPS[1..]
                .iter()
                .find(|name| **name == step.trim())
                .ok_or_else(|| {
                    format!(
                        "`{}` is not a step with a rate; one of {}",
                        step.trim(),
                        STEPS[1..].join(", ")
                    )
                })?;
            let rate: f64 = rate
                .trim()
                .parse()
                .ok()
                .filter(|r: &f64| r.is_finite() && *r >= 0.0)
                .ok_or_else(|| format!("the target of `{step}` must be a rate such as 0.3"))?;
            targets.push((*step, rate));
        }
        Ok(Targets(targets))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Group {
    /// The month (`2026-11`, JST), stage or reason; `(none)` when the ATS gave none.
    pub key: String,
    pub steps: Vec<Step>,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Funnel {
    pub steps: Vec<Step>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<Group>>,
}

/// What a funnel is computed with besides its data: the ratio of registrations per slot and
/// the target rates.
pub struct Settings<'a> {
    pub ratio: u32,
    pub targets: &'a Targets,
}

/// The funnel of `period`, split by `group_by` if given.
pub fn funnel(
    rejections: &[Rejection],
    referrals: &[referral::Model],
    settings: &Settings<'_>,
    period: Period,
    group_by: Option<GroupBy>,
) -> Funnel {
    let cohort: Vec<&Rejection> = rejections
        .iter()
        .filter(|r| period.contains(r.rejected_at))
        .collect();
    let all_referrals: Vec<&referral::Model> = referrals.iter().collect();
    let steps = steps(&cohort, Some(&all_referrals), settings, &|at| {
        period.contains(at)
    });
    let groups = group_by.as_ref().map(|by| match by {
        GroupBy::Month => by_month(&cohort, referrals, settings, period),
        GroupBy::Stage => by_key(&cohort, settings, |r| r.stage.clone()),
        GroupBy::Reason => by_key(&cohort, settings, |r| r.reason.clone()),
        GroupBy::Attribute(key) => by_key(&cohort, settings, |r| attribute_of(r, key)),
    });
    Funnel {
        steps,
        group_by: group_by.as_ref().map(GroupBy::as_string),
        groups,
    }
}

/// The month (JST) of a time, as `2026-11`.
fn month_of(at: i64) -> String {
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

fn by_month(
    cohort: &[&Rejection],
    referrals: &[referral::Model],
    settings: &Settings<'_>,
    period: Period,
) -> Vec<Group> {
    let mut months: Vec<String> = cohort.iter().map(|r| month_of(r.rejected_at)).collect();
    for r in referrals {
        let times = [slot_used_at(r), r.hired_at, r.joined_at, r.retained_at];
        months.extend(
            times
                .into_iter()
                .flatten()
                .filter(|at| period.contains(*at))
                .map(month_of),
        );
    }
    months.sort();
    months.dedup();
    let all_referrals: Vec<&referral::Model> = referrals.iter().collect();
    months
        .into_iter()
        .map(|month| {
            let in_month: Vec<&Rejection> = cohort
                .iter()
                .copied()
                .filter(|r| month_of(r.rejected_at) == month)
                .collect();
            let within = |at: i64| period.contains(at) && month_of(at) == month;
            let steps = steps(&in_month, Some(&all_referrals), settings, &within);
            Group { key: month, steps }
        })
        .collect()
}

fn by_key(
    cohort: &[&Rejection],
    settings: &Settings<'_>,
    key: impl Fn(&Rejection) -> Option<String>,
) -> Vec<Group> {
    let name = |r: &Rejection| {
        key(r)
            .filter(|k| !k.trim().is_empty())
            .unwrap_or_else(|| "(none)".to_owned())
    };
    let mut keys: Vec<String> = cohort.iter().map(|r| name(r)).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|k| {
            let members: Vec<&Rejection> =
                cohort.iter().copied().filter(|r| name(r) == k).collect();
            Group {
                key: k,
                steps: steps(&members, None, settings, &|_| false),
            }
        })
        .collect()
}

/// The steps for `cohort`, and for the company side (when `referrals` is given) the referrals'
/// outcomes at times `counted` accepts.
fn steps(
    cohort: &[&Rejection],
    referrals: Option<&[&referral::Model]>,
    settings: &Settings<'_>,
    counted: &dyn Fn(i64) -> bool,
) -> Vec<Step> {
    let count = |f: &dyn Fn(&Rejection) -> Option<i64>| {
        cohort.iter().filter(|r| f(r).is_some()).count() as u64
    };
    let registered = count(&|r| r.registered_at);
    let mut counts = vec![
        cohort.len() as u64,
        count(&|r| r.invitation_sent_at),
        count(&|r| r.link_clicked_at),
        registered,
        registered / u64::from(settings.ratio.max(1)),
    ];
    if let Some(referrals) = referrals {
        let reported = |f: &dyn Fn(&referral::Model) -> Option<i64>| {
            referrals
                .iter()
                .filter(|r| f(r).is_some_and(counted))
                .count() as u64
        };
        counts.extend([
            reported(&slot_used_at),
            reported(&|r| r.hired_at),
            reported(&|r| r.joined_at),
            reported(&|r| r.retained_at),
        ]);
    }
    debug_assert!(counts.len() == CANDIDATE_STEPS || counts.len() == STEPS.len());
    let mut previous: Option<u64> = None;
    STEPS
        .iter()
        .zip(counts)
        .map(|(name, count)| {
            let rate = previous
                .filter(|p| *p > 0)
                .map(|p| (count as f64 / p as f64 * 10_000.0).round() / 10_000.0);
            previous = Some(count);
            let target_rate = settings.targets.of(name);
            Step {
                name,
                label: label(name),
                count,
                rate_from_previous: rate,
                target_rate,
                on_target: target_rate.zip(rate).map(|(target, rate)| rate >= target),
            }
        })
        .collect()
}

/// The columns of the CSV export.
const EXPORT_HEADER: [&str; 7] = [
    "application_id",
    "rejected_at",
    "stage",
    "reason",
    "invitation_sent_at",
    "link_clicked_at",
    "registered_at",
];

/// The CSV export (C8: for BI): one row per rejection of the period with the time of each step
/// it reached (RFC 3339, JST). No names or addresses. Chunks to stream (see
/// [`crate::export::chunks`]), after a byte order mark for Excel when `bom`.
pub fn export_csv(rejections: Vec<Rejection>, bom: bool) -> impl Iterator<Item = String> {
    crate::export::chunks(&EXPORT_HEADER, rejections, bom, export_row)
}

fn export_row(csv: &mut Csv, r: &Rejection) {
    let time = |at: Option<i64>| {
        Field::Value(
            at.and_then(|at| jst().timestamp_millis_opt(at).single())
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
                .unwrap_or_default(),
        )
    };
    csv.row(&[
        Field::Value(r.application_id.clone()),
        time(Some(r.rejected_at)),
        Field::Text(r.stage.as_deref().unwrap_or_default()),
        Field::Text(r.reason.as_deref().unwrap_or_default()),
        time(r.invitation_sent_at),
        time(r.link_clicked_at),
        time(r.registered_at),
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;
    /// 2026-11-01T00:00:00+09:00.
    const NOV_1: i64 = 1_793_458_800_000;

    fn rejection(id: &str, at: i64, stage: &str, reached: usize) -> Rejection {
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
        }
    }

    fn referral(id: &str, used: i64, hired: Option<i64>) -> referral::Model {
        referral::Model {
            id: id.into(),
            slot_used_at: Some(used),
            hired_at: hired,
            joined_at: None,
            retained_at: None,
            left_at: None,
            created_at: used,
            updated_at: used,
        }
    }

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

    /// C5: each step of the rejected cohort and of the period's referrals, with the rate from
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
        let f = funnel(&rejections, &referrals, &settings, period, None);
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
        let f = funnel(
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
        let f = funnel(
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

    /// C5: targets name steps that have a rate, with a rate; anything else is refused.
    #[test]
    fn c5_targets_are_rates_of_named_steps() {
        let t: Targets = "registered=0.2".parse().unwrap();
        assert_eq!(t.of("registered"), Some(0.2));
        assert_eq!("".parse::<Targets>().unwrap(), Targets::default());
        for bad in [
            "rejected=0.5",
            "clicks=0.5",
            "registered",
            "registered=-1",
            "registered=x",
        ] {
            assert!(bad.parse::<Targets>().is_err(), "{bad}");
        }
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
        let f = funnel(&rejections, &[], &settings, period, Some(by));
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

    /// C8: the export has a row per rejection, no personal data, and quotes and neutralises
    /// what a spreadsheet would misread (see `export`).
    #[test]
    fn c8_the_export_is_csv_a_spreadsheet_opens_safely() {
        let mut r = rejection("app_1", NOV_1, "=HYPERLINK(\"x\")", 1);
        r.reason = Some("経験, 不足".into());
        let csv: String = export_csv(vec![r], false).collect();
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert!(lines[0].starts_with("application_id,rejected_at,stage,reason"));
        assert_eq!(
            lines[1],
            "app_1,2026-11-01T00:00:00+09:00,\"'=HYPERLINK(\"\"x\"\")\",\"経験, 不足\",2026-11-01T00:00:00+09:00,,"
        );
        assert_eq!(lines.len(), 3, "header, one row, the final line break");
    }
}
