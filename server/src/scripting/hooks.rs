//! The one contract between hirelay and its rule scripts: which script runs for which events
//! ([`Hook`]), and the `ctx` each gets, one struct per hook. A real run, a dry run over stored
//! history and a dry run of one posted event all build `ctx` from these structs, so each gets
//! every key; `rules/README.md`'s `ctx` table is checked against them by a test.
use serde::Serialize;
use serde_json::{Map, Value};

use crate::domain::names::ScriptName;
use crate::domain::status::EventSource;

/// A script hirelay runs on events, by the source of those events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// `import.rhai`: each imported BizReach application.
    Import,
    /// `status.rhai`: each applied ATS status change.
    Status,
    /// `career_relay.rhai`: each Career Relay event.
    CareerRelay,
}

impl Hook {
    pub const ALL: [Hook; 3] = [Hook::Import, Hook::Status, Hook::CareerRelay];

    /// The script's name (`import`, `status`, `career_relay`).
    pub fn name(self) -> &'static str {
        match self {
            Hook::Import => "import",
            Hook::Status => "status",
            Hook::CareerRelay => "career_relay",
        }
    }

    pub fn script(self) -> ScriptName {
        ScriptName::parse(self.name())
            .unwrap_or_else(|_| unreachable!("`{}` is a valid script name", self.name()))
    }

    /// The source whose events this hook decides.
    pub fn source(self) -> EventSource {
        match self {
            Hook::Import => EventSource::Bizreach,
            Hook::Status => EventSource::Ats,
            Hook::CareerRelay => EventSource::CareerRelay,
        }
    }

    /// The hook a script of this name is, if any (other names are saved and dry-run only).
    pub fn named(script: &str) -> Option<Hook> {
        Hook::ALL.into_iter().find(|h| h.name() == script)
    }

    /// `ctx` with every key this hook's scripts get, at the value meaning "nothing known".
    pub fn empty_context(self) -> Context {
        match self {
            Hook::Import => Context::Import(ImportContext::default()),
            Hook::Status => Context::Status(StatusContext::default()),
            Hook::CareerRelay => Context::CareerRelay(CareerRelayContext::default()),
        }
    }

    /// The keys of this hook's `ctx`, in the order the struct declares them.
    pub fn context_keys(self) -> Vec<String> {
        match self.empty_context().into_value() {
            Value::Object(map) => map.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// `ctx` for a dry run: this hook's keys, with the values `given` names in place of the
    /// empty ones. A key the hook does not have is refused, naming it.
    pub fn context_with(self, given: Option<Value>) -> Result<Value, String> {
        let mut context = match self.empty_context().into_value() {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        match given {
            None | Some(Value::Null) => {}
            Some(Value::Object(given)) => {
                for (key, value) in given {
                    if !context.contains_key(&key) {
                        return Err(format!(
                            "`{key}` is not a key of `ctx` for {}.rhai (its keys: {})",
                            self.name(),
                            self.context_keys().join(", ")
                        ));
                    }
                    context.insert(key, value);
                }
            }
            Some(_) => return Err("`context` must be an object".into()),
        }
        Ok(Value::Object(context))
    }
}

/// `ctx` of `import.rhai`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportContext {
    /// The job of the routing rule whose position name matches exactly (I7).
    pub routing_job_id: Option<String>,
    /// How many users want to hear about BizReach applications (I5); 0 on a re-import.
    pub notify_subscribers: usize,
    /// This event created the application (its first import).
    pub created: bool,
    /// How the application arrived: `push`, `poll` or `backfill`.
    pub imported_via: Option<String>,
}

/// `ctx` of `status.rhai`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusContext {
    /// Always `true`: a change older than the newest applied one is recorded without a run.
    pub status_applied: bool,
    /// The application's status before this change.
    pub previous_status: Option<String>,
    /// The candidate's address opted out of Career Relay invitations (C8).
    pub opted_out: bool,
    /// This application's candidate was already invited (C8: one email per rejection).
    pub already_invited: bool,
    /// When this person was last sent, or is to be sent, an invitation (RFC 3339).
    pub candidate_invited_at: Option<String>,
    /// This person registered with Career Relay through an earlier invitation.
    pub candidate_registered: bool,
}

