//! The rule scripts through HTTP: versions, validation, rollback, hot reload, dry runs, roles.
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

use crate::helpers::{sample, TestApp};
use hirelay::domain::role::Role;
use hirelay::store::decisions::DecisionRecord;
use hirelay::store::Store;

const GOOD: &str = "// v2\nlabel(\"テスト\");\n";
const BROKEN: &str = "let a = 1;\nlet b = a +;\n";

async fn put_rule(app: &TestApp, name: &str, body: &str) -> (u16, Value) {
    let res = app
        .admin(Method::PUT, &format!("/v1/rules/{name}"))
        .header("content-type", "text/plain")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn active(app: &TestApp, name: &str) -> Value {
    app.get_json(&format!("/v1/rules/{name}?format=json")).await
}

/// Waits (up to 10 s) until `check` holds for the JSON at `path`.
async fn wait_until(app: &TestApp, path: &str, check: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..100 {
        let res = app.admin(Method::GET, path).send().await.unwrap();
        last = res.json().await.unwrap_or(Value::Null);
        if check(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never satisfied the check; last: {last}");
}

#[tokio::test]
async fn shipped_scripts_are_loaded_from_files_as_version_1() {
    let app = TestApp::spawn().await;
    let list = app.get_json("/v1/rules").await;
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["career_relay", "import", "status"]);
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["version"] == 1 && i["author"] == "file"));
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["checks"]["scripts"], "ok", "{ready}");

    let res = app
        .admin(Method::GET, "/v1/rules/import")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-hirelay-version"], "1");
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = res.text().await.unwrap();
    assert_eq!(
        text,
        std::fs::read_to_string(app.rules_dir.join("import.rhai")).unwrap()
    );
}

#[tokio::test]
async fn a_valid_put_becomes_version_2_and_runs_at_once() {
    let app = TestApp::spawn().await;
    let (status, body) = put_rule(&app, "import", GOOD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 2);

    let now = active(&app, "import").await;
    assert_eq!(now["version"], 2);
    assert_eq!(now["source"], GOOD);
    assert_eq!(now["author"], "bootstrap admin (tok_bootstrap)");

    let versions = app.get_json("/v1/rules/import/versions").await;
    let items = versions["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["version"], 1);
    assert_eq!(items[0]["author"], "file");
    assert_eq!(items[1]["version"], 2);
    assert_eq!(items[1]["active"], true);

    let (status, run) = app
        .post_json("/v1/rules/import/dry-run", &json!({"event": {"type": "x"}}))
        .await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["version"], 2);
    assert_eq!(
        run["actions"],
        json!([{"type": "label", "label": "テスト"}])
    );

    let audit = app.state.store.audit_entries(10).await.unwrap();
    assert!(audit.iter().any(|a| a.action == "rule.save"
        && a.target == "import"
        && a.actor.contains("tok_bootstrap")));
}

#[tokio::test]
async fn a_broken_put_is_refused_with_line_and_column_and_the_old_version_keeps_running() {
    let app = TestApp::spawn().await;
    let (status, body) = put_rule(&app, "import", BROKEN).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "script_invalid");
    assert_eq!(body["error"]["details"]["line"], 2);
    assert_eq!(body["error"]["details"]["column"], 12);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("import.rhai:2:12: "),
        "{body}"
    );

    assert_eq!(active(&app, "import").await["version"], 1);
    let versions = app.get_json("/v1/rules/import/versions").await;
    assert_eq!(versions["items"].as_array().unwrap().len(), 1);
}

