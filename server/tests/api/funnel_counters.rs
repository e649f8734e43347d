//! The funnel's counters (issue 13, performance): `GET /v1/kpis/funnel` reads daily counters
//! kept in the transactions that change what it counts, and answers exactly what the funnel
//! of every rejection answers (C5, C7), for whole days and parts of days, by month, stage and
//! reason; and the counters kept as things happened equal those rebuilt from the facts.
use crate::helpers::TestApp;
use hirelay::domain::period::Period;
use hirelay::relay::funnel::{self, FunnelData, GroupBy, Settings};
use hirelay::store::Store;
use serde_json::Value;

/// The funnel of every rejection (`funnel::funnel`, as answered before the counters).
async fn of_every_rejection(app: &TestApp, from: &str, to: &str, group_by: Option<&str>) -> Value {
    let db = &app.state.store.db;
    let period = Period::parse(Some(from), Some(to), 0).unwrap();
    let rejections = Store::rejections_between(db, 0, period.to).await.unwrap();
    let referrals = Store::referrals(db).await.unwrap();
    let registrations = Store::first_registrations(db).await.unwrap();
    let recorded = Store::kpi_records_between(db, period.from, period.to, None)
        .await
        .unwrap();
    let data = FunnelData {
        rejections: &rejections,
        referrals: &referrals,
        registrations: &registrations,
        recorded: &recorded,
    };
    let settings = Settings {
        ratio: app.state.config.career_relay_ratio,
        targets: &app.state.config.career_relay_targets,
    };
    let by = group_by.map(|g| GroupBy::parse(g).unwrap());
    serde_json::to_value(funnel::funnel(&data, &settings, period, by)).unwrap()
}

/// Every counter, in order.
async fn counters(app: &TestApp) -> (Vec<String>, Vec<String>) {
    let db = &app.state.store.db;
    let mut steps: Vec<String> = Store::step_days(db, i64::MIN..i64::MAX)
        .await
        .unwrap()
        .iter()
        .map(|c| format!("{c:?}"))
        .collect();
    steps.sort();
    let kpis = Store::kpi_days(db, i64::MIN..i64::MAX)
        .await
        .unwrap()
        .iter()
        .map(|c| format!("{c:?}"))
        .collect();
    (steps, kpis)
}

/// Periods of whole days, of parts of days at either end, within one day, and one that ends
/// before a rejection whose invitation was sent before it.
const PERIODS: [(&str, &str); 5] = [
    ("2026-10-01", "2026-12-31"),
    ("2026-11-21", "2026-11-21"),
    ("2026-11-21T08:30:00Z", "2027-01-01T00:00:00Z"),
    ("2026-11-21", "2026-12-10"),
    ("2026-11-21T08:00:00Z", "2026-11-21T10:00:00Z"),
];

/// C5, C7: rejections on several days and stages, one rejected again, one replayed, one whose
/// ATS time is after its invitation was sent, a click, registrations (one dated before its
/// rejection), KPIs: the counted funnel equals the funnel of every rejection, each way it is
/// split, and the counters kept equal those rebuilt from the facts.
#[tokio::test]
async fn c5_c7_the_counted_funnel_equals_the_funnel_of_every_rejection() {
    let app = TestApp::spawn().await;
    let mails = crate::ats::rejected_and_invited(&app, 4).await;
    let other_stage = crate::ats::change(
        "ats-early-stage",
        "paper@example.jp",
        "rejected",
        "2026-10-31T23:30:00+09:00",
    )
    .replace("一次面接", "書類選考");
    let event = app.deliver("ats", "paper", &other_stage).await;
    assert_eq!(event["status"], "done", "{event}");
    // The ATS's time is ahead of ours: the invitation goes before the rejection's time.
    let ahead = crate::ats::change(
        "ats-ahead",
        "ahead@example.jp",
        "rejected",
        "2026-12-25T10:00:00+09:00",
    );
    assert_eq!(app.deliver("ats", "ahead", &ahead).await["status"], "done");
    for (id, to, at) in [
        ("again-1", "interview", "2026-11-22T10:00:00+09:00"),
        ("again-2", "rejected", "2026-11-24T10:00:00+09:00"),
    ] {
        let body = crate::ats::change("ats-c1-0", "r0@example.jp", to, at);
        assert_eq!(app.deliver("ats", id, &body).await["status"], "done");
    }
    let (status, _) = app
        .post_json(
            &format!("/v1/events/{}/replay", event["id"].as_str().unwrap()),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 202);
    app.wait_event(event["id"].as_str().unwrap()).await;
    let clicked = app
        .client
        .get(app.url(&format!("/r/{}", crate::ats::tracking_token(&mails[1]))))
        .send()
        .await
        .unwrap();
    assert_eq!(clicked.status(), 302);
    crate::ats::register(&app, "reg-1", &mails[1]).await;
    let before_rejection = crate::helpers::sample("career-relay-registration.json")
        .replace(
            "REPLACE_WITH_TOKEN_FROM_EMAIL",
            &crate::ats::relay_token(&mails[2]),
        )
        .replace("2026-11-23T09:30:00+09:00", "2026-11-20T09:30:00+09:00");
    let event = app
        .deliver("career-relay", "reg-2", &before_rejection)
        .await;
    assert_eq!(event["status"], "done", "{event}");
    app.smtp.wait_for(6).await;

    let compare = |label: &'static str| {
        let app = &app;
        async move {
            for (from, to) in PERIODS {
                for group_by in [None, Some("month"), Some("stage"), Some("reason")] {
                    let mut path = format!("/v1/kpis/funnel?from={from}&to={to}");
                    if let Some(g) = group_by {
                        path.push_str(&format!("&group_by={g}"));
                    }
                    let counted = app.get_json(&path).await;
                    let every = of_every_rejection(app, from, to, group_by).await;
                    assert_eq!(counted, every, "{label}: {path}");
                }
            }
        }
    };
    // Invitations are marked sent just after the SMTP server took them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while app
        .get_json("/v1/kpis/funnel?from=2026-10-01&to=2026-12-31")
        .await["steps"][1]["count"]
        != 6
    {
        assert!(std::time::Instant::now() < deadline, "invitations not sent");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    compare("kept").await;
    let sample = app
        .get_json("/v1/kpis/funnel?from=2026-10-01&to=2026-12-31&group_by=stage")
        .await;
    assert_eq!(sample["steps"][0]["count"], 6, "{sample}");
    assert_eq!(sample["groups"].as_array().unwrap().len(), 2, "{sample}");

    let kept = counters(&app).await;
    assert!(!kept.0.is_empty() && !kept.1.is_empty());
    Store::rebuild_funnel(&app.state.store.db).await.unwrap();
    assert_eq!(counters(&app).await, kept, "rebuilt from the facts");
    compare("rebuilt").await;

    // A database upgraded with these facts in it gets the same counters.
    let db = &app.state.store.db;
    crate::helpers::migrate_down_through(db, "m0015_funnel_aggregates").await;
    {
        use migrations::{Migrator, MigratorTrait};
        Migrator::up(db, None).await.unwrap();
    }
    assert_eq!(counters(&app).await, kept, "filled by the migration");
}
