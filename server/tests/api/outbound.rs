//! Outbound webhooks: a subscriber on loopback receives what hirelay queues, signed per
//! Standard Webhooks, retried after failures, delivered once.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use hirelay::ingest::signature::WebhookSecrets;
use hirelay::store::entities::webhook_delivery;
use reqwest::Method;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::progress_sync::{ats_status, imported, linked, metric, run_sync, switch_sync, GROUP};

/// One request the subscriber received.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    id: String,
    timestamp: String,
    signature: String,
    pub(crate) body: Vec<u8>,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A webhook subscriber on loopback that records requests and answers 500 to the first
/// `failures` of them (every one with `u32::MAX`).
pub(crate) struct Subscriber {
    pub(crate) url: String,
    received: Arc<Mutex<Vec<Received>>>,
    handle: actix_web::dev::ServerHandle,
}

#[derive(Clone)]
struct SubscriberState {
    received: Arc<Mutex<Vec<Received>>>,
    failures: u32,
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<SubscriberState>,
) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut received = state.received.lock().unwrap();
    received.push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: body.to_vec(),
    });
    if received.len() as u32 <= state.failures {
        HttpResponse::InternalServerError().body("subscriber is down")
    } else {
        HttpResponse::NoContent().finish()
    }
}

impl Subscriber {
    pub(crate) async fn start(failures: u32) -> Subscriber {
        let received = Arc::new(Mutex::new(Vec::new()));
        let state = SubscriberState {
            received: received.clone(),
            failures,
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(state.clone()))
                .route("/hook", web::post().to(receive))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Subscriber {
            url: format!("http://127.0.0.1:{port}/hook"),
            received,
            handle,
        }
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until `n` requests arrived (at most `secs`).
    pub(crate) async fn wait_for(&self, n: usize, secs: u64) -> Vec<Received> {
        for _ in 0..secs * 20 {
            if self.received().len() >= n {
                return self.received();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{n} requests expected, got {}", self.received().len());
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        tokio::spawn(async move { handle.stop(false).await });
    }
}

/// Subscribes `url` to `event_types`; answers the signing secret.
pub(crate) async fn subscribe(app: &TestApp, url: &str, event_types: &[&str]) -> String {
    let (status, body) = app
        .post_json(
            "/v1/webhook-subscriptions",
            &json!({"url": url, "event_types": event_types}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["secret"].as_str().unwrap().to_owned()
}

fn assert_signed(secret: &str, r: &Received) {
    let now = chrono::Utc::now().timestamp();
    WebhookSecrets::parse(secret)
        .unwrap()
        .verify(&r.id, &r.timestamp, &r.signature, &r.body, now)
        .unwrap_or_else(|e| panic!("bad signature on {}: {e}", r.id));
}

async fn deliveries(app: &TestApp, status: &str) -> Vec<Value> {
    app.get_json(&format!("/v1/webhook-deliveries?status={status}"))
        .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn application_routed_is_signed_retried_after_500s_and_delivered_once() {
    let b = linked().await;
    let subscriber = Subscriber::start(2).await;
    let secret = subscribe(&b.app, &subscriber.url, &["application.routed"]).await;
    let app_id = imported(&b, GROUP, "br-app-route", "new").await;
    let (status, job) = b
        .app
        .post_json("/v1/jobs", &json!({"title": "バックエンドエンジニア"}))
        .await;
    assert_eq!(status, 201, "{job}");
    let (status, routed) = b
        .app
        .post_json(
            "/v1/imports/route",
            &json!({"application_ids": [app_id], "job_id": job["id"], "register_rule": false}),
        )
        .await;
    assert_eq!(status, 200, "{routed}");

    let received = subscriber.wait_for(3, 20).await;
    // Two 500s, then delivered: no fourth request.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let received_later = subscriber.received();
    assert_eq!(received_later.len(), 3, "{received_later:?}");
    for r in &received {
        assert_signed(&secret, r);
        assert_eq!(r.id, received[0].id, "one delivery id across retries");
        assert_eq!(r.body, received[0].body);
    }
    let payload = received[0].json();
    assert_eq!(payload["type"], "application.routed");
    assert_eq!(payload["application_id"], app_id.as_str());
    assert_eq!(payload["job"]["id"], job["id"]);

    let delivered = deliveries(&b.app, "delivered").await;
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(delivered[0]["id"], received[0].id.as_str());
    assert_eq!(delivered[0]["event_type"], "application.routed");
    assert_eq!(delivered[0]["attempts"], 3);
    assert!(delivered[0]["delivered_at"].is_string());
    assert!(deliveries(&b.app, "pending").await.is_empty());
    assert_eq!(metric(&b.app, "hirelay_webhooks_delivered_total").await, 1);
    assert_eq!(metric(&b.app, "hirelay_webhooks_failed_total").await, 2);
}

#[tokio::test]
async fn a_delivery_is_dead_after_the_tenth_try_with_the_last_error() {
    let b = linked().await;
    let subscriber = Subscriber::start(u32::MAX).await;
    subscribe(&b.app, &subscriber.url, &["application.status_synced"]).await;
    let app_id = imported(&b, GROUP, "br-app-dead", "new").await;
    ats_status(&b, &app_id, "interview", 1).await;
    switch_sync(&b, true).await;
    assert_eq!(run_sync(&b.app).await["pushed"], 1);
    subscriber.wait_for(1, 10).await;
    // Skip the backoff of tries 2–9: the next try is the tenth.
    let db = &b.app.state.store.db;
    for _ in 0..100 {
        let rows = webhook_delivery::Entity::find().all(db).await.unwrap();
        if rows.iter().all(|d| d.locked_until.is_none()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Attempts, Expr::value(9))
        .col_expr(
            webhook_delivery::Column::NextAttemptAt,
            Expr::value(hirelay::domain::time::now_millis()),
        )
        .filter(webhook_delivery::Column::Status.eq("pending"))
        .exec(db)
        .await
        .unwrap();
    subscriber.wait_for(2, 10).await;
    let mut dead = Vec::new();
    for _ in 0..100 {
        dead = deliveries(&b.app, "dead").await;
        if !dead.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["attempts"], 10);
    // M7: the status only; the subscriber's answer ("subscriber is down") is not kept.
    assert_eq!(dead[0]["last_error"], "HTTP 500", "{dead:?}");
    let stored = webhook_delivery::Entity::find().all(db).await.unwrap();
    assert_eq!(stored[0].last_error.as_deref(), Some("HTTP 500"));
    let res = b
        .app
        .admin(Method::GET, "/v1/webhook-deliveries?status=bogus")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn application_status_synced_reaches_subscribers_once() {
    let b = linked().await;
    let subscriber = Subscriber::start(0).await;
    let secret = subscribe(&b.app, &subscriber.url, &["application.status_synced"]).await;
    let app_id = imported(&b, GROUP, "br-app-hook", "new").await;
    ats_status(&b, &app_id, "offer", 1).await;
    switch_sync(&b, true).await;
    assert_eq!(run_sync(&b.app).await["pushed"], 1);
    assert_eq!(run_sync(&b.app).await["pushed"], 0);
    let received = subscriber.wait_for(1, 10).await;
    assert_signed(&secret, &received[0]);
    let payload = received[0].json();
    assert_eq!(payload["type"], "application.status_synced");
    assert_eq!(payload["application_id"], app_id.as_str());
    assert_eq!(payload["source_application_id"], "br-app-hook");
    assert_eq!(payload["status"], "offer");
    assert_eq!(payload["bizreach_status"], "in_progress");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(subscriber.received().len(), 1);
}

#[tokio::test]
async fn the_openapi_document_lists_progress_sync_and_deliveries() {
    let app = TestApp::spawn().await;
    let doc: Value = app.openapi().await;
    for path in [
        "/v1/group-accounts/{id}/progress-sync",
        "/v1/group-accounts/{id}/progress-sync/preview",
        "/v1/webhook-deliveries",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
}

/// M7: a subscription to a loopback, private, link-local (metadata), CGNAT, unspecified or
/// multicast address, by address or by a name resolving to one, is refused with 422 naming
/// `url`; so is `http://` to a host that is not allowed.
#[tokio::test]
async fn m7_internal_or_plain_http_subscriber_urls_are_refused() {
    let app = TestApp::spawn_with(&[("HIRELAY_OUTBOUND_ALLOW_HOSTS", "")]).await;
    for url in [
        "http://127.0.0.1:9/hook",
        "https://127.0.0.1:9/hook",
        "https://localhost:9/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/hook",
        "https://172.16.0.1/hook",
        "https://192.168.1.1/hook",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "https://255.255.255.255/hook",
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        // A public address, but not over https (nothing is sent to it).
        "http://93.184.215.14/hook",
    ] {
        let (status, body) = app
            .post_json(
                "/v1/webhook-subscriptions",
                &json!({"url": url, "event_types": ["application.routed"]}),
            )
            .await;
        assert_eq!(status, 422, "{url}: {body}");
        assert_eq!(body["error"]["field"], "url", "{url}: {body}");
    }
    assert_eq!(
        app.get_json("/v1/webhook-subscriptions").await["items"],
        json!([])
    );
}

/// M7: the address is checked again when connecting. A subscription whose host resolves to
/// loopback by then (stored directly here, as if DNS had answered otherwise when it was made)
/// is never reached, nor one naming a loopback address once it is no longer allowed.
#[tokio::test]
async fn m7_an_internal_address_is_refused_at_connect_time() {
    let app = TestApp::spawn_with(&[("HIRELAY_OUTBOUND_ALLOW_HOSTS", "")]).await;
    let subscriber = Subscriber::start(0).await;
    let port = subscriber.url.rsplit(':').next().unwrap().to_owned();
    let sealed = app.state.secret_box.seal(crate::helpers::SECRET);
    let types = ["application.routed".to_owned()];
    for url in [
        format!("http://localhost:{port}"),
        format!("https://localhost:{port}"),
        subscriber.url.clone(),
    ] {
        hirelay::store::Store::create_webhook_subscription(
            &app.state.store.db,
            hirelay::store::webhooks::NewSubscription {
                url: &url,
                event_types: &types,
                secret_sealed: &sealed,
                owner: None,
            },
            hirelay::domain::time::now_millis(),
        )
        .await
        .unwrap();
    }
    let queued = hirelay::store::Store::enqueue_webhook(
        &app.state.store.db,
        "application.routed",
        &json!({"type": "application.routed"}),
        "m7-rebinding",
    )
    .await
    .unwrap();
    assert_eq!(queued, 3);
    let mut tried = Vec::new();
    for _ in 0..200 {
        tried = deliveries(&app, "pending").await;
        if tried.len() == 3
            && tried
                .iter()
                .all(|d| d["attempts"] == 1 && d["last_error"].is_string())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(tried.len(), 3, "{tried:?}");
    for d in &tried {
        let error = d["last_error"].as_str().unwrap_or_default();
        assert!(error.starts_with("refused"), "{tried:?}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        subscriber.received().is_empty(),
        "an internal address was reached"
    );
}
