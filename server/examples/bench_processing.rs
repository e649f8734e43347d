//! Processing benchmark: how many events per second go from the queue through the shipped
//! scripts to committed actions (event → domain step → script → actions → decision record).
//!
//! `cargo run --release -p hirelay --example bench_processing [N] [postgres://…]`
//! (`HIRELAY_*` variables of the environment, e.g. `HIRELAY_WORKERS=8`, tune the server.)
//!
//! Half the events are BizReach imports (`import.rhai`: labels, KPI), half ATS rejections
//! (`status.rhai`: history, KPI, a Career Relay invitation rendered into the outbox). They are
//! stored first, a thousand to a transaction, then the workers drain them; the figure is events
//! over the time from the first stored to the last processed.
use std::time::{Duration, Instant};

use hirelay::domain::ids::new_id;
use hirelay::domain::status::EventSource;
use hirelay::store::events::NewEvent;
use sea_orm::{ConnectionTrait, Statement};

mod support;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    hirelay::telemetry::init(hirelay::config::LogFormat::Text);
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let server = support::start(args.get(2).map(String::as_str), &[]).await?;
    let (state, stopper) = (&server.state, &server.stopper);
    let db = &state.store.db;
    db.execute(Statement::from_string(
        db.get_database_backend(),
        "INSERT INTO group_accounts (id, name, admin_email, status, linked_at, progress_sync, updated_at) \
         VALUES ('grp-bench', 'ベンチ', 'bench@example.jp', 'linked', 0, false, 0) \
         ON CONFLICT (id) DO NOTHING",
    ))
    .await?;
    // Ids unique to this run, so one PostgreSQL database serves run after run.
    let id = new_id("run");
    let run = &id[id.len() - 8..];
    let failed_before = failed(state).await?;

    let started = Instant::now();
    let mut events = Vec::with_capacity(n);
    for i in 0..n {
        let (source, kind, payload) = if i % 2 == 0 {
            let channel = if i % 4 == 0 { "direct" } else { "scout" };
            let status = if i % 8 == 0 { "rejected" } else { "new" };
            (
                EventSource::Bizreach,
                "application.received",
                format!(
                    r#"{{"type":"application.received","group_account_id":"grp-bench","application":{{"id":"br-{run}-{i}","channel":"{channel}","position_name":"バックエンドエンジニア（Rust）","applied_at":"2026-11-20T10:15:00+09:00","status":"{status}","candidate":{{"name":"山田 {i}","email":"cand{i}-{run}@example.jp","attributes":{{"age":31}}}}}}}}"#
                ),
            )
        } else {
            (
                EventSource::Ats,
                "application.status_changed",
                format!(
                    r#"{{"type":"application.status_changed","ats_application_id":"ats-{run}-{i}","candidate":{{"name":"鈴木 {i}","email":"ats{i}-{run}@example.jp","attributes":{{}}}},"to_status":"rejected","stage":"書類選考","reason":"経験年数不足","changed_at":"2026-11-21T18:05:00+09:00"}}"#
                ),
            )
        };
        events.push(NewEvent {
            id: new_id("evt"),
            source,
            kind: kind.to_owned(),
            webhook_id: format!("bench-{run}-{i}"),
            body_hash: hirelay::ingest::body_hash(payload.as_bytes()),
            payload,
            received_at: hirelay::domain::time::now_millis(),
            person: Default::default(),
        });
    }
    // Stored as a poll or a backfill stores what it pulls: a thousand to a transaction, each
    // handed to the workers at once.
    for chunk in events.chunks(1_000) {
        state.store.insert_events(chunk).await?;
        state.queue_wake.notify_waiters();
    }
    let stored_in = started.elapsed();
    // Every event is stored: the run ends when none is left open.
    while state.store.has_open_events().await? {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    println!(
        "events: {n} ({} failed), stored in {:.2} s, processed in {:.2} s",
        failed(state).await? - failed_before,
        stored_in.as_secs_f64(),
        took.as_secs_f64()
    );
    println!("processing: {:.0} events/s", n as f64 / took.as_secs_f64());
    stopper.stop().await;
    Ok(())
}

/// Events failed or dead, in the whole database.
async fn failed(state: &hirelay::http::AppState) -> anyhow::Result<i64> {
    let counts = state.store.count_events_by_status().await?;
    Ok(["failed", "dead"]
        .iter()
        .map(|s| counts.get(*s).copied().unwrap_or(0))
        .sum())
}
