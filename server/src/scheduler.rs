//! Cron jobs (`bizreach-poll`, `progress-sync`, …): a small registry of named jobs, each with a
//! schedule and what it runs. Each tick is claimed in the database (`scheduler_runs`), so with
//! several instances on one database a tick runs once. An admin can run a job now
//! (`POST /v1/scheduler/{job}/run`); runs of one job never overlap within an instance.
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use crate::domain::schedule::Schedule;
use crate::domain::time::now_millis;
use crate::store::Store;

/// What a job's run answers: its report, shown by the run endpoint and kept with the tick.
pub type JobResult = anyhow::Result<serde_json::Value>;
/// Starts one run of a job.
pub type JobFn = Arc<dyn Fn() -> BoxFuture<'static, JobResult> + Send + Sync>;

/// A scheduled job.
#[derive(Clone)]
pub struct Job {
    pub name: String,
    pub schedule: Schedule,
    pub run: JobFn,
}

/// Why a job did not run.
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error("no job `{name}`; known jobs: {}", known.join(", "))]
    UnknownJob { name: String, known: Vec<String> },
    #[error("job `{name}` failed: {source:#}")]
    Failed { name: String, source: anyhow::Error },
}

/// The registry and its clock. Cheap to clone.
#[derive(Clone)]
pub struct Scheduler {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    instance: String,
    jobs: RwLock<Vec<Registered>>,
}

#[derive(Clone)]
struct Registered {
    job: Job,
    /// Whether the clock runs it; `false`: only on request ([`Scheduler::register_on_request`]).
    on_clock: bool,
    /// Held while the job runs in this instance.
    running: Arc<tokio::sync::Mutex<()>>,
}

/// The longest the clock sleeps, so jobs registered after start are picked up.
const MAX_SLEEP: Duration = Duration::from_secs(30);

impl Scheduler {
    /// An empty registry; `instance` names this process in claimed ticks.
    pub fn new(store: Store, instance: impl Into<String>) -> Scheduler {
        Scheduler {
            inner: Arc::new(Inner {
                store,
                instance: instance.into(),
                jobs: RwLock::new(Vec::new()),
            }),
        }
    }

    /// Adds a job (replacing one of the same name).
    pub fn register(&self, job: Job) {
        self.add(job, true);
    }

    /// Adds a job that runs only on request (`POST /v1/scheduler/{job}/run`), never on its
    /// schedule's ticks: one that cannot work yet (the BizReach poller without a BizReach URL)
    /// and would only fail, and log it, at every tick.
    pub fn register_on_request(&self, job: Job) {
        self.add(job, false);
    }

    fn add(&self, job: Job, on_clock: bool) {
        let mut jobs = self.jobs_mut();
        jobs.retain(|r| r.job.name != job.name);
        jobs.push(Registered {
            job,
            on_clock,
            running: Arc::new(tokio::sync::Mutex::new(())),
        });
    }

    /// The names of the registered jobs, in registration order.
    pub fn job_names(&self) -> Vec<String> {
        self.jobs().iter().map(|r| r.job.name.clone()).collect()
    }

    /// Runs `name` now (waiting for a run of it in progress to finish) and answers its report.
    pub async fn run_now(&self, name: &str) -> Result<serde_json::Value, SchedulerError> {
        let registered = self.find(name)?;
        let _running = registered.running.lock().await;
        tracing::info!(job = name, "running job on request");
        (registered.job.run)()
            .await
            .map_err(|source| SchedulerError::Failed {
                name: name.to_owned(),
                source,
            })
    }

