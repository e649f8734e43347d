//! The rule scripts: a sandboxed Rhai engine, the API scripts call, versions and hot reload,
//! and dry runs. Scripts decide ([`Action`]s); the pipeline carries the decisions out.
//!
//! Nothing here knows about HTTP: `http/rules.rs` only calls [`Scripts`].
pub mod action;
pub mod api;
pub mod calendar;
mod calls;
pub mod dry_run;
pub mod engine;
pub mod error;
mod growth;
pub mod health;
pub mod hooks;
pub mod registry;
mod reload;
pub mod sandbox;
#[cfg(test)]
mod shipped_rules;
pub mod signature;

pub use action::Action;
pub use dry_run::{HistoryQuery, HistoryReport, InputBuilder, PayloadOnly};
pub use engine::{Decision, ScriptInput};
pub use error::{Limit, ScriptError};
pub use hooks::{Context, Hook};
pub use registry::{ActiveScript, RulesError, Scripts};
pub use reload::check_dir;
