//! Issue 15: the integrator role does what the contract gives integrators. A token bound to a
//! webhook source reads and replays that source's events only (another source's is `404`, as an
//! unknown id), and sees the subscriptions (with their deliveries) its source's tokens made.
use crate::cli::{hirelay, run, stderr, stdout};
use crate::helpers::{queued_together, sample, TestApp};
use hirelay::domain::role::Role;
use hirelay::domain::status::EventSource;
use reqwest::Method;
use serde_json::{json, Value};

/// Creates an integrator token bound to `source` through `POST /v1/tokens`, as the console does.
async fn integrator(app: &TestApp, name: &str, source: &str) -> String {
    let (status, body) = app
        .post_json(
            "/v1/tokens",
            &json!({"name": name, "role": "integrator", "source": source}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["source"], source, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

/// `method path` with `token`: status and JSON body.
async fn call(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app.as_token(token, method, path);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let res = request.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The ids of a list's items.
fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

/// How many decisions an event has (each replay adds one).
async fn decisions(app: &TestApp, id: &str) -> usize {
    app.get_json(&format!("/v1/events/{id}")).await["decisions"]
        .as_array()
        .unwrap()
        .len()
}

/// What a replay would change of an event: its status, tries and when it was processed.
async fn as_left(app: &TestApp, id: &str) -> Value {
    let e = app.get_json(&format!("/v1/events/{id}")).await;
    json!([
        e["status"],
        e["attempts"],
        e["processed_at"],
        e["decisions"].as_array().map(Vec::len)
    ])
}

/// Issue 15: an ATS integrator lists, reads and replays the ATS's events and nothing else:
/// another source's event is `404` exactly as an unknown id, for reading and for replaying, a
/// filter naming another source is `403`, a bulk replay touches its own source's events only,
/// and the decision comes without the context the script ran with. A token bound to no source,
/// and a viewer, read no event.
#[tokio::test]
async fn issue15_an_integrator_reads_and_replays_only_its_own_sources_events() {
    let ats_body = sample("ats-status-rejected-other-channel.json");
    let relay_body = sample("career-relay-registration.json")
        .replace("REPLACE_WITH_TOKEN_FROM_EMAIL", "no-such-invitation");
    let bizreach_body = sample("bizreach-direct-application.json");
    let (app, events) = queued_together(&[
        (EventSource::Ats, "application.status_changed", ats_body),
        (
            EventSource::CareerRelay,
            "registration.completed",
            relay_body,
        ),
        (EventSource::Bizreach, "application.received", bizreach_body),
    ])
    .await;
    for id in &events {
        app.wait_event(id).await;
    }
    let (ats_event, others) = (&events[0], &events[1..]);
    let mut untouched = Vec::new();
    for other in others {
        untouched.push(as_left(&app, other).await);
    }
    let ats = integrator(&app, "ats-vendor", "ats").await;

    let (status, list) = call(&app, &ats, Method::GET, "/v1/events", None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(ids(&list), vec![ats_event.clone()], "{list}");
    let (status, list) = call(
        &app,
        &ats,
        Method::GET,
        "/v1/events?source=ats&limit=10",
        None,
    )
    .await;
    assert_eq!((status, ids(&list)), (200, vec![ats_event.clone()]));
    let (status, body) = call(
        &app,
        &ats,
        Method::GET,
        "/v1/events?source=career_relay",
        None,
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["field"], "source", "{body}");

    let (status, own) = call(
        &app,
        &ats,
        Method::GET,
        &format!("/v1/events/{ats_event}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(own["payload"]["ats_application_id"], "ats-790", "{own}");
    let as_admin = app.get_json(&format!("/v1/events/{ats_event}")).await;
    assert!(as_admin["decision"].get("context").is_some(), "{as_admin}");
    assert!(own["decision"].is_object(), "{own}");
    assert!(own["decision"].get("context").is_none(), "{own}");
    assert!(own["decisions"][0].get("context").is_none(), "{own}");

    let unknown = call(&app, &ats, Method::GET, "/v1/events/evt_nope", None).await;
    assert_eq!(unknown.0, 404);
    for other in others {
        let (status, body) = call(
            &app,
            &ats,
            Method::GET,
            &format!("/v1/events/{other}"),
            None,
        )
        .await;
        assert_eq!(status, 404, "{body}");
        assert_eq!(body["error"]["code"], unknown.1["error"]["code"], "{body}");
        let path = format!("/v1/events/{other}/replay");
        let (status, body) = call(&app, &ats, Method::POST, &path, None).await;
        assert_eq!(status, 404, "{body}");
    }

    let (status, body) = call(
        &app,
        &ats,
        Method::POST,
        &format!("/v1/events/{ats_event}/replay"),
        None,
    )
    .await;
    assert_eq!(status, 202, "{body}");
    app.wait_event(ats_event).await;
    let (status, body) = call(
        &app,
        &ats,
        Method::POST,
        "/v1/events/replay",
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 400, "a bulk replay still needs a filter: {body}");
    let (status, body) = call(
        &app,
        &ats,
        Method::POST,
        "/v1/events/replay",
        Some(json!({"since": "2000-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(
        (status, body["replayed"].as_u64()),
        (202, Some(1)),
        "{body}"
    );
    let (status, body) = call(
        &app,
        &ats,
        Method::POST,
        "/v1/events/replay",
        Some(json!({"source": "bizreach"})),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    app.wait_event(ats_event).await;
    // Wait until the bulk replay's decision is recorded, then check no one else's was replayed.
    for _ in 0..400 {
        if decisions(&app, ats_event).await == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(
        decisions(&app, ats_event).await,
        3,
        "its own event: two replays"
    );
    for (other, before) in others.iter().zip(&untouched) {
        assert_eq!(&as_left(&app, other).await, before, "{other} was replayed");
    }

    let unbound = app.token(Role::Integrator).await;
    let (status, body) = call(&app, &unbound, Method::GET, "/v1/events", None).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--source"),
        "{body}"
    );
    let (status, _) = call(
        &app,
        &unbound,
        Method::GET,
        &format!("/v1/events/{ats_event}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let viewer = app.token(Role::Viewer).await;
    assert_eq!(
        call(&app, &viewer, Method::GET, "/v1/events", None).await.0,
        403
    );
}

/// Issue 15: a subscription belongs to the source of the integrator token that made it. Each
/// source's tokens (a replacement token too) see and end their own only, another's is `404`;
/// the deliveries they see are their subscriptions'. An admin sees all; a token bound to no
/// source sees the ones no source owns.
#[tokio::test]
async fn issue15_an_integrator_sees_only_its_sources_subscriptions_and_deliveries() {
    let app = TestApp::spawn().await;
    let ats = integrator(&app, "ats-vendor", "ats").await;
    let relay = integrator(&app, "relay-vendor", "career_relay").await;
    let unbound = app.token(Role::Integrator).await;
    let subscribe = |token: String, path: &'static str| {
        let app = &app;
        async move {
            let body = json!({"url": format!("http://127.0.0.1:9/{path}"), "event_types": ["application.routed"]});
            let (status, sub) = call(
                app,
                &token,
                Method::POST,
                "/v1/webhook-subscriptions",
                Some(body),
            )
            .await;
            assert_eq!(status, 201, "{sub}");
            sub
        }
    };
    let ats_sub = subscribe(ats.clone(), "ats").await;
    assert_eq!(ats_sub["owner_source"], "ats", "{ats_sub}");
    let relay_sub = subscribe(relay.clone(), "relay").await;
    let admin_sub = subscribe(crate::helpers::ADMIN_TOKEN.to_owned(), "admin").await;
    assert_eq!(admin_sub["owner_source"], Value::Null, "{admin_sub}");
    let id = |sub: &Value| sub["id"].as_str().unwrap().to_owned();

    let listed = |token: String| {
        let app = &app;
        async move {
            let (status, list) =
                call(app, &token, Method::GET, "/v1/webhook-subscriptions", None).await;
            assert_eq!(status, 200, "{list}");
            ids(&list)
        }
    };
    assert_eq!(listed(ats.clone()).await, vec![id(&ats_sub)]);
    assert_eq!(listed(relay.clone()).await, vec![id(&relay_sub)]);
    assert_eq!(listed(unbound.clone()).await, vec![id(&admin_sub)]);
    let mut all = vec![id(&ats_sub), id(&relay_sub), id(&admin_sub)];
    all.sort();
    assert_eq!(listed(crate::helpers::ADMIN_TOKEN.to_owned()).await, all);
    let replacement = integrator(&app, "ats-vendor (new)", "ats").await;
    assert_eq!(listed(replacement.clone()).await, vec![id(&ats_sub)]);

    let queued = hirelay::store::Store::enqueue_webhook(
        &app.state.store.db,
        "application.routed",
        &json!({"type": "application.routed"}),
        "issue15-scoped",
    )
    .await
    .unwrap();
    assert_eq!(queued, 3);
    let (status, deliveries) = call(&app, &ats, Method::GET, "/v1/webhook-deliveries", None).await;
    assert_eq!(status, 200, "{deliveries}");
    let subs: Vec<&str> = deliveries["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["subscription_id"].as_str().unwrap())
        .collect();
    assert_eq!(subs, vec![id(&ats_sub).as_str()], "{deliveries}");
    let everyone = app.get_json("/v1/webhook-deliveries").await;
    assert_eq!(everyone["items"].as_array().unwrap().len(), 3, "{everyone}");

    let ats_path = format!("/v1/webhook-subscriptions/{}", id(&ats_sub));
    let (status, body) = call(&app, &relay, Method::DELETE, &ats_path, None).await;
    assert_eq!(
        status, 404,
        "another source's subscription is not found: {body}"
    );
    assert_eq!(
        call(&app, &unbound, Method::DELETE, &ats_path, None)
            .await
            .0,
        404
    );
    assert_eq!(listed(ats.clone()).await, vec![id(&ats_sub)], "still there");
    assert_eq!(
        call(&app, &replacement, Method::DELETE, &ats_path, None)
            .await
            .0,
        204
    );
    assert!(listed(ats).await.is_empty());
}

/// Issue 15: `hirelay token create --source` binds an integrator token (shown by `token list`);
/// a source for another role, or one that is not a webhook source, is refused, by the command
/// and by `POST /v1/tokens`.
#[tokio::test(flavor = "multi_thread")]
async fn issue15_token_create_binds_only_an_integrator_to_a_webhook_source() {
    let app = TestApp::spawn().await;
    let cli = |args: &[&str]| {
        run(hirelay(app.dir.path())
            .args(args)
            .env("HIRELAY_DATA_DIR", app.dir.path().join("data"))
            .env("HIRELAY_DATABASE_URL", &app.database_url))
    };
    let made = cli(&[
        "token",
        "create",
        "--role",
        "integrator",
        "--name",
        "br",
        "--source",
        "bizreach",
    ]);
    assert!(made.status.success(), "{}", stderr(&made));
    assert!(
        stderr(&made).contains("bound to the source bizreach"),
        "{}",
        stderr(&made)
    );
    let token = stdout(&made).trim().to_owned();
    let (status, _) = call(
        &app,
        &token,
        Method::GET,
        "/v1/events?source=bizreach",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        call(&app, &token, Method::GET, "/v1/events?source=ats", None)
            .await
            .0,
        403
    );

    let listed = stdout(&cli(&["token", "list"]));
    let header: Vec<&str> = listed.lines().next().unwrap().split('\t').collect();
    assert_eq!(header.last(), Some(&"SOURCE"), "{listed}");
    let line = listed
        .lines()
        .find(|l| l.contains("\tbr\t"))
        .unwrap_or_else(|| panic!("{listed}"));
    assert!(line.ends_with("\tbizreach"), "{listed}");

    for (role, source) in [
        ("viewer", "ats"),
        ("integrator", "hirelay"),
        ("integrator", "ATS"),
    ] {
        let refused = cli(&[
            "token", "create", "--role", role, "--name", "x", "--source", source,
        ]);
        assert!(!refused.status.success(), "{role} {source}");
        assert!(
            stderr(&refused).contains("--source"),
            "{}",
            stderr(&refused)
        );
        assert!(stdout(&refused).trim().is_empty(), "no token printed");
        let (status, body) = app
            .post_json(
                "/v1/tokens",
                &json!({"name": "x", "role": role, "source": source}),
            )
            .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["field"], "source", "{body}");
    }
    let tokens = app.get_json("/v1/tokens").await;
    assert_eq!(
        tokens["items"].as_array().unwrap().len(),
        1,
        "nothing refused was made: {tokens}"
    );
}

/// Issue 15: m0018 adds the token's source and the subscription's owner, and rolls back; a
/// token made before it keeps working, bound to no source.
#[tokio::test]
async fn issue15_m0018_adds_sources_and_rolls_back() {
    use migrations::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    let db = &app.state.store.db;
    crate::helpers::migrate_down_through(db, "m0018_integrator_sources").await;
    for sql in [
        "SELECT source FROM api_tokens",
        "SELECT owner_source FROM webhook_subscriptions",
    ] {
        assert!(db.execute_unprepared(sql).await.is_err(), "{sql}");
    }
    db.execute_unprepared(
        "INSERT INTO api_tokens (id, name, role, token_hash, created_at) \
         VALUES ('tok_m18', 'old', 'integrator', 'hash-m18', 0)",
    )
    .await
    .unwrap();
    Migrator::up(db, None).await.unwrap();
    let tokens = app.state.store.list_tokens().await.unwrap();
    let old = tokens.iter().find(|t| t.id == "tok_m18").unwrap();
    assert_eq!(
        (old.role.as_str(), old.source.as_deref()),
        ("integrator", None)
    );
}
