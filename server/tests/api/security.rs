//! Issue 18 (security review): what reaches the log, who may use which route, tokens' life
//! (list, revoke, expiry, the bootstrap token's length, throttling), and the headers every
//! answer carries.
use crate::cli::{hirelay, run, stderr, stdout};
use crate::helpers::{log_capture, TestApp, ADMIN_TOKEN};
use hirelay::domain::role::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Who may use a route: the admin API table of the contract, as issue 18 settles it.
#[derive(Clone, Copy, Debug)]
enum Allowed {
    Admin,
    /// Applications and KPIs.
    Viewer,
    /// Templates.
    Marketer,
    /// Outbound webhook subscriptions and deliveries; its own source's events (issue 15).
    Integrator,
    Any,
}

impl Allowed {
    fn admits(self, role: Role) -> bool {
        match self {
            Allowed::Any => true,
            Allowed::Admin => role == Role::Admin,
            Allowed::Viewer => matches!(role, Role::Admin | Role::Viewer),
            Allowed::Marketer => matches!(role, Role::Admin | Role::Marketer),
            Allowed::Integrator => matches!(role, Role::Admin | Role::Integrator),
        }
    }
}

/// Every route of the admin API (path as `/openapi.json` writes it) and who may use it.
const ROUTES: &[(&str, &str, Allowed)] = &[
    ("POST", "/v1/bizreach/session", Allowed::Admin),
    ("GET", "/v1/group-accounts", Allowed::Admin),
    ("POST", "/v1/group-accounts/{id}/link", Allowed::Admin),
    ("POST", "/v1/group-accounts/{id}/suspend", Allowed::Admin),
    ("POST", "/v1/group-accounts/{id}/resume", Allowed::Admin),
    (
        "PUT",
        "/v1/group-accounts/{id}/progress-sync",
        Allowed::Admin,
    ),
    (
        "GET",
        "/v1/group-accounts/{id}/progress-sync/preview",
        Allowed::Admin,
    ),
    ("POST", "/v1/group-accounts/{id}/backfill", Allowed::Admin),
    ("POST", "/v1/scheduler/{job}/run", Allowed::Admin),
    ("GET", "/v1/jobs", Allowed::Admin),
    ("POST", "/v1/jobs", Allowed::Admin),
    ("PATCH", "/v1/jobs/{id}", Allowed::Admin),
    ("GET", "/v1/routing-rules", Allowed::Admin),
    ("POST", "/v1/routing-rules", Allowed::Admin),
    ("DELETE", "/v1/routing-rules/{id}", Allowed::Admin),
    ("GET", "/v1/imports", Allowed::Admin),
    ("POST", "/v1/imports/route", Allowed::Admin),
    ("GET", "/v1/applications", Allowed::Viewer),
    ("GET", "/v1/applications/{id}", Allowed::Viewer),
    ("GET", "/v1/rules", Allowed::Admin),
    ("GET", "/v1/rules/{name}", Allowed::Admin),
    ("PUT", "/v1/rules/{name}", Allowed::Admin),
    ("GET", "/v1/rules/{name}/versions", Allowed::Admin),
    ("GET", "/v1/rules/{name}/versions/{version}", Allowed::Admin),
    ("POST", "/v1/rules/{name}/check", Allowed::Admin),
    ("POST", "/v1/rules/{name}/rollback", Allowed::Admin),
    ("POST", "/v1/rules/{name}/dry-run", Allowed::Admin),
    ("GET", "/v1/templates", Allowed::Marketer),
    ("GET", "/v1/templates/{name}", Allowed::Marketer),
    ("PUT", "/v1/templates/{name}", Allowed::Marketer),
    ("GET", "/v1/templates/{name}/versions", Allowed::Marketer),
    (
        "GET",
        "/v1/templates/{name}/versions/{version}",
        Allowed::Marketer,
    ),
    ("POST", "/v1/templates/{name}/rollback", Allowed::Marketer),
    ("POST", "/v1/templates/{name}/preview", Allowed::Marketer),
    ("POST", "/v1/templates/{name}/test-send", Allowed::Marketer),
    ("GET", "/v1/outbox", Allowed::Marketer),
    ("GET", "/v1/invitations", Allowed::Admin),
    ("GET", "/v1/opt-outs", Allowed::Admin),
    ("POST", "/v1/opt-outs", Allowed::Admin),
    ("DELETE", "/v1/opt-outs", Allowed::Admin),
    ("GET", "/v1/consents", Allowed::Admin),
    ("POST", "/v1/consents", Allowed::Admin),
    ("DELETE", "/v1/candidates", Allowed::Admin),
    ("DELETE", "/v1/candidates/{id}", Allowed::Admin),
    ("GET", "/v1/candidates/{id}/export", Allowed::Admin),
    ("POST", "/v1/outbox/{id}/cancel", Allowed::Marketer),
    ("GET", "/v1/events", Allowed::Integrator),
    ("GET", "/v1/events/{id}", Allowed::Integrator),
    ("POST", "/v1/events/{id}/replay", Allowed::Integrator),
    ("POST", "/v1/events/replay", Allowed::Integrator),
    ("GET", "/v1/kpis/funnel", Allowed::Viewer),
    ("GET", "/v1/kpis/funnel/attributes", Allowed::Viewer),
    ("GET", "/v1/kpis/export.csv", Allowed::Viewer),
    ("GET", "/v1/career-relay/ledger", Allowed::Viewer),
    ("GET", "/v1/career-relay/report", Allowed::Viewer),
    ("GET", "/v1/kpis", Allowed::Viewer),
    ("GET", "/v1/kpis/records.csv", Allowed::Viewer),
    ("GET", "/v1/webhook-subscriptions", Allowed::Integrator),
    ("POST", "/v1/webhook-subscriptions", Allowed::Integrator),
    (
        "DELETE",
        "/v1/webhook-subscriptions/{id}",
        Allowed::Integrator,
    ),
    ("GET", "/v1/webhook-deliveries", Allowed::Integrator),
    ("GET", "/v1/notifications/subscriptions", Allowed::Any),
    ("PUT", "/v1/notifications/subscriptions", Allowed::Any),
    ("GET", "/v1/audit-log", Allowed::Admin),
    ("GET", "/v1/users", Allowed::Admin),
    ("POST", "/v1/users", Allowed::Admin),
    ("PATCH", "/v1/users/{id}", Allowed::Admin),
    ("GET", "/v1/tokens", Allowed::Admin),
    ("POST", "/v1/tokens", Allowed::Admin),
    ("DELETE", "/v1/tokens/{id}", Allowed::Admin),
];

