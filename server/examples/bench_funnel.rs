//! Funnel benchmark: `GET /v1/kpis/funnel` over a year of 1,000,000 rejected applications
//! (each with its candidate, application and history row; 80 % with an invitation sent, a
//! quarter clicked, one in twenty registered) and 5,000,000 KPI points, through the real
//! server and HTTP.
//!
//! `cargo run --release -p hirelay --example bench_funnel [postgres://…]`
//!
//! The rows are generated in SQL (a recursive CTE on SQLite, `generate_series` on PostgreSQL)
//! and the funnel's counters rebuilt from them (`Store::rebuild_funnel`), as after a bulk
//! import. A PostgreSQL database that holds them already (from an earlier run) is used as it
//! is. env: BENCH_REJECTIONS (1000000), BENCH_KPIS (5000000), BENCH_QUERIES (7 per query).
use std::time::{Duration, Instant};

use hirelay::domain::role::Role;
use hirelay::store::Store;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection};

mod support;

/// 2025-12-01T00:00:00+09:00: the year the data spans starts here.
const YEAR_START: i64 = 1_764_514_800_000;
const YEAR_MILLIS: i64 = 365 * 86_400_000;

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
    let (rejections, kpis) = (
        env_or("BENCH_REJECTIONS", 1_000_000),
        env_or("BENCH_KPIS", 5_000_000),
    );
    let server = support::start(url.as_deref(), &[]).await?;
    let db = &server.state.store.db;
    let loaded = scalar(
        db,
        "SELECT COUNT(*) FROM kpi_records WHERE dedupe_key LIKE 'bench-%'",
    )
    .await?;
    if loaded != kpis {
        let started = Instant::now();
        load(db, rejections, kpis).await?;
        println!(
            "loaded {rejections} rejections and {kpis} KPI points in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let started = Instant::now();
        Store::rebuild_funnel(db).await?;
        if db.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared("VACUUM ANALYZE").await?;
        }
        println!(
            "counters rebuilt in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }

    let (_, token) = server
        .state
        .store
        .create_token("bench", Role::Viewer)
        .await?;
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{}/v1/kpis/funnel", server.port);
    let runs = env_or("BENCH_QUERIES", 7).max(1) as usize;
    let mut slowest = 0.0_f64;
    for query in [
        "from=2025-12-01&to=2026-11-30",
        "from=2025-12-01&to=2026-11-30&group_by=month",
        "from=2025-12-01&to=2026-11-30&group_by=stage",
        "from=2025-12-03T12:00:00Z",
    ] {
        let url = format!("{base}?{query}");
        let mut times = Vec::with_capacity(runs);
        let mut body = serde_json::Value::Null;
        for _ in 0..=runs {
            let started = Instant::now();
            let res = client.get(&url).bearer_auth(&token).send().await?;
            anyhow::ensure!(res.status().is_success(), "{url}: {}", res.status());
            body = res.json().await?;
            times.push(started.elapsed());
        }
        times.remove(0); // the first warms the caches
        times.sort();
        let median = times[times.len() / 2].as_secs_f64() * 1000.0;
        slowest = slowest.max(median);
        let steps: Vec<u64> = body["steps"]
            .as_array()
            .map(|s| s.iter().filter_map(|s| s["count"].as_u64()).collect())
            .unwrap_or_default();
        println!(
            "{query}: median {median:.1} ms of {runs} (fastest {:.1} ms); steps {steps:?}",
            times[0].as_secs_f64() * 1000.0
        );
    }
    println!("funnel: {slowest:.1} ms");
    server.stopper.stop().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(())
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no row"))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

/// Generates the rows in the database itself: rejection `n` happens `n` steps into the year.
async fn load(db: &DatabaseConnection, rejections: i64, kpis: i64) -> anyhow::Result<()> {
    let postgres = db.get_database_backend() == DatabaseBackend::Postgres;
    // Rows for n in 0..count (those `filter` keeps).
    let series = |count: i64, insert: &str, select: &str, filter: &str| {
        if postgres {
            format!(
                "{insert} {select} FROM generate_series(CAST(0 AS BIGINT), {}) AS s(n) WHERE {filter}",
                count - 1
            )
        } else {
            format!(
                "WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < {}) \
                 {insert} {select} FROM s WHERE {filter}",
                count - 1
            )
        }
    };
    // Four in five rejections were invited (their mail sent).
    let (all, invited) = ("TRUE", "n % 5 <> 0");
    let step = YEAR_MILLIS / rejections.max(1);
    let at = format!("({YEAR_START} + n * {step})");
    let stage = "CASE n % 4 WHEN 0 THEN '書類選考' WHEN 1 THEN '一次面接' WHEN 2 THEN '二次面接' ELSE '最終面接' END";
    let reason = "CASE n % 5 WHEN 0 THEN '経験年数不足' WHEN 1 THEN 'スキル不一致' WHEN 2 THEN '条件不一致' \
                  WHEN 3 THEN '他候補者決定' ELSE 'その他' END";
    let applied = if postgres { "TRUE" } else { "1" };
    let sent_at = format!("({at} + 54000000)");
    let statements = [
        series(
            rejections,
            "INSERT INTO candidates (id, email, name, attributes, created_at, updated_at)",
            &format!("SELECT 'cand_b' || n, 'b' || n || '@example.jp', 'ベンチ 候補者', \
                      '{{\"age\": ' || (22 + n % 30) || '}}', {at}, {at}"),
            all,
        ),
        series(
            rejections,
            "INSERT INTO applications (id, ats_application_id, position_name, status, status_changed_at, \
             stage, reason, candidate_id, labels, created_at, updated_at)",
            &format!("SELECT 'app_b' || n, 'ats-b' || n, 'バックエンドエンジニア', 'rejected', {at}, \
                      {stage}, {reason}, 'cand_b' || n, '[]', {at}, {at}"),
            all,
        ),
        series(
            rejections,
            "INSERT INTO application_history (application_id, to_status, stage, reason, changed_at, \
             applied, recorded_at)",
            &format!("SELECT 'app_b' || n, 'rejected', {stage}, {reason}, {at}, {applied}, {at}"),
            all,
        ),
        series(
            rejections,
            "INSERT INTO mail_outbox (id, dedupe_key, template, template_version, recipient, subject, \
             html, text_body, headers, message_id, status, attempts, next_attempt_at, created_at, sent_at)",
            &format!("SELECT 'mail_b' || n, 'invite:app_b' || n, 'career_relay_invitation', 1, \
                      'b' || n || '@example.jp', '選考結果のご連絡', '', '', '{{}}', '<mail_b' || n || '@bench>', \
                      'sent', 1, {at}, {at}, {sent_at}"),
            invited,
        ),
        series(
            rejections,
            "INSERT INTO invitations (id, application_id, candidate_id, token_hash, send_at, outbox_id, \
             created_at, clicked_first_at, clicked_last_at, clicks, registered_at)",
            &format!("SELECT 'inv_b' || n, 'app_b' || n, 'cand_b' || n, 'bench-token-' || n, {at}, 'mail_b' || n, {at}, \
                      CASE WHEN n % 4 = 1 THEN {sent_at} + 86400000 END, \
                      CASE WHEN n % 4 = 1 THEN {sent_at} + 86400000 END, \
                      CASE WHEN n % 4 = 1 THEN 1 ELSE 0 END, \
                      CASE WHEN n % 20 = 1 THEN {sent_at} + 172800000 END"),
            invited,
        ),
        series(
            kpis,
            "INSERT INTO kpi_records (dedupe_key, name, value, tags, recorded_at)",
            &format!("SELECT 'bench-' || n, CASE n % 3 WHEN 0 THEN 'rejected' WHEN 1 THEN 'invited' ELSE 'registered' END, \
                      1.0, '{{}}', {YEAR_START} + n * {}", YEAR_MILLIS / kpis.max(1)),
            all,
        ),
    ];
    for sql in statements {
        let started = Instant::now();
        db.execute_unprepared(&sql).await?;
        let table = sql
            .split("INSERT INTO ")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .unwrap_or("?");
        println!("  {table}: {:.1} s", started.elapsed().as_secs_f64());
    }
    Ok(())
}
