//! Issue 15 (hostile input): a black-box fuzzer against the real `hirelay` binary. Mutated
//! webhook bodies (signed, so they reach the parsers), mutated headers, and mutated admin
//! requests (paths, queries, bodies, scripts, templates), from a fixed seed: every answer is
//! below 500, the process never panics, and it is healthy afterwards.
//!
//! `HIRELAY_FUZZ_CASES` (default 10,000) and `HIRELAY_FUZZ_SEED` choose the run; the README's
//! "Reliability" section gives the command for a long one.
use reqwest::Method;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::cli::{serve_command, Served};
use crate::helpers::{fresh_database, sample};
use hirelay::ingest::signature::WebhookSecrets;

const ADMIN: &str = "fuzz-admin-token-Vq3nR8kX1mZt";
const SECRET: &str = "whsec_ZnV6ei13ZWJob29rLXNlY3JldC0wMTIzNDU2Nzg5YWI=";

/// SplitMix64: small, fast and the same on every machine, so a seed names a run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// Strings that break naive code: empty, huge, control characters, path tricks, numbers at
/// their limits, markup, SQL, template and script syntax.
const NASTY: &[&str] = &[
    "",
    " ",
    "\u{0}",
    "\u{202e}",
    "🙂",
    "鈴木 一郎",
    "../../etc/passwd",
    "%2e%2e%2f",
    "-1",
    "0",
    "9223372036854775807",
    "-9223372036854775808",
    "1e400",
    "NaN",
    "null",
    "true",
    "[]",
    "{}",
    "<script>alert(1)</script>",
    "'; DROP TABLE events; --",
    "{{#each this}}{{> x}}{{/each}}",
    "{{lookup this 'a'}}",
    "while true {}",
    "fn f(){f()} f()",
    "a@b",
    "@example.jp",
    "x@y..jp",
    "2026-02-30T25:61:61+09:00",
    "9999-12-31T23:59:59Z",
    "*/0 * * * *",
    "app_",
    "evt_../../",
];

fn nasty_string(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => "A".repeat(rng.below(70_000)),
        1 => (0..rng.below(64))
            .map(|_| char::from_u32(rng.below(0x3_0000) as u32).unwrap_or('?'))
            .collect(),
        _ => rng.pick(NASTY).to_string(),
    }
}

fn nasty_json(rng: &mut Rng, depth: usize) -> serde_json::Value {
    use serde_json::Value;
    match rng.below(if depth > 3 { 6 } else { 9 }) {
        0 => Value::Null,
        1 => Value::from(rng.chance(50)),
        2 => Value::from(rng.next() as i64),
        3 => Value::from(f64::from_bits(rng.next()))
            .as_f64()
            .map_or(Value::Null, Value::from),
        4 | 5 => Value::from(nasty_string(rng)),
        6 => Value::from(
            (0..rng.below(5))
                .map(|_| nasty_json(rng, depth + 1))
                .collect::<Vec<_>>(),
        ),
        7 => {
            // Nested as deep as serde_json builds (deeper comes as raw bytes, below).
            let depth = 1 + rng.below(100);
            serde_json::from_str(&format!("{}{}", "[".repeat(depth), "]".repeat(depth)))
                .unwrap_or(Value::Null)
        }
        _ => {
            let mut map = serde_json::Map::new();
            for _ in 0..rng.below(5) {
                map.insert(nasty_string(rng), nasty_json(rng, depth + 1));
            }
            Value::Object(map)
        }
    }
}

/// One value somewhere in `value` replaced, removed, or the whole tree kept.
fn mutate_json(rng: &mut Rng, value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) if !map.is_empty() && rng.chance(80) => {
            let key = map
                .keys()
                .nth(rng.below(map.len()))
                .cloned()
                .unwrap_or_default();
            match rng.below(4) {
                0 => {
                    map.remove(&key);
                }
                1 => {
                    map.insert(key, nasty_json(rng, 0));
                }
                _ => {
                    if let Some(child) = map.get_mut(&key) {
                        mutate_json(rng, child);
                    }
                }
            }
        }
        Value::Array(items) if !items.is_empty() && rng.chance(80) => {
            let i = rng.below(items.len());
            mutate_json(rng, &mut items[i]);
        }
        other => *other = nasty_json(rng, 0),
    }
}

