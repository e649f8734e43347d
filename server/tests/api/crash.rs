//! Durability: kill -9 the real binary under load, restart it, and count. Every event that was
//! acknowledged (`202`) before the kill is stored, and every stored event is processed.
use crate::helpers::{fresh_database, ADMIN_TOKEN, SECRET};
use hirelay::ingest::signature::WebhookSecrets;
use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Starts `hirelay serve` on a free port; answers the child and its base URL. The server's log
/// goes to `dir/serve.log` (appended across restarts), shown when a test fails.
fn start(dir: &std::path::Path, database_url: &str) -> (Child, String) {
    start_with(dir, database_url, &[])
}

/// [`start`] with extra `HIRELAY_*` variables (which win over the defaults set here).
pub(crate) fn start_with(
    dir: &std::path::Path,
    database_url: &str,
    extra: &[(String, String)],
) -> (Child, String) {
    start_command(
        Command::new(env!("CARGO_BIN_EXE_hirelay")).arg("serve"),
        dir,
        database_url,
        extra,
    )
}

/// [`start_with`] for a `command` that runs `hirelay serve` in some way of its own (under
/// `ulimit`, say).
pub(crate) fn start_command(
    command: &mut Command,
    dir: &std::path::Path,
    database_url: &str,
    extra: &[(String, String)],
) -> (Child, String) {
    let mut child = command
        .env("HIRELAY_BIND", "127.0.0.1:0")
        .env("HIRELAY_DATA_DIR", dir.join("data"))
        .env("HIRELAY_DATABASE_URL", database_url)
        .env(
            "HIRELAY_RULES_DIR",
            crate::helpers::repo_root().join("rules"),
        )
        .env(
            "HIRELAY_TEMPLATES_DIR",
            crate::helpers::repo_root().join("templates"),
        )
        .env("HIRELAY_WEBHOOK_SECRET_ATS", SECRET)
        .env("HIRELAY_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("HIRELAY_EVENT_LEASE_SECS", "10")
        .env("RUST_LOG", "info,hirelay::queue=debug")
        .envs(extra.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start hirelay");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let port = loop {
        assert!(
            std::time::Instant::now() < deadline,
            "hirelay did not say which port it listens on"
        );
        let line = lines
            .next()
            .expect("hirelay exited before listening")
            .unwrap();
        if let Some(rest) = line.split("listening port=").nth(1) {
            break rest
                .split_whitespace()
                .next()
                .unwrap()
                .trim_matches('"')
                .to_owned();
        }
    };
    // Keep draining the pipe so the child never blocks on a full one, into the log file.
    let log_path = dir.join("serve.log");
    std::thread::spawn(move || {
        use std::io::Write;
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_path)
            .expect("open serve.log");
        for line in lines.map_while(Result::ok) {
            let _ = writeln!(log, "{line}");
        }
    });
    (child, format!("http://127.0.0.1:{port}"))
}

fn body(i: usize) -> String {
    format!(
        r#"{{"type":"application.status_changed","ats_application_id":"ats-crash-{i}","candidate":{{"name":"試験 {i}","email":"crash{i}@example.jp"}},"to_status":"screening","changed_at":"2026-11-21T18:00:00+09:00"}}"#
    )
}

/// Acknowledged event ids and the tasks that keep sending until the server stops answering.
pub(crate) type Load = (
    Arc<Mutex<HashSet<String>>>,
    Vec<tokio::task::JoinHandle<()>>,
);

/// 16 lanes of signed ATS webhooks (ids `{prefix}-{i}`), each stopping at its first failure.
pub(crate) fn start_load(base: &str, prefix: &'static str) -> Load {
    let client = reqwest::Client::new();
    let acked: Arc<Mutex<HashSet<String>>> = Arc::default();
    let secrets = WebhookSecrets::parse(SECRET).unwrap();
    let mut senders = Vec::new();
    for lane in 0..16 {
        let (client, base, acked, secrets) = (
            client.clone(),
            base.to_owned(),
            acked.clone(),
            secrets.clone(),
        );
        senders.push(tokio::spawn(async move {
            for n in 0..1_000 {
                let i = lane * 1_000 + n;
                let body = body(i);
                let ts = chrono::Utc::now().timestamp();
                let id = format!("{prefix}-{i}");
                let sent = client
                    .post(format!("{base}/v1/webhooks/ats"))
                    .header("content-type", "application/json")
                    .header("webhook-id", &id)
                    .header("webhook-timestamp", ts.to_string())
                    .header(
                        "webhook-signature",
                        secrets.sign(&id, ts, body.as_bytes()).unwrap(),
                    )
                    .body(body)
                    .send()
                    .await;
                match sent {
                    Ok(res) if res.status() == 202 => {
                        let v: serde_json::Value = match res.json().await {
                            Ok(v) => v,
                            Err(_) => return,
                        };
                        acked
                            .lock()
                            .unwrap()
                            .insert(v["event_id"].as_str().unwrap().to_owned());
                    }
                    _ => return,
                }
            }
        }));
    }
    (acked, senders)
}

