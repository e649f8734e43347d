//! Black-box tests: the simulator on port 0, driven over HTTP like hirelay drives it.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use bizreach_sim::{RunningSim, SimConfig};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A running simulator with a client and typed helpers.
struct TestSim {
    sim: RunningSim,
    client: reqwest::Client,
    config: SimConfig,
}

impl TestSim {
    async fn spawn(config: SimConfig) -> Self {
        let sim = bizreach_sim::start(config.clone(), "127.0.0.1:0")
            .await
            .expect("the simulator starts");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Self {
            sim,
            client,
            config,
        }
    }

    async fn default() -> Self {
        Self::spawn(SimConfig::default()).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    /// Sends a request and answers its status and JSON body (`Null` when empty).
    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the simulator answers");
        let status = response.status();
        let bytes = response.bytes().await.unwrap();
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("a JSON body")
        };
        (status, json)
    }

    async fn sign_in_with(&self, password: &str) -> (StatusCode, Value) {
        let body = json!({ "email": self.config.email, "password": password });
        self.send(Method::POST, "/api/session", None, Some(body))
            .await
    }

    async fn token(&self) -> String {
        let (status, body) = self.sign_in_with(&self.config.password.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    /// One page of a group's applications; `query` pairs are URL-encoded.
    async fn list(&self, token: &str, group: &str, query: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = self
            .client
            .get(self.url(&format!("/api/group-accounts/{group}/applications")))
            .bearer_auth(token)
            .query(query)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    /// Every application of a group, following `next_cursor`, and the page sizes.
    async fn list_all(
        &self,
        token: &str,
        group: &str,
        since: Option<&str>,
        limit: &str,
    ) -> (Vec<Value>, Vec<usize>) {
        let mut applications = Vec::new();
        let mut sizes = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![("limit", limit)];
            if let Some(since) = since {
                query.push(("since", since));
            }
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor));
            }
            let (status, body) = self.list(token, group, &query).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let page = body["applications"].as_array().unwrap();
            sizes.push(page.len());
            applications.extend(page.iter().cloned());
            match &body["next_cursor"] {
                Value::String(next) => cursor = Some(next.clone()),
                Value::Null => return (applications, sizes),
                other => panic!("next_cursor is {other}"),
            }
        }
    }

    async fn stop(self) {
        self.sim.stop().await;
    }
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

