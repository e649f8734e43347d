//! B1/B3: which earlier applications a backfill takes.
//!
//! The order of the checks decides which count an application lands in; each application is
//! counted once, in the first of these that applies:
//! 1. `too_old`: applied more than [`BACKFILL_WINDOW_DAYS`] days before the run (B1);
//! 2. `beyond_latest_500`: within the year, but not among the [`BACKFILL_LIMIT`] newest of the
//!    year by `applied_at` (B1: "the 501st newest is not taken, even within a year"). The window
//!    is the 500 newest applications *whatever their status*: a rejected application still
//!    occupies its place among the latest 500;
//! 3. `status_excluded`: among the latest 500, but rejected, declined or hired on BizReach (B3);
//! 4. `already_imported`: among the latest 500 with an importable status, but hirelay has it
//!    already (an application with that source id, or an event for it);
//!
//! and the rest are taken.
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::HashSet;

use super::status::BizreachStatus;

/// How far back a backfill reaches (B1: "1年以内").
pub const BACKFILL_WINDOW_DAYS: i64 = 365;
/// How many of the newest applications a backfill considers (B1: "最新の500件").
pub const BACKFILL_LIMIT: usize = 500;

/// What the selection needs to know of one application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackfillCandidate {
    pub id: String,
    pub applied_at: DateTime<Utc>,
    pub status: BizreachStatus,
}

/// Why applications were left out, counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Skipped {
    pub too_old: u64,
    pub beyond_latest_500: u64,
    pub status_excluded: u64,
    pub already_imported: u64,
}

/// The applications to import (ids, newest first) and what was skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    pub take: Vec<String>,
    pub skipped: Skipped,
}

/// The earliest `applied_at` a backfill run at `now` takes.
pub fn window_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::days(BACKFILL_WINDOW_DAYS)
}

/// Selects what a backfill run at `now` imports from `apps` (in any order), skipping the ids in
/// `already_imported`. See the module documentation for the order of the checks.
pub fn select_backfill(
    apps: &[BackfillCandidate],
    now: DateTime<Utc>,
    already_imported: &HashSet<String>,
) -> Selection {
    let start = window_start(now);
    let mut selection = Selection::default();
    let mut within: Vec<&BackfillCandidate> = Vec::with_capacity(apps.len());
    for app in apps {
        if app.applied_at < start {
            selection.skipped.too_old += 1;
        } else {
            within.push(app);
        }
    }
    // Newest first; ties broken by id so the cut at 500 is the same on every run.
    within.sort_by(|a, b| (b.applied_at, &b.id).cmp(&(a.applied_at, &a.id)));
    for (rank, app) in within.into_iter().enumerate() {
        if rank >= BACKFILL_LIMIT {
            selection.skipped.beyond_latest_500 += 1;
        } else if app.status.excluded_from_backfill() {
            selection.skipped.status_excluded += 1;
        } else if already_imported.contains(&app.id) {
            selection.skipped.already_imported += 1;
        } else {
            selection.take.push(app.id.clone());
        }
    }
    selection
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap()
    }

    fn app(n: usize, days_ago: i64, status: BizreachStatus) -> BackfillCandidate {
        BackfillCandidate {
            id: format!("br-app-{n:06}"),
            applied_at: now() - Duration::days(days_ago) - Duration::minutes(n as i64),
            status,
        }
    }

    #[test]
    fn b1_takes_only_the_latest_500_within_a_year() {
        // 600 within the year (the 501st newest and older are cut), 30 older than a year.
        let mut apps: Vec<_> = (0..600)
            .map(|n| app(n, (n / 2) as i64, BizreachStatus::New))
            .collect();
        apps.extend((600..630).map(|n| app(n, 366 + (n as i64 - 600), BizreachStatus::New)));
        let s = select_backfill(&apps, now(), &HashSet::new());
        assert_eq!(s.take.len(), 500);
        assert_eq!(s.skipped.beyond_latest_500, 100);
        assert_eq!(s.skipped.too_old, 30);
        // The newest is first; the 500th newest is taken, the 501st is not.
        assert_eq!(s.take[0], "br-app-000000");
        assert!(s.take.contains(&"br-app-000499".to_owned()));
        assert!(!s.take.contains(&"br-app-000500".to_owned()));
    }

    #[test]
    fn b1_the_501st_newest_is_not_taken_even_within_a_year() {
        let apps: Vec<_> = (0..501).map(|n| app(n, 1, BizreachStatus::New)).collect();
        let s = select_backfill(&apps, now(), &HashSet::new());
        assert_eq!(s.take.len(), 500);
        assert_eq!(s.skipped.beyond_latest_500, 1);
        assert!(!s.take.contains(&"br-app-000500".to_owned()));
    }

    #[test]
    fn b1_a_year_ago_exactly_is_within_the_year() {
        let edge = BackfillCandidate {
            id: "edge".into(),
            applied_at: window_start(now()),
            status: BizreachStatus::New,
        };
        let s = select_backfill(&[edge], now(), &HashSet::new());
        assert_eq!(s.take, ["edge"]);
    }

    #[test]
    fn b3_rejected_declined_and_hired_are_skipped() {
        let apps = vec![
            app(1, 1, BizreachStatus::New),
            app(2, 1, BizreachStatus::InProgress),
            app(3, 1, BizreachStatus::Rejected),
            app(4, 1, BizreachStatus::Declined),
            app(5, 1, BizreachStatus::Hired),
        ];
        let s = select_backfill(&apps, now(), &HashSet::new());
        assert_eq!(s.take, ["br-app-000001", "br-app-000002"]);
        assert_eq!(s.skipped.status_excluded, 3);
    }

    #[test]
    fn b1_b3_excluded_statuses_still_occupy_places_among_the_latest_500() {
        // The 500 newest are all rejected: nothing is taken, the older ones are beyond 500.
        let mut apps: Vec<_> = (0..500)
            .map(|n| app(n, 1, BizreachStatus::Rejected))
            .collect();
        apps.extend((500..510).map(|n| app(n, 10, BizreachStatus::New)));
        let s = select_backfill(&apps, now(), &HashSet::new());
        assert!(s.take.is_empty());
        assert_eq!(s.skipped.status_excluded, 500);
        assert_eq!(s.skipped.beyond_latest_500, 10);
    }

    #[test]
    fn already_imported_applications_are_counted_not_taken() {
        let apps = vec![
            app(1, 1, BizreachStatus::New),
            app(2, 1, BizreachStatus::New),
        ];
        let done: HashSet<String> = ["br-app-000002".to_owned()].into();
        let s = select_backfill(&apps, now(), &done);
        assert_eq!(s.take, ["br-app-000001"]);
        assert_eq!(s.skipped.already_imported, 1);
    }
}
