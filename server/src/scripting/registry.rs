//! The scripts that run: loading from `rules_dir` and the store, versions, atomic activation,
//! hot reload from disk and a poll for versions saved by other instances.
//!
//! A version is activated only after it compiled; a newer version replaces an older one, never
//! the other way round, so the file watcher, the store poll and the admin API can race freely.
use crate::domain::rules_source::RulesSource;
use rhai::AST;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use super::dry_run::{InputBuilder, PayloadOnly};
use super::engine::{Decision, ScriptEngine, ScriptInput};
use super::error::ScriptError;
use super::health::RunHealth;
use super::hooks::Hook;
use crate::domain::business_calendar::BusinessCalendar;
use crate::domain::names::ScriptName;
use crate::metrics::Metrics;
use crate::readiness::Readiness;
use crate::store::decisions::DecisionRecord;
use crate::store::documents::{DocumentKind, Origin};
use crate::store::entities::document_version;
use crate::store::{Store, StoreError};

/// Templates `send_email` accepts until [`Scripts::set_templates`] says otherwise (the mailer
/// tells it every active template but promotional ones at start-up and on every change). The
/// Career Relay invitation is not one of them: it is promotional mail, which only `invite()`
/// sends.
pub const DEFAULT_TEMPLATES: &[&str] = &["group_link_approval", "bizreach_application_notice"];

/// Tries at start-up to save the rule files when the database is busy.
const STARTUP_SAVE_TRIES: u32 = 8;

/// How often the rules directory and the store are checked for new versions.
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(2);

/// The readiness component scripts report under.
pub const READINESS_PART: &str = "scripts";
/// The readiness component that says whether scripts' events are failing.
pub const RUNS_READINESS_PART: &str = "script_runs";

/// A compiled, active version of a script.
pub struct ActiveScript {
    pub name: String,
    pub version: i32,
    pub source: String,
    pub author: String,
    /// Unix milliseconds.
    pub created_at: i64,
    pub(super) ast: AST,
}