/// A path of the table with its parameters filled by names that exist nowhere, so an
/// admitted request changes nothing.
fn concrete(path: &str) -> String {
    path.replace("{id}", "sec-none")
        .replace("{name}", "sec_none")
        .replace("{job}", "sec-none")
        .replace("{version}", "1")
}

/// M2: every route of the admin API × the four roles and no token. No token: 401 with a
/// Bearer challenge; a role the route does not admit: 403; one it admits: anything but 401,
/// 403 or 500 (the dummy ids make most of them 4xx). Marketers and integrators never read
/// applications or candidates. The table covers every bearer route of `/openapi.json`.
#[tokio::test]
async fn m2_each_role_reaches_exactly_the_routes_the_contract_gives_it() {
    let app = TestApp::spawn().await;
    let openapi = app.openapi().await;
    let roles = &openapi["components"]["securitySchemes"]["bearer"]["description"];
    assert!(
        roles
            .as_str()
            .unwrap()
            .contains("`integrator` the outbound webhook"),
        "{roles}"
    );

    let documented: BTreeSet<(String, String)> = openapi["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .iter()
                .filter(|(_, op)| op.get("security").is_some())
                .map(|(method, _)| (method.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let tabled: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(
        documented.difference(&tabled).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "routes needing a token that this table does not cover"
    );

    let mut tokens = vec![(Role::Admin, ADMIN_TOKEN.to_owned())];
    for role in [Role::Viewer, Role::Marketer] {
        tokens.push((role, app.token(role).await));
    }
    // Issue 15: an integrator bound to a source, as integrators are made now.
    let (_, integrator) = app
        .state
        .store
        .create_token_with(&hirelay::store::tokens::NewToken {
            name: "ats-vendor",
            role: Role::Integrator,
            source: Some(hirelay::domain::status::EventSource::Ats),
            expires_at: None,
        })
        .await
        .unwrap();
    tokens.push((Role::Integrator, integrator));
    let mut wrong = Vec::new();
    for (method, path, allowed) in ROUTES {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let url = app.url(&concrete(path));
        let request = |token: Option<&str>| {
            let mut r = app.client.request(method.clone(), &url).json(&json!({}));
            if let Some(token) = token {
                r = r.bearer_auth(token);
            }
            r
        };
        let res = request(None).send().await.unwrap();
        let challenge = res
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned());
        if res.status() != StatusCode::UNAUTHORIZED
            || !challenge
                .as_deref()
                .is_some_and(|c| c.starts_with("Bearer"))
        {
            wrong.push(format!(
                "{method} {path} without a token: {} {challenge:?}",
                res.status()
            ));
        }
        for (role, token) in &tokens {
            let res = request(Some(token)).send().await.unwrap();
            let status = res.status();
            let ok = if allowed.admits(*role) {
                !matches!(status.as_u16(), 401 | 403 | 500)
            } else {
                status == StatusCode::FORBIDDEN
            };
            if !ok {
                let body = res.text().await.unwrap();
                wrong.push(format!(
                    "{method} {path} as {role:?} ({allowed:?}): {status} {body}"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// M2: what a 403 says: the roles the route admits and the token's.
#[tokio::test]
async fn m2_a_marketer_cannot_read_a_candidate_and_is_told_who_can() {
    let app = TestApp::spawn().await;
    let marketer = app.token(Role::Marketer).await;
    let res = app
        .as_token(
            &marketer,
            Method::GET,
            "/v1/applications?ats_application_id=x",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("admin, viewer") && message.contains("marketer"),
        "{message}"
    );
}

/// M1: the access log names the route's pattern; tokens in paths (tracking link, approval
/// link, unsubscribe link) and query strings never reach it.
#[tokio::test]
async fn m1_the_access_log_names_routes_never_the_tokens_in_paths() {
    let logs = log_capture();
    let app = TestApp::spawn().await;
    let secret = format!("sec{}", uuid::Uuid::new_v4().simple());
    for (method, path) in [
        (Method::GET, format!("/r/{secret}")),
        (Method::GET, format!("/v1/link-approvals/{secret}")),
        (Method::POST, format!("/v1/link-approvals/{secret}")),
        (Method::GET, format!("/v1/unsubscribe/{secret}")),
        (
            Method::GET,
            format!("/v1/applications?source_application_id={secret}"),
        ),
        (Method::GET, format!("/nowhere/{secret}")),
    ] {
        let res = app.admin(method, &path).send().await.unwrap();
        assert_ne!(res.status(), 500, "{path}");
    }
    let log = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(
        log.contains("GET /r/{token} 404"),
        "the route is logged:\n{log}"
    );
    assert!(log.contains("POST /v1/link-approvals/{token} "), "{log}");
    assert!(log.contains("GET /v1/applications 200"), "{log}");
    assert!(!log.contains(&secret), "a token reached the log:\n{log}");
}

/// M3: `hirelay token list` shows each token's id, name, role, times and expiry, never its
/// secret; `--expires-in-days` sets the expiry.
#[tokio::test(flavor = "multi_thread")]
async fn m3_token_list_shows_every_token_but_never_its_secret() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = crate::helpers::fresh_database(dir.path()).await;
    let cli = |args: &[&str]| {
        run(hirelay(dir.path())
            .args(args)
            .env("HIRELAY_DATA_DIR", dir.path().join("data"))
            .env("HIRELAY_DATABASE_URL", &database_url))
    };
    let made = cli(&[
        "token",
        "create",
        "--role",
        "integrator",
        "--name",
        "ats-vendor",
        "--expires-in-days",
        "30",
    ]);
    assert!(made.status.success(), "{}", stderr(&made));
    let secret = stdout(&made).trim().to_owned();
    assert!(stderr(&made).contains("valid until"), "{}", stderr(&made));
    let kept = cli(&[
        "token",
        "create",
        "--role",
        "viewer",
        "--name",
        "hr-dashboard",
    ]);
    let kept_secret = stdout(&kept).trim().to_owned();

    let listed = cli(&["token", "list"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let text = stdout(&listed);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "a header and two tokens:\n{text}");
    assert!(
        lines[0].contains("LAST USED") && lines[0].contains("EXPIRES"),
        "{text}"
    );
    let vendor: Vec<&str> = lines[1].split('\t').collect();
    assert!(vendor[0].starts_with("tok_"), "{text}");
    assert_eq!(&vendor[1..3], ["ats-vendor", "integrator"], "{text}");
    let expires = chrono::DateTime::parse_from_rfc3339(vendor[5]).unwrap();
    let days = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_days();
    assert!((29..=30).contains(&days), "{text}");
    assert!(lines[2].contains("hr-dashboard\tviewer"), "{text}");
    assert!(
        lines[2].ends_with("\t-\t-\t-"),
        "never used, no expiry, not revoked: {text}"
    );
    for s in [&secret, &kept_secret] {
        assert!(!text.contains(s.as_str()) && !stderr(&listed).contains(s.as_str()));
    }
}

/// M3: `hirelay token revoke ID` is honoured at once: the next request with the token is a
/// 401 (with its Bearer challenge); `token list` shows when it was used and revoked.
#[tokio::test(flavor = "multi_thread")]
async fn m3_a_revoked_token_is_refused_on_its_next_request() {
    let app = TestApp::spawn().await;
    let (identity, token) = app
        .state
        .store
        .create_token("ats-vendor", Role::Integrator)
        .await
        .unwrap();
    let call = || {
        app.as_token(&token, Method::GET, "/v1/webhook-deliveries")
            .send()
    };
    assert_eq!(call().await.unwrap().status(), 200);

    let cli = |args: &[&str]| {
        run(hirelay(app.dir.path())
            .args(args)
            .env("HIRELAY_DATA_DIR", app.dir.path().join("data"))
            .env("HIRELAY_DATABASE_URL", &app.database_url))
    };
    let revoked = cli(&["token", "revoke", &identity.id]);
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert!(
        stdout(&revoked).contains(&identity.id),
        "{}",
        stdout(&revoked)
    );

    let res = call().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer realm=\"hirelay\", error=\"invalid_token\""
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_token");

    let listed = stdout(&cli(&["token", "list"]));
    let line = listed
        .lines()
        .find(|l| l.starts_with(&identity.id))
        .unwrap_or_else(|| panic!("{listed}"));
    let fields: Vec<&str> = line.split('\t').collect();
    assert_ne!(fields[4], "-", "last used: {line}");
    assert_ne!(fields[6], "-", "revoked: {line}");

    let audit = app.get_json("/v1/audit-log?limit=10").await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "token.revoke" && e["target"] == identity.id.as_str()),
        "{audit}"
    );

    let unknown = cli(&["token", "revoke", "tok_nope"]);
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("tok_nope"),
        "{}",
        stderr(&unknown)
    );
}

/// M3: a token past its expiry is a 401 that says it expired.
#[tokio::test]
async fn m3_an_expired_token_is_refused_saying_it_expired() {
    let app = TestApp::spawn().await;
    let now = hirelay::domain::time::now_millis();
    let (_, expired) = app
        .state
        .store
        .create_token_expiring("old", Role::Viewer, Some(now - 1))
        .await
        .unwrap();
    let (_, valid) = app
        .state
        .store
        .create_token_expiring("new", Role::Viewer, Some(now + 60_000))
        .await
        .unwrap();
    let path = "/v1/applications?ats_application_id=x";
    let res = app
        .as_token(&expired, Method::GET, path)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let challenge = res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "token_expired", "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("expired"));
    let res = app
        .as_token(&valid, Method::GET, path)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// M3: a bootstrap admin token shorter than 24 characters stops start-up with a message
/// naming the variable (and not showing the token).
#[test]
fn m3_a_short_admin_token_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(hirelay(dir.path())
        .arg("serve")
        .env("HIRELAY_BIND", "127.0.0.1:0")
        .env("HIRELAY_DATA_DIR", dir.path().join("data"))
        .env("HIRELAY_ADMIN_TOKEN", "dev-admin-token"));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("HIRELAY_ADMIN_TOKEN") && err.contains("24"),
        "{err}"
    );
    assert!(!err.contains("dev-admin-token"), "{err}");
}

/// M3: after 10 wrong tokens in a minute an address gets 429 with `Retry-After`, whatever
/// token it sends next; another address is not affected.
#[tokio::test]
async fn m3_failed_authentications_are_throttled_per_address() {
    let app = TestApp::spawn().await;
    let path = "/v1/events";
    for i in 0..10 {
        let res = app
            .as_token(&format!("guess-{i}"), Method::GET, path)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "guess {i}");
    }
    for token in ["guess-10", ADMIN_TOKEN] {
        let res = app.as_token(token, Method::GET, path).send().await.unwrap();
        assert_eq!(res.status(), 429);
        let wait = crate::helpers::retry_after(&res);
        assert!((1..=60).contains(&wait), "{wait}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "too_many_requests", "{body}");
    }
    let elsewhere = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let res = elsewhere
        .get(app.url(path))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "another client is not throttled");
    // Routes without a token are not throttled either.
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

/// Issue 15 (TLS behind a reverse proxy): with the proxy named in `HIRELAY_TRUSTED_PROXIES`,
/// failed tokens count against the client the proxy saw, so one guesser behind the proxy does
/// not lock out everyone else behind it; without the setting the header is not believed, so a
/// guesser cannot escape the limit by sending another `X-Forwarded-For` each time.
#[tokio::test]
async fn m3_issue15_behind_a_trusted_proxy_failures_count_per_forwarded_client() {
    let behind = |app: &TestApp, client: &str, token: &str| {
        app.as_token(token, Method::GET, "/v1/events")
            .header("x-forwarded-for", client)
    };
    let app = TestApp::spawn_with(&[("HIRELAY_TRUSTED_PROXIES", "127.0.0.1")]).await;
    for i in 0..10 {
        let res = behind(&app, "203.0.113.9", &format!("guess-{i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "guess {i}");
    }
    let res = behind(&app, "203.0.113.9", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429, "the guesser is limited");
    let res = behind(&app, "198.51.100.4", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        200,
        "another client behind the same proxy is not"
    );

    let app = TestApp::spawn().await;
    for i in 0..10 {
        let res = behind(&app, &format!("203.0.113.{i}"), &format!("guess-{i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "guess {i}");
    }
    let res = behind(&app, "198.51.100.4", ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        429,
        "an untrusted X-Forwarded-For does not change the address counted"
    );
}

/// Issue 15: the links hirelay mails out (`/r/{token}`, unsubscribe, link approvals) may be
/// opened 60 times a minute per address; then `429` with `Retry-After`, while another address
/// and the rest of the API are not affected.
#[tokio::test]
async fn issue15_public_links_are_rate_limited_per_address() {
    let app = TestApp::spawn().await;
    let paths = [
        "/r/guess",
        "/v1/unsubscribe/guess",
        "/v1/link-approvals/guess",
    ];
    for i in 0..hirelay::http::public_links::PER_MINUTE {
        let res = app
            .client
            .get(app.url(paths[i % paths.len()]))
            .send()
            .await
            .unwrap();
        assert_ne!(res.status(), 429, "request {i}");
    }
    for path in paths {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 429, "{path}");
        let wait = crate::helpers::retry_after(&res);
        assert!((1..=60).contains(&wait), "{wait}");
    }
    let elsewhere = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 3]))
        .build()
        .unwrap();
    let res = elsewhere.get(app.url("/r/guess")).send().await.unwrap();
    assert_ne!(res.status(), 429, "another address is not limited");
    let res = app.admin(Method::GET, "/v1/events").send().await.unwrap();
    assert_eq!(res.status(), 200, "the API is not limited by it");
}

/// Issue 15 (found by the fuzzer on PostgreSQL, which refuses a NUL character in text): an id
/// or a field holding one is the request's fault, a 4xx naming it, never a 500.
#[tokio::test]
async fn issue15_a_nul_character_in_an_id_or_a_field_is_a_4xx() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        (Method::GET, "/v1/events/%00"),
        (Method::GET, "/v1/applications/evt_%00x"),
        (Method::DELETE, "/v1/routing-rules/%00"),
        (Method::POST, "/v1/events/%00/replay"),
    ] {
        let res = app.admin(method.clone(), path).send().await.unwrap();
        assert!(
            res.status().is_client_error(),
            "{method} {path}: {}",
            res.status()
        );
    }
    let res = app
        .admin(Method::POST, "/v1/jobs")
        .json(&serde_json::json!({"title": "営業\u{0}部"}))
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_client_error() || res.status() == 201,
        "{}",
        res.status()
    );
}

/// M3 (m0010): a token stored before tokens could expire still works after the migration,
/// never expiring; the migration also goes down.
#[tokio::test]
async fn m3_tokens_from_before_m0010_still_work() {
    use migrations::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;
    let dir = tempfile::tempdir().unwrap();
    let url = crate::helpers::fresh_database(dir.path()).await;
    let store = hirelay::store::Store::connect(&url, 2, 1).await.unwrap();
    store.migrate().await.unwrap();
    let db = &store.db;
    crate::helpers::migrate_down_through(db, "m0010_token_expiry").await;
    let token = "hr_from_before_m0010";
    db.execute_unprepared(&format!(
        "INSERT INTO api_tokens (id, name, role, token_hash, created_at, revoked_at) \
         VALUES ('tok_old', 'old', 'viewer', '{}', 0, NULL)",
        hirelay::domain::ids::token_hash(token)
    ))
    .await
    .unwrap();
    Migrator::up(db, None).await.unwrap();
    let now = hirelay::domain::time::now_millis();
    assert!(matches!(
        store.check_token(token, now).await.unwrap(),
        hirelay::store::tokens::TokenCheck::Valid(_)
    ));
    let listed = store.list_tokens().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].expires_at, None);
    assert_eq!(listed[0].last_used_at, Some(now));
}

