//! The sandbox every script runs in: limits on operations, call depth, expression depth, sizes
//! and wall time; no file, network or module access; and the per-run collector.
//!
//! rhai's `print`, `debug` and progress callbacks receive no per-run context, so what a run
//! collects (its actions, its log, its deadline) lives in a thread-local slot that a
//! [`RunGuard`] fills for exactly the duration of one run. A run is synchronous on one thread,
//! so runs on several threads at once never see each other's state.
use rhai::{Dynamic, Engine, EvalAltResult, Position};
use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::action::Action;

/// Most operations (rhai's unit of work) one run may take.
pub const MAX_OPERATIONS: u64 = 2_000_000;
/// Deepest nesting of function calls.
pub const MAX_CALL_LEVELS: usize = 32;
/// Deepest nesting of expressions, at top level and inside functions.
pub const MAX_EXPR_DEPTH: usize = 64;
/// Deepest nesting of expressions inside functions.
pub const MAX_FN_EXPR_DEPTH: usize = 32;
/// Longest string, in bytes.
pub const MAX_STRING_SIZE: usize = 256 * 1024;
/// Most items in an array.
pub const MAX_ARRAY_SIZE: usize = 10_000;
/// Most entries in an object map.
pub const MAX_MAP_SIZE: usize = 10_000;
/// Most variables alive at once.
pub const MAX_VARIABLES: usize = 1_000;
/// Longest a run may take, however few operations it uses (host calls can be slow).
pub const WALL_TIME: Duration = Duration::from_secs(1);
/// Most log lines one run keeps.
pub const MAX_LOG_LINES: usize = 200;
/// Most actions one run may return.
pub const MAX_ACTIONS: usize = 1_000;
/// Longest log line kept, in bytes; a longer one is cut (H2: 200 lines of 256 KiB each would
/// be 50 MB per run, kept in every decision record).
pub const MAX_LOG_LINE: usize = 2 * 1024;

/// How often (in operations) the wall-time deadline is checked.
const DEADLINE_CHECK_EVERY: u64 = 256;

/// Applies the limits and shuts every door to the outside world.
pub fn configure(engine: &mut Engine) {
    engine
        .set_max_operations(MAX_OPERATIONS)
        .set_max_call_levels(MAX_CALL_LEVELS)
        .set_max_expr_depths(MAX_EXPR_DEPTH, MAX_FN_EXPR_DEPTH)
        .set_max_string_size(MAX_STRING_SIZE)
        .set_max_array_size(MAX_ARRAY_SIZE)
        .set_max_map_size(MAX_MAP_SIZE)
        .set_max_variables(MAX_VARIABLES)
        // Undefined variables are compile errors, so a typo is caught when the script is saved.
        .set_strict_variables(true)
        // `import` would read files; `eval` would compile text the validator never saw.
        .set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new())
        .disable_symbol("import")
        .disable_symbol("eval");
    engine.on_print(|s| log_line(s.to_owned()));
    engine.on_debug(|s, source, pos| {
        let at = match (source, pos.line()) {
            (Some(src), Some(line)) => format!("{src}:{line}: "),
            (None, Some(line)) => format!("line {line}: "),
            _ => String::new(),
        };
        log_line(format!("{at}{s}"))
    });
    engine.on_progress(|ops| {
        if ops % DEADLINE_CHECK_EVERY != 0 {
            return None;
        }
        let past = with_run(|run| Instant::now() >= run.deadline).unwrap_or(false);
        past.then(|| Dynamic::from("wall time"))
    });
}

/// What one run collects.
pub struct RunState {
    pub actions: Vec<Action>,
    pub log: Vec<String>,
    pub deadline: Instant,
    /// Template names `send_email` accepts.
    pub templates: Arc<[String]>,
}

thread_local! {
    static CURRENT: RefCell<Option<RunState>> = const { RefCell::new(None) };
}

/// Holds the thread's run slot for one run; empties it when dropped (even on panic).
pub struct RunGuard(());

impl RunGuard {
    /// Starts collecting for a run on this thread.
    pub fn begin(templates: Arc<[String]>) -> RunGuard {
        CURRENT.with(|c| {
            *c.borrow_mut() = Some(RunState {
                actions: Vec::new(),
                log: Vec::new(),
                deadline: Instant::now() + WALL_TIME,
                templates,
            })
        });
        RunGuard(())
    }

    /// Ends the run and hands over what it collected.
    pub fn finish(self) -> (Vec<Action>, Vec<String>) {
        CURRENT
            .with(|c| c.borrow_mut().take())
            .map(|run| (run.actions, run.log))
            .unwrap_or_default()
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.borrow_mut().take());
    }
}

