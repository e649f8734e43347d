//! What `/readyz` reports: each component (scripts, templates, …) says whether it is loaded.
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// Shared readiness of named components.
#[derive(Clone, Default)]
pub struct Readiness {
    parts: Arc<RwLock<BTreeMap<&'static str, Result<(), String>>>>,
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

    /// Every component and its state.
    pub fn report(&self) -> BTreeMap<&'static str, Result<(), String>> {
        self.parts.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
