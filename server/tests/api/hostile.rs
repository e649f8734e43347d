//! Hostile templates and scripts against the real `hirelay` binary (issue 18's H1, H2, M4–M6):
//! what used to overflow the stack or exhaust memory (and so abort the whole process) is refused
//! or stopped with a clear 4xx, and the process keeps serving.
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

use crate::cli::{serve_command, Served};
use crate::helpers::{fresh_database, TestApp};

const ADMIN: &str = "hostile-admin-token-0123456789";

struct Binary {
    served: Served,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Binary {
    async fn start() -> Binary {
        let dir = tempfile::tempdir().unwrap();
        let database_url = fresh_database(dir.path()).await;
        let served = Served::start(
            serve_command(dir.path(), &database_url).env("HIRELAY_ADMIN_TOKEN", ADMIN),
        );
        Binary {
            served,
            client: reqwest::Client::new(),
            _dir: dir,
        }
    }

    async fn send(&self, method: Method, path: &str, body: &Value) -> (u16, Value) {
        let res = self
            .client
            .request(method, self.served.url(path))
            .bearer_auth(ADMIN)
            .json(body)
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}\n{}", self.served.output()));
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// `/healthz` answers, and how long it took.
    async fn healthy(&self) -> Duration {
        let started = Instant::now();
        let res = self
            .client
            .get(self.served.url("/healthz"))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .unwrap_or_else(|e| panic!("the server is down: {e}\n{}", self.served.output()));
        assert_eq!(res.status(), 200);
        started.elapsed()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn h1_templates_that_include_themselves_are_refused_and_the_process_stays_up() {
    let binary = Binary::start().await;
    let inline = "{{#*inline \"a\"}}{{> (concat \"b\" \"\")}}{{/inline}}\n{{#*inline \"b\"}}{{> (concat \"a\" \"\")}}{{/inline}}{{> a}}";
    for (part, source, expected) in [
        ("html", inline, "inline partials"),
        (
            "text",
            "x\n  {{> (lookup this \"p\")}}",
            "must be written out",
        ),
        (
            "html",
            "{{#> layout}}{{> @partial-block}}{{/layout}}",
            "@partial-block",
        ),
    ] {
        let mut body = json!({"subject": "件名", "html": "<p>x</p>", "text": "x"});
        body[part] = json!(source);
        let (status, answer) = binary
            .send(Method::PUT, "/v1/templates/group_link_approval", &body)
            .await;
        assert_eq!(status, 422, "{source}: {answer}");
        assert_eq!(answer["error"]["code"], "template_invalid");
        assert_eq!(answer["error"]["details"]["part"], part, "{answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains(expected),
            "{answer}"
        );
        binary.healthy().await;
    }
    // The shipped template is still the active one, and renders.
    let (status, preview) = binary
        .send(
            Method::POST,
            "/v1/templates/group_link_approval/preview",
            &json!({"data": {}}),
        )
        .await;
    assert_eq!(status, 200, "{preview}");
    assert!(preview["html"].as_str().unwrap().len() > 100);
}

#[tokio::test(flavor = "multi_thread")]
async fn m6_a_preview_looping_over_huge_data_is_stopped_and_health_keeps_answering() {
    let binary = Binary::start().await;
    let (status, body) = binary
        .send(
            Method::PUT,
            "/v1/templates/bizreach_application_notice",
            &json!({
                "subject": "件名",
                "html": "{{#each items}}{{#each ../items}}{{#each ../../items}}{{/each}}{{/each}}{{/each}}",
                "text": "{{#each items}}{{#each ../items}}{{this}}{{/each}}{{/each}}",
                "sample": {"items": [1]},
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let items: Vec<u32> = vec![0; 3000];
    let started = Instant::now();
    let preview = {
        let client = binary.client.clone();
        let url = binary
            .served
            .url("/v1/templates/bizreach_application_notice/preview");
        tokio::spawn(async move {
            let res = client
                .post(url)
                .bearer_auth(ADMIN)
                .json(&json!({"data": {"items": items}}))
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..5 {
        let took = binary.healthy().await;
        assert!(took < Duration::from_secs(1), "/healthz took {took:?}");
    }
    let (status, body) = preview.await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("rendering stopped"),
        "{body}"
    );
    binary.healthy().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn h2_a_dry_run_that_would_exhaust_memory_is_stopped_and_the_process_stays_up() {
    let binary = Binary::start().await;
    let bomb = "let s = \"x\";\ns.pad(16384, \"x\");\nlet t = s;\ns.replace(\"x\", t);\nlabel(s);";
    let started = Instant::now();
    let (status, body) = binary
        .send(
            Method::POST,
            "/v1/rules/status/dry-run",
            &json!({"script": bomb, "event": {"type": "application.status_changed"}}),
        )
        .await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(status, 422, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("status.rhai:4"), "{body}");
    assert!(message.to_lowercase().contains("string"), "{body}");
    binary.healthy().await;
}

#[tokio::test]
async fn m4_a_script_cannot_send_the_invitation_around_invite() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post_json(
            "/v1/rules/status/dry-run",
            &json!({
                "script": "\nsend_email(\"career_relay_invitation\", \"taro@example.jp\", #{});",
                "event": {"type": "application.status_changed"},
            }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("status.rhai:2"), "{body}");
    assert!(
        message.contains("promotional mail: call invite()"),
        "{body}"
    );
}

#[tokio::test]
async fn m5_test_sends_go_to_allowed_recipients_within_a_rate_and_are_audited() {
    let app = TestApp::spawn().await;
    let path = "/v1/templates/group_link_approval/test-send";
    let (status, body) = app
        .post_json(path, &json!({"to": "someone@elsewhere.jp"}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "to");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("@example.jp"),
        "{body}"
    );
    for _ in 0..hirelay::http::templates::TEST_SENDS_PER_HOUR {
        let (status, body) = app.post_json(path, &json!({"to": "hr@example.jp"})).await;
        assert_eq!(status, 202, "{body}");
    }
    let res = app
        .admin(Method::POST, path)
        .json(&json!({"to": "hr@example.jp"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    let wait = crate::helpers::retry_after(&res);
    assert!(wait > 3000 && wait <= 3600, "{wait}");
    let log = app.get_json("/v1/audit-log?limit=5").await;
    let entry = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "template.test_send")
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(entry["detail"]["to"], "hr@example.jp", "{entry}");
}

#[tokio::test]
async fn h2_history_dry_runs_are_bounded_in_time_and_in_number_at_once() {
    let app = TestApp::spawn().await;
    let body = crate::helpers::sample("ats-status-rejected-other-channel.json");
    for i in 0..100 {
        let res = app
            .post_webhook("ats", &format!("msg_bound_{i}"), &body)
            .await;
        assert_eq!(res.status(), 202);
    }
    let draft = json!({"script": "let n = 0;\nloop { n += 1; }", "events": {"limit": 100}});
    let started = Instant::now();
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let request = app
                .admin(Method::POST, "/v1/rules/status/dry-run")
                .json(&draft);
            tokio::spawn(async move {
                let res = request.send().await.unwrap();
                (res.status().as_u16(), res.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for run in runs {
        answers.push(run.await.unwrap());
    }
    assert!(
        started.elapsed() < Duration::from_secs(40),
        "{:?}",
        started.elapsed()
    );
    let busy: Vec<_> = answers.iter().filter(|(s, _)| *s == 429).collect();
    assert_eq!(busy.len(), 1, "{answers:?}");
    assert!(busy[0].1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("dry runs over history are running already"));
    for (status, body) in answers.iter().filter(|(s, _)| *s == 200) {
        let summary = &body["summary"];
        assert_eq!(summary["events"], 100, "{summary}");
        let not_run = summary["not_run"].as_u64().unwrap();
        assert!(not_run > 0, "{status} {summary}");
        assert!(
            summary["text"]
                .as_str()
                .unwrap()
                .contains("not run: the 15 s budget ran out"),
            "{summary}"
        );
        let skipped = body["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["draft"]["not_run"].is_string())
            .count();
        assert_eq!(skipped as u64, not_run);
    }
}
