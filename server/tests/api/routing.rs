//! Jobs, routing rules (I7), the import inbox and bulk routing (I6, I8), outbound webhook
//! subscriptions, and notification subscriptions (I5).
use hirelay::domain::status::NotificationKind;
use hirelay::store::entities::{application, candidate};
use hirelay::store::Store;
use reqwest::Method;
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::{json, Value};

use crate::helpers::TestApp;

const RUST_POSITION: &str = "バックエンドエンジニア（Rust）";

async fn create_job(app: &TestApp, title: &str) -> String {
    let (status, body) = app.post_json("/v1/jobs", &json!({"title": title})).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// An imported BizReach application waiting in the inbox (as the pipeline stores one).
async fn imported(app: &TestApp, n: u32, position: &str) -> String {
    let now = hirelay::domain::time::now_millis();
    let candidate_id = format!("cand_test{n:04}");
    candidate::Entity::insert(candidate::ActiveModel {
        id: Set(candidate_id.clone()),
        email: Set(format!("person{n}@example.jp")),
        name: Set(format!("候補者 {n}")),
        phone: Set(None),
        attributes: Set("{}".into()),
        bizreach_candidate_id: Set(None),
        opted_out_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        erased_at: Set(None),
    })
    .exec(&app.state.store.db)
    .await
    .unwrap();
    let id = format!("app_test{n:04}");
    application::Entity::insert(application::ActiveModel {
        id: Set(id.clone()),
        source_system: Set(Some("bizreach".into())),
        source_application_id: Set(Some(format!("br-app-{n:06}"))),
        ats_application_id: Set(None),
        group_account_id: Set(Some("grp-001".into())),
        channel: Set(Some("direct".into())),
        position_name: Set(Some(position.into())),
        source_status: Set(Some("new".into())),
        status: Set("new".into()),
        status_changed_at: Set(None),
        stage: Set(None),
        reason: Set(None),
        job_id: Set(None),
        candidate_id: Set(candidate_id),
        applied_at: Set(Some(now)),
        imported_via: Set(Some("webhook".into())),
        labels: Set("[]".into()),
        synced_status: Set(None),
        synced_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec(&app.state.store.db)
    .await
    .unwrap();
    id
}

async fn inbox_ids(app: &TestApp) -> Vec<String> {
    app.get_json("/v1/imports").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn i7_near_miss_position_name_does_not_match() {
    let app = TestApp::spawn().await;
    let job = create_job(&app, "バックエンドエンジニア").await;
    let (status, rule) = app
        .post_json(
            "/v1/routing-rules",
            &json!({"position_name": RUST_POSITION, "job_id": job}),
        )
        .await;
    assert_eq!(status, 201, "{rule}");
    assert_eq!(
        rule["name"],
        format!("BizReach {RUST_POSITION} → バックエンドエンジニア")
    );
    let listed = app.get_json("/v1/routing-rules").await;
    assert_eq!(listed["items"][0]["position_name"], RUST_POSITION);
    let db = &app.state.store.db;
    assert_eq!(
        Store::routing_job_for(db, RUST_POSITION).await.unwrap(),
        Some(job.clone())
    );
    for near_miss in [
        "バックエンドエンジニア(Rust)",
        "バックエンドエンジニア（rust）",
        "バックエンドエンジニア（Rust） ",
        "バックエンドエンジニア",
    ] {
        assert_eq!(
            Store::routing_job_for(db, near_miss).await.unwrap(),
            None,
            "{near_miss}"
        );
    }
    // One rule per position; the job must exist; no stray spaces.
    let (status, body) = app
        .post_json(
            "/v1/routing-rules",
            &json!({"position_name": RUST_POSITION, "job_id": job}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = app
        .post_json(
            "/v1/routing-rules",
            &json!({"position_name": "SRE", "job_id": "job_nope"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "job_id");
    let (status, body) = app
        .post_json(
            "/v1/routing-rules",
            &json!({"position_name": "SRE ", "job_id": job}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "position_name");
    // Deleting.
    let id = rule["id"].as_str().unwrap();
    let res = app
        .admin(Method::DELETE, &format!("/v1/routing-rules/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = app
        .admin(Method::DELETE, &format!("/v1/routing-rules/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(
        Store::routing_job_for(db, RUST_POSITION).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn i6_i8_inbox_bulk_routing_with_register_rule() {
    let app = TestApp::spawn().await;
    let job = create_job(&app, "バックエンドエンジニア").await;
    let (status, sub) = app
        .post_json(
            "/v1/webhook-subscriptions",
            &json!({"url": "http://127.0.0.1:9/hooks", "event_types": ["application.routed"]}),
        )
        .await;
    assert_eq!(status, 201, "{sub}");
    let a = imported(&app, 1, RUST_POSITION).await;
    let b = imported(&app, 2, RUST_POSITION).await;
    let c = imported(&app, 3, "SRE").await;
    assert_eq!(inbox_ids(&app).await, [a.clone(), b.clone(), c.clone()]);

    // Registering a rule needs one shared position: nothing happens otherwise.
    let (status, body) = app
        .post_json(
            "/v1/imports/route",
            &json!({"application_ids": [a, c], "job_id": job, "register_rule": true}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(inbox_ids(&app).await.len(), 3);
    // Unknown ids are named.
    let (status, body) = app
        .post_json(
            "/v1/imports/route",
            &json!({"application_ids": [a, "app_ghost"], "job_id": job, "register_rule": false}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("app_ghost"));
    let (status, body) = app
        .post_json(
            "/v1/imports/route",
            &json!({"application_ids": [a], "job_id": "job_ghost", "register_rule": false}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("job_id"))
    );

    let (status, body) = app
        .post_json(
            "/v1/imports/route",
            &json!({"application_ids": [a, b], "job_id": job, "register_rule": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["routed"], 2);
    assert_eq!(
        body["rule_name"],
        format!("BizReach {RUST_POSITION} → バックエンドエンジニア")
    );
    let rule_id = body["rule_id"].as_str().unwrap();
    let rules = app.get_json("/v1/routing-rules").await;
    assert_eq!(rules["items"][0]["id"], rule_id);
    assert_eq!(rules["items"][0]["position_name"], RUST_POSITION);
    assert_eq!(inbox_ids(&app).await, [c]);
    assert_eq!(
        Store::routing_job_for(&app.state.store.db, RUST_POSITION)
            .await
            .unwrap(),
        Some(job.clone())
    );
    // One application.routed webhook per routed application, for the subscriber.
    let deliveries = app
        .state
        .store
        .webhook_deliveries("application.routed")
        .await
        .unwrap();
    assert_eq!(deliveries.len(), 2);
    let payload: Value = serde_json::from_str(&deliveries[0].payload).unwrap();
    assert_eq!(payload["job"]["id"], job.as_str());
    assert_eq!(deliveries[0].subscription_id, sub["id"].as_str().unwrap());
    // Routed ones are no longer in the inbox.
    let (status, body) = app
        .post_json(
            "/v1/imports/route",
            &json!({"application_ids": [a], "job_id": job, "register_rule": false}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
}

#[tokio::test]
async fn webhook_subscription_secrets_are_shown_once_and_stored_encrypted() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post_json(
            "/v1/webhook-subscriptions",
            &json!({"url": "http://127.0.0.1:9/hooks", "event_types": ["application.labeled", "application.routed"]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let secret = body["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    let list = app.get_json("/v1/webhook-subscriptions").await;
    assert!(list["items"][0].get("secret").is_none(), "{list}");
    let stored = Store::webhook_subscriptions(&app.state.store.db)
        .await
        .unwrap();
    assert!(stored[0].secret_enc.starts_with("v1:"));
    assert!(!stored[0].secret_enc.contains(&secret[6..]));
    use secrecy::ExposeSecret;
    assert_eq!(
        app.state
            .secret_box
            .open(&stored[0].secret_enc)
            .unwrap()
            .expose_secret(),
        secret
    );
    let (status, body) = app
        .post_json(
            "/v1/webhook-subscriptions",
            &json!({"url": "http://127.0.0.1:9/x", "event_types": ["application.exploded"]}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("event_types[0]"))
    );
    let id = list["items"][0]["id"].as_str().unwrap();
    let res = app
        .admin(Method::DELETE, &format!("/v1/webhook-subscriptions/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(
        app.get_json("/v1/webhook-subscriptions").await["items"],
        json!([])
    );
}

#[tokio::test]
async fn i5_notification_subscriptions_are_per_token() {
    let app = TestApp::spawn().await;
    let viewer = app.token(hirelay::domain::role::Role::Viewer).await;
    let marketer = app.token(hirelay::domain::role::Role::Marketer).await;
    let get = |token: String| {
        let app = &app;
        async move {
            app.as_token(&token, Method::GET, "/v1/notifications/subscriptions")
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        get(viewer.clone()).await,
        json!({"bizreach_application": false, "monthly_report": false, "email": null})
    );
    let put = |token: String, body: Value| {
        let app = &app;
        async move {
            let res = app
                .as_token(&token, Method::PUT, "/v1/notifications/subscriptions")
                .json(&body)
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = put(
        viewer.clone(),
        json!({"bizreach_application": true, "email": " Hana.Sato@Example.jp "}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["email"], "hana.sato@example.jp");
    assert_eq!(get(viewer.clone()).await["bizreach_application"], true);
    let (status, body) = put(
        marketer.clone(),
        json!({"bizreach_application": true, "email": "not-an-email"}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("email"))
    );
    let (status, _) = put(marketer.clone(), json!({"bizreach_application": true})).await;
    assert_eq!(status, 400);
    let (status, _) = put(
        marketer,
        json!({"bizreach_application": false, "email": "mkt@example.jp"}),
    )
    .await;
    assert_eq!(status, 200);
    let subscribers =
        Store::subscribers_for(&app.state.store.db, NotificationKind::BizreachApplication)
            .await
            .unwrap();
    let emails: Vec<&str> = subscribers.iter().map(|e| e.as_str()).collect();
    assert_eq!(emails, ["hana.sato@example.jp"]);
}

/// I6 (issue 14's inbox page): the inbox is filtered by group account, position, channel and
/// application day (JST), and answers how many the filters admit on every page together; a date
/// that is not one is a 400 naming its field.
#[tokio::test]
async fn i6_the_inbox_is_filtered_and_counted() {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, QueryFilter};
    let app = TestApp::spawn().await;
    imported(&app, 1, RUST_POSITION).await;
    imported(&app, 2, RUST_POSITION).await;
    let other = imported(&app, 3, "営業（法人）").await;
    // 2026-01-15 10:00 JST.
    let applied = hirelay::domain::time::parse_rfc3339("2026-01-15T10:00:00+09:00").unwrap();
    application::Entity::update_many()
        .col_expr(application::Column::Channel, Expr::value("scout"))
        .col_expr(application::Column::GroupAccountId, Expr::value("grp-002"))
        .col_expr(application::Column::AppliedAt, Expr::value(applied))
        .filter(application::Column::Id.eq(other.as_str()))
        .exec(&app.state.store.db)
        .await
        .unwrap();
    let count = |query: &'static str| {
        let app = &app;
        async move {
            let page = app.get_json(&format!("/v1/imports?{query}")).await;
            (
                page["count"].as_u64().unwrap(),
                page["items"].as_array().unwrap().len(),
            )
        }
    };
    assert_eq!(count("").await, (3, 3));
    assert_eq!(
        count("position_name=バックエンドエンジニア（Rust）").await,
        (2, 2)
    );
    assert_eq!(count("channel=scout").await, (1, 1));
    assert_eq!(count("group_account_id=grp-002").await, (1, 1));
    assert_eq!(count("group_account_id=grp-001&channel=").await, (2, 2));
    assert_eq!(count("from=2026-01-15&to=2026-01-15").await, (1, 1));
    assert_eq!(count("from=2026-01-16&to=2026-01-31").await, (0, 0));
    assert_eq!(
        count("limit=1").await,
        (3, 1),
        "the count covers every page"
    );
    let res = app
        .admin(Method::GET, "/v1/imports?from=2026-13-01")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["field"], "from", "{body}");
}

/// Issue 14's inbox page: a job is renamed (`PATCH /v1/jobs/{id}`) and the routing rule to it
/// shows the new title; an empty title is a 400 naming `title`, an unknown job a 404.
#[tokio::test]
async fn a_job_is_renamed_and_its_routing_rule_shows_the_new_title() {
    let app = TestApp::spawn().await;
    let job = create_job(&app, "バックエンド").await;
    let (status, _) = app
        .post_json(
            "/v1/routing-rules",
            &json!({"position_name": RUST_POSITION, "job_id": job}),
        )
        .await;
    assert_eq!(status, 201);
    let rename = |id: String, title: &'static str| {
        app.admin(Method::PATCH, &format!("/v1/jobs/{id}"))
            .json(&json!({ "title": title }))
            .send()
    };
    let res = rename(job.clone(), "  バックエンド（Rust） ")
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let renamed: Value = res.json().await.unwrap();
    assert_eq!(
        (renamed["id"].as_str(), renamed["title"].as_str()),
        (Some(job.as_str()), Some("バックエンド（Rust）"))
    );
    let rules = app.get_json("/v1/routing-rules").await;
    assert_eq!(
        rules["items"][0]["name"],
        format!("BizReach {RUST_POSITION} → バックエンド（Rust）")
    );
    let res = rename(job.clone(), " ").await.unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["field"], "title", "{body}");
    assert_eq!(
        app.get_json("/v1/jobs").await["items"][0]["title"],
        "バックエンド（Rust）",
        "a refused rename changes nothing"
    );
    let res = rename("job_nope".into(), "x").await.unwrap();
    assert_eq!(res.status(), 404);
}

/// Makes the database refuse every new audit entry, as a full or failing disk would refuse
/// the second write of a use case.
async fn refuse_audit_entries(app: &TestApp) {
    use sea_orm::ConnectionTrait;
    let db = &app.state.store.db;
    let statements: &[&str] = if app.state.store.is_postgres() {
        &[
            "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
        ]
    } else {
        &["CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit refused'); END"]
    };
    for sql in statements {
        db.execute_unprepared(sql).await.unwrap();
    }
}

#[tokio::test]
async fn issue17_an_admin_change_is_committed_with_its_audit_entry_or_not_at_all() {
    let app = TestApp::spawn().await;
    let job = create_job(&app, "経理").await;
    refuse_audit_entries(&app).await;

    let created = app
        .admin(Method::POST, "/v1/jobs")
        .json(&json!({"title": "法務"}))
        .send()
        .await
        .unwrap();
    assert!(!created.status().is_success(), "{}", created.status());
    let renamed = app
        .admin(Method::PATCH, &format!("/v1/jobs/{job}"))
        .json(&json!({"title": "財務"}))
        .send()
        .await
        .unwrap();
    assert!(!renamed.status().is_success(), "{}", renamed.status());
    let (status, _) = app
        .post_json(
            "/v1/routing-rules",
            &json!({"position_name": "経理スタッフ", "job_id": job}),
        )
        .await;
    assert!(status >= 400, "{status}");
    let (status, _) = app
        .post_json(
            "/v1/opt-outs",
            &json!({"email": "someone@example.jp", "kind": "career_relay_invitation"}),
        )
        .await;
    assert!(status >= 400, "{status}");

    let jobs = app.get_json("/v1/jobs").await;
    let titles: Vec<&str> = jobs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|j| j["title"].as_str())
        .collect();
    assert_eq!(titles, ["経理"], "{jobs}");
    let rules = app.get_json("/v1/routing-rules").await;
    assert_eq!(rules["items"], json!([]), "{rules}");
    let opt_out = app
        .admin(Method::GET, "/v1/opt-outs?email=someone@example.jp")
        .send()
        .await
        .unwrap();
    let body: Value = opt_out.json().await.unwrap();
    assert!(
        body["items"]
            .as_array()
            .is_none_or(|items| items.is_empty()),
        "{body}"
    );
}
