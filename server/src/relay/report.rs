//! C8: the monthly Career Relay report, mailed to every user who switched it on
//! (`monthly_report` in `/v1/notifications/subscriptions`): the slot ledger as it stands and the
//! funnel of the previous calendar month (JST). Run by the scheduler as `career-relay-report`
//! (`HIRELAY_REPORT_SCHEDULE`); each address gets one report a month however often it runs.
use std::sync::Arc;

use chrono::{Datelike, NaiveDate, TimeZone};
use serde::Serialize;
use serde_json::json;

use super::funnel::{self, Settings, Step};
use super::ledger::Ledger;
use crate::config::Config;
use crate::domain::names::TemplateName;
use crate::domain::period::Period;
use crate::domain::schedule::Schedule;
use crate::domain::time::jst;
use crate::mail::{Mailer, OutgoingMail};
use crate::scheduler::Job;
use crate::store::Store;

/// The scheduler's name of the report.
pub const REPORT_JOB: &str = "career-relay-report";
/// Its template.
pub const REPORT_TEMPLATE: &str = "career_relay_monthly_report";

/// The calendar month in JST before the one `now` falls in: its first day and its period.
pub fn previous_month(now: i64) -> (NaiveDate, Period) {
    let today = jst()
        .timestamp_millis_opt(now)
        .single()
        .map(|t| t.date_naive())
        .unwrap_or_default();
    let this_month = today.with_day(1).unwrap_or(today);
    let first = this_month
        .checked_sub_months(chrono::Months::new(1))
        .unwrap_or(this_month);
    let start = |day: NaiveDate| {
        jst()
            .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
            .single()
            .map(|t| t.timestamp_millis())
            .unwrap_or_default()
    };
    (
        first,
        Period {
            from: start(first),
            to: start(this_month),
        },
    )
}

/// What a run did.
#[derive(Debug, Serialize)]
pub struct ReportRun {
    /// The month reported, `2026-10`.
    pub month: String,
    pub recipients: usize,
    /// Reports queued now (an address that has this month's already is not written to again).
    pub queued: usize,
}

#[derive(Clone)]
pub struct MonthlyReport {
    pub store: Store,
    pub mailer: Mailer,
    pub config: Arc<Config>,
}

impl MonthlyReport {
    /// Queues the report of the month before `now`'s to every subscribed address.
    pub async fn run(&self, now: i64) -> anyhow::Result<ReportRun> {
        let (first, period) = previous_month(now);
        let month = first.format("%Y-%m").to_string();
        let db = &self.store.db;
        let recipients = Store::monthly_report_recipients(db).await?;
        if recipients.is_empty() {
            return Ok(ReportRun {
                month,
                recipients: 0,
                queued: 0,
            });
        }
        let ratio = self.config.career_relay_ratio;
        let ledger = Ledger::new(Store::referral_counts(db).await?, ratio);
        let rejections = Store::rejections_between(db, period.from, period.to).await?;
        let referrals = Store::referrals(db).await?;
        let settings = Settings {
            ratio,
            targets: &self.config.career_relay_targets,
        };
        let funnel = funnel::funnel(&rejections, &referrals, &settings, period, None);
        let last_day = first
            .checked_add_months(chrono::Months::new(1))
            .and_then(|d| d.pred_opt())
            .unwrap_or(first);
        let data = json!({
            "company_name": super::company_name(db, self.config.company_name.as_deref()).await,
            "month": first.format("%Y年%-m月").to_string(),
            "period_from": first.to_string(),
            "period_to": last_day.to_string(),
            "ledger": ledger,
            "steps": funnel.steps.iter().map(step_json).collect::<Vec<_>>(),
            "dashboard_url": format!("{}/console", self.config.public_url),
        });
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

/// A funnel step as the template shows it: its label in Japanese, its count, its rate.
fn step_json(step: &Step) -> serde_json::Value {
    json!({
        "label": step.label,
        "count": step.count,
        "rate": step
            .rate_from_previous
            .map_or("—".to_owned(), |r| format!("{:.1}%", r * 100.0)),
    })
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
            step_json(&step),
            json!({"label": "紹介登録済", "count": 3, "rate": "33.3%"})
        );
    }
}
