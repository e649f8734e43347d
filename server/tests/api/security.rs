//! Issue 18 (security review): what reaches the log, who may use which route, tokens' life
//! (list, revoke, expiry, the bootstrap token's length, throttling), and the headers every
//! answer carries.
use crate::helpers::{log_capture, TestApp};
use reqwest::Method;

/// M1: the access log names the route's pattern; tokens in paths (tracking link, approval
/// link, unsubscribe link) and query strings never reach it.
#[tokio::test]
async fn m1_the_access_log_names_routes_never_the_tokens_in_paths() {
    let logs = log_capture();
    let app = TestApp::spawn().await;
    let secret = format!("sec{}", uuid::Uuid::new_v4().simple());
    for (method, path) in [
        (Method::GET, format!("/r/{secret}")),
        (Method::GET, format!("/v1/link-approvals/{secret}")),
        (Method::POST, format!("/v1/link-approvals/{secret}")),
        (Method::GET, format!("/v1/unsubscribe/{secret}")),
        (
            Method::GET,
            format!("/v1/applications?source_application_id={secret}"),
        ),
        (Method::GET, format!("/nowhere/{secret}")),
    ] {
        let res = app.admin(method, &path).send().await.unwrap();
        assert_ne!(res.status(), 500, "{path}");
    }
    let log = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(
        log.contains("GET /r/{token} 404"),
        "the route is logged:\n{log}"
    );
    assert!(log.contains("POST /v1/link-approvals/{token} "), "{log}");
    assert!(log.contains("GET /v1/applications 200"), "{log}");
    assert!(!log.contains(&secret), "a token reached the log:\n{log}");
}
