//! Imports end to end: a BizReach event becomes a candidate and an application, and the shipped
//! `import.rhai` labels, routes and notifies (I1, I4–I7, I9, C8's one candidate per email).
use crate::bizreach_support::Bizreach;
use crate::helpers::{queued_together, queued_together_with, sample, TestApp};
use hirelay::domain::status::EventSource;
use serde_json::{json, Value};

/// A hirelay with grp-001 linked.
async fn linked() -> Bizreach {
    let b = Bizreach::spawn(0).await;
    b.sign_in().await;
    b.link("grp-001").await;
    b
}

/// Posts a BizReach event and waits until it is processed; answers the event.
pub async fn import(app: &TestApp, webhook_id: &str, body: &str) -> Value {
    app.deliver("bizreach", webhook_id, body).await
}

pub async fn application(app: &TestApp, source_id: &str) -> Value {
    let found = app
        .get_json(&format!(
            "/v1/applications?source_application_id={source_id}"
        ))
        .await;
    found["items"][0].clone()
}

fn labels(app: &Value) -> Vec<String> {
    app["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn i1_i4_i9_a_rejected_scout_reply_is_labelled_and_waits_in_the_inbox() {
    let b = linked().await;
    let event = import(
        &b.app,
        "i4-1",
        &sample("bizreach-scout-reply-rejected.json"),
    )
    .await;
    assert_eq!(event["status"], "done", "{event}");
    // The decision record: which script version ran and what it decided.
    assert_eq!(event["decision"]["script"], "import");
    assert_eq!(event["decision"]["script_version"], 1);
    let app = application(&b.app, "br-app-000124").await;
    let labels = labels(&app);
    assert!(
        labels.contains(&"ビズリーチ連携:不合格済み".to_owned()),
        "{labels:?}"
    );
    assert!(
        labels.contains(&"ビズリーチ:スカウト".to_owned()),
        "{labels:?}"
    );
    assert_eq!(app["channel"], "scout");
    assert_eq!(app["source_status"], "rejected");
    // I6: no routing rule matched, so it waits in the import inbox.
    assert!(app["job_id"].is_null());
    let inbox = b.app.get_json("/v1/imports").await;
    assert!(
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["source_application_id"] == "br-app-000124"),
        "{inbox}"
    );
}

#[tokio::test]
async fn i9_a_direct_application_gets_the_direct_label_and_no_rejected_label() {
    let b = linked().await;
    import(&b.app, "i9-1", &sample("bizreach-direct-application.json")).await;
    let app = application(&b.app, "br-app-000123").await;
    assert_eq!(labels(&app), ["ビズリーチ:直接応募"]);
    assert_eq!(app["candidate"]["email"], "taro.yamada@example.jp");
}

#[tokio::test]
async fn a_reimport_updates_and_one_email_is_one_candidate() {
    let b = linked().await;
    import(&b.app, "re-1", &sample("bizreach-direct-application.json")).await;
    let first = application(&b.app, "br-app-000123").await;
    // The same application again, now rejected on BizReach, under another delivery id.
    let again = sample("bizreach-direct-application.json")
        .replace("\"status\": \"new\"", "\"status\": \"rejected\"");
    import(&b.app, "re-2", &again).await;
    let second = application(&b.app, "br-app-000123").await;
    assert_eq!(
        second["id"], first["id"],
        "a re-import updates, never duplicates"
    );
    assert_eq!(second["source_status"], "rejected");
    assert!(labels(&second).contains(&"ビズリーチ連携:不合格済み".to_owned()));
    // Another application of the same person, with the email in other case: one candidate.
    let other = sample("bizreach-direct-application.json")
        .replace("br-app-000123", "br-app-000999")
        .replace("Taro.Yamada@Example.jp", "TARO.YAMADA@example.JP");
    import(&b.app, "re-3", &other).await;
    let third = application(&b.app, "br-app-000999").await;
    assert_ne!(third["id"], first["id"]);
    assert_eq!(third["candidate"]["id"], first["candidate"]["id"]);
}

