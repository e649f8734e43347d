//! Issue 15's line-by-line security review (docs/security-review.md): one test per finding that
//! shows it through HTTP. The findings shown by unit tests are named in that document.
use crate::helpers::{TestApp, USER_PASSWORD};
use hirelay::domain::role::Role;
use reqwest::Method;
use serde_json::{json, Value};

/// Review A3: a wrong current password on `PUT /v1/session/password` is a guess like a wrong
/// sign-in. After the throttle's 10 within a minute, the address gets `429` with
/// `Retry-After`, the right password included, and sign-in from it is locked too.
#[tokio::test]
async fn review_a3_guessing_the_current_password_is_throttled() {
    let app = TestApp::spawn().await;
    let email = app.user(Role::Viewer).await;
    let session = app.sign_in(&email).await;
    let change = |current: &'static str| {
        app.as_session(&session, Method::PUT, "/v1/session/password")
            .json(&json!({"current_password": current, "new_password": "a-brand-new-password"}))
            .send()
    };
    for attempt in 0..10 {
        let res = change("not-the-password").await.unwrap();
        assert_eq!(res.status(), 400, "attempt {attempt}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["field"], "current_password", "{body}");
    }
    let res = change(USER_PASSWORD).await.unwrap();
    assert_eq!(res.status(), 429, "the 11th guess within a minute");
    assert!(crate::helpers::retry_after(&res) >= 1);
    let res = app.post_session(&email, USER_PASSWORD).await;
    assert_eq!(res.status(), 429, "sign-in from the same address waits too");
    // The session still works for everything else, and the password was not changed.
    let res = app
        .as_session(&session, Method::GET, "/v1/session")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// Review S1: the idempotency key must be one. An empty `webhook-id` (which made every
/// empty-id delivery a duplicate of the first) and one over 256 bytes are `400` naming the
/// header, even correctly signed; 256 bytes are accepted.
#[tokio::test]
async fn review_s1_an_empty_or_overlong_webhook_id_is_refused_naming_the_header() {
    let app = TestApp::spawn().await;
    let body = crate::helpers::sample("ats-status-rejected-other-channel.json");
    for id in [String::new(), "x".repeat(257)] {
        let res = app.post_webhook("ats", &id, &body).await;
        assert_eq!(res.status(), 400, "{id:?}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["error"]["field"], "webhook-id", "{err}");
    }
    let events = app.get_json("/v1/events").await;
    assert_eq!(events["items"], json!([]), "nothing stored");
    let res = app.post_webhook("ats", &"x".repeat(256), &body).await;
    assert_eq!(res.status(), 202);
}
