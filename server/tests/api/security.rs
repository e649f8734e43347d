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

/// Low (a): every answer carries nosniff, no framing and no referrer; pages opened by a
/// token in the URL are never stored; the console keeps its stricter policy; HSTS only when
/// the public URL is https.
#[tokio::test]
async fn low_every_answer_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    for path in [
        "/healthz",
        "/v1/events",
        "/r/sec-none",
        "/v1/unsubscribe/sec-none",
        "/nowhere",
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(
            h["content-security-policy"], "frame-ancestors 'none'",
            "{path}"
        );
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert!(h.get("strict-transport-security").is_none(), "{path}");
        let token_page = path.starts_with("/r/") || path.starts_with("/v1/unsubscribe/");
        assert_eq!(
            h.get("cache-control").is_some_and(|v| v == "no-store"),
            token_page,
            "{path}"
        );
    }
    let res = app.client.get(app.url("/console")).send().await.unwrap();
    let policy = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(policy.starts_with("default-src 'none'"), "{policy}");

    let https = TestApp::spawn_with(&[("HIRELAY_PUBLIC_URL", "https://hirelay.example.jp")]).await;
    let res = https
        .client
        .get(https.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=31536000"
    );
}