#[tokio::test]
async fn i7_a_routing_rule_routes_exact_matches_and_not_near_misses() {
    let b = linked().await;
    let (status, job) = b
        .app
        .post_json(
            "/v1/jobs",
            &json!({"title": "バックエンド（Rust）", "ats_job_id": "job-12"}),
        )
        .await;
    assert_eq!(status, 201, "{job}");
    let (status, rule) = b
        .app
        .post_json(
            "/v1/routing-rules",
            &json!({"position_name": "バックエンドエンジニア（Rust）", "job_id": job["id"]}),
        )
        .await;
    assert!(status == 201 || status == 200, "{rule}");
    import(&b.app, "i7-1", &sample("bizreach-direct-application.json")).await;
    let routed = application(&b.app, "br-app-000123").await;
    assert_eq!(
        routed["job_id"], job["id"],
        "exact match routes straight to selection"
    );
    // Half-width parentheses: a near miss that must not match.
    let near = sample("bizreach-direct-application.json")
        .replace("br-app-000123", "br-app-000200")
        .replace("（Rust）", "(Rust)");
    import(&b.app, "i7-2", &near).await;
    let waiting = application(&b.app, "br-app-000200").await;
    assert!(waiting["job_id"].is_null(), "{waiting}");
    // The ATS can pick the routed one up: an application.routed delivery is queued.
    let deliveries = b.app.get_json("/v1/events?limit=10").await;
    assert!(deliveries["items"].as_array().unwrap().len() >= 2);
}

