//! Inbound webhooks: signatures, idempotency, durability and the contract's error codes.
use crate::helpers::{sample, TestApp, SECRET};
use hirelay::ingest::signature::WebhookSecrets;
use serde_json::Value;

#[tokio::test]
async fn accepted_events_are_durable_and_redelivery_is_idempotent() {
    let app = TestApp::spawn().await;
    let body = sample("ats-status-rejected-other-channel.json");
    let res = app.post_webhook("ats", "msg_1", &body).await;
    assert_eq!(res.status(), 202);
    let first: Value = res.json().await.unwrap();
    let event_id = first["event_id"].as_str().unwrap().to_owned();
    assert!(event_id.starts_with("evt_"));

    let res = app.post_webhook("ats", "msg_1", &body).await;
    assert_eq!(res.status(), 200);
    let again: Value = res.json().await.unwrap();
    assert_eq!(
        again,
        serde_json::json!({"event_id": event_id, "duplicate": true})
    );

    let res = app
        .post_webhook("ats", "msg_1", &body.replace("鈴木", "佐藤"))
        .await;
    assert_eq!(res.status(), 409);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["code"], "idempotency_conflict");

    // The same id from another source is another delivery.
    let other = r#"{"type": "referral.updated", "referral_id": "cr-ref-9", "outcome": "slot_used", "at": "2026-11-23T09:30:00+09:00"}"#;
    assert_eq!(
        app.post_webhook("career-relay", "msg_1", other)
            .await
            .status(),
        202
    );

    // What was acknowledged survives a restart.
    let (dir, db) = app.stop().await;
    let app = TestApp::spawn_in(dir, db, &[]).await;
    let stored = app.get_json(&format!("/v1/events/{event_id}")).await;
    assert_eq!(stored["id"], event_id.as_str());
    assert_eq!(stored["payload"]["ats_application_id"], "ats-790");
}

#[tokio::test]
async fn signatures_are_required_and_checked() {
    let app = TestApp::spawn().await;
    let body = sample("ats-status-rejected-other-channel.json");
    let url = app.url("/v1/webhooks/ats");
    let post = |headers: Vec<(&'static str, String)>| {
        let mut req = app
            .client
            .post(&url)
            .header("content-type", "application/json")
            .body(body.clone());
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.send()
    };
    let now = chrono::Utc::now().timestamp();
    let secrets = WebhookSecrets::parse(SECRET).unwrap();
    let good = secrets.sign("m1", now, body.as_bytes()).unwrap();

    let res = post(vec![]).await.unwrap();
    assert_eq!(res.status(), 401);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["code"], "invalid_signature");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("webhook-id"));

    let res = post(vec![
        ("webhook-id", "m1".into()),
        ("webhook-timestamp", now.to_string()),
        ("webhook-signature", "v1,AAAA".into()),
    ])
    .await
    .unwrap();
    assert_eq!(res.status(), 401);

    let stale = now - 301;
    let stale_sig = secrets.sign("m1", stale, body.as_bytes()).unwrap();
    let res = post(vec![
        ("webhook-id", "m1".into()),
        ("webhook-timestamp", stale.to_string()),
        ("webhook-signature", stale_sig),
    ])
    .await
    .unwrap();
    assert_eq!(res.status(), 401);
    let err: Value = res.json().await.unwrap();
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("5 minutes"));

    // Rotation: any one matching signature in the list is enough.
    let res = post(vec![
        ("webhook-id", "m1".into()),
        ("webhook-timestamp", now.to_string()),
        ("webhook-signature", format!("v1,bm9wZQ== {good}")),
    ])
    .await
    .unwrap();
    assert_eq!(res.status(), 202);
}

#[tokio::test]
async fn bad_input_gets_the_contract_error_codes() {
    let app = TestApp::spawn_with(&[("HIRELAY_BODY_LIMIT", "2048")]).await;
    // 415: not JSON.
    let res = app
        .client
        .post(app.url("/v1/webhooks/ats"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    // 413: over the limit.
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(4096));
    let res = app.post_webhook("ats", "big", &big).await;
    assert_eq!(res.status(), 413);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["code"], "payload_too_large");
    // 400: malformed JSON, no field.
    let res = app.post_webhook("ats", "m2", "{not json").await;
    assert_eq!(res.status(), 400);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["code"], "malformed_json");
    // 400: a bad field, named.
    let body = sample("ats-status-rejected.json")
        .replace("\"to_status\": \"rejected\"", "\"to_status\": \"ghosted\"");
    let res = app.post_webhook("ats", "m3", &body).await;
    assert_eq!(res.status(), 400);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["field"], "to_status");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("talent_pool"));
    let body = sample("bizreach-direct-application.json")
        .replace("Taro.Yamada@Example.jp", "not-an-email");
    let res = app.post_webhook("bizreach", "m4", &body).await;
    assert_eq!(res.status(), 400);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["field"], "application.candidate.email");
    // 422: well-formed, but the group account is not linked (L5).
    let res = app
        .post_webhook(
            "bizreach",
            "m5",
            &sample("bizreach-direct-application.json"),
        )
        .await;
    assert_eq!(res.status(), 422);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["field"], "group_account_id");
    // 422: a Career Relay registration whose invitation token hirelay never issued.
    let res = app
        .post_webhook(
            "career-relay",
            "m7",
            &sample("career-relay-registration.json"),
        )
        .await;
    assert_eq!(res.status(), 422);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["field"], "invitation_token");
    // 422: an ATS change for an unknown application without the candidate to create it.
    let res = app
        .post_webhook("ats", "m6", &sample("ats-status-rejected.json"))
        .await;
    assert_eq!(res.status(), 422);
    // Nothing refused was stored.
    let events = app.get_json("/v1/events").await;
    assert_eq!(events["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn a_source_without_a_secret_refuses_every_delivery() {
    let app = TestApp::spawn_with(&[("HIRELAY_WEBHOOK_SECRET_CAREER_RELAY", "")]).await;
    let res = app
        .post_webhook(
            "career-relay",
            "m1",
            &sample("career-relay-registration.json"),
        )
        .await;
    assert_eq!(res.status(), 401);
    let err: Value = res.json().await.unwrap();
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("HIRELAY_WEBHOOK_SECRET_CAREER_RELAY"));
}
