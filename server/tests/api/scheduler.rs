//! The scheduler: running a job now, and cron ticks claimed once across instances (I3).
use reqwest::Method;
use serde_json::{json, Value};

use crate::bizreach_support::*;
use crate::helpers::TestApp;

#[tokio::test]
async fn i3_scheduler_run_endpoint_answers_the_report_and_unknown_jobs_are_404() {
    let b = Bizreach::spawn(2).await;
    b.sign_in().await;
    b.link("grp-001").await;
    let (status, report) = b.poll().await;
    assert_eq!(status, 200, "{report}");
    for key in ["groups", "fetched", "new_events", "duplicates", "errors"] {
        assert!(report.get(key).is_some(), "{key} missing in {report}");
    }
    let (status, body) = b.app.post_json("/v1/scheduler/nope/run", &json!({})).await;
    assert_eq!(status, 404, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("bizreach-poll"));
    assert_eq!(body["error"]["details"]["known_jobs"][0], "bizreach-poll");
    // Admin only.
    let viewer = b.app.token(hirelay::domain::role::Role::Viewer).await;
    let res = b
        .app
        .as_token(&viewer, Method::POST, "/v1/scheduler/bizreach-poll/run")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn i3_cron_tick_is_claimed_once_across_instances() {
    // One store: a tick is claimed once.
    let app = TestApp::spawn().await;
    let store = &app.state.store;
    assert!(store
        .claim_tick("bizreach-poll", 60_000, "a", 1)
        .await
        .unwrap());
    assert!(!store
        .claim_tick("bizreach-poll", 60_000, "b", 1)
        .await
        .unwrap());
    assert!(store
        .claim_tick("bizreach-poll", 120_000, "b", 1)
        .await
        .unwrap());
    drop(app);
    if std::env::var("HIRELAY_TEST_DATABASE_URL").map_or(true, |u| u.is_empty()) {
        return; // Two instances on one database need PostgreSQL.
    }
    // Two instances on one PostgreSQL, polling every second.
    let sim = start_sim(1).await;
    let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let mut env = sim_env(&sim);
    env.push(("HIRELAY_POLL_SCHEDULE", "* * * * * *".to_owned()));
    env.push(("HIRELAY_SECRET_KEY", key.to_owned()));
    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let first = TestApp::spawn_with(&extra).await;
    let second = TestApp::spawn_in(
        tempfile::tempdir().unwrap(),
        first.database_url.clone(),
        &extra,
    )
    .await;
    let b = Bizreach {
        app: first,
        sim,
        http: reqwest::Client::new(),
    };
    b.sign_in().await;
    b.link("grp-001").await;
    tokio::time::sleep(std::time::Duration::from_millis(4_500)).await;
    let runs = second
        .state
        .store
        .scheduler_runs("bizreach-poll")
        .await
        .unwrap();
    let finished: Vec<Value> = runs
        .iter()
        .filter_map(|r| r.result.as_deref())
        .map(|r| serde_json::from_str(r).unwrap())
        .collect();
    let group_polls: u64 = finished
        .iter()
        .map(|r| r["groups"].as_u64().unwrap_or(0))
        .sum();
    assert!(group_polls >= 2, "{finished:?}");
    let stats = b.control(Method::GET, "/_sim/stats", None).await;
    let requests = stats["requests"]["GET /api/group-accounts/{id}/applications"]
        .as_u64()
        .unwrap_or(0);
    // Each tick polled the group once, whichever instance claimed it (one or two more may be
    // in flight as the test reads).
    assert!(
        requests >= group_polls && requests <= group_polls + 2,
        "{requests} requests for {group_polls} polls"
    );
    let instances: std::collections::HashSet<_> = runs.iter().map(|r| &r.instance).collect();
    assert!(!instances.is_empty());
    let mut ticks: Vec<i64> = runs.iter().map(|r| r.tick).collect();
    ticks.dedup();
    assert_eq!(ticks.len(), runs.len(), "a tick ran twice");
}

#[tokio::test]
async fn the_openapi_document_lists_the_bizreach_endpoints() {
    let app = TestApp::spawn().await;
    let doc: Value = app.openapi().await;
    for path in [
        "/v1/bizreach/session",
        "/v1/group-accounts/{id}/backfill",
        "/v1/link-approvals/{token}",
        "/v1/scheduler/{job}/run",
        "/v1/imports/route",
        "/v1/routing-rules",
        "/v1/notifications/subscriptions",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
}
