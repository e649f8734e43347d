//! Progress sync to BizReach (P1–P5), against the simulator: what arrives in its status log.
use hirelay::domain::email::Email;
use hirelay::domain::time::now_millis;
use hirelay::store::applications::{CandidateIn, ImportIn, StatusChangeIn};
use hirelay::store::Store;
use reqwest::Method;
use serde_json::{json, Value};

use crate::bizreach_support::Bizreach;
use crate::helpers::TestApp;

pub const GROUP: &str = "grp-001";

/// hirelay signed in to the simulator with `grp-001` linked, and no applications yet.
pub async fn linked() -> Bizreach {
    let b = Bizreach::spawn(0).await;
    b.sign_in().await;
    b.link(GROUP).await;
    b
}

/// An application of `group` on the simulator (BizReach status `bizreach_status`) imported
/// into hirelay as the pipeline stores one; answers hirelay's application id.
pub async fn imported(b: &Bizreach, group: &str, source_id: &str, bizreach_status: &str) -> String {
    b.add_applications(group, json!([{"id": source_id, "status": bizreach_status}]))
        .await;
    let db = &b.app.state.store.db;
    let email = Email::parse(&format!("{source_id}@example.jp")).unwrap();
    let candidate = Store::upsert_candidate(
        db,
        CandidateIn {
            email: &email,
            name: &format!("候補者 {source_id}"),
            phone: None,
            attributes: &serde_json::Map::new(),
            bizreach_candidate_id: None,
        },
    )
    .await
    .unwrap();
    let (app, _) = Store::upsert_import(
        db,
        &candidate.id,
        ImportIn {
            group_account_id: group,
            source_application_id: source_id,
            channel: "direct",
            position_name: "バックエンドエンジニア（Rust）",
            source_status: bizreach_status,
            applied_at: now_millis(),
            imported_via: "webhook",
        },
    )
    .await
    .unwrap();
    app.id
}

/// Applies an ATS status change, `minutes_ago` minutes before now.
pub async fn ats_status(b: &Bizreach, app_id: &str, status: &str, minutes_ago: i64) {
    let db = &b.app.state.store.db;
    let app = Store::get_application(db, app_id).await.unwrap();
    let outcome = Store::record_status_change(
        db,
        app,
        false,
        StatusChangeIn {
            event_id: &hirelay::domain::ids::new_id("evt"),
            from_status: None,
            to_status: status,
            stage: None,
            reason: None,
            changed_at: now_millis() - minutes_ago * 60_000,
        },
    )
    .await
    .unwrap();
    assert!(outcome.applied);
    Store::insert_history(db, outcome.history.into_iter().collect())
        .await
        .unwrap();
}

