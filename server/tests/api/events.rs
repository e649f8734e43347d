//! The events API: listing by status, detail, replay, and the admin token it needs.
use crate::helpers::{sample, TestApp};
use hirelay::domain::role::Role;
use serde_json::Value;

#[tokio::test]
async fn events_api_needs_an_admin_token() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.url("/v1/events")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let res = app
        .as_token("wrong", reqwest::Method::GET, "/v1/events")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let viewer = app.token(Role::Viewer).await;
    let res = app
        .as_token(&viewer, reqwest::Method::GET, "/v1/events")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let admin = app.token(Role::Admin).await;
    let res = app
        .as_token(&admin, reqwest::Method::GET, "/v1/events")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn events_are_listed_by_status_and_can_be_replayed() {
    let app = TestApp::spawn().await;
    let res = app
        .post_webhook(
            "ats",
            "e1",
            &sample("ats-status-rejected-other-channel.json"),
        )
        .await;
    let id = res.json::<Value>().await.unwrap()["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = app.wait_event(&id).await;
    assert_eq!(done["status"], "done", "{done}");
    let listed = app.get_json("/v1/events?status=done").await;
    assert!(listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["id"] == id.as_str()));
    let pending = app.get_json("/v1/events?status=pending").await;
    assert!(pending["items"].as_array().unwrap().is_empty());
    let res = app
        .admin(reqwest::Method::GET, "/v1/events?status=nope")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    let (status, replayed) = app
        .post_json(&format!("/v1/events/{id}/replay"), &serde_json::json!({}))
        .await;
    assert_eq!(status, 202, "{replayed}");
    let again = app.wait_event(&id).await;
    assert_eq!(again["status"], "done");

    let (status, body) = app
        .post_json("/v1/events/replay", &serde_json::json!({"status": "done"}))
        .await;
    assert_eq!(status, 202);
    assert_eq!(body["replayed"], 1);
    let (status, _) = app
        .post_json("/v1/events/replay", &serde_json::json!({}))
        .await;
    assert_eq!(status, 400);
    let res = app
        .admin(reqwest::Method::GET, "/v1/events/evt_nope")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}