/// Why changing a script through the admin API did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The text does not compile (or a dry run failed): line and column inside.
    #[error(transparent)]
    Script(#[from] ScriptError),
    #[error("{0} not found")]
    NotFound(String),
    /// A request value is not acceptable, naming the field.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// Too many of this kind of request at once: try again after `retry_after`.
    #[error("{message}")]
    Busy {
        message: String,
        retry_after: Duration,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The rule scripts: cheap to clone, safe to run from many threads at once.
#[derive(Clone)]
pub struct Scripts {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) engine: ScriptEngine,
    pub(super) store: Store,
    pub(super) readiness: Readiness,
    pub(super) metrics: Metrics,
    pub(super) active: RwLock<HashMap<String, Arc<ActiveScript>>>,
    /// Per file or script name, the problem that keeps it from being activated.
    pub(super) problems: Mutex<BTreeMap<String, String>>,
    /// The newest stored version of each script already looked at.
    pub(super) seen: crate::versions::Seen,
    pub(super) templates: RwLock<Arc<[String]>>,
    pub(super) input_builder: RwLock<Arc<dyn InputBuilder>>,
    /// Turns for dry runs over history ([`super::dry_run::HISTORY_RUNS_AT_ONCE`]).
    pub(super) history_runs: tokio::sync::Semaphore,
    /// Whether the scripts' events are succeeding, from the decisions the workers commit.
    pub(super) health: Mutex<RunHealth>,
    /// Whether a rule file wins over the stored versions (`HIRELAY_RULES_SOURCE`).
    pub(super) rules_source: RulesSource,
}

/// `import` → `import.rhai`.
pub fn file_name(name: &str) -> String {
    format!("{name}.rhai")
}

impl Scripts {
    /// Imports every `*.rhai` of rules_dir as a file version if it changed, compiles the newest
    /// version of each name (a version that fails to compile is never activated: the previous
    /// good one stays, and readiness "scripts" reports the problem), and starts hot reload
    /// (polling the directory every 2 s) plus a poll of the store for versions saved by other
    /// instances. `next_business_morning` and `is_business_day` answer by `calendar`.
    pub async fn start(
        store: Store,
        rules_dir: PathBuf,
        rules_source: RulesSource,
        calendar: Arc<BusinessCalendar>,
        readiness: Readiness,
        metrics: Metrics,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Scripts> {
        readiness.expect(READINESS_PART);
        let scripts = Scripts::new(store, calendar, readiness, metrics, rules_source);
        scripts.publish_run_health();
        scripts.load_from_store().await?;
        let mut seen = scripts.read_dir(&rules_dir).await;
        if let Some(files) = &seen {
            // The files are what the operator asked for: events must not be decided by an older
            // version because the database was busy for a moment, so start-up tries a few times.
            let mut saved = false;
            for _ in 0..STARTUP_SAVE_TRIES {
                saved = scripts.import_files(files.clone()).await;
                if saved {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            if !saved {
                // The reloader's first look tries again.
                seen = None;
            }
        }
        scripts.publish_readiness();

        let reloader = scripts.clone();
        tokio::spawn(async move {
            // The snapshot imported above is the baseline, so an edit made right after start-up
            // is not mistaken for the starting state.
            let mut seen = seen;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(RELOAD_INTERVAL) => {}
                    _ = shutdown.cancelled() => return,
                }
                let now = reloader.read_dir(&rules_dir).await;
                let mut saved = true;
                if let Some(files) = now.as_ref().filter(|f| Some(*f) != seen.as_ref()) {
                    saved = reloader.import_files(files.clone()).await;
                }
                if saved {
                    seen = now.or(seen);
                }
                if let Err(e) = reloader.load_from_store().await {
                    tracing::warn!(error = %e, "polling rule versions failed");
                }
            }
        });
        Ok(scripts)
    }

    fn new(
        store: Store,
        calendar: Arc<BusinessCalendar>,
        readiness: Readiness,
        metrics: Metrics,
        rules_source: RulesSource,
    ) -> Scripts {
        let templates: Vec<String> = DEFAULT_TEMPLATES.iter().map(|t| t.to_string()).collect();
        Scripts {
            inner: Arc::new(Inner {
                engine: ScriptEngine::with_calendar(calendar),
                store,
                readiness,
                metrics,
                active: RwLock::new(HashMap::new()),
                problems: Mutex::new(BTreeMap::new()),
                seen: Default::default(),
                templates: RwLock::new(templates.into()),
                input_builder: RwLock::new(Arc::new(PayloadOnly)),
                history_runs: tokio::sync::Semaphore::new(super::dry_run::HISTORY_RUNS_AT_ONCE),
                health: Mutex::new(RunHealth::default()),
                rules_source,
            }),
        }
    }

    /// Runs the active version of `name` (sync; sandboxed: max operations, call depth,
    /// string/array/map sizes, wall time 1 s).
    pub fn run(&self, name: &ScriptName, input: &ScriptInput) -> Result<Decision, ScriptError> {
        let script = self
            .active(name.as_str())
            .ok_or_else(|| ScriptError::NotLoaded(name.to_string()))?;
        self.execute(&script.name, script.version, &script.ast, input)
    }

    /// Compiles and runs a draft that is not saved (dry-run); its version is 0.
    pub fn run_draft(
        &self,
        name: &ScriptName,
        source: &str,
        input: &ScriptInput,
    ) -> Result<Decision, ScriptError> {
        let ast = self
            .inner
            .engine
            .compile(&file_name(name.as_str()), source)?;
        self.execute(name.as_str(), 0, &ast, input)
    }

    /// Validates a script text: Err with line/column of the first problem.
    pub fn check(source: &str) -> Result<(), ScriptError> {
        Self::check_as("script", source)
    }

    /// Validates a script text, naming `name.rhai` in the error.
    pub fn check_as(name: &str, source: &str) -> Result<(), ScriptError> {
        ScriptEngine::new()
            .compile(&file_name(name), source)
            .map(|_| ())
    }

    fn execute(
        &self,
        name: &str,
        version: i32,
        ast: &AST,
        input: &ScriptInput,
    ) -> Result<Decision, ScriptError> {
        let (actions, log, duration) =
            self.inner
                .engine
                .execute(&file_name(name), ast, input, self.templates())?;
        if version > 0 {
            // Drafts are dry runs, not work done on events.
            self.inner.metrics.script_run(name, duration);
        }
        Ok(Decision {
            script: name.to_owned(),
            version,
            actions,
            log,
            duration,
        })
    }

    /// The active version of a script.
    pub fn active(&self, name: &str) -> Option<Arc<ActiveScript>> {
        read(&self.inner.active).get(name).cloned()
    }

    /// Every active script, by name.
    pub fn list(&self) -> Vec<Arc<ActiveScript>> {
        let mut all: Vec<_> = read(&self.inner.active).values().cloned().collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    /// What keeps files or versions from being activated, by file (`import.rhai: …`).
    pub fn problems(&self) -> BTreeMap<String, String> {
        lock(&self.inner.problems).clone()
    }

    /// The template names `send_email` accepts (the mailer tells, once it knows its templates).
    pub fn set_templates(&self, names: Vec<String>) {
        *self
            .inner
            .templates
            .write()
            .unwrap_or_else(|p| p.into_inner()) = names.into();
    }

    fn templates(&self) -> Arc<[String]> {
        read(&self.inner.templates).clone()
    }

    /// How dry runs over stored events build a script's input (default: the payload only).
    pub fn set_input_builder(&self, builder: Arc<dyn InputBuilder>) {
        *self
            .inner
            .input_builder
            .write()
            .unwrap_or_else(|p| p.into_inner()) = builder;
    }

    pub(super) fn input_builder(&self) -> Arc<dyn InputBuilder> {
        read(&self.inner.input_builder).clone()
    }

    pub(super) fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Validates `source`, saves it as the next version by `author` (audited) and activates it;
    /// with `if_latest`, only while that is still the newest version (`If-Match`).
    pub async fn save(
        &self,
        name: &ScriptName,
        source: &str,
        author: &str,
        if_latest: Option<i32>,
    ) -> Result<Arc<ActiveScript>, RulesError> {
        let ast = self.compile_off_thread(name.as_str(), source).await?;
        let model = self
            .inner
            .store
            .save_document(
                DocumentKind::Rule,
                name.as_str(),
                source,
                Origin::Api,
                author,
                if_latest,
            )
            .await?;
        Ok(self.activate(model, ast))
    }

    /// Saves the text of an earlier `version` as the next version by `author` and activates it.
    pub async fn rollback(
        &self,
        name: &ScriptName,
        version: i32,
        author: &str,
    ) -> Result<Arc<ActiveScript>, RulesError> {
        let old = match self
            .inner
            .store
            .document_version(DocumentKind::Rule, name.as_str(), version)
            .await
        {
            Err(StoreError::NotFound(what)) => return Err(RulesError::NotFound(what)),
            other => other?,
        };
        let active = self.save(name, &old.body, author, None).await?;
        crate::store::Store::audit(
            &self.inner.store.db,
            author,
            "rule.rollback",
            name.as_str(),
            serde_json::json!({"to_version": version, "version": active.version}),
        )
        .await?;
        Ok(active)
    }

    /// Checks a draft of `name` as a save would (syntax, every call), saving nothing.
    pub async fn check_draft(&self, name: &ScriptName, source: &str) -> Result<(), ScriptError> {
        self.compile_off_thread(name.as_str(), source)
            .await
            .map(|_| ())
    }

    pub(super) async fn compile_off_thread(
        &self,
        name: &str,
        source: &str,
    ) -> Result<AST, ScriptError> {
        let this = self.clone();
        let (name, source) = (name.to_owned(), source.to_owned());
        tokio::task::spawn_blocking(move || this.inner.engine.compile(&file_name(&name), &source))
            .await
            .unwrap_or_else(|e| {
                Err(ScriptError::Runtime {
                    file: "script".into(),
                    line: None,
                    column: None,
                    message: format!("compilation did not finish: {e}"),
                })
            })
    }

    /// Makes `model` the active version of its name unless a newer one is already active.
    pub(super) fn activate(&self, model: document_version::Model, ast: AST) -> Arc<ActiveScript> {
        let script = Arc::new(ActiveScript {
            name: model.name,
            version: model.version,
            source: model.body,
            author: model.author,
            created_at: model.created_at,
            ast,
        });
        let mut active = self.inner.active.write().unwrap_or_else(|p| p.into_inner());
        let current = active.get(&script.name).cloned();
        let winner = match current {
            Some(current) if current.version >= script.version => current,
            _ => {
                tracing::info!(script = %script.name, version = script.version, author = %script.author, "rule script activated");
                active.insert(script.name.clone(), script.clone());
                script
            }
        };
        drop(active);
        if lock(&self.inner.health).activated(&winner.name, winner.version) {
            self.publish_run_health();
        }
        self.set_problem(&file_name(&winner.name), None);
        winner
    }

    /// Counts the decisions a worker committed (a decision with an error is a failed event),
    /// and readiness "script_runs" follows when a script's events start or stop failing.
    pub fn record_decisions(&self, records: &[DecisionRecord]) {
        let mut changed = false;
        {
            let mut health = lock(&self.inner.health);
            for r in records {
                changed |=
                    health.record(&r.script, r.script_version, r.error.is_some(), r.decided_at);
            }
        }
        if changed {
            self.publish_run_health();
        }
    }

    /// Readiness "script_runs": ok unless a script's latest events all failed.
    fn publish_run_health(&self) {
        let failing = lock(&self.inner.health).failing();
        let state = if failing.is_empty() {
            Ok(())
        } else {
            Err(failing.join("; "))
        };
        self.inner.readiness.set(RUNS_READINESS_PART, state);
    }

    /// Records (or clears) the problem of a file, and readiness follows at once, so no reader
    /// sees a problem listed that readiness does not report yet.
    pub(super) fn set_problem(&self, key: &str, problem: Option<String>) {
        {
            let mut problems = lock(&self.inner.problems);
            match problem {
                Some(p) => problems.insert(key.to_owned(), p),
                None => problems.remove(key),
            };
        }
        self.publish_readiness();
    }

    /// Readiness "scripts": ok when every hook has an active version and nothing was refused.
    pub(super) fn publish_readiness(&self) {
        let mut issues: Vec<String> = self.problems().into_values().collect();
        for hook in Hook::ALL {
            if self.active(hook.name()).is_none() {
                issues.push(format!("{}: no version is loaded", file_name(hook.name())));
            }
        }
        let state = if issues.is_empty() {
            Ok(())
        } else {
            Err(issues.join("; "))
        };
        self.inner.readiness.set(READINESS_PART, state);
    }
}

pub(super) fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
