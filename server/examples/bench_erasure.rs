//! Erasure benchmark (issue 16): `DELETE /v1/candidates/{id}` of one person among 1,000,000
//! rejected applications (bench_funnel's year of rejections, invitations and mails), each with
//! its ATS webhook stored (`events`, payload naming the person) and its decision record (log
//! and context), through the real server and HTTP.
//!
//! `cargo run --release -p hirelay --example bench_erasure [postgres://…]`
//!
//! env: BENCH_REJECTIONS (1000000), BENCH_ERASURES (7: the first warms the caches).
use std::time::{Duration, Instant};

use hirelay::domain::role::Role;
use sea_orm::{ConnectionTrait, DatabaseBackend};

mod support;

fn env_or(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    hirelay::telemetry::init(hirelay::config::LogFormat::Text);
    let url = std::env::args().nth(1);
    let rejections = env_or("BENCH_REJECTIONS", 1_000_000);
    let server = support::start(url.as_deref(), &[]).await?;
    let db = &server.state.store.db;
    let loaded = support::scalar(db, "SELECT COUNT(*) FROM events WHERE id LIKE 'evt_b%'").await?;
    if loaded != rejections {
        let started = Instant::now();
        support::load_rejections(db, rejections, 0).await?;
        load_events(db, rejections).await?;
        if db.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared("VACUUM ANALYZE").await?;
        }
        println!(
            "loaded {rejections} rejections with their events in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    // Loaded rows are as an older hirelay stored them: the server records each event's person
    // (m0018) as it does after an upgrade, before the erasures are timed.
    let started = Instant::now();
    let recorded = server
        .state
        .ingest
        .record_people(&tokio_util::sync::CancellationToken::new())
        .await?;
    println!(
        "recorded the person of {recorded} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let (_, token) = server
        .state
        .store
        .create_token("bench", Role::Admin)
        .await?;
    let client = reqwest::Client::new();
    let runs = env_or("BENCH_ERASURES", 7).max(2);
    let mut times = Vec::new();
    // Spread over the year, a different person each run (a kept PostgreSQL database too).
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    for i in 0..runs {
        let n = (seed * 104_729 + i * 7919) % rejections;
        let url = format!("http://127.0.0.1:{}/v1/candidates/cand_b{n}", server.port);
        let started = Instant::now();
        let res = client.delete(&url).bearer_auth(&token).send().await?;
        let took = started.elapsed();
        anyhow::ensure!(res.status().is_success(), "{url}: {}", res.status());
        let body: serde_json::Value = res.json().await?;
        println!(
            "cand_b{n}: {:.1} ms, {} events, {} mails, already erased {}",
            took.as_secs_f64() * 1000.0,
            body["events"],
            body["mails"],
            body["already_erased"]
        );
        times.push(took);
    }
    times.remove(0);
    times.sort();
    let median = times[times.len() / 2].as_secs_f64() * 1000.0;
    println!("erasure: {median:.1} ms");
    server.stopper.stop().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(())
}

/// Each rejection's ATS webhook as stored, its history row pointing at it, and its decision.
async fn load_events(db: &sea_orm::DatabaseConnection, rejections: i64) -> anyhow::Result<()> {
    let postgres = db.get_database_backend() == DatabaseBackend::Postgres;
    let at = format!(
        "({} + n * {})",
        support::YEAR_START,
        support::YEAR_MILLIS / rejections.max(1)
    );
    let statements = [
        support::series(
            postgres,
            rejections,
            "INSERT INTO events (id, source, kind, webhook_id, body_hash, payload, status, attempts, \
             next_attempt_at, received_at, processed_at)",
            &format!(
                "SELECT 'evt_b' || n, 'ats', 'application.status_changed', 'wh-b' || n, 'hash-b' || n, \
                 '{{\"type\":\"application.status_changed\",\"ats_application_id\":\"ats-b' || n || \
                 '\",\"candidate\":{{\"name\":\"ベンチ 候補者\",\"email\":\"b' || n || '@example.jp\"}},\
                 \"to_status\":\"rejected\",\"stage\":\"一次面接\",\"reason\":\"経験年数不足\",\
                 \"changed_at\":\"2026-11-21T18:00:00+09:00\"}}', \
                 'done', 1, {at}, {at}, {at}"
            ),
            "TRUE",
        ),
        support::series(
            postgres,
            rejections,
            "INSERT INTO decisions (event_id, script, script_version, actions, log, duration_us, \
             decided_at, context)",
            &format!(
                "SELECT 'evt_b' || n, 'status', 1, '[{{\"type\":\"invite\"}}]', \
                 '[\"不合格: ベンチ 候補者\"]', 100, {at}, \
                 '{{\"application\":{{\"id\":\"app_b' || n || '\"}},\"ctx\":{{}}}}'"
            ),
            "TRUE",
        ),
        "UPDATE application_history SET event_id = 'evt_b' || SUBSTR(application_id, 6) \
         WHERE application_id LIKE 'app_b%'"
            .to_owned(),
    ];
    for sql in statements {
        let started = Instant::now();
        db.execute_unprepared(&sql).await?;
        println!(
            "  {}: {:.1} s",
            sql.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
