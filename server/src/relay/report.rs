//! C8: the monthly Career Relay report, mailed to every user who switched it on
//! (`monthly_report` in `/v1/notifications/subscriptions`) and written as one HTML file by
//! `hirelay report --month YYYY-MM` ([`super::report_html`]). Both show [`MonthReport`], made by
//! [`month_report`] alone: the funnel of a calendar month (JST), split by selection stage and by
//! rejection reason, the slot ledger at the month's end, the targets and the ROI. The scheduler
//! runs the email as `career-relay-report` (`HIRELAY_REPORT_SCHEDULE`) for the month before;
//! each address gets one report a month however often it runs.
use std::sync::Arc;

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;
use serde::Serialize;

use super::funnel::{self, GroupBy, Settings, Step};
use super::ledger::{self, Ledger};
use crate::config::Config;
pub use crate::domain::month::{BadMonth, ReportMonth};
use crate::domain::names::TemplateName;
use crate::domain::period::Period;
use crate::domain::schedule::Schedule;
use crate::mail::{Mailer, OutgoingMail};
use crate::scheduler::Job;
use crate::store::{Store, StoreError};

/// The scheduler's name of the report.
pub const REPORT_JOB: &str = "career-relay-report";
/// Its template.
pub const REPORT_TEMPLATE: &str = "career_relay_monthly_report";

/// The calendar month in JST before the one `now` falls in: its first day and its period.
pub fn previous_month(now: i64) -> (NaiveDate, Period) {
    let month = ReportMonth::before(now);
    (month.first_day(), month.period())
}

/// A funnel step as the report shows it: its label in Japanese, its count, its rate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportStep {
    /// The step's name in the API (`registered`).
    pub name: &'static str,
    /// 紹介登録済.
    pub label: &'static str,
    pub count: u64,
    /// From the step before, `33.3%`, or `—`.
    pub rate: String,
}

impl ReportStep {
    fn of(step: &Step) -> ReportStep {
        ReportStep {
            name: step.name,
            label: step.label,
            count: step.count,
            rate: percent(step.rate_from_previous),
        }
    }
}

/// `0.3333` → `33.3%`; none → `—`.
fn percent(rate: Option<f64>) -> String {
    rate.map_or("—".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

/// The funnel of the rejections of one selection stage or one rejection reason (C7).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportGroup {
    /// The stage or reason as the ATS sent it; `(none)` when it sent none.
    pub key: String,
    pub steps: Vec<ReportStep>,
}

/// A step with a target (`HIRELAY_CAREER_RELAY_TARGETS`) and whether the month met it (C5).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TargetRow {
    pub label: &'static str,
    /// The target rate from the step before, `30.0%`.
    pub target: String,
    /// The month's rate, `33.3%`, or `—`.
    pub rate: String,
    /// `null` when the step before was 0 (no rate to judge).
    pub met: Option<bool>,
    /// 達成, 未達 or `—`.
    pub result: &'static str,
}

/// The programme's ROI (C6): the month's slots used, each priced at what a hire through an
/// agency would have cost (`HIRELAY_CAREER_RELAY_FEE_PER_HIRE`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Roi {
    /// Whether the fee is configured; without it there is no amount.
    pub configured: bool,
    pub slots_used: u64,
    pub fee_per_hire: Option<u64>,
    pub amount: Option<u64>,
    /// The fee as shown, `¥1,000,000`, or 未設定.
    pub fee_text: String,
    /// The amount as shown, `¥3,000,000`, or 未設定.
    pub amount_text: String,
}

/// What the report shows for an unconfigured fee.
pub const NOT_CONFIGURED: &str = "未設定";

impl Roi {
    /// `slots_used` slots at `fee_per_hire` yen each, if it is set.
    pub fn new(slots_used: u64, fee_per_hire: Option<u64>) -> Roi {
        let amount = fee_per_hire.map(|fee| fee.saturating_mul(slots_used));
        let text = |yen_value: Option<u64>| yen_value.map_or(NOT_CONFIGURED.to_owned(), yen);
        Roi {
            configured: fee_per_hire.is_some(),
            slots_used,
            fee_per_hire,
            amount,
            fee_text: text(fee_per_hire),
            amount_text: text(amount),
        }
    }
}

