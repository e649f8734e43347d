//! BizReach benchmarks against the local simulator (a real HTTP peer on loopback):
//! - a backfill of 500 applications (of 600 within the year), timed until the endpoint answers
//!   and until every imported application was processed by `import.rhai`;
//! - a poll of 10 linked groups with 1,000 new applications each, imported and processed.
//!
//! `cargo run --release -p hirelay --example bench_bizreach`
use std::collections::HashMap;
use std::time::{Duration, Instant};

use hirelay::config::Config;
use hirelay::startup::Application;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};

/// At least 24 characters: hirelay refuses a shorter bootstrap admin token.
const TOKEN: &str = "bench-admin-token-0123456789abcdef";

async fn post(client: &reqwest::Client, url: String, body: Value) -> anyhow::Result<Value> {
    let res = client
        .post(url)
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await?;
    let status = res.status();
    let body: Value = res.json().await?;
    anyhow::ensure!(status.is_success(), "{status}: {body}");
    Ok(body)
}

/// Waits until no event is pending or processing; answers when that was.
async fn drained(state: &hirelay::http::AppState) -> anyhow::Result<Instant> {
    loop {
        if !state.store.has_open_events().await? {
            return Ok(Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What a timed run came to: the endpoint's answer, when it answered, when the queue drained.
struct Timed {
    report: Value,
    answered_ms: f64,
    processed_ms: f64,
}

/// POSTs to `url` (an admin run: backfill, poller) and times the answer and the processing.
async fn timed_run(
    client: &reqwest::Client,
    state: &hirelay::http::AppState,
    url: String,
) -> anyhow::Result<Timed> {
    let started = Instant::now();
    let report = post(client, url, json!({})).await?;
    let answered = started.elapsed();
    let processed = drained(state).await?.duration_since(started);
    Ok(Timed {
        report,
        answered_ms: answered.as_secs_f64() * 1e3,
        processed_ms: processed.as_secs_f64() * 1e3,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    hirelay::telemetry::init(hirelay::config::LogFormat::Text);
    let sim_config = bizreach_sim::SimConfig {
        groups: 10,
        applications_per_group: 0,
        ..Default::default()
    };
    let (email, password) = (sim_config.email.clone(), sim_config.password.clone());
    let sim = bizreach_sim::start(sim_config, "127.0.0.1:0").await?;
    let dir = tempfile::tempdir()?;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let env: HashMap<String, String> = [
        ("HIRELAY_BIND", "127.0.0.1:0".to_owned()),
        (
            "HIRELAY_DATA_DIR",
            dir.path().join("data").display().to_string(),
        ),
        (
            "HIRELAY_RULES_DIR",
            root.join("rules").display().to_string(),
        ),
        (
            "HIRELAY_TEMPLATES_DIR",
            root.join("templates").display().to_string(),
        ),
        ("HIRELAY_BIZREACH_URL", sim.base_url()),
        ("HIRELAY_ADMIN_TOKEN", TOKEN.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let app = Application::build(Config::load(None, &env)?).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state.clone();
    let stopper = app.stopper();
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    post(
        &client,
        format!("{base}/v1/bizreach/session"),
        json!({"email": email, "password": password}),
    )
    .await?;
    // Linking is not what is measured: mark the groups linked a day ago, as approval would.
    let db = &state.store.db;
    let day_ago = hirelay::domain::time::now_millis() - 86_400_000;
    db.execute(Statement::from_string(
        db.get_database_backend(),
        format!("UPDATE group_accounts SET status = 'linked', linked_at = {day_ago}, poll_since = {day_ago}"),
    ))
    .await?;
    let sim_url = sim.base_url();
    let now = chrono::Utc::now();

    // Backfill: 600 applications over the last 300 days on grp-001.
    let earlier: Vec<Value> = (0..600)
        .map(|i| json!({"id": format!("br-bf-{i:04}"), "applied_at": (now - chrono::Duration::hours(12 * (i + 30))).to_rfc3339(), "status": "in_progress"}))
        .collect();
    client
        .post(format!("{sim_url}/_sim/applications"))
        .json(&json!({"group_account_id": "grp-001", "applications": earlier}))
        .send()
        .await?
        .error_for_status()?;
    let backfill = timed_run(
        &client,
        &state,
        format!("{base}/v1/group-accounts/grp-001/backfill"),
    )
    .await?;
    println!("backfill: {}", backfill.report);
    println!(
        "backfill of {} applications: answered in {:.0} ms, imported and processed in {:.0} ms",
        backfill.report["imported"], backfill.answered_ms, backfill.processed_ms
    );

    // Poll: 1,000 new applications on each of 10 groups.
    for g in 1..=10 {
        client
            .post(format!("{sim_url}/_sim/applications"))
            .json(&json!({"group_account_id": format!("grp-{g:03}"), "count": 1000}))
            .send()
            .await?
            .error_for_status()?;
    }
    let poll = timed_run(
        &client,
        &state,
        format!("{base}/v1/scheduler/bizreach-poll/run"),
    )
    .await?;
    println!("poll: {}", poll.report);
    println!("poll of 10 groups × 1,000 new applications: fetched and stored in {:.0} ms, imported and processed in {:.0} ms", poll.answered_ms, poll.processed_ms);
    stopper.stop().await;
    sim.stop().await;
    Ok(())
}
