//! Dry runs of a draft over stored events: the draft's actions beside the ones recorded when
//! each event was processed, and a summary of what would change ("37 routed differently,
//! 4 more invitations"). Nothing is written.
use async_trait::async_trait;
use chrono::TimeZone;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::action::Action;
use super::engine::ScriptInput;
use super::hooks::Hook;
use super::registry::{file_name, RulesError, Scripts};
use crate::domain::names::ScriptName;
use crate::domain::status::EventSource;
use crate::store::entities::event;
use crate::store::Store;

/// Builds a script's input for a stored event. The pipeline plugs in its own (with the
/// application, candidate and context); the default gives the payload only.
#[async_trait]
pub trait InputBuilder: Send + Sync {
    async fn input_for(&self, event: &event::Model) -> Result<ScriptInput, String>;
}

/// The stored payload as `event`, no application or candidate, an empty `ctx`, and `now` the
/// time the event was received.
pub struct PayloadOnly;

#[async_trait]
impl InputBuilder for PayloadOnly {
    async fn input_for(&self, event: &event::Model) -> Result<ScriptInput, String> {
        let payload: serde_json::Value = serde_json::from_str(&event.payload)
            .map_err(|e| format!("stored payload is not JSON: {e}"))?;
        let mut input = ScriptInput::from_payload(event.kind.clone(), payload);
        if let Some(at) = chrono::Utc.timestamp_millis_opt(event.received_at).single() {
            input.now = at;
        }
        Ok(input)
    }
}

/// The event source whose events a hook script decides.
pub fn source_of(script: &str) -> Option<EventSource> {
    Hook::named(script).map(Hook::source)
}

/// Default and largest number of events a history dry run takes.
pub const DEFAULT_LIMIT: u64 = 100;
pub const MAX_LIMIT: u64 = 1_000;
/// Longest the draft runs of one history dry run may take together (H2: 1,000 events at the
/// sandbox's 1 s each would hold a thread for a quarter of an hour); the events left are
/// reported as not run.
pub const HISTORY_TIME_BUDGET: Duration = Duration::from_secs(15);
/// History dry runs at once per instance; another waits [`HISTORY_WAIT`] for its turn.
pub const HISTORY_RUNS_AT_ONCE: usize = 2;
pub const HISTORY_WAIT: Duration = Duration::from_secs(5);

/// Which stored events a history dry run takes.
#[derive(Clone, Debug, Default)]
pub struct HistoryQuery {
    /// Unix milliseconds; events received at or after.
    pub since: Option<i64>,
    pub limit: Option<u64>,
}

/// The answer of a history dry run.
#[derive(Debug, Serialize)]
pub struct HistoryReport {
    pub results: Vec<EventComparison>,
    pub summary: Summary,
}

/// One event: what was recorded, what the draft does.
#[derive(Debug, Serialize)]
pub struct EventComparison {
    pub event_id: String,
    pub recorded: Option<Recorded>,
    pub draft: DraftOutcome,
    pub changed: bool,
    /// `recorded`: the draft ran with the context the recorded decision was made with;
    /// `rebuilt`: none was recorded, so it ran with today's (see `context_note`).
    pub context: ContextSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_note: Option<String>,
}

/// Which context a draft ran with over a stored event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContextSource {
    Recorded,
    Rebuilt,
}

/// Why a draft ran with a context rebuilt from today's state.
const REBUILT_NOTE: &str = "no context was recorded with this decision (made before hirelay kept it, or not made): `ctx`, `now` and `application` are today's, so a difference may come from what happened since rather than from the draft";

/// The input for a stored event: today's, with the context recorded with its decision in
/// place of today's when there is one.
fn with_context(
    today: Result<ScriptInput, String>,
    recorded: Option<&serde_json::Value>,
) -> (Result<ScriptInput, String>, ContextSource) {
    match (today, recorded) {
        (Ok(input), Some(context)) => (
            input.with_recorded_context(context),
            ContextSource::Recorded,
        ),
        (today, _) => (today, ContextSource::Rebuilt),
    }
}

/// The newest decision recorded for an event.
#[derive(Debug, Serialize)]
pub struct Recorded {
    pub script_version: i32,
    pub actions: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The draft's actions and log, or its error with position.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum DraftOutcome {
    Ran {
        actions: Vec<Action>,
        log: Vec<String>,
    },
    Failed {
        error: String,
        line: Option<usize>,
        column: Option<usize>,
    },
    /// The dry run's time budget ran out before this event.
    NotRun { not_run: String },
}

/// Totals over every event of the run.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub events: usize,
    pub changed: usize,
    pub errors: usize,
    /// Events not run because the time budget ran out.
    pub not_run: usize,
    /// Events run with today's context, none having been recorded with their decision.
    pub rebuilt_context: usize,
    pub by_action: BTreeMap<&'static str, ActionCounts>,
    pub text: String,
}

