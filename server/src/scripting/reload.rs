//! Where versions come from besides the admin API: the files of `rules_dir` (at start-up and
//! on every change) and the store (versions saved by other instances), plus `hirelay rules check`.
use std::path::{Path, PathBuf};

use super::engine::ScriptEngine;
use super::registry::{file_name, lock, Scripts};
use crate::domain::names::ScriptName;
use crate::store::documents::DocumentKind;
use crate::store::StoreError;

impl Scripts {
    /// Activates the newest stored version of every script when it is newer than the active
    /// one and compiles. At start-up (`walk_back`), a newest version that does not compile
    /// gives way to the newest older one that does.
    pub(super) async fn load_from_store(&self, walk_back: bool) -> Result<(), StoreError> {
        let latest = self
            .inner
            .store
            .latest_documents(DocumentKind::Rule)
            .await?;
        for model in latest {
            let current = self.active(&model.name).map_or(0, |a| a.version);
            let refused = lock(&self.inner.refused).get(&model.name).copied();
            if model.version <= current || refused == Some(model.version) {
                continue;
            }
            match self.compile_off_thread(&model.name, &model.body).await {
                Ok(ast) => {
                    self.activate(model, ast);
                }
                Err(e) => {
                    tracing::warn!(script = %model.name, version = model.version, error = %e, "stored rule version does not compile; not activated");
                    lock(&self.inner.refused).insert(model.name.clone(), model.version);
                    self.set_problem(&file_name(&model.name), Some(e.to_string()));
                    if walk_back && current == 0 {
                        self.activate_newest_good(&model.name).await?;
                    }
                }
            }
        }
        self.publish_readiness();
        Ok(())
    }

    async fn activate_newest_good(&self, name: &str) -> Result<(), StoreError> {
        let versions = self
            .inner
            .store
            .document_versions(DocumentKind::Rule, name)
            .await?;
        for model in versions.into_iter().rev().skip(1) {
            if let Ok(ast) = self.compile_off_thread(name, &model.body).await {
                let problem = self.problems().get(&file_name(name)).cloned();
                self.activate(model, ast);
                // The newer, broken version is still worth reporting.
                self.set_problem(&file_name(name), problem);
                break;
            }
        }
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