/// Calls `f` with the current run, if a run is in progress on this thread.
pub fn with_run<R>(f: impl FnOnce(&mut RunState) -> R) -> Option<R> {
    CURRENT.with(|c| c.borrow_mut().as_mut().map(f))
}

/// Adds a line to the run's log (`log`, `print`, `debug`), cut at [`MAX_LOG_LINE`] bytes.
pub fn log_line(line: String) {
    let line = cut(line, MAX_LOG_LINE);
    with_run(|run| {
        if run.log.len() < MAX_LOG_LINES {
            run.log.push(line);
        } else if run.log.len() == MAX_LOG_LINES {
            run.log.push(format!("… log cut at {MAX_LOG_LINES} lines"));
        }
    });
}

/// `line` cut at a character boundary at most `max` bytes in, saying how much was left out.
fn cut(mut line: String, max: usize) -> String {
    if line.len() <= max {
        return line;
    }
    let total = line.len();
    let mut end = max;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    line.truncate(end);
    line.push_str(&format!(" … (cut: {total} bytes)"));
    line
}

/// Adds an action to the run, refusing runaway scripts.
pub fn push_action(action: Action) -> Result<(), Box<EvalAltResult>> {
    let pushed = with_run(|run| {
        if run.actions.len() >= MAX_ACTIONS {
            false
        } else {
            run.actions.push(action);
            true
        }
    });
    match pushed {
        Some(true) => Ok(()),
        Some(false) => Err(runtime_error(format!(
            "too many actions: a run may return at most {MAX_ACTIONS}"
        ))),
        None => Err(runtime_error("no script run is in progress")),
    }
}

/// A runtime error whose position rhai fills in with the call site.
pub fn runtime_error(message: impl Into<String>) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        Dynamic::from(message.into()),
        Position::NONE,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripting::engine::tests::run;
    use crate::scripting::error::{Limit, ScriptError};

    fn limit_of(err: &ScriptError) -> Option<Limit> {
        match err {
            ScriptError::Limit { limit, .. } => Some(*limit),
            _ => None,
        }
    }

    #[test]
    fn an_endless_loop_is_stopped_with_a_clear_error() {
        let started = Instant::now();
        let err = run("let n = 0;\nloop { n += 1; }").unwrap_err();
        assert!(
            matches!(limit_of(&err), Some(Limit::Operations | Limit::WallTime)),
            "{err:?}"
        );
        assert!(started.elapsed() < WALL_TIME + Duration::from_millis(500));
        assert_eq!(err.line(), Some(2), "{err}");
        assert!(err.to_string().contains("limit reached"), "{err}");
    }

    #[test]
    fn deep_recursion_is_stopped() {
        let err = run("fn down(n) { down(n + 1) }\ndown(0);").unwrap_err();
        assert_eq!(limit_of(&err), Some(Limit::CallDepth), "{err:?}");
        assert!(err.to_string().contains("call depth"), "{err}");
    }

    #[test]
    fn a_huge_string_is_refused() {
        let err = run("let s = \"x\";\nloop { s += s; }").unwrap_err();
        assert_eq!(limit_of(&err), Some(Limit::StringSize), "{err:?}");
        assert_eq!(err.line(), Some(2), "{err}");
    }

    #[test]
    fn a_huge_array_is_refused() {
        let err = run("let a = [];\na.pad(20000, 0);").unwrap_err();
        assert_eq!(limit_of(&err), Some(Limit::ArraySize), "{err:?}");
    }

    #[test]
    fn runs_on_several_threads_keep_their_own_actions() {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                std::thread::spawn(move || {
                    run(&format!("for n in 0..50 {{ label(\"t{i}\"); }}"))
                        .unwrap()
                        .0
                })
            })
            .collect();
        for (i, h) in handles.into_iter().enumerate() {
            let actions = h.join().unwrap();
            assert_eq!(actions.len(), 50);
            assert!(actions.iter().all(|a| *a
                == Action::Label {
                    label: format!("t{i}")
                }));
        }
    }

    #[test]
    fn h2_long_log_lines_are_cut() {
        let (_, log) =
            run("let s = \"あ\"; s.pad(80000, \"あ\");\nprint(s); log(s); debug(s);").unwrap();
        assert_eq!(log.len(), 3);
        for line in &log {
            assert!(line.len() < MAX_LOG_LINE + 64, "{}", line.len());
            assert!(
                line.contains(" … (cut: 2400"),
                "{}",
                &line[line.len() - 40..]
            );
        }
    }

    #[test]
    fn print_and_debug_go_to_the_log() {
        let (_, log) = run("print(\"hello\");\ndebug(\"there\");").unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(log[0], "hello");
        assert!(log[1].contains("there"), "{log:?}");
    }
}
