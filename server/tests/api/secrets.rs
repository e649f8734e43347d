//! Issue 15: a full run of the real binary, with every secret set and each one used, leaves none
//! of them in clear text in what it printed or in any file under its data directory (the
//! SQLite database and its write-ahead log included).
use crate::cli::{serve_command, Served};
use crate::helpers::{fresh_database, sample};
use crate::smtp::SmtpServer;
use hirelay::ingest::signature::WebhookSecrets;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

const ADMIN_TOKEN: &str = "adm-Qw7rT2yU9iO4pA6sD1fG8hJ3kL5z";
const KEY_ATS: &str = "c2VjcmV0LWF0cy13ZWJob29rLWtleS1mb3ItZ3JlcC10ZXN0";
const KEY_BIZREACH: &str = "c2VjcmV0LWJpenJlYWNoLXdlYmhvb2sta2V5LWdyZXA=";
const KEY_CAREER_RELAY: &str = "c2VjcmV0LWNhcmVlci1yZWxheS13ZWJob29rLWdyZXA=";
/// `HIRELAY_SECRET_KEY`, the key sealing secrets at rest (32 bytes).
const SECRET_KEY: &str = "Z3JlcC10ZXN0LXNlY3JldC1rZXktMzItYnl0ZXMhISE=";
const BIZREACH_PASSWORD: &str = "brz-Kx4mQ8vN2pL6wR0t";
const SMTP_PASSWORD: &str = "smtp-Hy5bV3nM7cX1zA9q";
const USER_PASSWORD: &str = "usr-Pl0oK9iJ8uH7yG6t";
const NEW_USER_PASSWORD: &str = "usr-Zx2cV4bN6mQ8wE0r";

