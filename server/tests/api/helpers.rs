//! One `TestApp` for every test: the real server on a free port, a fresh SQLite file (or a fresh
//! PostgreSQL database when `HIRELAY_TEST_DATABASE_URL` is set), copies of the shipped rules and
//! templates, a real SMTP server on loopback, and typed request helpers.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use hirelay::config::Config;
use hirelay::ingest::signature::WebhookSecrets;
use hirelay::startup::{Application, Stopper};
use serde_json::Value;

use crate::smtp::SmtpServer;

pub const SECRET: &str = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
/// A cron expression whose first tick is far beyond any test run.
pub const NEVER: &str = "0 0 0 1 1 * 2099";

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub smtp: SmtpServer,
    pub dir: tempfile::TempDir,
    pub rules_dir: PathBuf,
    pub templates_dir: PathBuf,
    pub database_url: String,
    pub env: HashMap<String, String>,
    stopper: Stopper,
    /// The server and its workers: done once they all stopped.
    running: tokio::task::JoinHandle<std::io::Result<()>>,
    pub state: actix_web::web::Data<hirelay::http::AppState>,
}

/// The workspace root (beside it: `../shared`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    if !from.exists() {
        return;
    }
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A fresh database URL: a new PostgreSQL database on the test server, or an SQLite file in `dir`.
pub async fn fresh_database(dir: &Path) -> String {
    match std::env::var("HIRELAY_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            use sea_orm::ConnectionTrait;
            let name = format!("hirelay_test_{}", uuid::Uuid::new_v4().simple());
            let admin = sea_orm::Database::connect(&url)
                .await
                .expect("connect to HIRELAY_TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let (base, _) = url.rsplit_once('/').expect("postgres URL with a database");
            format!("{base}/{name}")
        }
        _ => format!("sqlite://{}?mode=rwc", dir.join("hirelay.db").display()),
    }
}