fn sort_key(app: &Value) -> (i64, String) {
    let at = chrono::DateTime::parse_from_rfc3339(app["applied_at"].as_str().unwrap()).unwrap();
    (at.timestamp(), app["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn sign_in_gives_a_token_that_opens_the_api() {
    let sim = TestSim::default().await;

    let (status, body) = sim.sign_in_with("wrong password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "invalid_credentials");

    let (status, body) = sim.sign_in_with("correct horse battery staple").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["account_name"], "株式会社サンプル 人事部");
    let token = body["token"].as_str().unwrap();

    let (status, body) = sim
        .send(Method::GET, "/api/group-accounts", None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "unauthorized");
    let (status, _) = sim
        .send(Method::GET, "/api/group-accounts", Some("made-up"), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, groups) = sim
        .send(Method::GET, "/api/group-accounts", Some(token), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(groups.as_array().unwrap().len(), 3);
    assert_eq!(groups[0]["id"], "grp-001");
    assert_eq!(groups[0]["name"], "株式会社サンプル 東京本社");
    assert!(groups[0]["admin_email"].as_str().unwrap().contains('@'));

    // Ending every session sends clients back to sign in.
    let (status, _) = sim.send(Method::DELETE, "/_sim/sessions", None, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = sim
        .send(Method::GET, "/api/group-accounts", Some(token), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    sim.stop().await;
}

#[tokio::test]
async fn the_cursor_pages_through_every_application_once_newest_last() {
    let sim = TestSim::spawn(SimConfig {
        applications_per_group: 250,
        ..SimConfig::default()
    })
    .await;
    let token = sim.token().await;

    let (apps, sizes) = sim.list_all(&token, "grp-002", None, "100").await;
    assert_eq!(sizes, [100, 100, 50]);
    let keys: Vec<_> = apps.iter().map(sort_key).collect();
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "ordered by (applied_at, id)"
    );
    let ids: HashSet<_> = keys.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!(ids.len(), 250);

    let (status, body) = sim.list(&token, "grp-002", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["applications"].as_array().unwrap().len(),
        100,
        "default limit"
    );
    let (_, body) = sim.list(&token, "grp-002", &[("limit", "9999")]).await;
    assert_eq!(body["applications"].as_array().unwrap().len(), 250);
    assert_eq!(body["next_cursor"], Value::Null);

    // Exactly the contract's application shape.
    let app = &apps[0];
    let mut fields: Vec<_> = app.as_object().unwrap().keys().cloned().collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "applied_at",
            "candidate",
            "channel",
            "id",
            "position_name",
            "status"
        ]
    );
    assert!(app["applied_at"].as_str().unwrap().ends_with("+09:00"));
    assert!(["direct", "scout"].contains(&app["channel"].as_str().unwrap()));
    let mut fields: Vec<_> = app["candidate"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    fields.sort();
    assert_eq!(fields, ["attributes", "email", "id", "name", "phone"]);
    sim.stop().await;
}

#[tokio::test]
async fn since_keeps_applications_applied_at_or_after_it() {
    let sim = TestSim::default().await;
    let token = sim.token().await;
    let (all, _) = sim.list_all(&token, "grp-001", None, "500").await;
    let pivot = all[all.len() / 2]["applied_at"]
        .as_str()
        .unwrap()
        .to_owned();
    let expected: Vec<_> = all[all.len() / 2..].to_vec();

    let (since_pivot, _) = sim.list_all(&token, "grp-001", Some(&pivot), "3").await;
    assert_eq!(since_pivot, expected);

    // The same instant written in UTC selects the same applications.
    let utc = chrono::DateTime::parse_from_rfc3339(&pivot)
        .unwrap()
        .to_utc()
        .to_rfc3339();
    let (since_utc, _) = sim.list_all(&token, "grp-001", Some(&utc), "500").await;
    assert_eq!(since_utc, expected);

    let (status, body) = sim.list(&token, "grp-001", &[("since", "yesterday")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "since");
    let (status, body) = sim
        .list(&token, "grp-001", &[("cursor", "not-a-cursor")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "cursor");
    let (status, _) = sim.list(&token, "grp-001", &[("limit", "0")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = sim.list(&token, "grp-999", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "not_found");
    sim.stop().await;
}

#[tokio::test]
async fn status_pushes_are_logged_in_order_and_change_the_status() {
    let sim = TestSim::default().await;
    let token = sim.token().await;
    let (apps, _) = sim.list_all(&token, "grp-001", None, "500").await;
    let first = apps[0]["id"].as_str().unwrap();
    let second = apps[1]["id"].as_str().unwrap();
    let push = |id: &str, body: Value| {
        let path = format!("/api/applications/{id}/status");
        let token = token.clone();
        let sim = &sim;
        async move { sim.send(Method::PUT, &path, Some(&token), Some(body)).await }
    };

    assert_eq!(
        push(first, json!({"status": "rejected"})).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        push(second, json!({"status": "hired"})).await.0,
        StatusCode::NO_CONTENT
    );
    let (status, body) = push(first, json!({"status": "interview"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "status");
    let (status, _) = push("br-app-999999", json!({"status": "hired"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = sim
        .send(
            Method::PUT,
            &format!("/api/applications/{first}/status"),
            None,
            Some(json!({"status": "new"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A change made on the BizReach side is not a push.
    let (status, app) = sim
        .send(
            Method::PUT,
            &format!("/_sim/applications/{second}"),
            None,
            Some(json!({"status": "declined"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app["status"], "declined");

    let (_, log) = sim.send(Method::GET, "/_sim/status-log", None, None).await;
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(
        (log[0]["application_id"].as_str(), log[0]["status"].as_str()),
        (Some(first), Some("rejected"))
    );
    assert_eq!(
        (log[1]["application_id"].as_str(), log[1]["status"].as_str()),
        (Some(second), Some("hired"))
    );
    assert!(chrono::DateTime::parse_from_rfc3339(log[0]["at"].as_str().unwrap()).is_ok());

    let (_, app) = sim
        .send(
            Method::GET,
            &format!("/_sim/applications/{first}"),
            None,
            None,
        )
        .await;
    assert_eq!(app["status"], "rejected");
    sim.stop().await;
}

#[tokio::test]
async fn added_applications_come_last_and_ids_stay_unique() {
    let sim = TestSim::default().await;
    let token = sim.token().await;
    let (before, _) = sim.list_all(&token, "grp-003", None, "500").await;
    let newest = before.last().unwrap()["applied_at"]
        .as_str()
        .unwrap()
        .to_owned();

    let (status, body) = sim
        .send(
            Method::POST,
            "/_sim/applications",
            None,
            Some(json!({"group_account_id": "grp-003", "count": 2})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let generated = body["applications"].as_array().unwrap().clone();
    assert_eq!(generated.len(), 2);

    let draft = json!({
        "group_account_id": "grp-003",
        "applications": [{
            "id": "br-app-custom",
            "channel": "scout",
            "status": "new",
            "candidate": {"name": "山田 太郎", "email": "Taro.Yamada@Example.jp"}
        }]
    });
    let (status, body) = sim
        .send(
            Method::POST,
            "/_sim/applications",
            None,
            Some(draft.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let custom = &body["applications"][0];
    assert_eq!(custom["channel"], "scout");
    assert_eq!(custom["candidate"]["email"], "Taro.Yamada@Example.jp");
    assert!(custom["candidate"]["phone"]
        .as_str()
        .unwrap()
        .starts_with("090-"));

    let (status, body) = sim
        .send(Method::POST, "/_sim/applications", None, Some(draft))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _) = sim
        .send(
            Method::POST,
            "/_sim/applications",
            None,
            Some(json!({"group_account_id": "grp-404"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = sim
        .send(
            Method::POST,
            "/_sim/applications",
            None,
            Some(json!({"group_account_id": "grp-001", "count": "two"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "count");

    let (after, _) = sim.list_all(&token, "grp-003", Some(&newest), "500").await;
    let ids: Vec<_> = after.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids.len(),
        4,
        "the newest seeded one and the three added: {ids:?}"
    );
    assert!(ids.contains(&"br-app-custom"));
    for app in &generated {
        assert!(ids.contains(&app["id"].as_str().unwrap()));
    }
    sim.stop().await;
}

#[tokio::test]
async fn injected_faults_answer_their_status_then_run_out() {
    let sim = TestSim::default().await;
    let token = sim.token().await;

    let (status, _) = sim
        .send(
            Method::POST,
            "/_sim/faults",
            None,
            Some(json!({"fail_next": 2, "status": 503})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for _ in 0..2 {
        let (status, body) = sim
            .send(Method::GET, "/api/group-accounts", Some(&token), None)
            .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(error_code(&body), "simulated_fault");
    }
    let (status, _) = sim
        .send(Method::GET, "/api/group-accounts", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::OK);

    // A delay alone slows the request down and then answers normally.
    sim.send(
        Method::POST,
        "/_sim/faults",
        None,
        Some(json!({"fail_next": 1, "delay_ms": 300})),
    )
    .await;
    let started = Instant::now();
    let (status, _) = sim
        .send(Method::GET, "/api/group-accounts", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));

    // Without `fail_next` the fault lasts until it is cleared.
    sim.send(
        Method::POST,
        "/_sim/faults",
        None,
        Some(json!({"status": 429})),
    )
    .await;
    for _ in 0..3 {
        let (status, _) = sim.sign_in_with("correct horse battery staple").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    }
    let (status, _) = sim.send(Method::DELETE, "/_sim/faults", None, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        sim.sign_in_with("correct horse battery staple").await.0,
        StatusCode::OK
    );

    let (status, body) = sim
        .send(
            Method::POST,
            "/_sim/faults",
            None,
            Some(json!({"status": 200})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "status");

    let (_, stats) = sim.send(Method::GET, "/_sim/stats", None, None).await;
    assert_eq!(stats["requests"]["GET /api/group-accounts"], 4);
    assert_eq!(stats["requests"]["POST /api/session"], 5);
    assert_eq!(stats["faulted"], 5);
    sim.stop().await;
}

#[tokio::test]
async fn unknown_routes_answer_json_404_and_stop_closes_the_port() {
    let sim = TestSim::default().await;
    let (status, body) = sim.send(Method::GET, "/api/nowhere", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "not_found");
    let (status, _) = sim.send(Method::GET, "/elsewhere", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let other = TestSim::default().await;
    assert_ne!(sim.sim.port(), other.sim.port());
    let url = sim.url("/_sim/stats");
    let client = sim.client.clone();
    sim.stop().await;
    assert!(client.get(url).send().await.is_err());
    other.stop().await;
}
