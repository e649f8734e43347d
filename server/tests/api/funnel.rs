//! The Career Relay funnel adds up (C1, C5): its slots are the ledger's, a registration implies
//! its click, each thing counts in the month it happened, and the KPIs the scripts record are
//! shown beside it. Seeded through the webhooks, as an integrator would.
use crate::helpers::{sample, TestApp};
use hirelay::domain::role::Role;
use serde_json::{json, Value};

/// Career Relay reports, at `registered_at`, the registration of the candidate invited by `mail`.
async fn register_at(
    app: &TestApp,
    webhook_id: &str,
    mail: &crate::smtp::ReceivedMail,
    registered_at: &str,
) {
    let body = sample("career-relay-registration.json")
        .replace(
            "REPLACE_WITH_TOKEN_FROM_EMAIL",
            &crate::ats::relay_token(mail),
        )
        .replace("2026-11-23T09:30:00+09:00", registered_at);
    let event = app.deliver("career-relay", webhook_id, &body).await;
    assert_eq!(event["status"], "done", "{event}");
}

/// `GET path` as a viewer, answered 200.
async fn view(app: &TestApp, path: &str) -> Value {
    let viewer = app.token(Role::Viewer).await;
    let res = app
        .as_token(&viewer, reqwest::Method::GET, path)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

/// The count of `step` in a funnel or a group.
fn count(funnel: &Value, step: &str) -> u64 {
    funnel["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == step)
        .and_then(|s| s["count"].as_u64())
        .unwrap_or_else(|| panic!("no {step} in {funnel}"))
}

/// The group of `key`, if there is one.
fn group<'a>(funnel: &'a Value, key: &str) -> Option<&'a Value> {
    funnel["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == key)
}

/// Waits until every invitation of the `n` so far is sent (the sender marks a mail sent just
/// after the SMTP server took it); answers the funnel from the beginning to now.
async fn all_sent(app: &TestApp, n: u64) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let funnel = view(app, "/v1/kpis/funnel").await;
        if count(&funnel, "invitation_sent") == n {
            return funnel;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "invitations not sent: {funnel}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// C1, C5: registrations straddling November's end (ratio 2): the slot completed on November
/// 30th is November's, the one completed on December 1st December's; each month's
/// `slot_earned` is what the ledger earned in it, and the period's is their sum, although
/// every candidate was rejected in November.
#[tokio::test]
async fn c1_c5_the_funnels_slots_equal_the_ledgers_across_a_month_boundary() {
    let app = TestApp::spawn_with(&[("HIRELAY_CAREER_RELAY_RATIO", "2")]).await;
    let mails = crate::ats::rejected_and_invited(&app, 5).await;
    let ledger = || view(&app, "/v1/career-relay/ledger");
    let at_start = ledger().await["slots_earned"].as_u64().unwrap();
    register_at(&app, "reg-0", &mails[0], "2026-11-29T10:00:00+09:00").await;
    register_at(&app, "reg-1", &mails[1], "2026-11-30T23:59:00+09:00").await;
    let at_november_end = ledger().await["slots_earned"].as_u64().unwrap();
    register_at(&app, "reg-2", &mails[2], "2026-12-01T00:00:00+09:00").await;
    register_at(&app, "reg-3", &mails[3], "2026-12-01T12:00:00+09:00").await;
    register_at(&app, "reg-4", &mails[4], "2026-12-02T09:00:00+09:00").await;
    let at_december_end = ledger().await["slots_earned"].as_u64().unwrap();
    assert_eq!((at_start, at_november_end, at_december_end), (0, 1, 2));

    let funnel = view(
        &app,
        "/v1/kpis/funnel?from=2026-11-01&to=2026-12-31&group_by=month",
    )
    .await;
    let november = group(&funnel, "2026-11").expect("November");
    let december = group(&funnel, "2026-12").expect("December");
    assert_eq!(
        count(november, "slot_earned"),
        at_november_end - at_start,
        "{funnel}"
    );
    assert_eq!(
        count(december, "slot_earned"),
        at_december_end - at_november_end,
        "{funnel}"
    );
    assert_eq!(count(&funnel, "slot_earned"), at_december_end - at_start);
    assert_eq!(
        (count(november, "registered"), count(december, "registered")),
        (2, 3),
        "registrations count in their own month"
    );
    let november_only = view(&app, "/v1/kpis/funnel?from=2026-11-01&to=2026-11-30").await;
    assert_eq!(count(&november_only, "slot_earned"), 1, "{november_only}");
}

/// C5: Career Relay may be reached without hirelay's link: a candidate who registered counts
/// as having clicked, so no rate exceeds 100 %.
#[tokio::test]
async fn c5_a_registration_without_a_seen_click_counts_as_clicked() {
    let app = TestApp::spawn().await;
    let mails = crate::ats::rejected_and_invited(&app, 3).await;
    crate::ats::register(&app, "reg-0", &mails[0]).await;
    crate::ats::register(&app, "reg-1", &mails[1]).await;
    let funnel = all_sent(&app, 3).await;
    assert_eq!(
        (count(&funnel, "link_clicked"), count(&funnel, "registered")),
        (2, 2),
        "{funnel}"
    );
    let november = view(
        &app,
        "/v1/kpis/funnel?from=2026-11-01&to=2026-11-30&group_by=stage",
    )
    .await;
    for steps in [
        &funnel["steps"],
        &november["steps"],
        &november["groups"][0]["steps"],
    ] {
        for step in steps.as_array().unwrap() {
            let rate = step["rate_from_previous"].as_f64().unwrap_or(0.0);
            assert!(rate <= 1.0, "{step} in {funnel}");
        }
    }
    assert_eq!(count(&november, "link_clicked"), 2, "{november}");
}

/// C5: a rejection of October 31st reported in December counts in October, a registration of
/// November 30th in November, and a slot Career Relay says was used in September in September:
/// each thing counts in the month it happened, not when hirelay processed it.
#[tokio::test]
async fn c5_months_follow_when_things_happened() {
    let app = TestApp::spawn().await;
    crate::ats::invite_at_once(&app).await;
    let late = crate::ats::change(
        "ats-late",
        "late@example.jp",
        "rejected",
        "2026-10-31T23:30:00+09:00",
    );
    assert_eq!(app.deliver("ats", "late", &late).await["status"], "done");
    let mails = app.smtp.wait_for(1).await;
    register_at(&app, "reg-late", &mails[0], "2026-11-30T23:00:00+09:00").await;
    let used = json!({"type": "referral.updated", "referral_id": "cr-ref-late",
        "outcome": "slot_used", "at": "2026-09-15T10:00:00+09:00"});
    let event = app
        .deliver("career-relay", "ref-late", &used.to_string())
        .await;
    assert_eq!(event["status"], "done", "{event}");

    let funnel = view(
        &app,
        "/v1/kpis/funnel?from=2026-09-01&to=2026-11-30&group_by=month",
    )
    .await;
    let keys: Vec<&str> = funnel["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["2026-09", "2026-10", "2026-11"], "{funnel}");
    let in_month = |key: &str, step: &str| count(group(&funnel, key).unwrap(), step);
    assert_eq!(in_month("2026-09", "slot_used"), 1);
    assert_eq!(in_month("2026-10", "rejected"), 1);
    assert_eq!(in_month("2026-11", "rejected"), 0);
    assert_eq!(
        (
            in_month("2026-11", "registered"),
            in_month("2026-10", "registered")
        ),
        (1, 0)
    );
    assert_eq!(
        in_month("2026-11", "link_clicked"),
        1,
        "implied by the registration"
    );
}

/// C5: what the scripts record with `kpi()` reaches the funnel: each KPI's count and sum in the
/// period, and per month when grouped by month; documented in `/openapi.json`.
#[tokio::test]
async fn c5_the_funnel_shows_recorded_kpis() {
    let app = TestApp::spawn().await;
    // status.rhai records `rejected`; career_relay.rhai `registered`.
    let mails = crate::ats::rejected_and_invited(&app, 3).await;
    crate::ats::register(&app, "reg-0", &mails[0]).await;

    let funnel = view(&app, "/v1/kpis/funnel").await;
    let recorded = funnel["recorded"].as_array().unwrap();
    assert!(
        recorded.contains(&json!({"name": "rejected", "count": 3, "sum": 3.0})),
        "{funnel}"
    );
    assert!(
        recorded.contains(&json!({"name": "registered", "count": 1, "sum": 1.0})),
        "{funnel}"
    );
    let by_month = view(&app, "/v1/kpis/funnel?group_by=month").await;
    let monthly: Vec<&Value> = by_month["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["recorded"].as_array().unwrap())
        .filter(|r| r["name"] == "rejected")
        .collect();
    let in_months: u64 = monthly.iter().map(|r| r["count"].as_u64().unwrap()).sum();
    assert_eq!(in_months, 3, "the months add up to the period: {by_month}");
    let by_stage = view(&app, "/v1/kpis/funnel?group_by=stage").await;
    assert!(
        by_stage["groups"][0].get("recorded").is_none(),
        "{by_stage}"
    );
    let before = view(&app, "/v1/kpis/funnel?from=2019-01-01&to=2019-12-31").await;
    assert_eq!(before["recorded"], json!([]));

    let openapi = app.openapi().await;
    let funnel_schema = &openapi["components"]["schemas"]["Funnel"];
    assert!(
        funnel_schema["properties"]["recorded"].is_object(),
        "{funnel_schema}"
    );
    assert!(
        openapi["components"]["schemas"]["RecordedKpi"]["properties"]["sum"].is_object(),
        "{openapi}"
    );
}