#[tokio::test]
async fn i5_subscribers_are_notified_by_email_when_an_application_arrives() {
    let b = linked().await;
    let res = b
        .app
        .admin(reqwest::Method::PUT, "/v1/notifications/subscriptions")
        .json(&json!({"bizreach_application": true, "email": "hr.lead@example.jp"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let before = b.app.smtp.mails().len();
    import(&b.app, "i5-1", &sample("bizreach-direct-application.json")).await;
    let mails = b.app.smtp.wait_for(before + 1).await;
    let notice = mails
        .iter()
        .find(|m| m.to.contains(&"hr.lead@example.jp".to_owned()))
        .expect("a notice to the subscriber");
    let text = notice.part("text/plain").unwrap();
    assert!(text.contains("山田 太郎"), "{text}");
    assert!(text.contains("バックエンドエンジニア（Rust）"), "{text}");
    // A re-import of the same application does not notify again.
    let again = sample("bizreach-direct-application.json")
        .replace("\"status\": \"new\"", "\"status\": \"in_progress\"");
    import(&b.app, "i5-2", &again).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let notices = b
        .app
        .smtp
        .mails()
        .iter()
        .filter(|m| m.to.contains(&"hr.lead@example.jp".to_owned()))
        .count();
    assert_eq!(notices, 1);
}

#[tokio::test]
async fn a_script_error_fails_the_event_with_its_position_until_fixed_and_replayed() {
    let b = linked().await;
    let broken = "let x = event.application.id;\nroute(\"\");\n";
    b.app.activate_rule("import", broken).await;
    let event = import(&b.app, "err-1", &sample("bizreach-direct-application.json")).await;
    assert_eq!(event["status"], "failed", "{event}");
    assert_eq!(event["attempts"], 1, "a script error is not retried");
    let error = event["last_error"].as_str().unwrap();
    assert!(error.contains("import.rhai:2:"), "{error}");
    assert_eq!(event["decision"]["script_version"], 2);
    // Fix the script (roll back to the shipped version) and replay: the event goes through.
    let (status, _) = b
        .app
        .post_json("/v1/rules/import/rollback", &json!({"version": 1}))
        .await;
    assert_eq!(status, 200);
    let id = event["id"].as_str().unwrap();
    let (status, _) = b
        .app
        .post_json(&format!("/v1/events/{id}/replay"), &json!({}))
        .await;
    assert_eq!(status, 202);
    let replayed = b.app.wait_event(id).await;
    assert_eq!(replayed["status"], "done", "{replayed}");
    assert_eq!(replayed["decision"]["script_version"], 3);
}

#[tokio::test]
async fn a_draft_is_tried_on_stored_history_before_it_is_activated() {
    let b = linked().await;
    for i in 0..3 {
        let body = sample("bizreach-direct-application.json")
            .replace("br-app-000123", &format!("br-hist-{i}"));
        import(&b.app, &format!("hist-{i}"), &body).await;
    }
    let (status, job) = b.app.post_json("/v1/jobs", &json!({"title": "営業"})).await;
    assert_eq!(status, 201, "{job}");
    let shipped = std::fs::read_to_string(b.app.rules_dir.join("import.rhai")).unwrap();
    let draft = format!("{shipped}\nroute(\"{}\");\n", job["id"].as_str().unwrap());
    let (status, report) = b
        .app
        .post_json(
            "/v1/rules/import/dry-run",
            &json!({"script": draft, "events": {"limit": 100}}),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["summary"]["events"], 3, "{report}");
    assert_eq!(report["summary"]["changed"], 3, "{report}");
    let text = report["summary"]["text"].as_str().unwrap();
    assert!(text.contains("3 more routes"), "{text}");
    let first = &report["results"][0];
    assert!(first["recorded"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["type"] != "route"));
    assert!(first["draft"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["type"] == "route"));
    // Nothing was changed by trying.
    assert!(application(&b.app, "br-hist-0").await["job_id"].is_null());
    assert_eq!(
        b.app.get_json("/v1/rules/import?format=json").await["version"],
        1
    );
}

/// A batch handles its events' scripts together, and writes their labels together: events
/// of one application claimed in one batch are still handled in order, each seeing what the
/// one before it did (I9's channel labels of a direct application re-imported as a scout
/// reply are both kept), and events of other applications in the batch are not held up.
#[tokio::test]
async fn i9_imports_of_one_application_in_one_batch_are_handled_in_order() {
    let direct = sample("bizreach-direct-application.json");
    let scout = direct.replace("\"direct\"", "\"scout\"");
    let other = direct
        .replace("br-app-000123", "br-app-000999")
        .replace("Taro.Yamada@Example.jp", "other@example.jp");
    let bizreach = |body: String| (EventSource::Bizreach, "application.received", body);
    let (app, ids) = queued_together(&[bizreach(direct), bizreach(scout), bizreach(other)]).await;
    for id in &ids {
        let event = app.wait_event(id).await;
        assert_eq!(event["status"], "done", "{event}");
        assert_eq!(event["attempts"], 1, "{event}");
    }
    let twice = labels(&application(&app, "br-app-000123").await);
    assert!(
        twice.contains(&"ビズリーチ:直接応募".to_owned())
            && twice.contains(&"ビズリーチ:スカウト".to_owned()),
        "{twice:?}"
    );
    let once = labels(&application(&app, "br-app-000999").await);
    assert_eq!(once, vec!["ビズリーチ:直接応募".to_owned()]);
}

/// I7, I9 for imports handled together: each new application comes out labelled by channel
/// and routed by the routing rule, and is written once, as its actions left it (stored when
/// the batch ends, not inserted and then updated: its `updated_at` is its `created_at`).
#[tokio::test]
async fn i7_i9_new_imports_of_one_batch_are_stored_labelled_and_routed() {
    let direct = sample("bizreach-direct-application.json");
    let scout = direct
        .replace("br-app-000123", "br-app-000124")
        .replace("Taro.Yamada@Example.jp", "scout@example.jp")
        .replace("\"direct\"", "\"scout\"");
    let unrouted = direct
        .replace("br-app-000123", "br-app-000125")
        .replace("Taro.Yamada@Example.jp", "other@example.jp")
        .replace("（Rust）", "(Rust)");
    let bizreach = |body: String| (EventSource::Bizreach, "application.received", body);
    let (app, ids) = queued_together_with(
        &[],
        &[
            "INSERT INTO jobs (id, title, ats_job_id, created_at) VALUES ('job_rust', 'Rust', NULL, 0)",
            "INSERT INTO routing_rules (id, position_name, job_id, created_by, created_at) \
             VALUES ('rr_1', 'バックエンドエンジニア（Rust）', 'job_rust', 'test', 0)",
        ],
        &[bizreach(direct), bizreach(scout), bizreach(unrouted)],
    )
    .await;
    for id in &ids {
        let event = app.wait_event(id).await;
        assert_eq!(event["status"], "done", "{event}");
    }
    let expected = [
        ("br-app-000123", "ビズリーチ:直接応募", json!("job_rust")),
        ("br-app-000124", "ビズリーチ:スカウト", json!("job_rust")),
        ("br-app-000125", "ビズリーチ:直接応募", Value::Null),
    ];
    for (source_id, label, job) in expected {
        let stored = application(&app, source_id).await;
        assert_eq!(labels(&stored), [label], "{stored}");
        assert_eq!(stored["job_id"], job, "{stored}");
        assert_eq!(stored["updated_at"], stored["created_at"], "{stored}");
    }
}
