//! How a stored version of a script or a template becomes the one in use, the same way for both:
//! versions are kept in the store ([`DocumentKind`]), saved through the admin API or imported
//! from files, and each instance activates, for every name whose newest version it has not
//! looked at yet, the newest version that compiles and is newer than the one it runs. A version
//! that does not compile is never activated; its problems are reported (readiness), and the
//! version in use stays.
use std::collections::HashMap;
use std::sync::Mutex;

use crate::store::documents::DocumentKind;
use crate::store::entities::document_version;
use crate::store::{Store, StoreResult};

/// What keeps versions of one kind: the scripts, or the templates.
#[async_trait::async_trait]
pub trait Versioned: Send + Sync {
    const KIND: DocumentKind;

    /// The version of `name` in use, if any.
    fn active_version(&self, name: &str) -> Option<i32>;

    /// Compiles `version` and puts it in use (unless a newer one is in use already); the
    /// problems that keep it from compiling otherwise, with the version in use left as it was.
    async fn try_activate(&self, version: document_version::Model) -> Result<(), Vec<String>>;

    /// Reports the problems of `name`'s newest stored version (for readiness).
    fn report(&self, name: &str, problems: Vec<String>);
}

/// The newest version of each name already looked at.
#[derive(Default)]
pub struct Seen(Mutex<HashMap<String, i32>>);

impl Seen {
    /// Notes that versions of `name` up to `version` were looked at.
    pub fn saw(&self, name: &str, version: i32) {
        let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let entry = seen.entry(name.to_owned()).or_insert(version);
        *entry = (*entry).max(version);
    }

    fn is_new(&self, name: &str, version: i32) -> bool {
        let seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        seen.get(name).is_none_or(|v| *v < version)
    }
}

/// Activates, for every name of `T::KIND` with a stored version newer than `seen`, the newest
/// version that compiles (see [`activate_newest`]).
pub async fn activate_from_store<T: Versioned>(
    store: &Store,
    target: &T,
    seen: &Seen,
) -> StoreResult<()> {
    for (name, head) in store.document_heads(T::KIND).await? {
        if seen.is_new(&name, head) {
            activate_newest(store, target, &name).await?;
            seen.saw(&name, head);
        }
    }
    Ok(())
}

/// Puts in use the newest stored version of `name` that compiles, when it is newer than the one
/// in use. Versions that do not compile are reported, and stay reported when an older one is
/// activated in their place.
pub async fn activate_newest<T: Versioned>(
    store: &Store,
    target: &T,
    name: &str,
) -> StoreResult<()> {
    let versions = store.document_versions(T::KIND, name).await?;
    let in_use = target.active_version(name);
    let mut newer_problems: Option<Vec<String>> = None;
    for version in versions.into_iter().rev() {
        if in_use.is_some_and(|v| version.version <= v) {
            break;
        }
        let number = version.version;
        match target.try_activate(version).await {
            Ok(()) => {
                if let Some(problems) = newer_problems {
                    target.report(name, problems);
                }
                return Ok(());
            }
            Err(problems) => {
                tracing::warn!(kind = T::KIND.as_str(), name, version = number, problems = ?problems, "stored version does not compile; not activated");
                if newer_problems.is_none() {
                    target.report(name, problems.clone());
                    newer_problems = Some(problems);
                }
            }
        }
    }
    Ok(())
}
