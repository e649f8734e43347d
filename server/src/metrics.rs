//! Process metrics in Prometheus text format: requests by route and status, events finished by
//! state, script run time, mails sent and failed, outbound deliveries. Queue depth and events by
//! state come from the database, counted at most once per [`EVENT_COUNT_TTL`] however often
//! `/metrics` is read (a count groups the whole events table).
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::domain::status::EventStatus;

#[derive(Default)]
struct Inner {
    /// Route pattern → (method, status) → count: looked up by `&str`, so counting a request
    /// to a route seen before allocates nothing.
    requests: BTreeMap<String, BTreeMap<(&'static str, u16), u64>>,
    events_finished: BTreeMap<&'static str, u64>,
    event_seconds: f64,
    script_runs: BTreeMap<String, (u64, f64)>,
    counters: BTreeMap<&'static str, u64>,
}

/// How long a count of events by state is served before the database is asked again.
pub const EVENT_COUNT_TTL: Duration = Duration::from_secs(2);

/// A count of events by state and when it was made.
type EventCount = Option<(Instant, HashMap<String, i64>)>;

/// Shared, cheap to clone.
#[derive(Clone, Default)]
pub struct Metrics {
    inner: Arc<Mutex<Inner>>,
    /// The last count of events by state and when it was made. An async lock: scrapes that
    /// arrive while one counts wait for its count instead of counting too.
    event_counts: Arc<tokio::sync::Mutex<EventCount>>,
}

/// Counters other modules bump by name (one place lists them, for the help text).
pub const COUNTERS: &[(&str, &str)] = &[
    ("hirelay_mails_sent_total", "Emails handed to the transport"),
    (
        "hirelay_mails_failed_total",
        "Email sends that failed (retried or dead)",
    ),
    (
        "hirelay_webhooks_delivered_total",
        "Outbound webhooks delivered",
    ),
    (
        "hirelay_webhooks_failed_total",
        "Outbound webhook attempts that failed",
    ),
    (
        "hirelay_progress_sync_pushed_total",
        "Statuses pushed to BizReach by progress sync",
    ),
    (
        "hirelay_progress_sync_failed_total",
        "Progress sync pushes that failed",
    ),
    ("hirelay_imports_total", "BizReach applications imported"),
];

/// The `method` label of a request: the standard methods by name, anything else `OTHER` (the
/// label set stays bounded, and counting allocates nothing).
pub fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

impl Metrics {
    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// Counts one answered request; `method` is a label from [`method_label`].
    pub fn request(&self, method: &'static str, route: &str, status: u16) {
        self.with(|m| {
            let by_route = match m.requests.get_mut(route) {
                Some(counts) => counts,
                None => m.requests.entry(route.to_owned()).or_default(),
            };
            *by_route.entry((method, status)).or_default() += 1;
        });
    }

    pub fn event_finished(&self, status: EventStatus, took: Duration) {
        self.with(|m| {
            *m.events_finished.entry(status.as_str()).or_default() += 1;
            m.event_seconds += took.as_secs_f64();
        });
    }

    pub fn script_run(&self, script: &str, took: Duration) {
        self.with(|m| {
            let e = m.script_runs.entry(script.to_owned()).or_default();
            e.0 += 1;
            e.1 += took.as_secs_f64();
        });
    }

    /// Adds `n` to a counter of [`COUNTERS`].
    pub fn add(&self, counter: &'static str, n: u64) {
        debug_assert!(
            COUNTERS.iter().any(|(c, _)| *c == counter),
            "{counter} is not in COUNTERS"
        );
        self.with(|m| *m.counters.entry(counter).or_default() += n);
    }

    pub fn counter(&self, counter: &str) -> u64 {
        self.with(|m| m.counters.get(counter).copied().unwrap_or(0))
    }

    /// Events by state: the last count if younger than [`EVENT_COUNT_TTL`], else what `count`
    /// answers (on failure, the last count, or none).
    pub async fn event_counts<F, Fut, E>(&self, count: F) -> HashMap<String, i64>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<HashMap<String, i64>, E>>,
        E: std::fmt::Display,
    {
        let mut last = self.event_counts.lock().await;
        if let Some((at, counts)) = last.as_ref() {
            if at.elapsed() < EVENT_COUNT_TTL {
                return counts.clone();
            }
        }
        match count().await {
            Ok(counts) => {
                *last = Some((Instant::now(), counts.clone()));
                counts
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics: counting events failed");
                last.as_ref().map(|(_, c)| c.clone()).unwrap_or_default()
            }
        }
    }

    /// The text exposition, with the database gauges passed in.
    pub fn render(&self, events_by_status: &std::collections::HashMap<String, i64>) -> String {
        let mut out = String::new();
        self.with(|m| {
            let _ = writeln!(out, "# HELP hirelay_http_requests_total HTTP requests by route and status\n# TYPE hirelay_http_requests_total counter");
            for (route, counts) in &m.requests {
                for ((method, status), n) in counts {
                    let _ = writeln!(out, "hirelay_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}");
                }
            }
            let _ = writeln!(out, "# HELP hirelay_events_processed_total Events finished by workers, by resulting state\n# TYPE hirelay_events_processed_total counter");
            for (status, n) in &m.events_finished {
                let _ = writeln!(out, "hirelay_events_processed_total{{status=\"{status}\"}} {n}");
            }
            let _ = writeln!(out, "# HELP hirelay_event_processing_seconds_total Time spent handling events\n# TYPE hirelay_event_processing_seconds_total counter\nhirelay_event_processing_seconds_total {}", m.event_seconds);
            let _ = writeln!(out, "# HELP hirelay_script_runs_total Rule script runs\n# TYPE hirelay_script_runs_total counter");
            for (script, (n, _)) in &m.script_runs {
                let _ = writeln!(out, "hirelay_script_runs_total{{script=\"{script}\"}} {n}");
            }
            let _ = writeln!(out, "# HELP hirelay_script_run_seconds_total Time spent running rule scripts\n# TYPE hirelay_script_run_seconds_total counter");
            for (script, (_, secs)) in &m.script_runs {
                let _ = writeln!(out, "hirelay_script_run_seconds_total{{script=\"{script}\"}} {secs}");
            }
            for (name, help) in COUNTERS {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}", m.counters.get(name).copied().unwrap_or(0));
            }
        });
        let _ = writeln!(
            out,
            "# HELP hirelay_events Events by state\n# TYPE hirelay_events gauge"
        );
        for status in EventStatus::ALL {
            let n = events_by_status.get(status.as_str()).copied().unwrap_or(0);
            let _ = writeln!(out, "hirelay_events{{status=\"{}\"}} {n}", status.as_str());
        }
        let depth = events_by_status.get("pending").copied().unwrap_or(0)
            + events_by_status.get("processing").copied().unwrap_or(0);
        let _ = writeln!(out, "# HELP hirelay_queue_depth Events waiting or being processed\n# TYPE hirelay_queue_depth gauge\nhirelay_queue_depth {depth}");
        out
    }
}
