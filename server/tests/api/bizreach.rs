//! BizReach linking (L1–L5), polling (I2, I3), errors from the source, against the simulator.
use hirelay::store::group_accounts::PollPosition;
use reqwest::Method;
use serde_json::{json, Value};

use crate::bizreach_support::*;
use crate::browser::Browser;
use crate::helpers::{log_capture, TestApp, SECRET};

fn direct_application(group: &str, id: &str) -> String {
    json!({
        "type": "application.received",
        "group_account_id": group,
        "application": {
            "id": id, "channel": "direct", "position_name": "SRE",
            "applied_at": "2026-11-20T10:15:00+09:00", "status": "new",
            "candidate": {"name": "山田 太郎", "email": "taro@example.jp"}
        }
    })
    .to_string()
}

#[tokio::test]
async fn l1_password_is_encrypted_at_rest_and_never_logged() {
    let logs = log_capture();
    let b = Bizreach::spawn(2).await;
    b.sign_in().await;
    b.link("grp-001").await;
    // The stored sign-in is sealed, and opens to the password.
    let row = b
        .app
        .state
        .store
        .bizreach_credentials()
        .await
        .unwrap()
        .unwrap();
    assert!(row.password_enc.starts_with("v1:"), "{}", row.password_enc);
    assert!(!row.password_enc.contains(SIM_PASSWORD));
    // A call that needs the stored password: the session ends, hirelay signs in again.
    b.control(Method::DELETE, "/_sim/sessions", None).await;
    let (status, report) = b.poll().await;
    assert_eq!(status, 200, "{report}");
    b.sim_stats_show_a_second_sign_in().await;
    // Nowhere in the database files.
    if !b.app.database_url.starts_with("postgres") {
        for file in ["hirelay.db", "hirelay.db-wal"] {
            let path = b.app.dir.path().join(file);
            if let Ok(bytes) = std::fs::read(&path) {
                assert!(
                    !contains(&bytes, SIM_PASSWORD.as_bytes()),
                    "{file} holds the password"
                );
            }
        }
    }
    // Nowhere in the logs of this test binary (every level).
    let logged = logs.lock().unwrap().clone();
    assert!(!logged.is_empty(), "the capture saw no logs");
    assert!(
        !contains(&logged, SIM_PASSWORD.as_bytes()),
        "the password was logged"
    );
    assert!(
        !contains(&logged, SIM_EMAIL.as_bytes()),
        "the email was logged in full"
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

impl Bizreach {
    async fn sim_stats_show_a_second_sign_in(&self) {
        let stats = self.control(Method::GET, "/_sim/stats", None).await;
        assert_eq!(stats["requests"]["POST /api/session"], 2, "{stats}");
    }
}

#[tokio::test]
async fn l2_sign_in_lists_group_accounts() {
    let b = Bizreach::spawn(0).await;
    let body = b.sign_in().await;
    assert_eq!(body["account_name"], "株式会社サンプル 人事部");
    let groups = body["group_accounts"].as_array().unwrap();
    assert_eq!(groups.len(), 3);
    assert_eq!(groups[0]["id"], "grp-001");
    assert_eq!(groups[0]["status"], "unlinked");
    assert!(groups[0]["admin_email"].as_str().unwrap().contains('@'));
    assert!(!groups[0]["name"].as_str().unwrap().is_empty());
    // Signing in again keeps the state of known group accounts.
    b.link("grp-002").await;
    let again = b.sign_in().await;
    let g2 = again["group_accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == "grp-002")
        .unwrap();
    assert_eq!(g2["status"], "linked");
    // Wrong credentials: 422 with a clear code; a malformed email names the field.
    let (status, body) = b
        .app
        .post_json(
            "/v1/bizreach/session",
            &json!({"email": SIM_EMAIL, "password": "wrong"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "bizreach_credentials_rejected");
    let (status, body) = b
        .app
        .post_json(
            "/v1/bizreach/session",
            &json!({"email": "nope", "password": "x"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "email");
}

#[tokio::test]
async fn l3_link_states_move_only_along_allowed_transitions() {
    let b = Bizreach::spawn(0).await;
    b.sign_in().await;
    let post = |path: String| {
        let app = &b.app;
        async move { app.post_json(&path, &json!({})).await }
    };
    // unlinked: suspend and resume are refused, naming the state.
    let (status, body) = post("/v1/group-accounts/grp-001/suspend".into()).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unlinked"),
        "{body}"
    );
    let (status, body) = post("/v1/group-accounts/grp-001/link".into()).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("pending_approval"))
    );
    let (status, body) = post("/v1/group-accounts/grp-001/resume".into()).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("pending_approval"));
    b.link("grp-001").await;
    let (status, body) = post("/v1/group-accounts/grp-001/link".into()).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("linked"));
    let (status, body) = post("/v1/group-accounts/grp-001/suspend".into()).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("suspended")));
    let (status, body) = post("/v1/group-accounts/grp-001/resume".into()).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("linked")));
    let (status, _) = post("/v1/group-accounts/grp-404/link".into()).await;
    assert_eq!(status, 404);
}