/// Everything logged in this test binary, from the first server started (or the first call).
///
/// One subscriber for the binary, with two outputs: every line at every level the server's
/// own filter lets through at its most verbose (`RUST_LOG=trace`: everything but the database
/// drivers' statement spans, see `hirelay::telemetry`) into this buffer, for tests that check
/// what is (never) logged; warnings and errors to the test output, which the harness shows for
/// a failing test (a 500's cause is logged, never answered).
pub fn log_capture() -> Arc<Mutex<Vec<u8>>> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUFFER
        .get_or_init(|| {
            let buffer = Arc::new(Mutex::new(Vec::new()));
            let sink = buffer.clone();
            tracing_subscriber::registry()
                .with(
                    tracing_subscriber::fmt::layer()
                        .with_ansi(false)
                        .with_writer(move || Sink(sink.clone()))
                        .with_filter(hirelay::telemetry::filter("trace")),
                )
                .with(
                    tracing_subscriber::fmt::layer()
                        .with_ansi(false)
                        .with_test_writer()
                        .with_filter(tracing_subscriber::filter::LevelFilter::WARN),
                )
                .try_init()
                .expect("the log capture is the test binary's only subscriber");
            buffer
        })
        .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(&[]).await
    }

    /// Spawns with extra `HIRELAY_*` variables.
    pub async fn spawn_with(extra: &[(&str, &str)]) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let database_url = fresh_database(dir.path()).await;
        Self::spawn_in(dir, database_url, extra).await
    }

    /// Spawns on an existing directory and database (to restart over the same data).
    pub async fn spawn_in(
        dir: tempfile::TempDir,
        database_url: String,
        extra: &[(&str, &str)],
    ) -> TestApp {
        log_capture();
        let smtp = SmtpServer::start().await;
        let rules_dir = dir.path().join("rules");
        let templates_dir = dir.path().join("templates");
        if !rules_dir.exists() {
            copy_dir(&repo_root().join("rules"), &rules_dir);
            copy_dir(&repo_root().join("templates"), &templates_dir);
        }
        let mut env: HashMap<String, String> = [
            ("HIRELAY_BIND", "127.0.0.1:0".to_owned()),
            (
                "HIRELAY_DATA_DIR",
                dir.path().join("data").display().to_string(),
            ),
            ("HIRELAY_DATABASE_URL", database_url.clone()),
            ("HIRELAY_RULES_DIR", rules_dir.display().to_string()),
            ("HIRELAY_TEMPLATES_DIR", templates_dir.display().to_string()),
            ("HIRELAY_SMTP_URL", smtp.url()),
            ("HIRELAY_ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
            ("HIRELAY_WEBHOOK_SECRET_BIZREACH", SECRET.to_owned()),
            ("HIRELAY_WEBHOOK_SECRET_ATS", SECRET.to_owned()),
            ("HIRELAY_WEBHOOK_SECRET_CAREER_RELAY", SECRET.to_owned()),
            ("HIRELAY_PUBLIC_URL", "http://hirelay.test".to_owned()),
            ("HIRELAY_TEST_RECIPIENTS", "@example.jp".to_owned()),
            ("HIRELAY_SENDER_NAME", "株式会社テスト 採用担当".to_owned()),
            (
                "HIRELAY_SENDER_ADDRESS",
                "〒100-0001 東京都千代田区千代田1-1".to_owned(),
            ),
            ("HIRELAY_SENDER_CONTACT", "recruit@example.jp".to_owned()),
            // Many test servers share one PostgreSQL: each keeps a small pool.
            ("HIRELAY_DATABASE_POOL", "4".to_owned()),
            // Scheduled jobs never run on their own (a test crossing a six-minute boundary
            // would meet the poller beside its own run); tests run them through
            // `POST /v1/scheduler/{job}/run` or give a schedule of their own.
            ("HIRELAY_POLL_SCHEDULE", NEVER.to_owned()),
            ("HIRELAY_SYNC_SCHEDULE", NEVER.to_owned()),
            ("HIRELAY_RETENTION_SCHEDULE", NEVER.to_owned()),
            ("HIRELAY_REPORT_SCHEDULE", NEVER.to_owned()),
            (
                "HIRELAY_CAREER_RELAY_URL",
                "https://career-relay.test/register".to_owned(),
            ),
            // The tests' webhook subscribers listen on loopback, which is refused otherwise.
            ("HIRELAY_OUTBOUND_ALLOW_HOSTS", "127.0.0.1".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for (k, v) in extra {
            env.insert(k.to_string(), v.to_string());
        }
        let config = Config::load(None, &env).expect("test config");
        let app = Application::build(config).await.expect("build app");
        let port = app.port();
        let stopper = app.stopper();
        let state = app.state.clone();
        let running = tokio::spawn(app.run_until_stopped());
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            smtp,
            dir,
            rules_dir,
            templates_dir,
            database_url,
            env,
            stopper,
            running,
            state,
        }
    }

    /// Stops the server gracefully and hands back its directory and database for a restart.
    pub async fn stop(self) -> (tempfile::TempDir, String) {
        self.stopper.stop().await;
        // Its workers finish the batch in hand before the database is handed on: a worker still
        // claiming would take events meant for the next server.
        let _ = self.running.await;
        (self.dir, self.database_url)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A signed webhook delivery with the test secret.
    pub async fn post_webhook(
        &self,
        source: &str,
        webhook_id: &str,
        body: &str,
    ) -> reqwest::Response {
        let secrets = WebhookSecrets::parse(SECRET).unwrap();
        let ts = chrono::Utc::now().timestamp();
        let signature = secrets.sign(webhook_id, ts, body.as_bytes()).unwrap();
        self.client
            .post(self.url(&format!("/v1/webhooks/{source}")))
            .header("content-type", "application/json")
            .header("webhook-id", webhook_id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", signature)
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
    }

    /// Posts a new signed delivery to `/v1/webhooks/{source}`, expects `202`, and waits until its
    /// event is processed; answers the event.
    pub async fn deliver(&self, source: &str, webhook_id: &str, body: &str) -> Value {
        let res = self.post_webhook(source, webhook_id, body).await;
        assert_eq!(res.status(), 202, "{}", res.text().await.unwrap());
        let id = res.json::<Value>().await.unwrap()["event_id"]
            .as_str()
            .unwrap()
            .to_owned();
        self.wait_event(&id).await
    }

    /// Saves `text` as rule script `name` with the admin token; it is active when this answers.
    pub async fn activate_rule(&self, name: &str, text: &str) {
        let res = self
            .admin(reqwest::Method::PUT, &format!("/v1/rules/{name}"))
            .header("content-type", "text/plain")
            .body(text.to_owned())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }

    /// The `/openapi.json` document (no token needed).
    pub async fn openapi(&self) -> Value {
        self.client
            .get(self.url("/openapi.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A request with the bootstrap admin token.
    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.as_token(ADMIN_TOKEN, method, path)
    }

    pub fn as_token(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(token)
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let res = self.admin(reqwest::Method::GET, path).send().await.unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert!(status.is_success(), "GET {path}: {status} {body}");
        body
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let res = self
            .admin(reqwest::Method::POST, path)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Creates a token of `role` through the store, as `hirelay token create` does.
    pub async fn token(&self, role: hirelay::domain::role::Role) -> String {
        self.state.store.create_token("test", role).await.unwrap().1
    }

    /// Waits until the event reaches a final state (`done`, `failed`, `dead`) and returns it.
    /// Erases candidate `id` as the admin (`DELETE /v1/candidates/{id}`); expects `200` and
    /// answers what the erasure reported.
    pub async fn erase_candidate(&self, id: &str) -> Value {
        let res = self
            .admin(reqwest::Method::DELETE, &format!("/v1/candidates/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "erasing {id}");
        res.json().await.unwrap()
    }

    pub async fn wait_event(&self, event_id: &str) -> Value {
        for _ in 0..1200 {
            let e = self.get_json(&format!("/v1/events/{event_id}")).await;
            if matches!(e["status"].as_str(), Some("done" | "failed" | "dead")) {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("event {event_id} did not finish");
    }
}

/// Reads a file of `../shared/samples`.
pub fn sample(name: &str) -> String {
    std::fs::read_to_string(repo_root().join("..").join("shared/samples").join(name)).unwrap()
}

/// Stores events (source, type, body) straight into the queue of a stopped hirelay with
/// grp-001 linked, then starts it, so that its first batch claims them all; answers the
/// restarted hirelay and the events' ids, in order.
pub async fn queued_together(
    events: &[(hirelay::domain::status::EventSource, &str, String)],
) -> (TestApp, Vec<String>) {
    queued_together_with_rules(&[], events).await
}

/// [`queued_together`], with rule files (`status.rhai`, text) replaced before the start.
pub async fn queued_together_with_rules(
    rules: &[(&str, &str)],
    events: &[(hirelay::domain::status::EventSource, &str, String)],
) -> (TestApp, Vec<String>) {
    queued_together_with(rules, &[], events).await
}

/// [`queued_together_with_rules`], with SQL statements (jobs, routing rules, …) run on the
/// database before the start.
pub async fn queued_together_with(
    rules: &[(&str, &str)],
    setup: &[&str],
    events: &[(hirelay::domain::status::EventSource, &str, String)],
) -> (TestApp, Vec<String>) {
    use hirelay::store::events::NewEvent;
    use sea_orm::ConnectionTrait;
    let (dir, url) = TestApp::spawn().await.stop().await;
    for (file, text) in rules {
        std::fs::write(dir.path().join("rules").join(file), text).unwrap();
    }
    let store = hirelay::store::Store::connect(&url, 2, 1).await.unwrap();
    let db = &store.db;
    db.execute(sea_orm::Statement::from_string(
        db.get_database_backend(),
        "INSERT INTO group_accounts (id, name, admin_email, status, linked_at, progress_sync, updated_at) \
         VALUES ('grp-001', 'テスト', 'admin@example.jp', 'linked', 0, false, 0)",
    ))
    .await
    .unwrap();
    for sql in setup {
        db.execute_unprepared(sql).await.unwrap();
    }
    let now = hirelay::domain::time::now_millis();
    let events: Vec<NewEvent> = events
        .iter()
        .enumerate()
        .map(|(i, (source, kind, body))| NewEvent {
            id: hirelay::domain::ids::new_id("evt"),
            source: *source,
            kind: kind.to_string(),
            webhook_id: format!("together-{i}"),
            body_hash: format!("hash-{i}"),
            payload: body.clone(),
            received_at: now + i as i64,
            person: Default::default(),
        })
        .collect();
    store.insert_events(&events).await.unwrap();
    store.db.clone().close().await.unwrap();
    let app = TestApp::spawn_in(dir, url, &[]).await;
    (app, events.into_iter().map(|e| e.id).collect())
}

/// Undoes migration `name` and every one after it (to test a migration against the rows of
/// the schema before it).
pub async fn migrate_down_through(db: &sea_orm::DatabaseConnection, name: &str) {
    use migrations::{Migrator, MigratorTrait};
    let all = Migrator::migrations();
    let index = all
        .iter()
        .position(|m| m.name() == name)
        .unwrap_or_else(|| panic!("no migration {name}"));
    Migrator::down(db, Some((all.len() - index) as u32))
        .await
        .unwrap();
}

/// The `Retry-After` of a `429`, in seconds.
pub fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// The password every test user gets from [`TestApp::user`].
pub const USER_PASSWORD: &str = "correct horse battery staple";

/// A console session of a signed-in test user: its cookie and CSRF token.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
    pub user: Value,
}

impl TestApp {
    /// Creates a console user of `role` (`{role}@example.jp`, named `{role} さん`, password
    /// [`USER_PASSWORD`], no change required), as `hirelay user create` does; answers the address.
    pub async fn user(&self, role: hirelay::domain::role::Role) -> String {
        let email = format!("{}@example.jp", role.as_str());
        let name = format!("{} さん", role.as_str());
        self.state
            .accounts
            .create_user(
                &email,
                Some(&name),
                role,
                USER_PASSWORD.to_owned().into(),
                false,
                hirelay::domain::time::now_millis(),
            )
            .await
            .unwrap();
        email
    }

    /// `POST /v1/session`, answered as it came.
    pub async fn post_session(&self, email: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/v1/session"))
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// Signs `email` in with [`USER_PASSWORD`]; panics unless it succeeds.
    pub async fn sign_in(&self, email: &str) -> Session {
        let res = self.post_session(email, USER_PASSWORD).await;
        assert_eq!(res.status(), 200, "sign-in of {email}");
        let set_cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        let body: Value = res.json().await.unwrap();
        Session {
            cookie,
            csrf: body["csrf_token"].as_str().unwrap().to_owned(),
            user: body["user"].clone(),
        }
    }

    /// A request of a signed-in browser: the cookie, and the CSRF token.
    pub fn as_session(
        &self,
        session: &Session,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header("cookie", &session.cookie)
            .header("x-csrf-token", &session.csrf)
    }
}

/// Sends `signal` to the process group `child` leads (it was started with `process_group(0)`),
/// so whatever it started in the background goes too. Never through an external `kill`: procps'
/// `kill -KILL -PID`, without `--`, signals every process on the machine.
pub fn signal_group(child: &std::process::Child, signal: nix::sys::signal::Signal) {
    let group = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::killpg(group, signal);
}

/// Sends `signal` to `child` alone.
pub fn signal_process(
    child: &std::process::Child,
    signal: nix::sys::signal::Signal,
) -> nix::Result<()> {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal)
}
