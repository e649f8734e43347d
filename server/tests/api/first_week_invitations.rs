//! Issue 19 item 5, "defaults reach candidates": an invitation never goes out with defaults.
//! Held (recorded and queued, not sent) while a setting it needs is missing, and sent once hirelay
//! restarts with it; the ATS job's title is its position; a click with no registration site is
//! recorded; previews and test-sends show the configured values.
use crate::ats::{change, invite_at_once, tracking_token};
use crate::helpers::TestApp;
use serde_json::{json, Value};

/// Rejects a candidate the ATS sends with its job; answers the processed event.
async fn reject(app: &TestApp, webhook_id: &str, ats_id: &str) -> Value {
    let body = change(
        ats_id,
        &format!("{ats_id}@example.jp"),
        "rejected",
        "2026-11-21T18:00:00+09:00",
    );
    app.deliver("ats", webhook_id, &body).await
}

/// Issue 19 (C2): with the public URL, the mail sender and the registration site at their
/// defaults, `/readyz` names each (the instance stays ready), the invitation is held, and after
/// a restart with them it goes from the configured sender with links under the configured URL,
/// not the bind address it was planned with.
#[tokio::test]
async fn c2_invitations_are_held_while_public_url_mail_from_or_career_relay_url_is_unset() {
    let app =
        TestApp::spawn_with(&[("HIRELAY_PUBLIC_URL", ""), ("HIRELAY_CAREER_RELAY_URL", "")]).await;
    invite_at_once(&app).await;
    let ready = app.get_json("/readyz").await;
    assert_eq!(ready["status"], "ready", "{ready}");
    let notice = ready["checks"]["invitations"].as_str().unwrap_or_default();
    for variable in [
        "HIRELAY_PUBLIC_URL",
        "HIRELAY_MAIL_FROM",
        "HIRELAY_CAREER_RELAY_URL",
    ] {
        assert!(notice.contains(variable), "{variable}: {ready}");
    }
    assert!(!notice.contains("HIRELAY_SENDER_NAME"), "{ready}");
    let event = reject(&app, "held-1", "ats-held").await;
    assert_eq!(event["status"], "done", "{event}");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(app.smtp.mails().is_empty(), "an invitation went out");
    let held = app.get_json("/v1/invitations?status=scheduled").await;
    assert_eq!(held["items"].as_array().unwrap().len(), 1, "{held}");

    let (dir, database_url) = app.stop().await;
    let app = TestApp::spawn_in(dir, database_url, &[]).await;
    let mail = app.smtp.wait_for(1).await.remove(0);
    assert!(mail.from.ends_with("@hirelay.test"), "{}", mail.from);
    assert!(!tracking_token(&mail).is_empty());
    let unsubscribe = mail.header("List-Unsubscribe").unwrap();
    assert!(
        unsubscribe.starts_with("<http://hirelay.test/v1/unsubscribe/"),
        "{unsubscribe}"
    );
    let text = mail.part("text/plain").unwrap();
    assert!(!text.contains("127.0.0.1"), "{text}");
}

/// Issue 19: `serve` with nothing an invitation needs configured says so once at start, naming
/// each setting.
#[tokio::test]
async fn serve_warns_once_at_start_naming_each_setting_invitations_need() {
    use crate::cli::{serve_command, Served};
    let dir = tempfile::tempdir().unwrap();
    let database_url = crate::helpers::fresh_database(dir.path()).await;
    let served = Served::start(&mut serve_command(dir.path(), &database_url));
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    let log = served.output();
    assert_eq!(log.matches("invitations not ready").count(), 1, "{log}");
    for variable in [
        "HIRELAY_SENDER_NAME",
        "HIRELAY_SENDER_ADDRESS",
        "HIRELAY_SENDER_CONTACT",
        "HIRELAY_PUBLIC_URL",
        "HIRELAY_MAIL_FROM",
        "HIRELAY_CAREER_RELAY_URL",
    ] {
        assert!(log.contains(variable), "{variable}: {log}");
    }
}

/// Issue 19 (C2): an application from another channel takes the ATS job's title as its
/// position, which its invitation names (it was an empty 「」), also when the application was
/// known before without one.
#[tokio::test]
async fn c2_the_ats_jobs_title_is_the_invitations_position() {
    let app = TestApp::spawn().await;
    invite_at_once(&app).await;
    let first = json!({
        "type": "application.status_changed",
        "ats_application_id": "ats-title",
        "candidate": {"name": "鈴木 一郎", "email": "title@example.jp"},
        "to_status": "interview",
        "changed_at": "2026-11-20T18:00:00+09:00",
    });
    app.deliver("ats", "title-1", &first.to_string()).await;
    let event = reject(&app, "title-2", "ats-title").await;
    assert_eq!(event["status"], "done", "{event}");
    let found = app
        .get_json("/v1/applications?ats_application_id=ats-title")
        .await;
    assert_eq!(
        found["items"][0]["position_name"], "カスタマーサクセス",
        "{found}"
    );
    let mail = app.smtp.wait_for(1).await.remove(0);
    let text = mail.part("text/plain").unwrap();
    assert!(text.contains("「カスタマーサクセス」"), "{text}");
}

/// Issue 19 (C2): a tracking link clicked while no registration site is configured is
/// recorded, and the candidate gets a polite page, not a 503.
#[tokio::test]
async fn c2_a_click_without_a_registration_site_is_recorded_with_a_polite_page() {
    let app = TestApp::spawn().await;
    invite_at_once(&app).await;
    reject(&app, "click-1", "ats-click").await;
    let mail = app.smtp.wait_for(1).await.remove(0);
    let (dir, database_url) = app.stop().await;
    let app = TestApp::spawn_in(dir, database_url, &[("HIRELAY_CAREER_RELAY_URL", "")]).await;
    let res = app
        .client
        .get(app.url(&format!("/r/{}", tracking_token(&mail))))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("準備中"), "{html}");
    let clicked = app.get_json("/v1/invitations?status=clicked").await;
    assert_eq!(clicked["items"].as_array().unwrap().len(), 1, "{clicked}");
}

/// Issue 19: a preview and a test-send show the configured company, sender and public URL in
/// place of the sample's (what the marketer gives still wins).
#[tokio::test]
async fn preview_and_test_send_show_the_configured_values() {
    let app = TestApp::spawn_with(&[("HIRELAY_COMPANY_NAME", "株式会社テスト")]).await;
    let (status, preview) = app
        .post_json(
            "/v1/templates/career_relay_invitation/preview",
            &json!({"data": {"candidate_name": "鈴木 一郎"}}),
        )
        .await;
    assert_eq!(status, 200, "{preview}");
    let text = preview["text"].as_str().unwrap();
    assert!(text.contains("このたびは株式会社テストの"), "{text}");
    assert!(text.contains("送信者: 株式会社テスト 採用担当"), "{text}");
    assert!(text.contains("http://hirelay.test/r/"), "{text}");
    assert!(text.contains("鈴木 一郎様"), "{text}");
    assert!(!text.contains("hirelay.example.jp"), "{text}");
    assert!(!text.contains("株式会社サンプル"), "{text}");

    let (status, body) = app
        .post_json(
            "/v1/templates/career_relay_invitation/test-send",
            &json!({"to": "marketer@example.jp"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let mail = app.smtp.wait_for(1).await.remove(0);
    let text = mail.part("text/plain").unwrap();
    assert!(text.contains("送信者: 株式会社テスト 採用担当"), "{text}");
    assert!(text.contains("このたびは株式会社テストの"), "{text}");
    assert!(!text.contains("hirelay.example.jp"), "{text}");
}