/// Waits until `acked` holds `n` ids (or 20 s pass: other tests may share the cores).
pub(crate) async fn wait_for_acks(acked: &Mutex<HashSet<String>>, n: usize) {
    for _ in 0..2_000 {
        if acked.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Every stored event id once none is left pending, and how many events were still pending by
/// state when waiting stopped: at once when none is, or after 60 s in which the number of
/// pending events did not go down (a slow machine is not a stuck queue), or after 5 minutes.
pub(crate) async fn stored_once_processed(
    base: &str,
) -> (HashSet<String>, BTreeMap<String, usize>) {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut progress = (usize::MAX, Instant::now());
    loop {
        let mut stored = HashSet::new();
        let mut pending: BTreeMap<String, usize> = BTreeMap::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{base}/v1/events?limit=500");
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let page: serde_json::Value = client
                .get(url)
                .bearer_auth(ADMIN_TOKEN)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            for e in page["items"].as_array().unwrap() {
                stored.insert(e["id"].as_str().unwrap().to_owned());
                let status = e["status"].as_str().unwrap_or_default();
                if !matches!(status, "done" | "failed" | "dead") {
                    *pending.entry(status.to_owned()).or_default() += 1;
                }
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        let left: usize = pending.values().sum();
        if left < progress.0 {
            progress = (left, Instant::now());
        }
        if left == 0
            || progress.1.elapsed() > Duration::from_secs(60)
            || started.elapsed() > Duration::from_secs(300)
        {
            return (stored, pending);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The last `n` lines the server logged in `dir`.
pub(crate) fn log_tail(dir: &std::path::Path, n: usize) -> String {
    let log = std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

pub(crate) fn assert_none_lost(acked: &HashSet<String>, stored: &HashSet<String>) {
    let lost: Vec<_> = acked.difference(stored).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged events were lost, e.g. {:?}",
        lost.len(),
        lost.iter().take(3).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_under_load_loses_no_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(dir.path()).await;
    let (mut child, base) = start(dir.path(), &database_url);
    let (acked, senders) = start_load(&base, "crash");
    // Let the load build up, then kill without warning.
    wait_for_acks(&acked, 1_500).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    for s in senders {
        let _ = s.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 200,
        "the load did not get going: {} acknowledged",
        acked.len()
    );

    let (mut child, base) = start(dir.path(), &database_url);
    let (stored, pending) = stored_once_processed(&base).await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert_none_lost(&acked, &stored);
    assert!(
        pending.is_empty(),
        "events left unprocessed after the restart: {pending:?}\nlast lines of the server log:\n{}",
        log_tail(dir.path(), 60)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_exits_0_and_keeps_every_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(dir.path()).await;
    let (mut child, base) = start(dir.path(), &database_url);
    let (acked, senders) = start_load(&base, "term");
    wait_for_acks(&acked, 1_000).await;
    let started = Instant::now();
    let status = crate::cli::terminate(&mut child);
    assert!(status.success(), "exit after SIGTERM: {status}");
    assert!(started.elapsed() < Duration::from_secs(30));
    for s in senders {
        let _ = s.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 200,
        "the load did not get going: {} acknowledged",
        acked.len()
    );

    let (mut child, base) = start(dir.path(), &database_url);
    let (stored, pending) = stored_once_processed(&base).await;
    let status = crate::cli::terminate(&mut child);
    assert!(status.success(), "exit after SIGTERM when idle: {status}");
    assert_none_lost(&acked, &stored);
    assert!(
        pending.is_empty(),
        "events left unprocessed after the restart: {pending:?}\nlast lines of the server log:\n{}",
        log_tail(dir.path(), 60)
    );
}