/// L4 in a real browser: the administrator opens the link of the approval email, sees the group
/// and 「有効にする」, presses it, and the group is linked; the link then works no more.
#[tokio::test]
async fn l4_the_administrator_presses_the_button_in_chromium_and_the_group_is_linked() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let b = Bizreach::spawn(0).await;
    b.sign_in().await;
    b.app
        .post_json("/v1/group-accounts/grp-001/link", &json!({}))
        .await;
    let (_, url) = b.approval_mail("grp-001").await;
    browser.open(&url).await;
    assert_eq!(
        browser.title().await,
        "ビズリーチグループ連携の承認 - 株式会社サンプル 人事部"
    );
    let text = browser.text().await;
    assert!(text.contains("株式会社サンプル"), "{text}");
    assert_eq!(
        b.group("grp-001").await["status"],
        "pending_approval",
        "showing the page changes nothing"
    );
    browser.click_button("有効にする").await;
    assert_eq!(
        browser.title().await,
        "連携を有効にしました - 株式会社サンプル 人事部"
    );
    assert!(browser.text().await.contains("連携済み"));
    assert_eq!(b.group("grp-001").await["status"], "linked");
    // The link again (a second click from the email): used.
    browser.open(&url).await;
    assert_eq!(
        browser.title().await,
        "このリンクは使用済みです - 株式会社サンプル 人事部"
    );
    browser.quit().await;
}

