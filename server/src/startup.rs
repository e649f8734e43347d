//! `Application::build(config)`: the database, ingestion, workers, scheduler and HTTP server of
//! one process. Tests build it on port 0 and talk HTTP to it.
use actix_web::{dev::Service, web, App, HttpServer};
use secrecy::ExposeSecret;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use crate::bizreach::credentials::StoredCredentials;
use crate::bizreach::poller::Poller;
use crate::bizreach::{BizreachClient, ClientSettings};
use crate::config::Config;
use crate::crypto::SecretBox;
use crate::http::{self, AppState};
use crate::ingest::Ingest;
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::outbound::{DeliverySettings, DeliveryWorker, TargetPolicy};
use crate::pipeline::Pipeline;
use crate::queue::{self, QueueSettings};
use crate::readiness::Readiness;
use crate::scheduler::{Job, Scheduler};
use crate::scripting::Scripts;
use crate::store::Store;
use crate::sync::ProgressSync;

/// A built, not yet running, hirelay.
pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    shutdown: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    pub state: web::Data<AppState>,
}

/// Stops a running application from elsewhere (signals, tests).
#[derive(Clone)]
pub struct Stopper {
    server: actix_web::dev::ServerHandle,
    shutdown: CancellationToken,
}

impl Stopper {
    /// Graceful: the HTTP server finishes in-flight requests, workers finish the batch in hand.
    pub async fn stop(&self) {
        self.server.stop(true).await;
        self.shutdown.cancel();
    }
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let config = Arc::new(config);
        crate::private_files::ensure_private_dir(&config.data_dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot create the data directory {} (HIRELAY_DATA_DIR, `data_dir`): {e}",
                config.data_dir.display()
            )
        })?;
        let store = Store::connect(
            config.database_url.expose_secret(),
            config.database_pool,
            config.workers as u32,
        )
        .await?;
        store.migrate().await?;
        let secret_box = SecretBox::from_config(&config)?;
        if let Some(key_file) = crate::crypto::key_file_beside_database(&config) {
            tracing::warn!(
                key_file = %key_file.display(),
                "the secret key file sits beside the database: one copy of the data directory \
                 (a backup) holds the sealed secrets and their key; set HIRELAY_SECRET_KEY to the \
                 file's content and keep the key out of the data directory"
            );
        }
        let address_key = secret_box.address_key();
        let adopted = store.adopt_legacy_opt_outs(&address_key).await?;
        if adopted > 0 {
            tracing::info!(
                adopted,
                "opt-outs kept on candidates moved into the opt-out table"
            );
        }
        let shutdown = CancellationToken::new();
        let metrics = Metrics::default();
        let readiness = Readiness::default();
        if let Some(notice) = crate::relay::not_ready_notice(&config.invitations_missing) {
            // Said once here; invitations wait in the outbox meanwhile.
            tracing::warn!("Career Relay {notice}");
            readiness.notice("invitations", Some(notice));
        }
        let queue_wake = Arc::new(tokio::sync::Notify::new());
        let ingest = Ingest::start(
            store.clone(),
            config.webhook_secrets.clone(),
            address_key.clone(),
        )?;
        let instance = crate::domain::ids::new_id("inst");
        let scripts = Scripts::start(
            store.clone(),
            config.rules_dir.clone(),
            config.rules_source,
            Arc::new(config.business_calendar.clone()),
            readiness.clone(),
            metrics.clone(),
            shutdown.clone(),
        )
        .await?;
        let (mailer, sender) = Mailer::start_with_handle(
            config.clone(),
            store.clone(),
            readiness.clone(),
            metrics.clone(),
            address_key.clone(),
            shutdown.clone(),
        )
        .await?;
        let names_for_scripts = scripts.clone();
        mailer.on_templates_changed(Box::new(move |names| {
            names_for_scripts.set_templates(names)
        }));
        let bizreach = match ClientSettings::from_config(&config) {
            Some(settings) => Some(BizreachClient::new(
                settings,
                Arc::new(StoredCredentials {
                    store: store.clone(),
                    secret_box: secret_box.clone(),
                }),
            )?),
            None => {
                // Said once here, not by each of the poller's runs (every 6 minutes by default).
                tracing::warn!(
                    "BizReach is not configured: the poller does nothing until HIRELAY_BIZREACH_URL \
                     (or `bizreach_url` in the config file) is set"
                );
                None
            }
        };
        let poller = Poller {
            store: store.clone(),
            client: bizreach.clone(),
            queue_wake: queue_wake.clone(),
            key: address_key.clone(),
        };
        let scheduler = Scheduler::new(store.clone(), instance.clone());
        if bizreach.is_some() {
            scheduler.register(poll_job(&config, poller.clone()));
        } else {
            // Its runs would fail at every tick; a run on request says what to set.
            scheduler.register_on_request(poll_job(&config, poller.clone()));
        }
        let progress_sync = ProgressSync {
            store: store.clone(),
            client: bizreach.clone(),
            mapping: Arc::new(config.status_mapping.clone()),
            metrics: metrics.clone(),
        };
        scheduler.register(crate::relay::report::job(
            config.report_schedule.clone(),
            crate::relay::report::MonthlyReport {
                store: store.clone(),
                mailer: mailer.clone(),
                config: config.clone(),
            },
        ));
        scheduler.register(crate::sync::progress::job(
            config.sync_schedule.clone(),
            progress_sync.clone(),
        ));
        let retention = crate::retention::Retention {
            store: store.clone(),
            windows: config.retention,
            key: address_key.clone(),
        };
        scheduler.register(crate::retention::job(
            config.retention_schedule.clone(),
            retention.clone(),
        ));

        let pipeline = Pipeline::new(
            scripts.clone(),
            mailer.clone(),
            config.clone(),
            address_key.clone(),
        );
        scripts.set_input_builder(Arc::new(crate::pipeline::StoredInput::new(
            store.clone(),
            address_key,
        )));
        let mut tasks = queue::spawn_workers(
            store.clone(),
            Arc::new(pipeline),
            QueueSettings {
                workers: config.workers,
                // A batch writes each kind of effect with one statement, so a large one costs
                // less per event; while webhooks keep arriving, workers take at most 4 events
                // (see `Worker::batch_size`), so acknowledgements do not wait behind them.
                batch: 256,
                lease: Duration::from_secs(config.event_lease_secs),
                idle_poll: Duration::from_millis(500),
                max_attempts: config.max_attempts,
                instance: instance.clone(),
            },
            metrics.clone(),
            queue_wake.clone(),
            shutdown.clone(),
        );

        tasks.push(scheduler.start(shutdown.clone()));
        tasks.push(sender);
        tasks.push(ingest.record_people_in_background(shutdown.clone()));
        tasks.push(
            DeliveryWorker::new(
                store.clone(),
                secret_box.clone(),
                metrics.clone(),
                DeliverySettings::default(),
                TargetPolicy::new(config.outbound_allow_hosts.clone()),
            )?
            .spawn(shutdown.clone()),
        );

        let accounts = crate::accounts::Accounts::new(store.clone(), &config).await?;
        let state = web::Data::new(AppState {
            config: config.clone(),
            store,
            ingest,
            metrics: metrics.clone(),
            readiness,
            mailer,
            scripts,
            queue_wake,
            secret_box,
            bizreach,
            poller,
            scheduler,
            progress_sync,
            retention,
            test_sends: crate::rate_limit::RateLimit::new(
                crate::http::templates::TEST_SENDS_PER_HOUR,
                Duration::from_secs(3600),
            ),
            auth_throttle: Default::default(),
            public_links: Default::default(),
            accounts,
        });
        let listener = TcpListener::bind(config.bind).map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {} (HIRELAY_BIND, `bind`): {e}; another program (or another \
                 hirelay) may use it: stop it or choose another port",
                config.bind
            )
        })?;
        let port = listener.local_addr()?.port();
        let app_state = state.clone();
        let https = config.public_url.starts_with("https://");
        let server = HttpServer::new(move || {
            let request_metrics = app_state.metrics.clone();
            App::new()
                .app_data(app_state.clone())
                // Innermost: the token is checked before a handler's extractors run.
                .wrap(actix_web::middleware::from_fn(http::auth::authenticate))
                .wrap(actix_web::middleware::from_fn(http::public_links::limit))
                .wrap_fn(move |req, srv| {
                    let path = req.path().to_owned();
                    let fut = srv.call(req);
                    async move {
                        let mut res = fut.await?;
                        http::security_headers::apply(res.headers_mut(), &path, https);
                        Ok(res)
                    }
                })
                // Outermost: metrics and the access log see every answer, with its time.
                .wrap_fn(move |req, srv| {
                    let method = crate::metrics::method_label(req.method());
                    let metrics = request_metrics.clone();
                    let started = std::time::Instant::now();
                    let fut = srv.call(req);
                    async move {
                        let res = fut.await?;
                        let pattern = res.request().match_pattern();
                        let status = res.status().as_u16();
                        metrics.request(method, pattern.as_deref().unwrap_or("unmatched"), status);
                        if tracing::enabled!(target: http::access_log::TARGET, tracing::Level::INFO)
                        {
                            let took = started.elapsed();
                            if let Some(line) =
                                http::access_log::line(method, pattern.as_deref(), status, took)
                            {
                                tracing::info!(target: http::access_log::TARGET, "{line}");
                            }
                        }
                        Ok(res)
                    }
                })
                .configure(http::configure)
                .default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, _>(http::error::ApiError::new(
                        http::error::ErrorCode::NotFound,
                        "no such endpoint",
                    ))
                }))
        })
        .listen(listener)?
        .shutdown_timeout(30)
        .disable_signals()
        .run();
        Ok(Application {
            port,
            server,
            shutdown,
            tasks,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn stopper(&self) -> Stopper {
        Stopper {
            server: self.server.handle(),
            shutdown: self.shutdown.clone(),
        }
    }

    /// Runs until stopped, then waits for the workers to finish their batch.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.shutdown.cancel();
        for task in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(30), task).await;
        }
        self.state.store.close().await;
        result
    }
}