/// Issue 19: a call of a function that does not exist, or with a literal of the wrong type,
/// would fail on every event; it is refused when saved, through the API and from a file.
#[tokio::test]
async fn issue19_a_typo_in_a_call_is_refused_at_save_time_with_line_column_and_a_suggestion() {
    let app = TestApp::spawn().await;
    let typo = "if event.to_status == \"rejected\" {\n    invite_tomorrow();\n}\n";
    let (status, body) = put_rule(&app, "status", typo).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "script_invalid");
    assert_eq!(body["error"]["details"]["line"], 2);
    assert_eq!(body["error"]["details"]["column"], 5);
    assert_eq!(
        body["error"]["message"],
        "status.rhai:2:5: unknown function `invite_tomorrow`: did you mean `invite`?"
    );
    let (status, body) = put_rule(&app, "import", "label(42);").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["error"]["message"],
        "import.rhai:1:7: label: `label` must be a string, got an integer (42)"
    );
    assert_eq!(active(&app, "status").await["version"], 1);
    assert_eq!(active(&app, "import").await["version"], 1);

    std::fs::write(
        app.rules_dir.join("career_relay.rhai"),
        "kpi(\"x\");\nlable(\"y\");\n",
    )
    .unwrap();
    let list = wait_until(&app, "/v1/rules", |v| {
        v["problems"]["career_relay.rhai"].is_string()
    })
    .await;
    assert_eq!(
        list["problems"]["career_relay.rhai"],
        "career_relay.rhai:2:1: unknown function `lable`: did you mean `label`?"
    );
    assert_eq!(active(&app, "career_relay").await["version"], 1);
}

#[tokio::test]
async fn new_scripts_need_a_valid_name() {
    let app = TestApp::spawn().await;
    let (status, body) = put_rule(&app, "Bad-Name", GOOD).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "name");
    let (status, _) = put_rule(&app, "helpers", GOOD).await;
    assert_eq!(status, 200);
    assert_eq!(active(&app, "helpers").await["version"], 1);
}

#[tokio::test]
async fn rollback_saves_the_old_text_as_the_newest_version() {
    let app = TestApp::spawn().await;
    let original = active(&app, "status").await["source"].clone();
    put_rule(&app, "status", GOOD).await;
    let (status, body) = app
        .post_json("/v1/rules/status/rollback", &json!({"version": 1}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 3);
    let now = active(&app, "status").await;
    assert_eq!(now["version"], 3);
    assert_eq!(now["source"], original);

    let (status, body) = app
        .post_json("/v1/rules/status/rollback", &json!({"version": 99}))
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(active(&app, "status").await["version"], 3);
    let audit = app.state.store.audit_entries(20).await.unwrap();
    assert!(audit
        .iter()
        .any(|a| a.action == "rule.rollback" && a.target == "status"));
}

#[tokio::test]
async fn hot_reload_activates_a_good_edit_and_refuses_a_broken_one() {
    let app = TestApp::spawn().await;
    let file = app.rules_dir.join("career_relay.rhai");
    std::fs::write(&file, GOOD).unwrap();
    let now = wait_until(&app, "/v1/rules/career_relay?format=json", |v| {
        v["version"] == 2
    })
    .await;
    assert_eq!(now["author"], "file");
    assert_eq!(now["source"], GOOD);
    let versions = app.get_json("/v1/rules/career_relay/versions").await;
    assert_eq!(versions["items"][1]["author"], "file");

    std::fs::write(&file, BROKEN).unwrap();
    let list = wait_until(&app, "/v1/rules", |v| {
        v["problems"]["career_relay.rhai"].is_string()
    })
    .await;
    assert!(
        list["problems"]["career_relay.rhai"]
            .as_str()
            .unwrap()
            .starts_with("career_relay.rhai:2:12: "),
        "{list}"
    );
    let ready: Value = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        ready["checks"]["scripts"]
            .as_str()
            .unwrap()
            .contains("career_relay.rhai:2:12"),
        "{ready}"
    );
    let now = active(&app, "career_relay").await;
    assert_eq!(now["version"], 2);
    assert_eq!(now["source"], GOOD);
    let versions = app.get_json("/v1/rules/career_relay/versions").await;
    assert_eq!(versions["items"].as_array().unwrap().len(), 2);
}