#[tokio::test]
async fn l4_activation_link_is_single_use_and_expires() {
    let b = Bizreach::spawn(0).await;
    b.sign_in().await;
    let (status, body) = b
        .app
        .post_json("/v1/group-accounts/grp-001/link", &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    // The link request stored a hashed token valid for 72 hours.
    let now = hirelay::domain::time::now_millis();
    let pending = b
        .app
        .state
        .store
        .pending_link_approval("grp-001", now)
        .await
        .unwrap()
        .expect("a pending approval");
    let hours = (pending.expires_at - pending.created_at) / 3_600_000;
    assert_eq!(hours, 72);
    assert_eq!(pending.token_hash.len(), 64);

    // L4: the approval email, from a noreply@ address, with the contract's subject.
    let (mail, url) = b.approval_mail("grp-001").await;
    assert!(mail.from.starts_with("noreply@"), "{}", mail.from);
    let subject = mail.decoded_header("Subject").unwrap();
    assert!(
        subject.starts_with("ビズリーチグループ連携案内 - "),
        "{subject}"
    );
    assert!(subject.ends_with(" 様より"), "{subject}");
    let page = b.app.client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains("有効にする"), "{html}");
    assert!(html.contains("株式会社サンプル"), "{html}");
    assert!(html.contains("method=\"post\""), "{html}");
    // Showing the page changes nothing; the button does.
    assert_eq!(b.group("grp-001").await["status"], "pending_approval");
    let activated = b.app.client.post(&url).send().await.unwrap();
    assert_eq!(activated.status(), 200);
    let group = b.group("grp-001").await;
    assert_eq!(group["status"], "linked");
    assert!(group["linked_at"].is_string());
    // Single use.
    assert_eq!(b.app.client.post(&url).send().await.unwrap().status(), 410);
    assert_eq!(b.app.client.get(&url).send().await.unwrap().status(), 410);
    // Unknown.
    let unknown = b
        .app
        .client
        .get(b.app.url("/v1/link-approvals/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert!(unknown.text().await.unwrap().contains("無効"));
    // Expired.
    b.app
        .post_json("/v1/group-accounts/grp-002/link", &json!({}))
        .await;
    let expired = approval_token(&b.app, "grp-002", -1).await;
    let url = b.app.url(&format!("/v1/link-approvals/{expired}"));
    let res = b.app.client.post(&url).send().await.unwrap();
    assert_eq!(res.status(), 410);
    assert!(res.text().await.unwrap().contains("有効期限"));
    assert_eq!(b.group("grp-002").await["status"], "pending_approval");
}

#[tokio::test]
async fn l5_unlinked_group_events_are_refused() {
    let b = Bizreach::spawn(0).await;
    b.sign_in().await;
    let res = b
        .app
        .post_webhook("bizreach", "msg-1", &direct_application("grp-001", "a-1"))
        .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["field"], "group_account_id");
    b.link("grp-001").await;
    let res = b
        .app
        .post_webhook("bizreach", "msg-2", &direct_application("grp-001", "a-2"))
        .await;
    assert_eq!(res.status(), 202);
    let (status, body) = b
        .app
        .post_json("/v1/group-accounts/grp-001/suspend", &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let res = b
        .app
        .post_webhook("bizreach", "msg-3", &direct_application("grp-001", "a-3"))
        .await;
    assert_eq!(res.status(), 422);
    // The poller reads linked groups only.
    b.add_applications("grp-002", json!([{}])).await;
    let (_, report) = b.poll().await;
    assert_eq!(report["groups"], 0, "{report}");
    assert_eq!(report["new_events"], 0);
}

#[tokio::test]
async fn i2_poll_imports_only_applications_made_after_linking() {
    // 20 seeded applications per group, all made before the link.
    let b = Bizreach::spawn(20).await;
    b.sign_in().await;
    b.link("grp-001").await;
    let added = b
        .add_applications(
            "grp-001",
            json!([{"channel": "direct"}, {"channel": "scout"}]),
        )
        .await;
    b.add_applications("grp-002", json!([{}])).await;
    let (status, report) = b.poll().await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["groups"], 1);
    assert_eq!(report["new_events"], 2, "{report}");
    assert_eq!(report["errors"], json!([]));
    let events = b.events("pull:").await;
    let mut ids: Vec<String> = events
        .iter()
        .map(|e| application_id(e["webhook_id"].as_str().unwrap()))
        .collect();
    ids.sort();
    let mut expected: Vec<String> = added
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    expected.sort();
    assert_eq!(ids, expected);
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"application.received") && kinds.contains(&"scout.replied"));
    // The stored payload is the contract's BizReach event.
    let detail = b
        .app
        .get_json(&format!("/v1/events/{}", events[0]["id"].as_str().unwrap()))
        .await;
    assert_eq!(detail["payload"]["group_account_id"], "grp-001");
    // Polling again: nothing new; a status changed on BizReach is a new event.
    let (_, report) = b.poll().await;
    assert_eq!(report["new_events"], 0, "{report}");
    let id = added[0]["id"].as_str().unwrap();
    let other = if added[0]["status"] == "rejected" {
        "hired"
    } else {
        "rejected"
    };
    b.control(
        Method::PUT,
        &format!("/_sim/applications/{id}"),
        Some(json!({"status": other})),
    )
    .await;
    let (_, report) = b.poll().await;
    assert_eq!(report["new_events"], 1, "{report}");
}

#[tokio::test]
async fn i3_poll_resumes_after_a_crash_without_gaps_or_duplicates() {
    poll_fails_half_way_then_resumes(json!({"status": 503})).await;
}