impl Default for StatusContext {
    fn default() -> Self {
        StatusContext {
            status_applied: true,
            previous_status: None,
            opted_out: false,
            already_invited: false,
            candidate_invited_at: None,
            candidate_registered: false,
        }
    }
}

/// `ctx` of `career_relay.rhai`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CareerRelayContext {
    /// The invitation a `registration.completed` registered through.
    pub invitation_id: Option<String>,
}

/// The `ctx` of one run, of whichever hook.
#[derive(Debug, Clone, PartialEq)]
pub enum Context {
    Import(ImportContext),
    Status(StatusContext),
    CareerRelay(CareerRelayContext),
}

impl Context {
    /// `ctx` as the script reads it (and as it is recorded with the decision).
    pub fn into_value(self) -> Value {
        let value = match self {
            Context::Import(c) => serde_json::to_value(c),
            Context::Status(c) => serde_json::to_value(c),
            Context::CareerRelay(c) => serde_json::to_value(c),
        };
        value.unwrap_or_else(|_| unreachable!("plain structs serialize"))
    }
}

impl From<ImportContext> for Context {
    fn from(c: ImportContext) -> Self {
        Context::Import(c)
    }
}

impl From<StatusContext> for Context {
    fn from(c: StatusContext) -> Self {
        Context::Status(c)
    }
}

impl From<CareerRelayContext> for Context {
    fn from(c: CareerRelayContext) -> Self {
        Context::CareerRelay(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The `ctx` table of `rules/README.md`, as (key, hook) pairs.
    fn documented() -> BTreeSet<(String, String)> {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../rules/README.md"))
                .expect("rules/README.md is readable");
        let table = readme
            .split("`ctx` holds:")
            .nth(1)
            .expect("rules/README.md has the `ctx` table");
        table
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .filter_map(|row| {
                let cells: Vec<&str> = row.split('|').map(str::trim).collect();
                let key = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
                Some((key.to_owned(), cells.get(2)?.to_string()))
            })
            .collect()
    }

    #[test]
    fn the_rules_readme_documents_every_ctx_key_of_every_hook_and_no_other() {
        let built: BTreeSet<(String, String)> = Hook::ALL
            .into_iter()
            .flat_map(|hook| {
                hook.context_keys()
                    .into_iter()
                    .map(move |key| (key, hook.name().to_owned()))
            })
            .collect();
        assert_eq!(documented(), built);
    }

    #[test]
    fn a_dry_run_context_has_every_key_and_takes_the_given_values() {
        let ctx = Hook::Status
            .context_with(Some(serde_json::json!({"opted_out": true})))
            .unwrap();
        assert_eq!(ctx["opted_out"], true);
        assert_eq!(ctx["status_applied"], true);
        assert!(ctx.get("candidate_invited_at").is_some_and(Value::is_null));
        assert_eq!(
            Hook::Status.context_keys().len(),
            ctx.as_object().unwrap().len()
        );
    }

    #[test]
    fn a_dry_run_context_with_an_unknown_key_is_refused_naming_it() {
        let err = Hook::Import
            .context_with(Some(serde_json::json!({"routing_job": "job_1"})))
            .unwrap_err();
        assert!(err.contains("`routing_job`"), "{err}");
        assert!(err.contains("routing_job_id"), "{err}");
    }

    #[test]
    fn each_hook_decides_one_source_and_is_found_by_its_name() {
        for hook in Hook::ALL {
            assert_eq!(Hook::named(hook.name()), Some(hook));
            assert_eq!(hook.script().as_str(), hook.name());
        }
        assert_eq!(Hook::named("nightly"), None);
        assert_eq!(Hook::Status.source(), EventSource::Ats);
    }
}
