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

/// Events are handled in batches: an event whose script fails is marked `failed` with its
/// position, and the other events (of the same batch) are done, each with its effects once.
#[tokio::test]
async fn one_failing_event_does_not_hold_up_the_others() {
    let app = TestApp::spawn().await;
    let script = "if event.candidate.email.contains(\"boom\") {\n    throw \"bad candidate\";\n}\nlabel(\"checked\");\n";
    app.activate_rule("status", script).await;
    let body = |i: usize, who: &str| {
        sample("ats-status-rejected-other-channel.json")
            .replace("ats-790", &format!("ats-batch-{i}"))
            .replace(
                "ichiro.suzuki@example.org",
                &format!("{who}{i}@example.org"),
            )
    };
    let sends = (0..8).map(|i| {
        let who = if i == 3 { "boom" } else { "fine" };
        let (app, body) = (&app, body(i, who));
        async move {
            let res = app.post_webhook("ats", &format!("batch-{i}"), &body).await;
            assert_eq!(res.status(), 202);
            res.json::<Value>().await.unwrap()["event_id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    });
    let ids = futures_util::future::join_all(sends).await;
    for (i, id) in ids.iter().enumerate() {
        let event = app.wait_event(id).await;
        assert_eq!(event["attempts"], 1, "{event}");
        if i == 3 {
            assert_eq!(event["status"], "failed", "{event}");
            let error = event["last_error"].as_str().unwrap();
            assert!(error.contains("status.rhai:2:"), "{error}");
            continue;
        }
        assert_eq!(event["status"], "done", "{event}");
        let found = app
            .get_json(&format!(
                "/v1/applications?ats_application_id=ats-batch-{i}"
            ))
            .await;
        let labels = &found["items"][0]["labels"];
        assert_eq!(labels, &serde_json::json!(["checked"]), "{found}");
    }
}

/// Acknowledgements come first only when ingestion is saturated: under a steady, moderate
/// stream of webhooks (three senders, a few events per commit), events are processed while the
/// stream goes on, not after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_steady_stream_is_processed_as_it_arrives() {
    let app = TestApp::spawn().await;
    let lanes = (0..3).map(|lane| {
        let app = &app;
        async move {
            let mut ids = Vec::new();
            for n in 0..60 {
                let i = lane * 100 + n;
                let body = sample("ats-status-rejected-other-channel.json")
                    .replace("ats-790", &format!("ats-stream-{i}"))
                    .replace("ichiro.suzuki", &format!("stream{i}"));
                let res = app.post_webhook("ats", &format!("stream-{i}"), &body).await;
                let status = res.status();
                let answer = res.text().await.unwrap();
                assert_eq!(status, 202, "{answer}");
                let answer: Value = serde_json::from_str(&answer).unwrap();
                ids.push(answer["event_id"].as_str().unwrap().to_owned());
                tokio::time::sleep(std::time::Duration::from_millis(12)).await;
            }
            ids
        }
    });
    let ids: Vec<String> = futures_util::future::join_all(lanes)
        .await
        .into_iter()
        .flatten()
        .collect();
    let done = app.get_json("/v1/events?status=done&limit=500").await;
    let done = done["items"].as_array().unwrap().len();
    assert!(
        done >= ids.len() / 2,
        "only {done} of {} events were processed while they kept arriving",
        ids.len()
    );
    for id in &ids {
        let event = app.wait_event(id).await;
        assert_eq!(event["status"], "done", "{event}");
    }
}