/// Issue 15 item 2: the source closing connections part-way through its answers during a poll
/// is a failure like a 5xx: the next poll resumes from the saved cursor, no gap, no double.
#[tokio::test]
async fn issue15_connections_cut_during_a_poll_resume_from_the_cursor() {
    poll_fails_half_way_then_resumes(json!({"cut": true})).await;
}

/// Issue 15 item 2: the source stops answering during a poll. Each call is given up after
/// `HIRELAY_BIZREACH_TIMEOUT_SECS` (1 s here, not the default 30 s) and retried; when every try
/// times out the poll stops, and the next poll resumes from the saved cursor, no gap, no double.
#[tokio::test]
async fn issue15_a_source_timing_out_during_a_poll_resumes_from_the_cursor() {
    let started = std::time::Instant::now();
    let report = poll_fails_half_way_then_resumes_with(
        &[("HIRELAY_BIZREACH_TIMEOUT_SECS", "1")],
        json!({"hang": true}),
    )
    .await;
    assert!(
        report["errors"][0].to_string().contains("timed out"),
        "the failed poll says it timed out: {report}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(25),
        "the configured timeout, not the default 30 s, ended the hung calls"
    );
}

/// A poll whose second page meets `fault` at every try, then a poll without faults.
async fn poll_fails_half_way_then_resumes(fault: Value) {
    poll_fails_half_way_then_resumes_with(&[], fault).await;
}

/// [`poll_fails_half_way_then_resumes`] on a hirelay with extra settings; answers the report of
/// the poll that failed half-way.
async fn poll_fails_half_way_then_resumes_with(settings: &[(&str, &str)], fault: Value) -> Value {
    let b = Bizreach::spawn_with(0, settings).await;
    b.sign_in().await;
    b.link("grp-001").await;
    // 250 new applications: three pages of 100 (the simulator's default page).
    let many: Vec<Value> = (0..250).map(|_| json!({})).collect();
    b.add_applications("grp-001", Value::Array(many)).await;
    // Page 1 answers (slowly); while it is on its way BizReach starts failing every request,
    // so every try of page 2 fails: the poll stops half-way, as after a crash.
    b.control(
        Method::POST,
        "/_sim/faults",
        Some(json!({"fail_next": 1, "delay_ms": 400})),
    )
    .await;
    let poll = {
        let (client, url) = (
            b.app.client.clone(),
            b.app.url("/v1/scheduler/bizreach-poll/run"),
        );
        tokio::spawn(async move {
            let res = client
                .post(url)
                .bearer_auth(crate::helpers::ADMIN_TOKEN)
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        })
    };
    wait_for_requests(&b, "GET /api/group-accounts/{id}/applications", 1).await;
    b.control(Method::POST, "/_sim/faults", Some(fault)).await;
    let (status, failed) = poll.await.unwrap();
    let report = failed.clone();
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["new_events"], 100, "{report}");
    assert_eq!(report["errors"].as_array().unwrap().len(), 1, "{report}");
    let saved = b.app.state.store.linked_group_accounts().await.unwrap();
    assert!(
        saved[0].poll_cursor.is_some(),
        "the cursor of page 2 is saved"
    );
    // The next poll continues from the saved cursor: the rest, nothing twice.
    b.control(Method::DELETE, "/_sim/faults", None).await;
    let (_, report) = b.poll().await;
    assert_eq!(report["new_events"], 150, "{report}");
    assert_eq!(
        report["fetched"], 150,
        "resumed at page 2, not from the start"
    );
    let events = b.events("pull:").await;
    let mut ids: Vec<String> = events
        .iter()
        .map(|e| application_id(e["webhook_id"].as_str().unwrap()))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 250);
    assert_eq!(events.len(), 250);
    let saved = b.app.state.store.linked_group_accounts().await.unwrap();
    assert!(saved[0].poll_cursor.is_none());
    // The position moved back (a database restored from a backup, say): pages stored before
    // only give duplicates.
    b.app
        .state
        .store
        .store_polled_page(
            &[],
            &PollPosition {
                group_account_id: "grp-001",
                cursor: None,
                since: saved[0].linked_at,
                now: 0,
            },
        )
        .await
        .unwrap();
    let (_, report) = b.poll().await;
    assert_eq!(report["new_events"], 0, "{report}");
    assert_eq!(report["duplicates"], 250, "{report}");
    failed
}

