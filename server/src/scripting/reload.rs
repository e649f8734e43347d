//! Where versions come from besides the admin API: the files of `rules_dir` (at start-up and
//! on every change) and the store (versions saved by other instances), plus `hirelay rules check`.
use std::path::{Path, PathBuf};

use super::engine::ScriptEngine;
use super::registry::{file_name, Scripts};
use crate::domain::names::ScriptName;
use crate::store::documents::DocumentKind;
use crate::store::entities::document_version;
use crate::store::StoreError;
use crate::versions::{self, Versioned};

#[async_trait::async_trait]
impl Versioned for Scripts {
    const KIND: DocumentKind = DocumentKind::Rule;

    fn active_version(&self, name: &str) -> Option<i32> {
        self.active(name).map(|a| a.version)
    }

    async fn try_activate(&self, version: document_version::Model) -> Result<(), Vec<String>> {
        let ast = self
            .compile_off_thread(&version.name, &version.body)
            .await
            .map_err(|e| vec![e.to_string()])?;
        self.activate(version, ast);
        Ok(())
    }

    fn report(&self, name: &str, problems: Vec<String>) {
        self.set_problem(&file_name(name), Some(problems.join("; ")));
    }
}

impl Scripts {
    /// Activates the newest stored version of every script that compiles, when it is newer
    /// than the active one (versions saved by this instance, by others, or imported from files).
    pub(super) async fn load_from_store(&self) -> Result<(), StoreError> {
        versions::activate_from_store(&self.inner.store, self, &self.inner.seen).await?;
        self.publish_readiness();
        Ok(())
    }

    /// Hot reload: each file that compiles and changed becomes a new version (author "file");
    /// a file that does not compile is refused and reported, and the running version stays.
    /// Answers false when a file could not be saved (the database was busy): the caller then
    /// tries the same files again at its next look, rather than taking them as seen.
    pub(super) async fn import_files(&self, files: Vec<(PathBuf, String)>) -> bool {
        let mut saved = true;
        for (path, body) in files {
            let file = path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            let stem = file.trim_end_matches(".rhai");
            let name = match ScriptName::parse(stem) {
                Ok(n) => n,
                Err(e) => {
                    self.set_problem(&file, Some(format!("{file}: {e}")));
                    continue;
                }
            };
            let ast = match self.compile_off_thread(name.as_str(), &body).await {
                Ok(ast) => ast,
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "rule file does not compile; the running version stays");
                    self.set_problem(&file, Some(e.to_string()));
                    continue;
                }
            };
            match self
                .inner
                .store
                .import_file_document(
                    DocumentKind::Rule,
                    name.as_str(),
                    &body,
                    self.inner.rules_source,
                )
                .await
            {
                Ok(Some(model)) => {
                    self.activate(model, ast);
                }
                Ok(None) => self.set_problem(&file, None),
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "saving a rule file version failed; tried again at the next look");
                    self.set_problem(&file, Some(format!("{file}: could not be saved: {e}")));
                    saved = false;
                }
            }
        }
        self.publish_readiness();
        saved
    }

    /// Every `*.rhai` under `dir`; `None` (and a readiness problem) when it cannot be read.
    pub(super) async fn read_dir(&self, dir: &Path) -> Option<Vec<(PathBuf, String)>> {
        let owned = dir.to_path_buf();
        let key = dir.display().to_string();
        match tokio::task::spawn_blocking(move || crate::watch::read_tree(&owned, &[".rhai"])).await
        {
            Ok(Ok(files)) => {
                self.set_problem(&key, None);
                Some(files)
            }
            Ok(Err(e)) => {
                tracing::warn!(dir = %key, error = %e, "rules directory unreadable");
                self.set_problem(&key, Some(format!("{key}: {e}")));
                None
            }
            Err(_) => None,
        }
    }
}

/// `hirelay rules check`: every `*.rhai` of `dir` compiled; one message (`import.rhai:3:7: …`)
/// for the first problem of each file that has one.
pub fn check_dir(dir: &Path) -> Vec<String> {
    let files = match crate::watch::read_tree(dir, &[".rhai"]) {
        Ok(files) => files,
        Err(e) => return vec![format!("{}: {e}", dir.display())],
    };
    let engine = ScriptEngine::new();
    files
        .into_iter()
        .filter_map(|(path, body)| {
            let file = path.file_name()?.to_string_lossy().into_owned();
            if let Err(e) = ScriptName::parse(file.trim_end_matches(".rhai")) {
                return Some(format!("{file}: {e}"));
            }
            engine.compile(&file, &body).err().map(|e| e.to_string())
        })
        .collect()
}
