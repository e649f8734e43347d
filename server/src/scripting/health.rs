//! Whether the hook scripts' events are succeeding (issue 19): a script that compiles can still
//! fail on every event. The workers report each decision they commit; a script whose
//! [`FAILURES_TO_DEGRADE`] latest decisions, within [`WINDOW`], all failed is reported by
//! `/readyz` until one of its events succeeds or a new version of it is activated.
//!
//! Counters in memory, per instance: a probe reads them and queries nothing.
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

/// How far back failures count.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures in a row (within [`WINDOW`]) that make a script's events "failing".
pub const FAILURES_TO_DEGRADE: usize = 5;
/// Most failure times kept per script.
const KEPT: usize = 1_000;

/// The recent outcomes of every script's events.
#[derive(Debug, Default)]
pub struct RunHealth {
    scripts: BTreeMap<String, ScriptRuns>,
}

#[derive(Debug, Default)]
struct ScriptRuns {
    version: i32,
    /// Unix milliseconds of the failures since the last success, oldest first, within the
    /// window of the latest.
    failures: VecDeque<i64>,
}

impl ScriptRuns {
    fn failing(&self) -> bool {
        self.failures.len() >= FAILURES_TO_DEGRADE
    }
}

impl RunHealth {
    /// Records a decision of `script` `version` made at `at` (unix ms); answers whether what
    /// [`RunHealth::failing`] says may have changed. A decision of an older version than one
    /// already seen is left out.
    pub fn record(&mut self, script: &str, version: i32, failed: bool, at: i64) -> bool {
        // Looked up by `&str` first: a decision of a known script allocates nothing.
        if !self.scripts.contains_key(script) {
            self.scripts
                .insert(script.to_owned(), ScriptRuns::default());
        }
        let Some(runs) = self.scripts.get_mut(script) else {
            return false;
        };
        if version < runs.version {
            return false;
        }
        // A success with no failure kept changes nothing: the common case costs a look-up.
        if !failed && runs.failures.is_empty() && version == runs.version {
            return false;
        }
        let was_failing = runs.failing();
        if version > runs.version {
            *runs = ScriptRuns {
                version,
                failures: VecDeque::new(),
            };
        }
        if failed {
            runs.failures.push_back(at);
            let since = at - WINDOW.as_millis() as i64;
            while runs.failures.front().is_some_and(|t| *t < since) || runs.failures.len() > KEPT {
                runs.failures.pop_front();
            }
        } else {
            runs.failures.clear();
        }
        was_failing || runs.failing()
    }

    /// A new `version` of `script` is active: its failures so far are the older version's.
    /// Answers whether the script was failing.
    pub fn activated(&mut self, script: &str, version: i32) -> bool {
        let runs = self.scripts.entry(script.to_owned()).or_default();
        let was_failing = runs.failing();
        if version > runs.version {
            *runs = ScriptRuns {
                version,
                failures: VecDeque::new(),
            };
        }
        was_failing
    }

    /// One sentence per script whose events are failing: its file, version, how many failed
    /// and when the latest did. No event's content (it may hold personal data).
    pub fn failing(&self) -> Vec<String> {
        self.scripts
            .iter()
            .filter(|(_, runs)| runs.failing())
            .map(|(name, runs)| {
                let latest = runs
                    .failures
                    .back()
                    .map(|t| crate::domain::time::rfc3339(*t))
                    .unwrap_or_default();
                format!(
                    "{} version {}: its last {} events failed (within {} minutes, the latest at {latest}) and none succeeded since; see GET /v1/events?status=failed, fix the script and replay them",
                    super::registry::file_name(name),
                    runs.version,
                    runs.failures.len(),
                    WINDOW.as_secs() / 60,
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    #[test]
    fn issue19_a_script_is_failing_after_five_failures_in_a_row_within_the_window() {
        let mut health = RunHealth::default();
        for i in 0..4 {
            health.record("status", 2, true, i * MINUTE);
        }
        assert!(health.failing().is_empty());
        assert!(health.record("status", 2, true, 4 * MINUTE));
        let failing = health.failing();
        assert_eq!(failing.len(), 1, "{failing:?}");
        assert!(
            failing[0].starts_with("status.rhai version 2: its last 5 events failed (within 15 minutes, the latest at 1970-01-01T00:04:00"),
            "{failing:?}"
        );
        // One success and it recovers.
        assert!(health.record("status", 2, false, 5 * MINUTE));
        assert!(health.failing().is_empty());
    }

    #[test]
    fn issue19_failures_spread_wider_than_the_window_or_of_an_older_version_do_not_count() {
        let mut health = RunHealth::default();
        for i in 0..5 {
            health.record("import", 1, true, i * 10 * MINUTE);
        }
        assert!(health.failing().is_empty(), "{:?}", health.failing());
        let mut health = RunHealth::default();
        for i in 0..5 {
            health.record("import", 3, true, i);
        }
        assert_eq!(health.failing().len(), 1);
        // A decision of an older version says nothing about the running one.
        assert!(!health.record("import", 2, false, 10));
        assert_eq!(health.failing().len(), 1);
        // A new version starts clean.
        assert!(health.activated("import", 4));
        assert!(health.failing().is_empty());
        for i in 0..4 {
            health.record("import", 4, true, 20 + i);
        }
        assert!(health.failing().is_empty());
    }
}