/// Byte-level damage: flips, cuts, insertions, repeats, or invalid UTF-8.
fn mutate_bytes(rng: &mut Rng, bytes: &mut Vec<u8>) {
    for _ in 0..=rng.below(4) {
        let len = bytes.len().max(1);
        match rng.below(6) {
            0 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
            1 => bytes.truncate(rng.below(len)),
            2 => {
                let at = rng.below(len).min(bytes.len());
                let junk: Vec<u8> = (0..rng.below(16)).map(|_| rng.next() as u8).collect();
                bytes.splice(at..at, junk);
            }
            3 if !bytes.is_empty() => {
                let from = rng.below(bytes.len());
                let to = (from + rng.below(64)).min(bytes.len());
                let copy = bytes[from..to].to_vec();
                bytes.splice(to..to, copy);
            }
            4 => bytes.extend_from_slice(&[0xff, 0xfe, 0xc0, 0x80]),
            _ => {
                // Nesting deep enough to overflow a recursive parser's stack.
                let depth = 1_000 + rng.below(100_000);
                let mut deep = "[".repeat(depth).into_bytes();
                deep.extend(std::iter::repeat_n(b']', depth));
                let at = rng.below(len).min(bytes.len());
                bytes.splice(at..at, deep);
            }
        }
    }
}

/// One case: a request and whether it was a signed webhook.
struct Case {
    method: Method,
    path: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    admin: bool,
}

const SOURCES: &[(&str, &[&str])] = &[
    (
        "ats",
        &[
            "ats-status-rejected.json",
            "ats-status-rejected-other-channel.json",
        ],
    ),
    (
        "bizreach",
        &[
            "bizreach-direct-application.json",
            "bizreach-scout-reply-rejected.json",
        ],
    ),
    ("career-relay", &["career-relay-registration.json"]),
];

fn webhook_case(rng: &mut Rng, n: usize, secrets: &WebhookSecrets) -> Case {
    let (source, files) = *rng.pick(SOURCES);
    let file = *rng.pick(files);
    let mut body = sample(file).into_bytes();
    if rng.chance(60) {
        let mut value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        for _ in 0..=rng.below(3) {
            mutate_json(rng, &mut value);
        }
        body = serde_json::to_vec(&value).unwrap();
    } else if rng.chance(70) {
        mutate_bytes(rng, &mut body);
    }
    let mut id = format!("fuzz-{n}");
    let mut timestamp = chrono::Utc::now().timestamp().to_string();
    let mut signature = secrets
        .sign(&id, timestamp.parse().unwrap(), &body)
        .unwrap();
    // Sometimes the headers are the hostile part (after signing, so they no longer match).
    if rng.chance(20) {
        match rng.below(4) {
            0 => id = nasty_string(rng),
            1 => timestamp = nasty_string(rng),
            2 => signature = nasty_string(rng),
            _ => signature = format!("v1,{}", nasty_string(rng)),
        }
    }
    let content_type = if rng.chance(90) {
        "application/json".to_owned()
    } else {
        nasty_string(rng)
    };
    let headers = vec![
        ("content-type".into(), content_type.into_bytes()),
        ("webhook-id".into(), id.into_bytes()),
        ("webhook-timestamp".into(), timestamp.into_bytes()),
        ("webhook-signature".into(), signature.into_bytes()),
    ];
    Case {
        method: Method::POST,
        path: format!("/v1/webhooks/{source}"),
        headers,
        body,
        admin: false,
    }
}