    /// Starts the clock: each job runs at its schedule's ticks until `shutdown`.
    pub fn start(&self, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        let scheduler = self.clone();
        tokio::spawn(async move {
            let mut next: HashMap<String, DateTime<Utc>> = HashMap::new();
            loop {
                let now = Utc::now();
                let mut wake = now + MAX_SLEEP;
                for registered in scheduler.jobs().into_iter().filter(|r| r.on_clock) {
                    let job = &registered.job;
                    let Some(due) = next
                        .get(&job.name)
                        .copied()
                        .or_else(|| job.schedule.after(now))
                    else {
                        continue;
                    };
                    if due <= now {
                        tokio::spawn(scheduler.clone().run_tick(registered.clone(), due));
                        match job.schedule.after(now) {
                            Some(n) => next.insert(job.name.clone(), n),
                            None => next.remove(&job.name),
                        };
                    } else {
                        next.insert(job.name.clone(), due);
                    }
                    if let Some(n) = next.get(&job.name) {
                        wake = wake.min(*n);
                    }
                }
                let sleep = (wake - Utc::now()).to_std().unwrap_or(Duration::ZERO);
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(sleep) => {}
                }
            }
            tracing::debug!("scheduler stopped");
        })
    }

    /// Claims the tick at `due` and, if this instance got it, runs the job and records what it did.
    async fn run_tick(self, registered: Registered, due: DateTime<Utc>) {
        let name = registered.job.name.clone();
        let tick = due.timestamp_millis();
        let Ok(_running) = registered.running.try_lock() else {
            tracing::info!(job = %name, "previous run still going; tick skipped");
            return;
        };
        let store = &self.inner.store;
        match store
            .claim_tick(&name, tick, &self.inner.instance, now_millis())
            .await
        {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(job = %name, error = %e, "could not claim tick");
                return;
            }
        }
        let result = match (registered.job.run)().await {
            Ok(report) => report,
            Err(e) => {
                tracing::warn!(job = %name, error = format!("{e:#}"), "scheduled job failed");
                serde_json::json!({"error": format!("{e:#}")})
            }
        };
        if let Err(e) = store.finish_tick(&name, tick, &result, now_millis()).await {
            tracing::warn!(job = %name, error = %e, "could not record tick");
        }
    }

    fn find(&self, name: &str) -> Result<Registered, SchedulerError> {
        let jobs = self.jobs();
        jobs.iter()
            .find(|r| r.job.name == name)
            .cloned()
            .ok_or_else(|| SchedulerError::UnknownJob {
                name: name.to_owned(),
                known: jobs.iter().map(|r| r.job.name.clone()).collect(),
            })
    }

    fn jobs(&self) -> Vec<Registered> {
        self.inner
            .jobs
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn jobs_mut(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Registered>> {
        self.inner
            .jobs
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::store::test_support::store;

    fn counting_job(name: &str, schedule: &str, count: Arc<AtomicUsize>) -> Job {
        Job {
            name: name.into(),
            schedule: schedule.parse().unwrap(),
            run: Arc::new(move || {
                let count = count.clone();
                Box::pin(async move {
                    let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                    Ok(serde_json::json!({ "run": n }))
                })
            }),
        }
    }

    #[tokio::test]
    async fn run_now_answers_the_report_and_unknown_jobs_list_the_known_ones() {
        let (_dir, store) = store().await;
        let s = Scheduler::new(store, "test");
        let count = Arc::new(AtomicUsize::new(0));
        s.register(counting_job("bizreach-poll", "0 0 * * * *", count.clone()));
        assert_eq!(
            s.run_now("bizreach-poll").await.unwrap(),
            serde_json::json!({"run": 1})
        );
        let err = s.run_now("nope").await.unwrap_err();
        assert!(err.to_string().contains("bizreach-poll"), "{err}");
    }

    #[tokio::test]
    async fn i3_ticks_fire_on_schedule_and_stop_on_shutdown() {
        let (_dir, store) = store().await;
        let s = Scheduler::new(store.clone(), "test");
        let count = Arc::new(AtomicUsize::new(0));
        s.register(counting_job("every-second", "* * * * * *", count.clone()));
        let shutdown = CancellationToken::new();
        let task = s.start(shutdown.clone());
        tokio::time::sleep(Duration::from_millis(2600)).await;
        shutdown.cancel();
        task.await.unwrap();
        let runs = count.load(Ordering::SeqCst);
        assert!((1..=3).contains(&runs), "{runs} runs");
        let stored = store.scheduler_runs("every-second").await.unwrap();
        assert_eq!(stored.len(), runs);
    }
}