/// `1200000` → `¥1,200,000`.
pub fn yen(amount: u64) -> String {
    let digits = amount.to_string();
    let mut out = String::from("¥");
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// C8: one month's Career Relay report, as the email's data and the HTML file show it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MonthReport {
    pub company_name: String,
    /// `2026年11月`.
    pub month: String,
    /// `2026-11`.
    pub month_code: String,
    /// Its first and last day (JST), `2026-11-01`, `2026-11-30`.
    pub period_from: String,
    pub period_to: String,
    /// The slot ledger at the month's end.
    pub ledger: Ledger,
    /// The month's funnel, every step in order.
    pub steps: Vec<ReportStep>,
    /// The candidate side of the funnel by selection stage and by rejection reason (C7).
    pub by_stage: Vec<ReportGroup>,
    pub by_reason: Vec<ReportGroup>,
    /// The steps with a target, in order.
    pub targets: Vec<TargetRow>,
    pub roi: Roi,
}

/// C8: the report of `month` from `db`, with the ratio, targets, fee and company name of
/// `config`. The email and `hirelay report` both show this.
pub async fn month_report<C: ConnectionTrait>(
    db: &C,
    config: &Config,
    month: ReportMonth,
) -> Result<MonthReport, StoreError> {
    let period = month.period();
    let rejections = Store::rejections_between(db, 0, period.to).await?;
    let referrals = Store::referrals(db).await?;
    let registrations = Store::first_registrations(db).await?;
    let registered = Store::registered_candidates_before(db, period.to).await?;
    let ratio = config.career_relay_ratio;
    let ledger = Ledger::new(ledger::counts_at(registered, &referrals, period.to), ratio);
    let settings = Settings {
        ratio,
        targets: &config.career_relay_targets,
    };
    let data = funnel::FunnelData {
        rejections: &rejections,
        referrals: &referrals,
        registrations: &registrations,
        recorded: &[],
    };
    let split = |by: GroupBy| funnel::funnel(&data, &settings, period, Some(by));
    let by_stage = split(GroupBy::Stage);
    let by_reason = split(GroupBy::Reason);
    let groups = |f: funnel::Funnel| -> Vec<ReportGroup> {
        f.groups
            .unwrap_or_default()
            .into_iter()
            .map(|g| ReportGroup {
                key: g.key,
                steps: g.steps.iter().map(ReportStep::of).collect(),
            })
            .collect()
    };
    let slots_used = by_stage
        .steps
        .iter()
        .find(|s| s.name == "slot_used")
        .map_or(0, |s| s.count);
    Ok(MonthReport {
        company_name: super::company_name(db, config).await,
        month: month.first_day().format("%Y年%-m月").to_string(),
        month_code: month.code(),
        period_from: month.first_day().to_string(),
        period_to: month.last_day().to_string(),
        ledger,
        steps: by_stage.steps.iter().map(ReportStep::of).collect(),
        targets: target_rows(&by_stage.steps),
        by_stage: groups(by_stage),
        by_reason: groups(by_reason),
        roi: Roi::new(slots_used, config.career_relay_fee_per_hire),
    })
}

/// The steps that have a target, with the month's rate and whether it met the target.
fn target_rows(steps: &[Step]) -> Vec<TargetRow> {
    steps
        .iter()
        .filter_map(|s| {
            let target = s.target_rate?;
            Some(TargetRow {
                label: s.label,
                target: percent(Some(target)),
                rate: percent(s.rate_from_previous),
                met: s.on_target,
                result: match s.on_target {
                    Some(true) => "達成",
                    Some(false) => "未達",
                    None => "—",
                },
            })
        })
        .collect()
}

/// What a run did.
#[derive(Debug, Serialize)]
pub struct ReportRun {
    /// The month reported, `2026-10`.
    pub month: String,
    /// Addresses subscribed to the report.
    pub recipients: usize,
    /// Reports queued now (an address that has this month's already is not written to again).
    pub queued: usize,
}

/// The `career-relay-report` job: mails [`month_report`] of the month before to subscribers.
#[derive(Clone)]
pub struct MonthlyReport {
    pub store: Store,
    pub mailer: Mailer,
    pub config: Arc<Config>,
}

