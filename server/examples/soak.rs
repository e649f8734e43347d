//! Soak (issue 15, item 5): measures a running hirelay's capacity for signed ATS webhooks
//! (acknowledged and processed, the queue drained), then sends at half of it for a long time,
//! and reports per window the p50/p99 latency, errors and the server's RSS; at the end, whether
//! the queue drained. `bench/soak.sh` starts the server
//! and runs this.
//!
//! `soak BASE_URL SERVER_PID` with `SOAK_SECONDS` (600), `SOAK_CAPACITY_SECONDS` (20),
//! `SOAK_WINDOW_SECONDS` (60), `SOAK_LANES` (32, for the capacity run) and `BENCH_SECRET`.
//! Exits non-zero when RSS grew more than 10 %, the last window's p99 is more than twice the
//! first's, a request failed, or the queue was not drained within two minutes.
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hirelay::ingest::signature::WebhookSecrets;

const DEFAULT_SECRET: &str = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The load: numbered ATS status changes, a quarter of them rejections.
struct Load {
    client: reqwest::Client,
    url: String,
    secrets: WebhookSecrets,
    run: String,
    next: AtomicU64,
}

impl Load {
    /// Sends webhook number `next`; its latency, or why it failed.
    async fn send(&self) -> Result<Duration, String> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        let to = ["screening", "interview", "screening", "rejected"][(i % 4) as usize];
        let body = format!(
            r#"{{"type":"application.status_changed","ats_application_id":"soak-{run}-{i}","candidate":{{"name":"試験 {i}","email":"soak{i}-{run}@example.jp"}},"job":{{"id":"job-7","title":"カスタマーサクセス"}},"to_status":"{to}","stage":"書類選考","reason":"経験年数不足","changed_at":"2026-11-21T18:00:00+09:00"}}"#,
            run = self.run
        );
        let id = format!("soak-{}-{i}", self.run);
        let ts = chrono::Utc::now().timestamp();
        let signature = self
            .secrets
            .sign(&id, ts, body.as_bytes())
            .ok_or("the secret cannot sign")?;
        let started = Instant::now();
        let res = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = res.status();
        let _ = res.bytes().await;
        if status.as_u16() == 202 {
            Ok(started.elapsed())
        } else {
            Err(format!("HTTP {status}"))
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1e3
}

fn rss_mb(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn queue_depth(client: &reqwest::Client, base: &str) -> Option<u64> {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("hirelay_queue_depth "))
        .and_then(|v| v.trim().parse().ok())
}

/// Closed loop, `lanes` at once, for `secs`, then until the queue is drained: events per
/// second from the first webhook to the last event processed. Processing, not acknowledging,
/// is what limits a sustained rate.
async fn capacity(load: &Arc<Load>, base: &str, lanes: u64, secs: u64) -> f64 {
    let done = Arc::new(AtomicUsize::new(0));
    let until = Instant::now() + Duration::from_secs(secs);
    let tasks: Vec<_> = (0..lanes)
        .map(|_| {
            let (load, done) = (load.clone(), done.clone());
            tokio::spawn(async move {
                while Instant::now() < until {
                    if load.send().await.is_ok() {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    let started = Instant::now();
    for t in tasks {
        let _ = t.await;
    }
    let acknowledged = done.load(Ordering::Relaxed) as f64;
    println!(
        "acknowledged: {:.0} webhooks/s (closed loop, {lanes} lanes)",
        acknowledged / started.elapsed().as_secs_f64()
    );
    for _ in 0..2_400 {
        if queue_depth(&load.client, base).await == Some(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    acknowledged / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(base), Some(pid)) = (args.get(1), args.get(2)) else {
        anyhow::bail!("usage: soak BASE_URL SERVER_PID");
    };
    let secret = std::env::var("BENCH_SECRET").unwrap_or_else(|_| DEFAULT_SECRET.to_owned());
    let load = Arc::new(Load {
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(256)
            // Below the server's keep-alive (5 s), so a connection is never reused just as the
            // server closes it (a client-side error, not the server's).
            .pool_idle_timeout(Duration::from_secs(2))
            .build()?,
        url: format!("{base}/v1/webhooks/ats"),
        secrets: WebhookSecrets::parse(&secret)?,
        run: hirelay::domain::ids::new_id("soak")
            .chars()
            .rev()
            .take(8)
            .collect(),
        next: AtomicU64::new(0),
    });
    let soak_secs = setting("SOAK_SECONDS", 600);
    let window = Duration::from_secs(setting("SOAK_WINDOW_SECONDS", 60));
    let measured = capacity(
        &load,
        base,
        setting("SOAK_LANES", 32),
        setting("SOAK_CAPACITY_SECONDS", 20),
    )
    .await;
    let rate = (measured / 2.0).max(1.0);
    let client = load.client.clone();
    println!(
        "capacity: {measured:.0} events/s acknowledged and processed; soak at {rate:.0}/s for {soak_secs} s"
    );
    println!("window_end_s  sent  errors  p50_ms  p99_ms  max_ms  rss_mb  queue_depth");

    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let errors = Arc::new(AtomicUsize::new(0));
    // The first few failures, said at the end.
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let in_flight = Arc::new(tokio::sync::Semaphore::new(1024));
    let started = Instant::now();
    let interval = Duration::from_secs_f64(1.0 / rate);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut window_end = started + window;
    let (mut rss, mut p99s, mut total_errors, mut sent) = (Vec::new(), Vec::new(), 0, 0u64);
    rss.push(rss_mb(pid));
    loop {
        ticker.tick().await;
        let now = Instant::now();
        if now >= window_end {
            let mut window_latencies =
                std::mem::take(&mut *latencies.lock().unwrap_or_else(|p| p.into_inner()));
            window_latencies.sort();
            let window_errors = errors.swap(0, Ordering::Relaxed);
            total_errors += window_errors;
            let p99 = percentile(&window_latencies, 0.99);
            let mem = rss_mb(pid);
            println!(
                "{:>12}  {:>4}  {:>6}  {:>6.1}  {:>6.1}  {:>6.1}  {:>6.1}  {:>11}",
                (window_end - started).as_secs(),
                window_latencies.len(),
                window_errors,
                percentile(&window_latencies, 0.5),
                p99,
                percentile(&window_latencies, 1.0),
                mem,
                queue_depth(&client, base)
                    .await
                    .map_or("?".to_owned(), |d| d.to_string()),
            );
            rss.push(mem);
            p99s.push(p99);
            window_end += window;
            if now >= started + Duration::from_secs(soak_secs) {
                break;
            }
        }
        let Ok(permit) = in_flight.clone().acquire_owned().await else {
            break;
        };
        sent += 1;
        let (load, latencies, errors, failures) = (
            load.clone(),
            latencies.clone(),
            errors.clone(),
            failures.clone(),
        );
        tokio::spawn(async move {
            match load.send().await {
                Ok(took) => latencies
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(took),
                Err(why) => {
                    errors.fetch_add(1, Ordering::Relaxed);
                    let mut failures = failures.lock().unwrap_or_else(|p| p.into_inner());
                    if failures.len() < 5 {
                        failures.push(why);
                    }
                }
            }
            drop(permit);
        });
    }
    let _ = in_flight.acquire_many(1024).await;
    let drain_started = Instant::now();
    let mut drained = None;
    while drain_started.elapsed() < Duration::from_secs(120) {
        if queue_depth(&client, base).await == Some(0) {
            drained = Some(drain_started.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // RSS after the first window (warm caches, full pools) against the end.
    let (first_rss, last_rss) = (rss[1.min(rss.len() - 1)], rss[rss.len() - 1]);
    let growth = (last_rss - first_rss) / first_rss * 100.0;
    let (first_p99, last_p99) = (p99s[0], p99s[p99s.len() - 1]);
    println!(
        "sent {sent} at {rate:.0}/s; errors {total_errors}; RSS {:.1} MB at start, {first_rss:.1} MB after the first window, {last_rss:.1} MB at the end ({growth:+.1} %); \
         p99 {first_p99:.1} ms in the first window, {last_p99:.1} ms in the last; queue {}",
        rss[0],
        match drained {
            Some(d) => format!("drained {:.1} s after the load stopped", d.as_secs_f64()),
            None => "NOT drained within 120 s".to_owned(),
        }
    );
    for why in failures.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        println!("failed: {why}");
    }
    let flat = growth.abs() <= 10.0 && last_p99 <= first_p99 * 2.0 + 1.0;
    if !flat || total_errors > 0 || drained.is_none() {
        anyhow::bail!("soak: not flat, errors, or not drained");
    }
    println!("soak: RSS within 10 %, p99 flat, no error, queue drained");
    Ok(())
}