/// Every file under `dir`, recursively, with its bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            found.push((path.display().to_string(), bytes));
        }
    }
    found
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// A signed webhook to the running binary.
async fn webhook(
    client: &reqwest::Client,
    served: &Served,
    source: &str,
    key: &str,
    id: &str,
    body: &str,
) -> reqwest::Response {
    let secrets = WebhookSecrets::parse(&format!("whsec_{key}")).unwrap();
    let ts = chrono::Utc::now().timestamp();
    client
        .post(served.url(&format!("/v1/webhooks/{source}")))
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header(
            "webhook-signature",
            secrets.sign(id, ts, body.as_bytes()).unwrap(),
        )
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

/// The session cookie a sign-in (or password change) set, and its CSRF token.
async fn session_of(res: reqwest::Response) -> (String, String) {
    assert_eq!(res.status(), 200);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("hirelay_session="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned();
    let body: Value = res.json().await.unwrap();
    (cookie, body["csrf_token"].as_str().unwrap().to_owned())
}

/// The first link under `prefix` in a mail's text part.
fn link(mail: &crate::smtp::ReceivedMail, prefix: &str) -> String {
    let text = mail.part("text/plain").expect("a text part");
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in {text}"));
    text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect()
}

/// Issue 15: the run signs in to BizReach with its password, links a group through the
/// emailed approval link, takes signed webhooks from all three sources, polls BizReach with
/// its session, mails through an SMTP server that wants a password, creates an API token and
/// a webhook subscription, and makes a console user who signs in, changes the password and
/// signs out. Then neither the log (at debug level) nor any byte of any file under the data
/// directory holds any of those secrets.
#[tokio::test(flavor = "multi_thread")]
async fn issue15_a_full_run_leaves_no_secret_in_its_log_or_its_files() {
    let sim = bizreach_sim::start(
        bizreach_sim::SimConfig {
            applications_per_group: 3,
            password: BIZREACH_PASSWORD.to_owned(),
            ..bizreach_sim::SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .await
    .unwrap();
    let smtp = SmtpServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(dir.path()).await;
    let mut served = Served::start(
        serve_command(dir.path(), &database_url)
            .env("RUST_LOG", "debug")
            .env("HIRELAY_PUBLIC_URL", "http://hirelay.test")
            .env("HIRELAY_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("HIRELAY_WEBHOOK_SECRET_ATS", format!("whsec_{KEY_ATS}"))
            .env(
                "HIRELAY_WEBHOOK_SECRET_BIZREACH",
                format!("whsec_{KEY_BIZREACH}"),
            )
            .env(
                "HIRELAY_WEBHOOK_SECRET_CAREER_RELAY",
                format!("whsec_{KEY_CAREER_RELAY}"),
            )
            .env("HIRELAY_SECRET_KEY", SECRET_KEY)
            .env("HIRELAY_BIZREACH_URL", sim.base_url())
            .env("HIRELAY_BIZREACH_RETRY_BASE_MS", "10")
            .env("HIRELAY_OUTBOUND_ALLOW_HOSTS", "127.0.0.1")
            .env("HIRELAY_SENDER_NAME", "株式会社テスト 採用担当")
            .env("HIRELAY_SENDER_ADDRESS", "東京都千代田区1-1-1")
            .env("HIRELAY_SENDER_CONTACT", "recruit@example.jp")
            .env(
                "HIRELAY_SMTP_URL",
                format!("smtp://mailer:{SMTP_PASSWORD}@127.0.0.1:{}", smtp.port),
            ),
    );
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let admin = |method: Method, path: &str| {
        client
            .request(method, served.url(path))
            .bearer_auth(ADMIN_TOKEN)
    };
    let mut secrets: Vec<(&str, String)> = [
        ("the admin token", ADMIN_TOKEN),
        ("the ATS webhook secret", KEY_ATS),
        ("the BizReach webhook secret", KEY_BIZREACH),
        ("the Career Relay webhook secret", KEY_CAREER_RELAY),
        ("HIRELAY_SECRET_KEY", SECRET_KEY),
        ("the BizReach password", BIZREACH_PASSWORD),
        ("the SMTP password", SMTP_PASSWORD),
        ("the user's password", USER_PASSWORD),
        ("the user's new password", NEW_USER_PASSWORD),
    ]
    .map(|(what, value)| (what, value.to_owned()))
    .to_vec();
    // The SMTP password as `AUTH PLAIN` sends it: base64 is clear text too.
    secrets.push(("the SMTP password in base64", {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("\0mailer\0{SMTP_PASSWORD}"))
    }));

    // BizReach: sign in with the password, link a group by its emailed approval link.
    let res = admin(Method::POST, "/v1/bizreach/session")
        .json(&json!({"email": "admin@example.jp", "password": BIZREACH_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let signed_in: Value = res.json().await.unwrap();
    let group = signed_in["group_accounts"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = admin(Method::POST, &format!("/v1/group-accounts/{group}/link"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let mails = smtp.wait_for(1).await;
    let approval = link(&mails[0], "http://hirelay.test/v1/link-approvals/");
    secrets.push((
        "the approval link's token",
        approval.rsplit('/').next().unwrap().to_owned(),
    ));
    let res = client
        .post(approval.replace("http://hirelay.test", &served.url("")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert!(
        smtp.logins().iter().any(|(_, p)| p == SMTP_PASSWORD),
        "the mail was handed over with the SMTP password: {:?}",
        smtp.logins().len()
    );

    // Signed webhooks from every source, one with a wrong signature; a poll with the session.
    let bizreach = sample("bizreach-direct-application.json").replace("grp-001", &group);
    let ats = sample("ats-status-rejected-other-channel.json");
    let relay = sample("career-relay-registration.json")
        .replace("REPLACE_WITH_TOKEN_FROM_EMAIL", "no-such-invitation");
    for (source, key, id, body) in [
        ("bizreach", KEY_BIZREACH, "grep-br-1", &bizreach),
        ("ats", KEY_ATS, "grep-ats-1", &ats),
        ("career-relay", KEY_CAREER_RELAY, "grep-cr-1", &relay),
    ] {
        let res = webhook(&client, &served, source, key, id, body).await;
        assert!(
            res.status().is_success() || res.status() == 422,
            "{source}: {}",
            res.status()
        );
    }
    let res = webhook(&client, &served, "ats", KEY_BIZREACH, "grep-ats-2", &ats).await;
    assert_eq!(res.status(), 401);
    let res = admin(Method::POST, "/v1/scheduler/bizreach-poll/run")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    // An integrator's API token, used; a webhook subscription's signing secret.
    let res = admin(Method::POST, "/v1/tokens")
        .json(&json!({"name": "ats-vendor", "role": "integrator", "source": "ats"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let token = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = client
        .get(served.url("/v1/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    secrets.push(("the API token", token));
    let res = admin(Method::POST, "/v1/webhook-subscriptions")
        .json(&json!({"url": "http://127.0.0.1:9/hook", "event_types": ["application.routed"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let subscription: Value = res.json().await.unwrap();
    let signing = subscription["secret"].as_str().unwrap();
    secrets.push((
        "the subscription's signing secret",
        signing.trim_start_matches("whsec_").to_owned(),
    ));

    // A console user: made with a password, signs in, changes it, signs out.
    let res = admin(Method::POST, "/v1/users")
        .json(&json!({"email": "grep.user@example.jp", "role": "admin", "password": USER_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let res = client
        .post(served.url("/v1/session"))
        .json(&json!({"email": "grep.user@example.jp", "password": USER_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let (cookie, csrf) = session_of(res).await;
    secrets.push(("the session cookie", cookie.clone()));
    let as_user = |cookie: &str, csrf: &str, method: Method, path: &str| {
        client
            .request(method, served.url(path))
            .header("cookie", format!("hirelay_session={cookie}"))
            .header("x-csrf-token", csrf)
    };
    let res = as_user(&cookie, &csrf, Method::PUT, "/v1/session/password")
        .json(&json!({"current_password": USER_PASSWORD, "new_password": NEW_USER_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // The change ends every session of the user and opens a new one for this browser.
    let (cookie, csrf) = session_of(res).await;
    secrets.push((
        "the session cookie after the password change",
        cookie.clone(),
    ));
    let res = as_user(&cookie, &csrf, Method::DELETE, "/v1/session")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = client
        .post(served.url("/v1/session"))
        .json(&json!({"email": "grep.user@example.jp", "password": "wrong-password-1234"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Every event processed before the files are read.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let res = admin(Method::GET, "/v1/events?status=pending")
            .send()
            .await
            .unwrap();
        let pending: Value = res.json().await.unwrap();
        if pending["items"].as_array().is_some_and(|i| i.is_empty()) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let status = served.terminate();
    assert!(status.success(), "exit {status}:\n{}", served.output());
    std::thread::sleep(Duration::from_millis(200));
    let log = served.output();
    assert!(log.contains("DEBUG"), "RUST_LOG=debug took effect");
    let files = files(dir.path());
    if database_url.starts_with("sqlite") {
        assert!(
            files.iter().any(|(name, _)| name.ends_with("hirelay.db")),
            "the database is among the files read"
        );
    }
    let mut found = Vec::new();
    for (what, secret) in &secrets {
        if log.contains(secret.as_str()) {
            let line = log
                .lines()
                .find(|l| l.contains(secret.as_str()))
                .unwrap_or_default();
            found.push(format!("{what} ({secret:?}) in the log: {line}"));
        }
        for (name, bytes) in &files {
            if contains(bytes, secret) {
                found.push(format!("{what} ({secret:?}) in {name}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "secrets in clear text:\n{}",
        found.join("\n")
    );
    sim.stop().await;
}