impl MonthlyReport {
    /// Queues the report of the month before `now`'s to every subscribed address.
    pub async fn run(&self, now: i64) -> anyhow::Result<ReportRun> {
        let report_month = ReportMonth::before(now);
        let month = report_month.code();
        let db = &self.store.db;
        let recipients = Store::monthly_report_recipients(db).await?;
        if recipients.is_empty() {
            return Ok(ReportRun {
                month,
                recipients: 0,
                queued: 0,
            });
        }
        let report = month_report(db, &self.config, report_month).await?;
        let data = email_data(&report, &self.config.public_url)?;
        let template = TemplateName::parse(REPORT_TEMPLATE)?;
        let _turn = self.store.write_turn().await;
        let txn = self.store.begin_writing().await?;
        let queued: anyhow::Result<usize> = async {
            let mut queued = 0;
            for to in &recipients {
                let mail = OutgoingMail {
                    template: template.clone(),
                    to: to.clone(),
                    data: data.clone(),
                    send_at: None,
                    dedupe_key: format!("report:{month}:{}", to.as_str()),
                    list_unsubscribe: None,
                };
                if matches!(
                    self.mailer.enqueue(&txn, mail).await?,
                    crate::mail::EnqueueOutcome::Queued { .. }
                ) {
                    queued += 1;
                }
            }
            Ok(queued)
        }
        .await;
        let queued = crate::store::end_transaction(txn, queued).await?;
        self.mailer.wake();
        Ok(ReportRun {
            month,
            recipients: recipients.len(),
            queued,
        })
    }
}

/// The email's data: the report, and the link to the console's dashboard.
fn email_data(report: &MonthReport, public_url: &str) -> serde_json::Result<serde_json::Value> {
    let mut data = serde_json::to_value(report)?;
    data["dashboard_url"] = format!("{public_url}/console").into();
    Ok(data)
}

/// C8: the report as the `career-relay-report` job, on `schedule`.
pub fn job(schedule: Schedule, report: MonthlyReport) -> Job {
    Job {
        name: REPORT_JOB.to_owned(),
        schedule,
        run: Arc::new(move || {
            let report = report.clone();
            Box::pin(async move {
                let run = report.run(crate::domain::time::now_millis()).await?;
                Ok(serde_json::to_value(run)?)
            })
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        crate::domain::time::parse_rfc3339(s).unwrap()
    }

    /// C8: the month reported is the calendar month before, in JST (09:00 JST on the 1st is
    /// 00:00 UTC; 23:30 UTC on the last day is already the next month in Japan).
    #[test]
    fn c8_the_report_covers_the_previous_month_in_jst() {
        let (first, period) = previous_month(at("2026-12-01T00:00:00Z"));
        assert_eq!(first.to_string(), "2026-11-01");
        assert_eq!(period.from, at("2026-11-01T00:00:00+09:00"));
        assert_eq!(period.to, at("2026-12-01T00:00:00+09:00"));
        let (first, _) = previous_month(at("2026-11-30T23:30:00Z"));
        assert_eq!(first.to_string(), "2026-11-01", "already December in Japan");
        let (first, _) = previous_month(at("2027-01-15T12:00:00+09:00"));
        assert_eq!(first.to_string(), "2026-12-01");
    }

    #[test]
    fn steps_show_their_label_and_rate() {
        let step = Step {
            name: "registered",
            label: "紹介登録済",
            count: 3,
            rate_from_previous: Some(0.3333),
            target_rate: None,
            on_target: None,
        };
        assert_eq!(
            serde_json::to_value(ReportStep::of(&step)).unwrap(),
            serde_json::json!({"name": "registered", "label": "紹介登録済", "count": 3, "rate": "33.3%"})
        );
    }

    /// C6: ROI is the month's slots used times the fee per hire; without a fee it is not
    /// configured, and says so.
    #[test]
    fn c6_roi_prices_the_slots_used_at_the_fee_per_hire() {
        let roi = Roi::new(3, Some(1_200_000));
        assert_eq!(
            (roi.amount, roi.amount_text.as_str()),
            (Some(3_600_000), "¥3,600,000")
        );
        assert_eq!(roi.fee_text, "¥1,200,000");
        let unset = Roi::new(3, None);
        assert!(!unset.configured);
        assert_eq!(
            (unset.amount, unset.amount_text.as_str()),
            (None, NOT_CONFIGURED)
        );
        assert_eq!(yen(0), "¥0");
        assert_eq!(yen(999), "¥999");
        assert_eq!(yen(1000), "¥1,000");
    }
}