/// How many actions of one type were recorded and how many the draft returns.
#[derive(Debug, Default, Serialize)]
pub struct ActionCounts {
    pub recorded: usize,
    pub draft: usize,
}

impl Scripts {
    /// Runs `draft` over the stored events of the script's source and compares each with the
    /// newest recorded decision.
    pub async fn dry_run_history(
        &self,
        name: &ScriptName,
        draft: &str,
        query: &HistoryQuery,
    ) -> Result<HistoryReport, RulesError> {
        let source = source_of(name.as_str()).ok_or_else(|| RulesError::Invalid {
            field: "script",
            message: format!(
                "only the hook scripts (import, status, career_relay) have stored events; `{name}` has none"
            ),
        })?;
        let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(RulesError::Invalid {
                field: "events.limit",
                message: format!("must be between 1 and {MAX_LIMIT}"),
            });
        }
        Self::check_as(name.as_str(), draft)?;
        let _turn = tokio::time::timeout(HISTORY_WAIT, self.inner.history_runs.acquire())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or(RulesError::Busy {
                message: format!(
                    "{HISTORY_RUNS_AT_ONCE} dry runs over history are running already; try again shortly"
                ),
                retry_after: HISTORY_WAIT,
            })?;
        let store = self.store().clone();
        let events = store.events_since(query.since, Some(source), limit).await?;
        let builder = self.input_builder();
        let mut prepared = Vec::with_capacity(events.len());
        for event in &events {
            let decision = Store::decisions_for(&store.db, &event.id).await?.pop();
            let (input, context) = with_context(
                builder.input_for(event).await,
                decision.as_ref().and_then(|d| d.context.as_ref()),
            );
            let recorded = decision.map(|d| Recorded {
                script_version: d.script_version,
                actions: d.actions,
                error: d.error,
            });
            let purged = crate::domain::personal::purge_note(&event.payload);
            prepared.push((event.id.clone(), recorded, input, context, purged));
        }
        let this = self.clone();
        let (name, draft) = (name.clone(), draft.to_owned());
        let results = tokio::task::spawn_blocking(move || {
            let deadline = Instant::now() + HISTORY_TIME_BUDGET;
            prepared
                .into_iter()
                .map(|(event_id, recorded, input, context, purged)| {
                    let draft = match input {
                        // Issue 16: nothing to run the draft on.
                        _ if purged.is_some() => DraftOutcome::NotRun {
                            not_run: purged.unwrap_or_default(),
                        },
                        _ if Instant::now() >= deadline => DraftOutcome::NotRun {
                            not_run: format!(
                                "the dry run's {} s budget ran out before this event: take fewer events (`limit`, `since`)",
                                HISTORY_TIME_BUDGET.as_secs()
                            ),
                        },
                        Ok(input) => match this.run_draft(&name, &draft, &input) {
                            Ok(d) => DraftOutcome::Ran {
                                actions: d.actions,
                                log: d.log,
                            },
                            Err(e) => DraftOutcome::Failed {
                                line: e.line(),
                                column: e.column(),
                                error: e.to_string(),
                            },
                        },
                        Err(e) => DraftOutcome::Failed {
                            error: format!("{}: {e}", file_name(name.as_str())),
                            line: None,
                            column: None,
                        },
                    };
                    let changed = match &draft {
                        DraftOutcome::Ran { actions, .. } => {
                            recorded_actions(recorded.as_ref()) != as_values(actions)
                        }
                        DraftOutcome::Failed { .. } => true,
                        DraftOutcome::NotRun { .. } => false,
                    };
                    EventComparison {
                        event_id,
                        recorded,
                        draft,
                        changed,
                        context,
                        context_note: (context == ContextSource::Rebuilt)
                            .then(|| REBUILT_NOTE.to_owned()),
                    }
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| RulesError::Invalid {
            field: "script",
            message: format!("the dry run did not finish: {e}"),
        })?;
        let summary = summarize(&results);
        Ok(HistoryReport { results, summary })
    }
}

fn recorded_actions(recorded: Option<&Recorded>) -> Vec<serde_json::Value> {
    recorded
        .and_then(|r| r.actions.as_array().cloned())
        .unwrap_or_default()
}

fn as_values(actions: &[Action]) -> Vec<serde_json::Value> {
    actions
        .iter()
        .filter_map(|a| serde_json::to_value(a).ok())
        .collect()
}

fn of_type<'a>(actions: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    actions
        .iter()
        .filter(|a| a["type"].as_str() == Some(kind))
        .collect()
}

/// Counts by action type and the sentence saying what would change.
pub fn summarize(results: &[EventComparison]) -> Summary {
    let mut by_action: BTreeMap<&'static str, ActionCounts> = BTreeMap::new();
    let mut differing: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut errors = 0;
    let mut not_run = 0;
    for r in results {
        let recorded = recorded_actions(r.recorded.as_ref());
        let draft = match &r.draft {
            DraftOutcome::Ran { actions, .. } => as_values(actions),
            DraftOutcome::Failed { .. } => {
                errors += 1;
                Vec::new()
            }
            DraftOutcome::NotRun { .. } => {
                not_run += 1;
                continue;
            }
        };
        for kind in Action::TYPES {
            let (a, b) = (of_type(&recorded, kind), of_type(&draft, kind));
            if a.is_empty() && b.is_empty() {
                continue;
            }
            let counts = by_action.entry(kind).or_default();
            counts.recorded += a.len();
            counts.draft += b.len();
            if a != b && !matches!(r.draft, DraftOutcome::Failed { .. }) {
                *differing.entry(kind).or_default() += 1;
            }
        }
    }
    let changed = results.iter().filter(|r| r.changed).count();
    let mut text = sentence(&by_action, &differing, errors);
    if not_run > 0 {
        text.push_str(&format!(
            "; {not_run} of {} events not run: the {} s budget ran out",
            results.len(),
            HISTORY_TIME_BUDGET.as_secs()
        ));
    }
    let rebuilt_context = results
        .iter()
        .filter(|r| {
            r.context == ContextSource::Rebuilt && !matches!(r.draft, DraftOutcome::NotRun { .. })
        })
        .count();
    if rebuilt_context > 0 {
        text.push_str(&format!(
            "; {rebuilt_context} {} with today's context, none having been recorded with {}",
            if rebuilt_context == 1 {
                "event ran"
            } else {
                "events ran"
            },
            if rebuilt_context == 1 {
                "its decision"
            } else {
                "their decisions"
            },
        ));
    }
    Summary {
        events: results.len(),
        changed,
        errors,
        not_run,
        rebuilt_context,
        text,
        by_action,
    }
}

/// `(differently, singular noun, plural noun)` for each action type.
fn words(kind: &str) -> (&'static str, &'static str, &'static str) {
    match kind {
        "label" => ("labeled differently", "label", "labels"),
        "unlabel" => ("unlabeled differently", "label removal", "label removals"),
        "route" => ("routed differently", "route", "routes"),
        "email" => ("emailed differently", "email", "emails"),
        "kpi" => ("with different KPIs", "KPI", "KPIs"),
        "notify" => ("notified differently", "notification", "notifications"),
        "webhook" => ("with different webhooks", "webhook", "webhooks"),
        _ => ("invited differently", "invitation", "invitations"),
    }
}

fn sentence(
    by_action: &BTreeMap<&'static str, ActionCounts>,
    differing: &BTreeMap<&'static str, usize>,
    errors: usize,
) -> String {
    let mut parts = Vec::new();
    for kind in Action::TYPES {
        let Some(counts) = by_action.get(kind) else {
            continue;
        };
        let (differently, one, many) = words(kind);
        let delta = counts.draft as i64 - counts.recorded as i64;
        let noun = |n: i64| if n == 1 { one } else { many };
        if delta > 0 {
            parts.push(format!("{delta} more {}", noun(delta)));
        } else if delta < 0 {
            parts.push(format!("{} fewer {}", -delta, noun(-delta)));
        } else if let Some(n) = differing.get(kind).filter(|n| **n > 0) {
            parts.push(format!("{n} {differently}"));
        }
    }
    if errors > 0 {
        parts.push(format!(
            "{errors} {}",
            if errors == 1 { "error" } else { "errors" }
        ));
    }
    if parts.is_empty() {
        "no changes".into()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn comparison(recorded: serde_json::Value, draft: Vec<Action>) -> EventComparison {
        let recorded = Recorded {
            script_version: 1,
            actions: recorded,
            error: None,
        };
        let changed = recorded_actions(Some(&recorded)) != as_values(&draft);
        EventComparison {
            event_id: "evt".into(),
            recorded: Some(recorded),
            draft: DraftOutcome::Ran {
                actions: draft,
                log: vec![],
            },
            changed,
            context: ContextSource::Recorded,
            context_note: None,
        }
    }

    #[test]
    fn the_summary_says_what_would_change() {
        let route = |j: &str| Action::Route { job_id: j.into() };
        let results = vec![
            comparison(json!([{"type": "route", "job_id": "a"}]), vec![route("b")]),
            comparison(
                json!([{"type": "route", "job_id": "a"}]),
                vec![route("a"), Action::Invite { send_at: None }],
            ),
            comparison(json!([]), vec![]),
        ];
        let summary = summarize(&results);
        assert_eq!(summary.events, 3);
        assert_eq!(summary.changed, 2);
        assert_eq!(summary.by_action["route"].recorded, 2);
        assert_eq!(summary.by_action["invite"].draft, 1);
        assert_eq!(summary.text, "1 routed differently, 1 more invitation");
    }
}
