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
    let (rejections, kpis) = (
        env_or("BENCH_REJECTIONS", 1_000_000),
        env_or("BENCH_KPIS", 5_000_000),
    );
    let server = support::start(url.as_deref(), &[]).await?;
    let db = &server.state.store.db;
    let loaded = support::scalar(
        db,
        "SELECT COUNT(*) FROM kpi_records WHERE dedupe_key LIKE 'bench-%'",
    )
    .await?;
    if loaded != kpis {
        let started = Instant::now();
        support::load_rejections(db, rejections, kpis).await?;
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