pub async fn switch_sync(b: &Bizreach, enabled: bool) {
    let res = b
        .app
        .admin(
            Method::PUT,
            &format!("/v1/group-accounts/{GROUP}/progress-sync"),
        )
        .json(&json!({"enabled": enabled}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

pub async fn run_sync(app: &TestApp) -> Value {
    let (status, report) = app
        .post_json("/v1/scheduler/progress-sync/run", &json!({}))
        .await;
    assert_eq!(status, 200, "{report}");
    report
}

/// The simulator's status log as `(application id, status)`, in arrival order.
async fn status_log(b: &Bizreach) -> Vec<(String, String)> {
    let log = b.control(Method::GET, "/_sim/status-log", None).await;
    log.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["application_id"].as_str().unwrap().to_owned(),
                e["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, s)| (a.to_string(), s.to_string()))
        .collect()
}

/// Every hirelay event of `kind` (newest first).
async fn own_events(app: &TestApp, kind: &str) -> Vec<Value> {
    let page = app.get_json("/v1/events?limit=500").await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["source"] == "hirelay" && e["type"] == kind)
        .cloned()
        .collect()
}

pub async fn metric(app: &TestApp, name: &str) -> u64 {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} not in /metrics"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn p1_sync_off_pushes_nothing() {
    let b = linked().await;
    let app = imported(&b, GROUP, "br-app-p1", "new").await;
    ats_status(&b, &app, "interview", 1).await;

    let report = run_sync(&b.app).await;
    assert_eq!(
        report,
        json!({"groups": 0, "pushed": 0, "unchanged": 0, "failed": 0, "failures": [], "deferred": 0})
    );
    assert!(status_log(&b).await.is_empty());

    switch_sync(&b, true).await;
    let report = run_sync(&b.app).await;
    assert_eq!(report["groups"], 1, "{report}");
    assert_eq!(report["pushed"], 1, "{report}");
    assert_eq!(status_log(&b).await, pairs(&[("br-app-p1", "in_progress")]));

    // Switched off again: later changes stay in hirelay.
    switch_sync(&b, false).await;
    ats_status(&b, &app, "rejected", 0).await;
    let report = run_sync(&b.app).await;
    assert_eq!(report["pushed"], 0, "{report}");
    assert_eq!(status_log(&b).await.len(), 1);
}

#[tokio::test]
async fn p2_ats_status_overwrites_bizreach_changes() {
    let b = linked().await;
    let app = imported(&b, GROUP, "br-app-p2", "new").await;
    ats_status(&b, &app, "interview", 1).await;
    // Someone moves the application on BizReach.
    b.control(
        Method::PUT,
        "/_sim/applications/br-app-p2",
        Some(json!({"status": "declined"})),
    )
    .await;
    switch_sync(&b, true).await;
    assert_eq!(run_sync(&b.app).await["pushed"], 1);
    let on_bizreach = b
        .control(Method::GET, "/_sim/applications/br-app-p2", None)
        .await;
    assert_eq!(on_bizreach["status"], "in_progress");
    let stored = Store::get_application(&b.app.state.store.db, &app)
        .await
        .unwrap();
    assert_eq!(stored.synced_status.as_deref(), Some("in_progress"));
    assert_eq!(stored.source_status.as_deref(), Some("in_progress"));
    assert!(stored.synced_at.is_some());

    // BizReach changes it again and hirelay hears of it (the application is delivered again
    // with its BizReach status): the ATS status is pushed again.
    b.control(
        Method::PUT,
        "/_sim/applications/br-app-p2",
        Some(json!({"status": "rejected"})),
    )
    .await;
    imported_again(&b, "br-app-p2", "rejected").await;
    assert_eq!(run_sync(&b.app).await["pushed"], 1);
    let on_bizreach = b
        .control(Method::GET, "/_sim/applications/br-app-p2", None)
        .await;
    assert_eq!(on_bizreach["status"], "in_progress");
    assert_eq!(
        status_log(&b).await,
        pairs(&[("br-app-p2", "in_progress"), ("br-app-p2", "in_progress")])
    );
}

/// A BizReach application delivered again with `status` (as the import pipeline stores it).
async fn imported_again(b: &Bizreach, source_id: &str, status: &str) {
    let db = &b.app.state.store.db;
    let app = Store::find_application_by_source(db, "bizreach", source_id)
        .await
        .unwrap()
        .unwrap();
    Store::upsert_import(
        db,
        &app.candidate_id,
        ImportIn {
            group_account_id: GROUP,
            source_application_id: source_id,
            channel: "direct",
            position_name: "バックエンドエンジニア（Rust）",
            source_status: status,
            applied_at: app.applied_at.unwrap(),
            imported_via: "webhook",
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn p3_default_schedule_is_every_15_minutes() {
    let defaults = hirelay::config::Config::load(None, &Default::default()).unwrap();
    assert_eq!(defaults.sync_schedule.as_str(), "0 */15 * * * *");
    let app = TestApp::spawn().await;
    assert!(app
        .state
        .scheduler
        .job_names()
        .contains(&"progress-sync".to_owned()));
    // The run endpoint answers the report (no group has sync on, so no BizReach is needed).
    let report = run_sync(&app).await;
    for key in ["groups", "pushed", "unchanged", "failed", "failures"] {
        assert!(report.get(key).is_some(), "{key} missing in {report}");
    }
    let viewer = app.token(hirelay::domain::role::Role::Viewer).await;
    let res = app
        .as_token(&viewer, Method::POST, "/v1/scheduler/progress-sync/run")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    drop(app);

    let app = TestApp::spawn_with(&[("HIRELAY_SYNC_SCHEDULE", "*/5 * * * *")]).await;
    assert_eq!(app.state.config.sync_schedule.as_str(), "*/5 * * * *");
}

#[tokio::test]
async fn p4_talent_pool_and_deleted_are_not_covered() {
    let b = linked().await;
    let covered = imported(&b, GROUP, "br-app-cov", "new").await;
    ats_status(&b, &covered, "screening", 4).await;
    let pooled = imported(&b, GROUP, "br-app-pool", "new").await;
    ats_status(&b, &pooled, "talent_pool", 3).await;
    let deleted = imported(&b, GROUP, "br-app-del", "new").await;
    ats_status(&b, &deleted, "deleted", 2).await;
    // A candidate from another channel: known to the ATS only, never imported.
    let db = &b.app.state.store.db;
    let email = Email::parse("other.channel@example.jp").unwrap();
    let candidate = Store::upsert_candidate(
        db,
        CandidateIn {
            email: &email,
            name: "他経路 花子",
            phone: None,
            attributes: &serde_json::Map::new(),
            bizreach_candidate_id: None,
        },
    )
    .await
    .unwrap();
    let other = Store::new_ats_application(&candidate.id, "ats-other-1");
    use sea_orm::EntityTrait;
    hirelay::store::entities::application::Entity::insert(
        hirelay::store::entities::application::ActiveModel::from(other.clone()),
    )
    .exec_without_returning(db)
    .await
    .unwrap();
    ats_status(&b, &other.id, "rejected", 1).await;

    switch_sync(&b, true).await;
    let report = run_sync(&b.app).await;
    assert_eq!(report["pushed"], 1, "{report}");
    assert_eq!(report["failed"], 0, "{report}");
    assert_eq!(
        status_log(&b).await,
        pairs(&[("br-app-cov", "in_progress")])
    );
    // Moved to the talent pool after it was synced: it leaves the sync.
    ats_status(&b, &covered, "talent_pool", 0).await;
    let report = run_sync(&b.app).await;
    assert_eq!(report["pushed"], 0, "{report}");
    assert_eq!(report["unchanged"], 0, "{report}");
    assert_eq!(status_log(&b).await.len(), 1);
}

#[tokio::test]
async fn p5_preview_lists_what_would_be_overwritten() {
    let b = linked().await;
    let same = imported(&b, GROUP, "br-app-same", "new").await;
    let offer = imported(&b, GROUP, "br-app-offer", "new").await;
    ats_status(&b, &offer, "offer", 2).await;
    let rejected = imported(&b, GROUP, "br-app-rej", "in_progress").await;
    ats_status(&b, &rejected, "rejected", 1).await;
    let pooled = imported(&b, GROUP, "br-app-pool", "new").await;
    ats_status(&b, &pooled, "talent_pool", 1).await;

    let path = format!("/v1/group-accounts/{GROUP}/progress-sync/preview");
    let preview = b.app.get_json(&path).await;
    assert_eq!(preview["group_account_id"], GROUP);
    assert_eq!(preview["progress_sync"], false);
    assert_eq!(preview["count"], 2, "{preview}");
    let items = preview["items"].as_array().unwrap();
    let item = |id: &str| items.iter().find(|i| i["application_id"] == id).cloned();
    assert_eq!(
        item(&offer).unwrap(),
        json!({
            "application_id": offer,
            "source_application_id": "br-app-offer",
            "candidate_name": "候補者 br-app-offer",
            "ats_status": "offer",
            "bizreach_status_now": "new",
            "bizreach_status_after": "in_progress",
        })
    );
    let r = item(&rejected).unwrap();
    assert_eq!(
        (&r["bizreach_status_now"], &r["bizreach_status_after"]),
        (&json!("in_progress"), &json!("rejected"))
    );
    assert!(
        item(&same).is_none() && item(&pooled).is_none(),
        "{preview}"
    );
    assert!(status_log(&b).await.is_empty(), "a preview pushes nothing");

    // After switching on and one run, nothing is left to overwrite.
    switch_sync(&b, true).await;
    run_sync(&b.app).await;
    let preview = b.app.get_json(&path).await;
    assert_eq!(preview["progress_sync"], true);
    assert_eq!(preview["count"], 0, "{preview}");

    let res = b
        .app
        .admin(
            Method::GET,
            "/v1/group-accounts/grp-nope/progress-sync/preview",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let viewer = b.app.token(hirelay::domain::role::Role::Viewer).await;
    let res = b
        .app
        .as_token(&viewer, Method::GET, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn a_push_is_idempotent() {
    let b = linked().await;
    let app = imported(&b, GROUP, "br-app-once", "new").await;
    ats_status(&b, &app, "interview", 2).await;
    switch_sync(&b, true).await;
    assert_eq!(run_sync(&b.app).await["pushed"], 1);
    let report = run_sync(&b.app).await;
    assert_eq!(report["pushed"], 0, "{report}");
    assert_eq!(report["unchanged"], 1, "{report}");
    // interview → offer is in_progress on BizReach too: nothing to push.
    ats_status(&b, &app, "offer", 1).await;
    assert_eq!(run_sync(&b.app).await["pushed"], 0);
    assert_eq!(
        status_log(&b).await,
        pairs(&[("br-app-once", "in_progress")])
    );
}

#[tokio::test]
async fn failed_pushes_are_retried_in_order_and_recorded() {
    let b = linked().await;
    let first = imported(&b, GROUP, "br-app-1", "new").await;
    ats_status(&b, &first, "interview", 30).await;
    let second = imported(&b, GROUP, "br-app-2", "new").await;
    ats_status(&b, &second, "offer", 20).await;
    let third = imported(&b, GROUP, "br-app-3", "new").await;
    ats_status(&b, &third, "rejected", 10).await;
    switch_sync(&b, true).await;

    // BizReach fails for a while: each push fails after the client's three tries.
    b.control(
        Method::POST,
        "/_sim/faults",
        Some(json!({"fail_next": 10, "status": 503})),
    )
    .await;
    let report = run_sync(&b.app).await;
    assert_eq!(report["pushed"], 0, "{report}");
    assert_eq!(report["failed"], 3, "{report}");
    let failed_ids: Vec<&str> = report["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["application_id"].as_str().unwrap())
        .collect();
    assert_eq!(failed_ids, [&first, &second, &third]);
    assert!(report["failures"][0]["error"]
        .as_str()
        .unwrap()
        .contains("503"));
    assert!(status_log(&b).await.is_empty());
    let failures = own_events(&b.app, "application.status_sync_failed").await;
    assert_eq!(failures.len(), 3);
    assert!(failures
        .iter()
        .all(|e| e["status"] == "failed" && e["last_error"].as_str().unwrap().contains("503")));
    assert_eq!(
        metric(&b.app, "hirelay_progress_sync_failed_total").await,
        3
    );

    // Meanwhile the first application moves on: its newer status is what gets pushed.
    ats_status(&b, &first, "rejected", 5).await;
    // BizReach recovers (one fault left, which the client's retry absorbs).
    let report = run_sync(&b.app).await;
    assert_eq!(report["pushed"], 3, "{report}");
    assert_eq!(report["failed"], 0, "{report}");
    assert_eq!(run_sync(&b.app).await["pushed"], 0);
    assert_eq!(
        status_log(&b).await,
        pairs(&[
            ("br-app-2", "in_progress"),
            ("br-app-3", "rejected"),
            ("br-app-1", "rejected"),
        ])
    );
    assert_eq!(
        metric(&b.app, "hirelay_progress_sync_pushed_total").await,
        3
    );

    let synced = own_events(&b.app, "application.status_synced").await;
    assert_eq!(synced.len(), 3);
    assert!(synced.iter().all(|e| e["status"] == "done"));
    let newest = b
        .app
        .get_json(&format!("/v1/events/{}", synced[0]["id"].as_str().unwrap()))
        .await;
    let payload = &newest["payload"];
    assert_eq!(payload["application_id"], first.as_str());
    assert_eq!(payload["source_application_id"], "br-app-1");
    assert_eq!(payload["group_account_id"], GROUP);
    assert_eq!(payload["status"], "rejected");
    assert_eq!(payload["bizreach_status"], "rejected");
    assert!(payload["at"].is_string());
    // hirelay's own records are not processed, so not replayed either.
    let (status, body) = b
        .app
        .post_json(
            &format!("/v1/events/{}/replay", synced[0]["id"].as_str().unwrap()),
            &json!({}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
}
