//! The KPIs the shipped scripts record, read back: totals over a period split by a tag, and the
//! data points as CSV for BI (C8).
use crate::helpers::TestApp;
use hirelay::domain::role::Role;
use serde_json::{json, Value};

#[tokio::test]
async fn c8_recorded_kpis_are_totalled_by_tag_and_exported() {
    let app = TestApp::spawn().await;
    // status.rhai records `rejected` with the stage and reason; career_relay.rhai `registered`.
    let mails = crate::ats::rejected_and_invited(&app, 3).await;
    crate::ats::register(&app, "reg-0", &mails[0]).await;
    let viewer = app.token(Role::Viewer).await;
    let get = |path: &'static str| {
        let viewer = viewer.clone();
        let app = &app;
        async move {
            app.as_token(&viewer, reqwest::Method::GET, path)
                .send()
                .await
                .unwrap()
        }
    };
    let all: Value = get("/v1/kpis").await.json().await.unwrap();
    let items = all["items"].as_array().unwrap();
    let total = |name: &str| items.iter().find(|i| i["name"] == name).cloned();
    assert_eq!(
        total("rejected"),
        Some(json!({"name": "rejected", "count": 3, "sum": 3.0})),
        "{all}"
    );
    assert_eq!(total("registered").unwrap()["count"], 1, "{all}");

    let by_stage: Value = get("/v1/kpis?name=rejected&tag=stage")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        by_stage["items"],
        json!([{"name": "rejected", "tag_value": "一次面接", "count": 3, "sum": 3.0}])
    );
    let before: Value = get("/v1/kpis?to=2020-01-01").await.json().await.unwrap();
    assert_eq!(before["items"], json!([]), "nothing recorded before 2020");

    let bad = get("/v1/kpis?tag=stage')--").await;
    assert_eq!(bad.status(), 400);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["error"]["field"], "tag", "{bad}");

    let export = get("/v1/kpis/records.csv?name=rejected").await;
    assert_eq!(export.status(), 200);
    let csv = export.text().await.unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "name,value,tags,event_id,recorded_at");
    assert_eq!(rows.len(), 4, "{csv}");
    assert!(
        rows[1..].iter().all(|r| r.starts_with("rejected,1,\"{")),
        "{csv}"
    );
    assert!(rows[1].contains("\"\"stage\"\":\"\"一次面接\"\""), "{csv}");

    let anonymous = app.client.get(app.url("/v1/kpis")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}
