//! What `/readyz` reports: each component (scripts, templates, …) says whether it is loaded.
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// Shared readiness of named components.
#[derive(Clone, Default)]
pub struct Readiness {
    parts: Arc<RwLock<BTreeMap<&'static str, Result<(), String>>>>,
    /// What works only in part, shown without making the instance unready.
    notices: Arc<RwLock<BTreeMap<&'static str, String>>>,
}

impl Readiness {
    /// Declares a component not ready yet.
    pub fn expect(&self, part: &'static str) {
        self.set(part, Err("not loaded yet".into()));
    }

    pub fn set(&self, part: &'static str, state: Result<(), String>) {
        self.parts
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(part, state);
    }

    /// Says what of `part` does not work (`None`: all of it does); the instance stays ready.
    pub fn notice(&self, part: &'static str, notice: Option<String>) {
        let mut notices = self.notices.write().unwrap_or_else(|p| p.into_inner());
        match notice {
            Some(n) => notices.insert(part, n),
            None => notices.remove(part),
        };
    }

    /// Every notice, by part.
    pub fn notices(&self) -> BTreeMap<&'static str, String> {
        self.notices
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Every component and its state.
    pub fn report(&self) -> BTreeMap<&'static str, Result<(), String>> {
        self.parts.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