/// Admin paths with `{}` for an id, and a valid body to start mutating from.
const ADMIN_CALLS: &[(&str, &str, &str)] = &[
    ("GET", "/v1/events", ""),
    ("GET", "/v1/events/{}", ""),
    ("POST", "/v1/events/{}/replay", ""),
    ("POST", "/v1/events/replay", r#"{"status":"failed"}"#),
    ("GET", "/v1/applications", ""),
    ("GET", "/v1/applications/{}", ""),
    ("GET", "/v1/imports", ""),
    (
        "POST",
        "/v1/imports/route",
        r#"{"application_ids":["app_x"],"job_id":"job_x","register_rule":true}"#,
    ),
    ("POST", "/v1/jobs", r#"{"name":"フィールドセールス"}"#),
    (
        "POST",
        "/v1/routing-rules",
        r#"{"group":"g","position":"p","job_id":"job_x"}"#,
    ),
    ("DELETE", "/v1/routing-rules/{}", ""),
    ("GET", "/v1/rules/{}", ""),
    (
        "PUT",
        "/v1/rules/career_relay",
        r#"{"source":"fn on_rejected(app) { }"}"#,
    ),
    (
        "POST",
        "/v1/rules/status/dry-run",
        r#"{"events":[{"source":"ats","payload":{}}]}"#,
    ),
    ("GET", "/v1/rules/import/versions/{}", ""),
    (
        "PUT",
        "/v1/templates/invitation",
        r#"{"subject":"{{candidate.name}}","html":"<p>{{x}}</p>","text":"{{x}}"}"#,
    ),
    (
        "POST",
        "/v1/templates/invitation/preview",
        r#"{"data":{"candidate":{"name":"x"}}}"#,
    ),
    ("GET", "/v1/outbox", ""),
    ("POST", "/v1/outbox/{}/cancel", ""),
    ("GET", "/v1/kpis/funnel", ""),
    ("GET", "/v1/kpis/export.csv", ""),
    ("GET", "/v1/career-relay/ledger", ""),
    ("GET", "/v1/invitations", ""),
    (
        "POST",
        "/v1/opt-outs",
        r#"{"email":"a@example.jp","reason":"phone"}"#,
    ),
    ("GET", "/v1/opt-outs", ""),
    (
        "POST",
        "/v1/consents",
        r#"{"email":"a@example.jp","given_at":"2026-11-01T10:00:00+09:00","method":"form"}"#,
    ),
    (
        "POST",
        "/v1/webhook-subscriptions",
        r#"{"url":"https://hooks.example.jp/x","events":["application.routed"]}"#,
    ),
    ("GET", "/v1/webhook-deliveries", ""),
    (
        "POST",
        "/v1/notifications/subscriptions",
        r#"{"email":"hr@example.jp","events":["import.unrouted"]}"#,
    ),
    ("GET", "/v1/group-accounts", ""),
    (
        "PUT",
        "/v1/group-accounts/{}/progress-sync",
        r#"{"enabled":true}"#,
    ),
    ("GET", "/v1/audit-log", ""),
    (
        "POST",
        "/v1/users",
        r#"{"email":"u@example.jp","role":"viewer","name":"u"}"#,
    ),
    ("PATCH", "/v1/users/{}", r#"{"role":"admin"}"#),
    ("POST", "/v1/tokens", r#"{"name":"t","role":"viewer"}"#),
    ("GET", "/r/{}", ""),
    ("GET", "/v1/unsubscribe/{}", ""),
    ("POST", "/v1/link-approvals/{}", ""),
];

const QUERY_KEYS: &[&str] = &[
    "limit",
    "cursor",
    "status",
    "source",
    "from",
    "to",
    "group_by",
    "email",
    "candidate",
    "ats_application_id",
    "since",
    "until",
    "page",
];

fn admin_case(rng: &mut Rng) -> Case {
    let (method, path, body) = *rng.pick(ADMIN_CALLS);
    let id: String = if rng.chance(30) {
        let prefix = *rng.pick(&["app_", "evt_", "job_", "usr_", "tok_", "msg_"]);
        format!("{prefix}{}", rng.next())
    } else {
        nasty_string(rng).chars().take(300).collect()
    };
    let id: String = url_escape(&id);
    let mut path = path.replace("{}", &id);
    if rng.chance(40) {
        let pairs: Vec<String> = (0..=rng.below(3))
            .map(|_| {
                let key = rng.pick(QUERY_KEYS);
                let value: String = nasty_string(rng).chars().take(200).collect();
                format!("{key}={}", url_escape(&value))
            })
            .collect();
        path = format!("{path}?{}", pairs.join("&"));
    }
    let mut bytes = body.as_bytes().to_vec();
    if !body.is_empty() {
        if rng.chance(70) {
            let mut value: serde_json::Value = serde_json::from_str(body).unwrap();
            mutate_json(rng, &mut value);
            bytes = serde_json::to_vec(&value).unwrap();
        } else {
            mutate_bytes(rng, &mut bytes);
        }
    }
    let method = if rng.chance(10) {
        rng.pick(&[
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .clone()
    } else {
        method.parse().unwrap()
    };
    Case {
        method,
        path,
        headers: vec![("content-type".into(), b"application/json".to_vec())],
        body: bytes,
        admin: true,
    }
}

fn url_escape(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issue15_ten_thousand_mutated_requests_get_no_5xx_and_the_server_stays_healthy() {
    let cases = env_number("HIRELAY_FUZZ_CASES", 10_000) as usize;
    // One failing case again: HIRELAY_FUZZ_FIRST=N HIRELAY_FUZZ_CASES=1.
    let first = env_number("HIRELAY_FUZZ_FIRST", 0) as usize;
    let seed = env_number("HIRELAY_FUZZ_SEED", 0x15_f022);
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(dir.path()).await;
    let served = Arc::new(Served::start(
        serve_command(dir.path(), &database_url)
            .env("HIRELAY_ADMIN_TOKEN", ADMIN)
            .env("HIRELAY_WEBHOOK_SECRET_ATS", SECRET)
            .env("HIRELAY_WEBHOOK_SECRET_BIZREACH", SECRET)
            .env("HIRELAY_WEBHOOK_SECRET_CAREER_RELAY", SECRET),
    ));
    let secrets = WebhookSecrets::parse(SECRET).unwrap();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let next = Arc::new(AtomicUsize::new(first));
    let mut workers = Vec::new();
    for _ in 0..8 {
        let (client, served, secrets) = (client.clone(), served.clone(), secrets.clone());
        let (accepted, refused, failures, next) = (
            accepted.clone(),
            refused.clone(),
            failures.clone(),
            next.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= first + cases {
                    break;
                }
                // Each case has its own generator, so a failing case is named by seed and number.
                let mut rng = Rng(seed ^ (n as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
                let case = if rng.chance(60) {
                    webhook_case(&mut rng, n, &secrets)
                } else {
                    admin_case(&mut rng)
                };
                let send = || {
                    let mut request = client.request(case.method.clone(), served.url(&case.path));
                    for (name, value) in &case.headers {
                        if let Ok(value) = reqwest::header::HeaderValue::from_bytes(value) {
                            request = request.header(name.as_str(), value);
                        }
                    }
                    if case.admin {
                        request = request.bearer_auth(ADMIN);
                    }
                    request.body(case.body.clone()).send()
                };
                // A 503 with Retry-After is the server saying "busy, again later" (a database
                // lock held long on a loaded machine): the request is sent again, as a client
                // would. Any other 5xx, or a 503 that persists, is a defect.
                let mut answer = send().await;
                for _ in 0..3 {
                    match &answer {
                        Ok(res)
                            if res.status() == 503 && res.headers().contains_key("retry-after") =>
                        {
                            tokio::time::sleep(Duration::from_millis(500)).await;
                            answer = send().await;
                        }
                        _ => break,
                    }
                }
                match answer {
                    Ok(res) if res.status().is_server_error() => {
                        let status = res.status();
                        let text = res.text().await.unwrap_or_default();
                        failures.lock().unwrap().push(format!(
                            "case {n} (seed {seed}): {} {} → {status} {}\n  body: {:?}",
                            case.method,
                            case.path.chars().take(120).collect::<String>(),
                            text.chars().take(300).collect::<String>(),
                            String::from_utf8_lossy(&case.body)
                                .chars()
                                .take(300)
                                .collect::<String>()
                        ));
                    }
                    Ok(res) if res.status().is_success() => {
                        accepted.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => failures.lock().unwrap().push(format!(
                        "case {n} (seed {seed}): {} {}: no answer: {e}",
                        case.method,
                        case.path.chars().take(120).collect::<String>()
                    )),
                }
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    let failures = failures.lock().unwrap().clone();
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed; the first:\n{}\nthe server's errors:\n{}",
        failures.len(),
        failures
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
        served
            .output()
            .lines()
            .filter(|l| l.contains("ERROR"))
            .take(10)
            .collect::<Vec<_>>()
            .join("\n")
    );
    let (accepted, refused) = (
        accepted.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed),
    );
    assert_eq!(accepted + refused, cases);
    assert!(
        accepted * 10 >= cases,
        "the cases reach past the door: {accepted} accepted of {cases}"
    );
    assert!(refused * 10 >= cases, "{refused} refused of {cases}");
    let health = client.get(served.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let output = served.output();
    assert!(!output.contains("panicked"), "{output}");
}
