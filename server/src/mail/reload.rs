//! Loading and hot reload: template directories on disk become versions in the store (when they
//! changed), and the newest version of each template that compiles is activated. Disk is
//! polled every 2 s (`watch::spawn_tree_watch`), and so is the store, for versions saved by
//! other instances. A version that fails to compile is never activated; readiness
//! `templates` reports it until it is fixed.
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use super::templates::{read_tree, TemplateDoc};
use super::Mailer;
use crate::store::documents::DocumentKind;
use crate::store::entities::document_version;
use crate::versions::{self, Seen, Versioned};

const POLL: Duration = Duration::from_secs(2);

/// What the reloaders remember between polls.
#[derive(Default)]
pub(super) struct ReloadState {
    /// The newest version of each template already looked at.
    pub(super) seen: Seen,
    /// Open problems by source (a template's name, or `partials`), for readiness.
    problems: Mutex<BTreeMap<String, Vec<String>>>,
}

impl ReloadState {
    fn set_problems(&self, source: &str, problems: Vec<String>) {
        let mut all = self.problems.lock().unwrap_or_else(|p| p.into_inner());
        if problems.is_empty() {
            all.remove(source);
        } else {
            all.insert(source.to_owned(), problems);
        }
    }

    fn summary(&self) -> Result<(), String> {
        let all = self.problems.lock().unwrap_or_else(|p| p.into_inner());
        if all.is_empty() {
            Ok(())
        } else {
            Err(all
                .values()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join("; "))
        }
    }
}

#[async_trait::async_trait]
impl Versioned for Mailer {
    const KIND: DocumentKind = DocumentKind::Template;

    fn active_version(&self, name: &str) -> Option<i32> {
        self.catalog().get(name).map(|a| a.version)
    }

    async fn try_activate(&self, version: document_version::Model) -> Result<(), Vec<String>> {
        let doc = TemplateDoc::from_json(&version.body)
            .map_err(|e| vec![format!("stored template is not readable: {e}")])?;
        let activated = self
            .catalog_mut()
            .activate(&version.name, version.version, doc);
        activated
            .map_err(|problems| problems.iter().map(ToString::to_string).collect::<Vec<_>>())?;
        self.templates_changed();
        tracing::info!(template = %version.name, version = version.version, "template activated");
        Ok(())
    }

    fn report(&self, name: &str, problems: Vec<String>) {
        self.inner.reload.set_problems(name, problems);
    }
}

impl Mailer {
    /// Reads the templates directory: partials are registered, each template directory that
    /// compiles is stored as a new version if it changed, then every template's newest good
    /// version is activated.
    pub(super) async fn reload_from_disk(&self) {
        let dir = self.inner.config.templates_dir.clone();
        let tree = match tokio::task::spawn_blocking(move || read_tree(&dir)).await {
            Ok(Ok(tree)) => tree,
            Ok(Err(e)) => {
                let message = format!("{}: {e}", self.inner.config.templates_dir.display());
                tracing::error!(error = %message, "cannot read the templates directory");
                self.inner.reload.set_problems("directory", vec![message]);
                self.update_readiness();
                self.reload_from_store().await;
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, "reading templates panicked");
                return;
            }
        };
        self.inner.reload.set_problems("directory", Vec::new());
        let partial_problems = self.catalog_mut().set_partials(tree.partials);
        for p in &partial_problems {
            tracing::error!(problem = %p, "partial does not compile; the previous one stays");
        }
        self.inner.reload.set_problems(
            "partials",
            partial_problems.iter().map(ToString::to_string).collect(),
        );
        for (name, doc) in tree.templates {
            let doc = match doc {
                Ok(doc) => doc,
                Err(problem) => {
                    tracing::error!(%problem, "template cannot be read");
                    self.inner
                        .reload
                        .set_problems(name.as_str(), vec![problem.to_string()]);
                    continue;
                }
            };
            let problems = doc.check(name.as_str(), self.catalog().partials());
            let syntax: Vec<String> = problems
                .iter()
                .filter(|p| !p.is_variable())
                .map(ToString::to_string)
                .collect();
            for p in problems.iter().filter(|p| p.is_variable()) {
                tracing::warn!(problem = %p, "template uses a variable its sample.json lacks");
            }
            if !syntax.is_empty() {
                tracing::error!(problems = ?syntax, "template does not compile; the previous version stays");
                self.inner.reload.set_problems(name.as_str(), syntax);
                continue;
            }
            self.inner.reload.set_problems(name.as_str(), Vec::new());
            match self
                .inner
                .store
                .import_file_document(
                    DocumentKind::Template,
                    name.as_str(),
                    &doc.to_json(),
                    self.inner.config.rules_source,
                )
                .await
            {
                Ok(Some(v)) => {
                    tracing::info!(template = %name, version = v.version, "template file imported")
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(template = %name, error = %e, "storing the template failed")
                }
            }
        }
        self.reload_from_store().await;
    }

    /// Activates, for every template with a version newer than the ones looked at, the newest
    /// version that compiles.
    pub(super) async fn reload_from_store(&self) {
        let polled =
            versions::activate_from_store(&self.inner.store, self, &self.inner.reload.seen).await;
        if let Err(e) = polled {
            tracing::error!(error = %e, "polling template versions failed");
        }
        self.update_readiness();
    }

    fn update_readiness(&self) {
        self.inner
            .readiness
            .set("templates", self.inner.reload.summary());
    }

    /// Polls the directory and the store until `shutdown`.
    pub(super) fn spawn_reloaders(&self, shutdown: CancellationToken) {
        let on_disk = self.clone();
        crate::watch::spawn_tree_watch(
            self.inner.config.templates_dir.clone(),
            &[".hbs", ".json"],
            POLL,
            shutdown.clone(),
            move |_| {
                let mailer = on_disk.clone();
                async move { mailer.reload_from_disk().await }
            },
        );
        let in_store = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(POLL) => {}
                    _ = shutdown.cancelled() => return,
                }
                in_store.reload_from_store().await;
            }
        });
    }
}
