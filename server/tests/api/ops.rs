//! Operations through HTTP: liveness, readiness (and what it names when a script or template
//! cannot be activated), Prometheus metrics, the OpenAPI document, the JSON 404, and the audit log.
use crate::helpers::{fresh_database, repo_root, TestApp};
use hirelay::domain::role::Role;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

/// An ATS status change for an application hirelay has not seen (it carries the candidate).
fn ats_change(ats_id: &str) -> String {
    json!({
        "type": "application.status_changed",
        "ats_application_id": ats_id,
        "candidate": {"name": "運用 太郎", "email": format!("{ats_id}@example.jp")},
        "to_status": "screening",
        "changed_at": "2026-11-21T18:00:00+09:00"
    })
    .to_string()
}

async fn get(app: &TestApp, path: &str) -> (u16, String) {
    let res = app.client.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Polls `/metrics` until `wanted` says the text is complete; answers the last text.
async fn metrics_until(app: &TestApp, wanted: impl Fn(&str) -> bool) -> String {
    let mut text = String::new();
    for _ in 0..200 {
        text = get(app, "/metrics").await.1;
        if wanted(&text) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    text
}

/// The value of the first sample line that starts with `series` (name and labels).
fn sample_value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series))
        .and_then(|rest| rest.trim().parse().ok())
}

#[tokio::test]
async fn healthz_answers_ok_without_a_token() {
    let app = TestApp::spawn().await;
    let (status, body) = get(&app, "/healthz").await;
    assert_eq!(status, 200);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn readyz_reports_database_scripts_and_templates_ok() {
    let app = TestApp::spawn().await;
    let (status, body) = get(&app, "/readyz").await;
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready");
    for check in ["database", "scripts", "templates"] {
        assert_eq!(body["checks"][check], "ok", "{check}: {body}");
    }
}

/// Copies a directory tree (the shipped rules or templates) into a test's directory.
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Starts over the shipped rules and templates after `spoil` changed them.
async fn spawn_with_spoiled_files(spoil: impl FnOnce(&std::path::Path)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&repo_root().join("rules"), &dir.path().join("rules"));
    copy_tree(
        &repo_root().join("templates"),
        &dir.path().join("templates"),
    );
    spoil(dir.path());
    let database_url = fresh_database(dir.path()).await;
    TestApp::spawn_in(dir, database_url, &[]).await
}

#[tokio::test]
async fn readyz_is_503_naming_a_script_that_cannot_be_activated_at_start() {
    let app = spawn_with_spoiled_files(|dir| {
        std::fs::write(
            dir.join("rules/import.rhai"),
            "label(\"ok\");\nlet limit = ;\nlabel(\"never\");\n",
        )
        .unwrap();
    })
    .await;
    let (status, body) = get(&app, "/readyz").await;
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["templates"], "ok");
    let scripts = body["checks"]["scripts"].as_str().unwrap();
    assert!(scripts.contains("import.rhai:2:13: "), "{scripts}");
}

#[tokio::test]
async fn readyz_is_503_naming_a_template_that_cannot_be_activated_at_start() {
    let app = spawn_with_spoiled_files(|dir| {
        std::fs::write(
            dir.join("templates/group_link_approval/html.hbs"),
            "<p>\n  {{#if company_name}}\n</p>\n",
        )
        .unwrap();
    })
    .await;
    let (status, body) = get(&app, "/readyz").await;
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["checks"]["scripts"], "ok");
    let templates = body["checks"]["templates"].as_str().unwrap();
    assert!(templates.contains("group_link_approval"), "{templates}");
}