/// Waits until the simulator counted `n` requests of `route`.
async fn wait_for_requests(b: &Bizreach, route: &str, n: u64) {
    for _ in 0..500 {
        let stats = b.control(Method::GET, "/_sim/stats", None).await;
        if stats["requests"][route].as_u64().unwrap_or(0) >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("the simulator never saw {n} x {route}");
}

#[tokio::test]
async fn a_401_from_the_source_with_a_wrong_stored_password_gives_a_clear_error() {
    let b = Bizreach::spawn(0).await;
    b.sign_in().await;
    b.link("grp-001").await;
    // The stored password is wrong now (changed on BizReach, say), and the session ends.
    let sealed = b.app.state.secret_box.seal("not the password");
    hirelay::store::Store::save_bizreach_credentials(
        &b.app.state.store.db,
        SIM_EMAIL,
        &sealed,
        "株式会社サンプル 人事部",
        0,
    )
    .await
    .unwrap();
    b.control(Method::DELETE, "/_sim/sessions", None).await;
    let (status, report) = b.poll().await;
    assert_eq!(status, 200, "the poll reports per group: {report}");
    let message = report["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("401") && message.contains("POST /v1/bizreach/session"),
        "{message}"
    );
    // A backfill answers the error itself.
    let (status, body) = b
        .app
        .post_json("/v1/group-accounts/grp-001/backfill", &json!({}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "bizreach_credentials_rejected");
}

#[tokio::test]
async fn source_failures_are_retried_then_answered_as_502() {
    let b = Bizreach::spawn(0).await;
    b.sign_in().await;
    b.link("grp-001").await;
    // Two failures, then success: the retries absorb them.
    b.control(
        Method::POST,
        "/_sim/faults",
        Some(json!({"fail_next": 2, "status": 503})),
    )
    .await;
    let (status, report) = b.poll().await;
    assert_eq!(status, 200);
    assert_eq!(report["errors"], json!([]), "{report}");
    // Always failing: the backfill answers 502 after three tries.
    b.control(Method::POST, "/_sim/faults", Some(json!({"status": 500})))
        .await;
    let (status, body) = b
        .app
        .post_json("/v1/group-accounts/grp-001/backfill", &json!({}))
        .await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "upstream_error");
    let stats = b.control(Method::GET, "/_sim/stats", None).await;
    assert_eq!(stats["faulted"], 5, "{stats}");
}

#[tokio::test]
async fn without_a_bizreach_url_the_endpoints_answer_503_naming_the_variable() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post_json(
            "/v1/bizreach/session",
            &json!({"email": SIM_EMAIL, "password": "x"}),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("HIRELAY_BIZREACH_URL"));
    let (status, body) = app
        .post_json("/v1/scheduler/bizreach-poll/run", &json!({}))
        .await;
    assert_eq!(status, 503, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("HIRELAY_BIZREACH_URL"));
    let _ = SECRET;
}

/// I3: a poll fetches its linked group accounts side by side; when the BizReach session has
/// ended, the calls that meet it sign in again once between them, and every group is polled.
#[tokio::test]
async fn i3_a_poll_of_several_groups_signs_in_again_once_when_the_session_ends() {
    let b = Bizreach::spawn(2).await;
    b.sign_in().await;
    for group in ["grp-001", "grp-002", "grp-003"] {
        b.link(group).await;
    }
    b.control(Method::DELETE, "/_sim/sessions", None).await;
    let (status, report) = b.poll().await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["groups"], 3, "{report}");
    assert_eq!(report["errors"], serde_json::json!([]), "{report}");
    b.sim_stats_show_a_second_sign_in().await;
}
