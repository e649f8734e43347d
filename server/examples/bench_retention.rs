//! Retention benchmark (issue 16): a server holding BENCH_EVENTS (1,000,000) finished events
//! received 400 days ago, each with its decision record (script log and context), all due under
//! the default windows (payloads and script logs: 365 days). `bench/retention.sh` drives a
//! signed webhook load at it, runs the `retention` job through
//! `POST /v1/scheduler/retention/run` under the same load, and reads the process's peak RSS.
//!
//! `cargo run --release -p hirelay --example bench_retention [postgres://…]`: loads, prints
//! `ready port=… token=…`, serves until interrupted (SIGINT).
//!
//! env: BENCH_EVENTS (1000000); `HIRELAY_*` settings (the script sets the ATS webhook secret).
use std::time::Instant;

use hirelay::domain::role::Role;
use sea_orm::{ConnectionTrait, DatabaseBackend};

mod support;

const DAY_MS: i64 = 86_400_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    hirelay::telemetry::init(hirelay::config::LogFormat::Text);
    let url = std::env::args().nth(1);
    let events = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000i64);
    let server = support::start(url.as_deref(), &[]).await?;
    let db = &server.state.store.db;
    let started = Instant::now();
    load_aged_events(db, events).await?;
    println!(
        "loaded {events} aged events with their decisions in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let (_, token) = server
        .state
        .store
        .create_token("bench", Role::Admin)
        .await?;
    println!("ready port={} token={token}", server.port);
    tokio::signal::ctrl_c().await?;
    server.stopper.stop().await;
    Ok(())
}

/// `events` finished ATS webhooks received 400 days ago and more (one a millisecond), each
/// naming its candidate, with a decision record decided then; earlier bench rows go first (a
/// kept PostgreSQL database).
async fn load_aged_events(db: &sea_orm::DatabaseConnection, events: i64) -> anyhow::Result<()> {
    let postgres = db.get_database_backend() == DatabaseBackend::Postgres;
    let at = format!(
        "({} - {} * {DAY_MS} - n)",
        hirelay::domain::time::now_millis(),
        400
    );
    let statements = [
        "DELETE FROM decisions WHERE event_id LIKE 'evt_r%'".to_owned(),
        "DELETE FROM events WHERE id LIKE 'evt_r%'".to_owned(),
        support::series(
            postgres,
            events,
            "INSERT INTO events (id, source, kind, webhook_id, body_hash, payload, status, attempts, \
             next_attempt_at, received_at, processed_at, person_hash)",
            &format!(
                "SELECT 'evt_r' || (1000000000 + n), 'ats', 'application.status_changed', 'wh-r' || n, \
                 'hash-r' || n, \
                 '{{\"type\":\"application.status_changed\",\"ats_application_id\":\"ats-r' || n || \
                 '\",\"candidate\":{{\"name\":\"ベンチ 候補者\",\"email\":\"r' || n || '@example.jp\",\
                 \"attributes\":{{\"age\":30,\"current_company\":\"株式会社ベンチ\",\"years_of_experience\":8}}}},\
                 \"job\":{{\"id\":\"job-12\",\"title\":\"バックエンドエンジニア\"}},\"from_status\":\"interview\",\
                 \"to_status\":\"rejected\",\"stage\":\"一次面接\",\"reason\":\"経験年数不足\",\
                 \"changed_at\":\"2025-11-21T18:00:00+09:00\"}}', \
                 'done', 1, {at}, {at}, {at}, ''"
            ),
            "TRUE",
        ),
        support::series(
            postgres,
            events,
            "INSERT INTO decisions (event_id, script, script_version, actions, log, duration_us, \
             decided_at, context)",
            &format!(
                "SELECT 'evt_r' || (1000000000 + n), 'status', 1, '[{{\"type\":\"invite\"}}]', \
                 '[\"不合格: ベンチ 候補者 <r' || n || '@example.jp>\"]', 100, {at}, \
                 '{{\"application\":{{\"id\":\"app_r' || n || '\"}},\"ctx\":{{}}}}'"
            ),
            "TRUE",
        ),
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
    if postgres {
        db.execute_unprepared("VACUUM ANALYZE events").await?;
        db.execute_unprepared("VACUUM ANALYZE decisions").await?;
    }
    Ok(())
}