/// Issue 19: `serve` refuses to start on a rules directory without scripts or a templates
/// directory without templates (most often: started in the wrong directory), naming the
/// directory and what it should hold.
pub fn check_directories(config: &Config) -> anyhow::Result<()> {
    let shown = |dir: &std::path::Path| {
        std::path::absolute(dir)
            .map_or_else(|_| dir.display().to_string(), |p| p.display().to_string())
    };
    let scripts = crate::watch::read_tree(&config.rules_dir, &[".rhai"]).map_or(0, |f| f.len());
    if scripts == 0 {
        anyhow::bail!(
            "the rules directory {} has no `.rhai` scripts; expected the rule scripts \
             (import.rhai, status.rhai, career_relay.rhai, as shipped in the repository's rules/): \
             set HIRELAY_RULES_DIR (`rules_dir`) or start hirelay in the directory that holds rules/",
            shown(&config.rules_dir)
        );
    }
    let templates = std::fs::read_dir(&config.templates_dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| e.path().join("html.hbs").is_file())
            .count()
    });
    if templates == 0 {
        anyhow::bail!(
            "the templates directory {} has no templates; expected one folder per template \
             with its html.hbs (e.g. group_link_approval/html.hbs, as shipped in the repository's \
             templates/): set HIRELAY_TEMPLATES_DIR (`templates_dir`) or start hirelay in the \
             directory that holds templates/",
            shown(&config.templates_dir)
        );
    }
    Ok(())
}

/// The name of the poller's job (I3).
pub const BIZREACH_POLL_JOB: &str = "bizreach-poll";

/// I3: the poller as the `bizreach-poll` job, on `poll_schedule`.
fn poll_job(config: &Config, poller: Poller) -> Job {
    Job {
        name: BIZREACH_POLL_JOB.to_owned(),
        schedule: config.poll_schedule.clone(),
        run: Arc::new(move || {
            let poller = poller.clone();
            Box::pin(async move {
                let report = poller.poll().await?;
                Ok(serde_json::to_value(report)?)
            })
        }),
    }
}