#[tokio::test]
async fn metrics_count_requests_events_script_runs_and_mails() {
    let app = TestApp::spawn().await;
    let res = app
        .post_webhook("ats", "ops-metrics-1", &ats_change("ats-ops-1"))
        .await;
    assert_eq!(res.status(), 202);
    let event: Value = res.json().await.unwrap();
    let event = app.wait_event(event["event_id"].as_str().unwrap()).await;
    assert_eq!(event["status"], "done", "{event}");
    let (status, body) = app
        .post_json(
            "/v1/templates/group_link_approval/test-send",
            &json!({"to": "ops@example.jp"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    app.smtp.wait_for(1).await;

    let text = metrics_until(&app, |t| {
        sample_value(t, "hirelay_mails_sent_total").is_some_and(|n| n >= 1.0)
    })
    .await;
    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert!(
        text.lines()
            .any(|l| l.starts_with("hirelay_http_requests_total{")
                && l.contains("route=\"/v1/webhooks/ats\"")
                && l.contains("status=\"202\"")),
        "{text}"
    );
    assert!(sample_value(&text, "hirelay_events{status=\"done\"}").is_some_and(|n| n >= 1.0));
    assert!(
        sample_value(&text, "hirelay_queue_depth").is_some(),
        "{text}"
    );
    assert!(
        sample_value(&text, "hirelay_script_runs_total{script=\"status\"}")
            .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(
        sample_value(&text, "hirelay_mails_sent_total").is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(text.contains("# TYPE hirelay_queue_depth gauge"), "{text}");
}

#[tokio::test]
async fn openapi_json_lists_the_contract_endpoints() {
    let app = TestApp::spawn().await;
    let (status, body) = get(&app, "/openapi.json").await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&body).expect("openapi.json is JSON");
    assert!(doc["openapi"].as_str().unwrap().starts_with('3'));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/v1/events",
        "/v1/rules/{name}",
        "/v1/templates/{name}",
        "/v1/webhooks/ats",
        "/v1/group-accounts",
        "/v1/imports/route",
        "/v1/applications/{id}",
        "/v1/audit-log",
        "/v1/career-relay/ledger",
        "/v1/kpis/funnel",
        "/v1/kpis/export.csv",
        "/v1/kpis",
        "/v1/kpis/records.csv",
    ] {
        assert!(paths.contains_key(path), "{path} missing from openapi.json");
    }
}

#[tokio::test]
async fn an_unknown_path_is_a_json_404() {
    let app = TestApp::spawn().await;
    let res = app
        .admin(Method::GET, "/v1/no-such-thing")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found", "{body}");
}

#[tokio::test]
async fn audit_log_shows_who_saved_a_rule_and_a_template() {
    let app = TestApp::spawn().await;
    let marketer = app.token(Role::Marketer).await;
    app.activate_rule("status", "kpi(\"seen\");\n").await;
    let res = app
        .as_token(&marketer, Method::PUT, "/v1/templates/group_link_approval")
        .json(&json!({"subject": "連携のご案内 {{company_name}}", "html": "<p>{{user_name}}</p>", "text": "{{user_name}}"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    let log = app.get_json("/v1/audit-log?limit=10").await;
    let items = log["items"].as_array().unwrap();
    let template = items
        .iter()
        .find(|e| e["action"] == "template.save")
        .unwrap_or_else(|| panic!("no template.save in {log}"));
    assert_eq!(template["target"], "group_link_approval");
    assert!(
        template["actor"]
            .as_str()
            .unwrap()
            .starts_with("test (tok_"),
        "{template}"
    );
    assert!(
        template["detail"]["version"].as_i64().unwrap() >= 2,
        "{template}"
    );
    let rule = items
        .iter()
        .find(|e| e["action"] == "rule.save")
        .unwrap_or_else(|| panic!("no rule.save in {log}"));
    assert_eq!(rule["target"], "status");
    assert!(
        rule["actor"].as_str().unwrap().contains("tok_bootstrap"),
        "{rule}"
    );
    // Newest first: the template was saved after the rule.
    let position = |action: &str| items.iter().position(|e| e["action"] == action).unwrap();
    assert!(position("template.save") < position("rule.save"));

    // The store holds the same entries the endpoint shows.
    let stored = app.state.store.audit_entries(10).await.unwrap();
    assert_eq!(stored.len(), items.len());
    assert_eq!(stored[0].action, items[0]["action"].as_str().unwrap());

    let res = app
        .as_token(&marketer, Method::GET, "/v1/audit-log")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = app
        .admin(Method::GET, "/v1/audit-log?limit=1")
        .send()
        .await
        .unwrap();
    let one: Value = res.json().await.unwrap();
    assert_eq!(one["items"].as_array().unwrap().len(), 1);
}

/// What a stopped server leaves open of its database: on SQLite, descriptors of the file held by
/// this process; on PostgreSQL, sessions connected to the database.
async fn database_handles(database_url: &str) -> usize {
    match database_url.rsplit_once('/') {
        Some((_, name)) if database_url.starts_with("postgres") => {
            use sea_orm::{ConnectionTrait, Statement};
            let admin_url = std::env::var("HIRELAY_TEST_DATABASE_URL").unwrap();
            let admin = sea_orm::Database::connect(&admin_url).await.unwrap();
            let row = admin
                .query_one(Statement::from_sql_and_values(
                    sea_orm::DatabaseBackend::Postgres,
                    "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1",
                    [name.to_owned().into()],
                ))
                .await
                .unwrap()
                .unwrap();
            admin.close().await.unwrap();
            row.try_get::<i64>("", "n").unwrap() as usize
        }
        _ => {
            let file = database_url
                .trim_start_matches("sqlite://")
                .split('?')
                .next()
                .unwrap()
                .to_owned();
            std::fs::read_dir("/proc/self/fd")
                .unwrap()
                .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
                .filter(|target| target.to_string_lossy().starts_with(&file))
                .count()
        }
    }
}

/// A stopped server lets go of its database: every pooled connection, the ingest writer's and
/// the processing pool's are closed (nothing keeps them alive after the server is gone).
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_server_closes_its_database_connections() {
    let app = TestApp::spawn().await;
    let body = crate::helpers::sample("ats-status-rejected-other-channel.json");
    assert_eq!(
        app.post_webhook("ats", "close-1", &body).await.status(),
        202
    );
    let url = app.database_url.clone();
    assert!(
        database_handles(&url).await > 0,
        "the running server uses its database"
    );
    let (_dir, url) = app.stop().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let open = database_handles(&url).await;
        if open == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{open} connections to the database outlived the server"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every event, by state, as `/metrics` shows it.
fn events_total(text: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with("hirelay_events{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Issue 18 (low b): scrapes do not each count the events table: the count is served for a
/// couple of seconds, then made again.
#[tokio::test]
async fn metrics_count_events_at_most_every_two_seconds() {
    let app = TestApp::spawn().await;
    let before = events_total(&get(&app, "/metrics").await.1);
    let res = app
        .post_webhook("ats", "ops-metrics-cached", &ats_change("ats-ops-cached"))
        .await;
    assert_eq!(res.status(), 202);
    let started = std::time::Instant::now();
    let cached = events_total(&get(&app, "/metrics").await.1);
    if started.elapsed() < Duration::from_millis(1500) {
        assert_eq!(cached, before, "the events were counted again at once");
    }
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let recounted = events_total(&get(&app, "/metrics").await.1);
    assert_eq!(recounted, before + 1.0);
}

/// Issue 18 (low b): with `HIRELAY_METRICS_TOKEN`, `/metrics` needs it as a bearer token.
#[tokio::test]
async fn metrics_need_the_metrics_token_when_one_is_set() {
    let app = TestApp::spawn_with(&[("HIRELAY_METRICS_TOKEN", "scrape-me-0123456789")]).await;
    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "missing_token", "{body}");
    for wrong in [
        "scrape-me-012345678",
        "scrape-me-0123456789x",
        crate::helpers::ADMIN_TOKEN,
    ] {
        let res = app
            .client
            .get(app.url("/metrics"))
            .bearer_auth(wrong)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{wrong}");
    }
    let res = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("scrape-me-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("hirelay_events{"));
    // The other operational endpoints stay open.
    assert_eq!(get(&app, "/healthz").await.0, 200);
}

/// Issue 19: a script that compiles but fails on every event makes `/readyz` say so, naming
/// the script and its version and counting the failures (never an event's content), until one
/// of its events succeeds or a new version is activated.
#[tokio::test]
async fn issue19_readyz_degrades_while_a_scripts_events_fail_and_recovers() {
    let app = TestApp::spawn().await;
    // Fails at run time for every change but one to `interview`.
    let failing = "if event.to_status != \"interview\" { route(event.no_such_field); }";
    app.activate_rule("status", failing).await;
    for n in 0..5 {
        let id = format!("ats-fail-{n}");
        let event = app
            .deliver("ats", &format!("msg_fail_{n}"), &ats_change(&id))
            .await;
        assert_eq!(event["status"], "failed", "{event}");
        let (status, _) = get(&app, "/readyz").await;
        assert_eq!(
            status,
            if n < 4 { 200 } else { 503 },
            "after {} failures",
            n + 1
        );
    }
    let (_, body) = get(&app, "/readyz").await;
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["status"], "not_ready");
    let runs = body["checks"]["script_runs"].as_str().unwrap();
    assert!(
        runs.starts_with("status.rhai version 2: its last 5 events failed (within 15 minutes"),
        "{runs}"
    );
    assert!(!runs.contains("example.jp"), "no personal data: {runs}");
    assert_eq!(body["checks"]["scripts"], "ok", "it compiles: {body}");

    // One success and it is ready again.
    let ok = ats_change("ats-ok").replace("\"screening\"", "\"interview\"");
    assert_eq!(app.deliver("ats", "msg_ok", &ok).await["status"], "done");
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(status, 200, "{body}");

    // Failing again, then a new version: ready at once.
    for n in 5..10 {
        let id = format!("ats-fail-{n}");
        app.deliver("ats", &format!("msg_fail_{n}"), &ats_change(&id))
            .await;
    }
    assert_eq!(get(&app, "/readyz").await.0, 503);
    app.activate_rule("status", "kpi(\"seen\");").await;
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(status, 200, "{body}");
}