/// C2: the shipped `status.rhai` invites the next business morning by the configured calendar:
/// national holidays, the company's closures (`HIRELAY_BUSINESS_CLOSURES`) and the send hour
/// (`HIRELAY_SEND_HOUR`).
#[tokio::test]
async fn c2_invitations_wait_for_the_configured_business_morning() {
    let app = TestApp::spawn_with(&[
        ("HIRELAY_BUSINESS_CLOSURES", "12-29..01-03,08-13..08-15"),
        ("HIRELAY_SEND_HOUR", "10"),
    ])
    .await;
    let rejection = json!({"type": "application.status_changed", "to_status": "rejected",
        "stage": "一次面接", "reason": "スキルミスマッチ"});
    // Tue 12 Aug 2031 evening: closed Wed 13–Fri 15 (お盆), then the weekend.
    let (status, body) = app
        .post_json(
            "/v1/rules/status/dry-run",
            &json!({"event": rejection, "context": {"status_applied": true},
                "now": "2031-08-12T18:00:00+09:00"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["actions"]
            .as_array()
            .unwrap()
            .contains(&json!({"type": "invite", "send_at": "2031-08-18T10:00:00+09:00"})),
        "{body}"
    );
    let draft = r#"log(is_business_day("2031-08-14T12:00:00+09:00"));
        log(next_business_morning("2031-11-21T18:00:00+09:00"));"#;
    let (status, body) = app
        .post_json(
            "/v1/rules/status/dry-run",
            &json!({"script": draft, "event": {"type": "x"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Sun 23 Nov 2031 勤労感謝の日 gives Mon 24 Nov off (振替休日).
    assert_eq!(
        body["log"],
        json!(["false", "2031-11-25T10:00:00+09:00"]),
        "{body}"
    );
}

#[tokio::test]
async fn i4_dry_run_of_an_application_already_rejected_on_bizreach_labels_it() {
    let app = TestApp::spawn().await;
    let event: Value = serde_json::from_str(&sample("bizreach-scout-reply-rejected.json")).unwrap();
    let (status, body) = app
        .post_json(
            "/v1/rules/import/dry-run",
            &json!({"event": event, "context": {"routing_job_id": "job_7", "notify_subscribers": 0}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["script"], "import");
    assert_eq!(body["version"], 1);
    let actions = body["actions"].as_array().unwrap();
    assert!(
        actions.contains(&json!({"type": "label", "label": "ビズリーチ連携:不合格済み"})),
        "{body}"
    );
    assert!(
        actions.contains(&json!({"type": "label", "label": "ビズリーチ:スカウト"})),
        "{body}"
    );
    assert!(
        actions.contains(&json!({"type": "route", "job_id": "job_7"})),
        "{body}"
    );
    assert!(!actions.iter().any(|a| a["type"] == "notify"), "{body}");

    // A direct application that is not rejected gets no I4 label.
    let direct: Value = serde_json::from_str(&sample("bizreach-direct-application.json")).unwrap();
    let (_, body) = app
        .post_json("/v1/rules/import/dry-run", &json!({"event": direct}))
        .await;
    let actions = body["actions"].as_array().unwrap();
    assert!(
        !actions.contains(&json!({"type": "label", "label": "ビズリーチ連携:不合格済み"})),
        "{body}"
    );
    assert!(
        actions.contains(&json!({"type": "label", "label": "ビズリーチ:直接応募"})),
        "{body}"
    );
}

#[tokio::test]
async fn a_failing_dry_run_answers_422_with_the_position() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post_json(
            "/v1/rules/import/dry-run",
            &json!({"event": {}, "script": "let x = 1;\n    route(\"\");"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "script_invalid");
    assert_eq!(body["error"]["details"]["line"], 2);
    assert_eq!(body["error"]["details"]["column"], 5);
    assert_eq!(
        body["error"]["message"],
        "import.rhai:2:5: route: `job_id` is empty"
    );

    let (status, body) = app
        .post_json(
            "/v1/rules/import/dry-run",
            &json!({"event": {}, "script": "loop { }"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("limit reached"),
        "{body}"
    );
}

#[tokio::test]
async fn a_draft_runs_over_stored_events_beside_the_recorded_decisions() {
    let app = TestApp::spawn().await;
    let res = app
        .post_webhook(
            "ats",
            "msg_dry_1",
            &sample("ats-status-rejected-other-channel.json"),
        )
        .await;
    let event_id = res.json::<Value>().await.unwrap()["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post_webhook(
        "career-relay",
        "msg_dry_2",
        &sample("career-relay-registration.json"),
    )
    .await;
    // Let the pipeline record its own decision first, so the one below is the newest.
    app.wait_event(&event_id).await;
    Store::insert_decision(
        &app.state.store.db,
        &DecisionRecord {
            event_id: event_id.clone(),
            script: "status".into(),
            script_version: 1,
            actions: json!([{"type": "route", "job_id": "job_a"}]),
            log: vec![],
            error: None,
            duration_us: 10,
            decided_at: 0,
            context: None,
        },
    )
    .await
    .unwrap();

    let draft = "if event.to_status == \"rejected\" { route(\"job_b\"); invite(); }";
    let (status, body) = app
        .post_json(
            "/v1/rules/status/dry-run",
            &json!({"script": draft, "events": {"since": "2020-01-01T00:00:00Z"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "only ATS events: {body}");
    assert_eq!(results[0]["event_id"], event_id.as_str());
    assert_eq!(results[0]["recorded"]["script_version"], 1);
    assert_eq!(results[0]["recorded"]["actions"][0]["job_id"], "job_a");
    assert_eq!(results[0]["draft"]["actions"][0]["job_id"], "job_b");
    assert_eq!(results[0]["changed"], true);
    let summary = &body["summary"];
    assert_eq!(summary["events"], 1);
    assert_eq!(summary["changed"], 1);
    assert_eq!(summary["errors"], 0);
    assert_eq!(
        summary["by_action"]["route"],
        json!({"recorded": 1, "draft": 1})
    );
    assert_eq!(
        summary["by_action"]["invite"],
        json!({"recorded": 0, "draft": 1})
    );
    // That decision was recorded without its context: the draft ran with today's, and says so.
    assert_eq!(results[0]["context"], "rebuilt");
    assert!(results[0]["context_note"]
        .as_str()
        .unwrap()
        .contains("today's"));
    assert_eq!(summary["rebuilt_context"], 1);
    assert_eq!(
        summary["text"],
        "1 routed differently, 1 more invitation; 1 event ran with today's context, none having been recorded with its decision"
    );

    // Nothing was saved: the active version is still the file's.
    assert_eq!(active(&app, "status").await["version"], 1);

    let (status, body) = app
        .post_json(
            "/v1/rules/status/dry-run",
            &json!({"script": draft, "events": {"limit": 5000}}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "events.limit");
    let (status, body) = app
        .post_json(
            "/v1/rules/status/dry-run",
            &json!({"script": "let b = ;", "events": {}}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
}

/// Issue 19: a dry run over history runs each event with the context its decision was made
/// with, so the unchanged script shows no change after the state moved on (the candidate got
/// invited, time passed), and a changed script shows exactly its change.
#[tokio::test]
async fn issue19_a_dry_run_of_the_unchanged_script_over_history_shows_no_change() {
    let app = TestApp::spawn().await;
    let script = "if event.to_status == \"rejected\" && ctx.already_invited != true {\n    invite();\n}\nkpi(\"seen\", 1.0, #{ at: now, labels: application.labels.len() });\n";
    app.activate_rule("status", script).await;
    let event = app
        .deliver(
            "ats",
            "msg_ctx_1",
            &sample("ats-status-rejected-other-channel.json"),
        )
        .await;
    assert_eq!(event["status"], "done", "{event}");
    let decision = &event["decision"];
    assert_eq!(decision["actions"][0]["type"], "invite", "{event}");
    assert_eq!(
        decision["context"]["ctx"]["already_invited"], false,
        "{event}"
    );
    assert!(
        decision["context"]["application"]
            .get("candidate")
            .is_none(),
        "no copy of the candidate: {event}"
    );
    // The state moves on: the application is invited now, and `now` is a second later.
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let dry_run =
        |draft: &str| json!({"script": draft, "events": {"since": "2020-01-01T00:00:00Z"}});
    let (status, body) = app
        .post_json("/v1/rules/status/dry-run", &dry_run(script))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["context"], "recorded", "{body}");
    assert_eq!(body["summary"]["changed"], 0, "{body}");
    assert_eq!(body["summary"]["text"], "no changes", "{body}");

    let changed = script.replace("kpi(\"seen\", 1.0", "kpi(\"seen\", 2.0");
    let (status, body) = app
        .post_json("/v1/rules/status/dry-run", &dry_run(&changed))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["summary"]["changed"], 1, "{body}");
    assert_eq!(body["summary"]["text"], "1 with different KPIs", "{body}");
}

#[tokio::test]
async fn rules_need_an_admin_token() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.url("/v1/rules")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let res = app
        .as_token("nope", Method::GET, "/v1/rules/import")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    for role in [Role::Viewer, Role::Marketer, Role::Integrator] {
        let token = app.token(role).await;
        let res = app
            .as_token(&token, Method::PUT, "/v1/rules/import")
            .body(GOOD)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{role:?}");
        let res = app
            .as_token(&token, Method::GET, "/v1/rules")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{role:?}");
    }
    assert_eq!(active(&app, "import").await["version"], 1);
}

#[tokio::test]
async fn the_rules_endpoints_are_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let doc: Value = app.openapi().await;
    for path in [
        "/v1/rules",
        "/v1/rules/{name}",
        "/v1/rules/{name}/versions",
        "/v1/rules/{name}/rollback",
        "/v1/rules/{name}/dry-run",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["paths"]["/v1/rules/{name}"]["put"].is_object());
}

/// Issue 13 (9): a template a marketer adds through the API can be sent by a script at once;
/// the promotional invitation never can.
#[tokio::test]
async fn a_template_added_through_the_api_can_be_sent_by_scripts_at_once() {
    let app = TestApp::spawn().await;
    let dry_run = |template: &str| {
        json!({
            "script": format!("send_email(\"{template}\", \"hr@example.jp\", #{{}});"),
            "event": {"type": "application.status_changed"},
        })
    };
    let (status, body) = app
        .post_json("/v1/rules/status/dry-run", &dry_run("interview_thanks"))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("unknown template `interview_thanks`"));
    let res = app
        .admin(reqwest::Method::PUT, "/v1/templates/interview_thanks")
        .json(&json!({"subject": "面接のお礼", "html": "<p>ありがとうございました</p>", "text": "ありがとうございました"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let (status, body) = app
        .post_json("/v1/rules/status/dry-run", &dry_run("interview_thanks"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["actions"][0]["template"], "interview_thanks", "{body}");
    let (status, body) = app
        .post_json(
            "/v1/rules/status/dry-run",
            &dry_run("career_relay_invitation"),
        )
        .await;
    assert_eq!(status, 422, "{body}");
}

/// Issue 14: an editor sends `If-Match` with the version it opened (the `ETag` of its read). A
/// save over a version someone else saved meanwhile is refused with `412 version_conflict`,
/// naming both versions and who saved the newer one, and saves nothing; with the current
/// version, or without the header, it saves.
#[tokio::test]
async fn issue14_a_save_over_someone_elses_newer_version_is_refused_with_412() {
    let app = TestApp::spawn().await;
    let read = app
        .admin(Method::GET, "/v1/rules/status")
        .send()
        .await
        .unwrap();
    let opened = read.headers()["etag"].to_str().unwrap().to_owned();
    let opened_version: i32 = opened.trim_matches('"').parse().unwrap();
    let put = |if_match: Option<&str>, text: &str| {
        let mut req = app
            .admin(Method::PUT, "/v1/rules/status")
            .header("content-type", "text/plain")
            .body(text.to_owned());
        if let Some(v) = if_match {
            req = req.header("if-match", v);
        }
        req.send()
    };
    // Someone else saves first, from the same version.
    let theirs = put(Some(&opened), GOOD).await.unwrap();
    assert_eq!(theirs.status(), 200);
    assert_eq!(
        theirs.headers()["etag"].to_str().unwrap(),
        format!("\"{}\"", opened_version + 1)
    );
    // Mine, from the version I opened, is refused and saves nothing.
    let mine = put(Some(&opened), "// mine\nlabel(\"mine\");\n")
        .await
        .unwrap();
    assert_eq!(mine.status(), 412);
    let body: Value = mine.json().await.unwrap();
    assert_eq!(body["error"]["code"], "version_conflict", "{body}");
    assert_eq!(body["error"]["details"]["expected_version"], opened_version);
    assert_eq!(
        body["error"]["details"]["current_version"],
        opened_version + 1
    );
    assert_eq!(
        body["error"]["details"]["author"], "bootstrap admin (tok_bootstrap)",
        "{body}"
    );
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("Nothing was saved"), "{message}");
    let active = app.get_json("/v1/rules/status?format=json").await;
    assert_eq!(active["source"], GOOD);
    assert_eq!(active["version"], opened_version + 1);
    // A weak or bare tag of the current version saves; a tag that is not a version is a 400.
    let now = format!("W/\"{}\"", opened_version + 1);
    let saved = put(Some(&now), "// v3\nlabel(\"v3\");\n").await.unwrap();
    assert_eq!(saved.status(), 200);
    let bad = put(Some("\"abc\""), GOOD).await.unwrap();
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["field"], "If-Match", "{body}");
    assert_eq!(put(None, GOOD).await.unwrap().status(), 200);
}

/// Issue 14: `POST /v1/rules/{name}/check` checks a draft as a save would, with the line and
/// column of the problem, and saves nothing.
#[tokio::test]
async fn issue14_a_draft_is_checked_with_its_line_and_column_without_saving() {
    let app = TestApp::spawn().await;
    let before = app.get_json("/v1/rules/status?format=json").await;
    let check = |text: &'static str| {
        app.admin(Method::POST, "/v1/rules/status/check")
            .header("content-type", "text/plain")
            .body(text)
            .send()
    };
    let res = check(BROKEN).await.unwrap();
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "script_invalid", "{body}");
    assert_eq!(body["error"]["details"]["line"], 2, "{body}");
    assert!(
        body["error"]["details"]["column"].as_u64().unwrap() > 1,
        "{body}"
    );
    let res = check("label(\"typo\", 1, 2, 3);").await.unwrap();
    assert_eq!(
        res.status(),
        422,
        "a call that does not exist is refused too"
    );
    let res = check(GOOD).await.unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["ok"], true);
    let after = app.get_json("/v1/rules/status?format=json").await;
    assert_eq!(after["version"], before["version"], "nothing saved");
}

#[tokio::test]
async fn a_dry_run_of_one_event_gets_every_ctx_key_of_its_hook_and_refuses_an_unknown_one() {
    let app = TestApp::spawn().await;
    let event: Value = serde_json::from_str(&sample("ats-status-rejected.json")).unwrap();
    let draft = r#"let keys = ctx.keys(); keys.sort(); log(keys); log(ctx.status_applied); log(ctx.opted_out);"#;
    let (status, body) = app
        .post_json(
            "/v1/rules/status/dry-run",
            &json!({"event": event, "script": draft, "context": {"opted_out": true}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["log"],
        json!([
            r#"["already_invited", "candidate_invited_at", "candidate_registered", "opted_out", "previous_status", "status_applied"]"#,
            "true",
            "true"
        ]),
        "{body}"
    );

    let (status, body) = app
        .post_json(
            "/v1/rules/status/dry-run",
            &json!({"event": event, "context": {"optedout": true}}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "context", "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("`optedout`") && message.contains("opted_out"),
        "{body}"
    );
}