/// Low (a): every answer carries nosniff, no framing and no referrer; pages opened by a
/// token in the URL are never stored; the console keeps its stricter policy; HSTS only when
/// the public URL is https.
#[tokio::test]
async fn low_every_answer_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    for path in [
        "/healthz",
        "/v1/events",
        "/r/sec-none",
        "/v1/unsubscribe/sec-none",
        "/nowhere",
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        let token_page = path.starts_with("/r/") || path.starts_with("/v1/unsubscribe/");
        let policy = h["content-security-policy"].to_str().unwrap();
        if token_page {
            // Issue 19: the candidate pages' own stricter policy (their one inline style).
            assert!(
                policy.starts_with("default-src 'none';"),
                "{path}: {policy}"
            );
            assert!(
                policy.ends_with("frame-ancestors 'none'"),
                "{path}: {policy}"
            );
        } else {
            assert_eq!(policy, "frame-ancestors 'none'", "{path}");
        }
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert!(h.get("strict-transport-security").is_none(), "{path}");
        assert_eq!(
            h.get("cache-control").is_some_and(|v| v == "no-store"),
            token_page,
            "{path}"
        );
    }
    let res = app.client.get(app.url("/console")).send().await.unwrap();
    let policy = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(policy.starts_with("default-src 'none'"), "{policy}");

    let https = TestApp::spawn_with(&[("HIRELAY_PUBLIC_URL", "https://hirelay.example.jp")]).await;
    let res = https
        .client
        .get(https.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=31536000"
    );
}
