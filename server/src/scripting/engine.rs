//! The configured rhai engine: compiling a script text once into an AST, and running an AST
//! over one event's input in the sandbox.
use rhai::{Dynamic, Engine, Scope, AST};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::action::Action;
use super::api;
use super::calendar;
use super::calls;
use super::error::ScriptError;
use super::growth;
use super::sandbox::{self, RunGuard};
use crate::domain::business_calendar::BusinessCalendar;

/// What a script sees of one event.
#[derive(Clone, Debug, PartialEq)]
pub struct ScriptInput {
    /// `application.received`, `application.status_changed`, `registration.completed`, …
    pub event_type: String,
    /// The stored payload, as sent.
    pub event: serde_json::Value,
    /// The application as `GET /v1/applications/{id}` shows it (after the domain step).
    pub application: Option<serde_json::Value>,
    pub candidate: Option<serde_json::Value>,
    /// Host look-ups prepared by the pipeline (`routing_job_id`, `opted_out`, …).
    pub context: serde_json::Value,
    pub now: chrono::DateTime<chrono::Utc>,
}

impl ScriptInput {
    /// An input with only the payload: no application, no candidate, an empty context.
    pub fn from_payload(event_type: impl Into<String>, event: serde_json::Value) -> ScriptInput {
        ScriptInput {
            event_type: event_type.into(),
            event,
            application: None,
            candidate: None,
            context: serde_json::Value::Object(Default::default()),
            now: chrono::Utc::now(),
        }
    }
}

impl ScriptInput {
    /// What the run read besides the event's payload, to keep with its decision: `ctx`, `now`
    /// and the application as the script saw it. The candidate is left out (personal data is
    /// kept once, on the candidate); [`ScriptInput::with_recorded_context`] takes today's.
    pub fn recorded_context(&self) -> serde_json::Value {
        // Copied without the candidate, rather than copied whole and the candidate dropped.
        let application = self.application.as_ref().map(|app| match app.as_object() {
            Some(fields) => serde_json::Value::Object(
                fields
                    .iter()
                    .filter(|(name, _)| name.as_str() != "candidate")
                    .map(|(name, value)| (name.clone(), value.clone()))
                    .collect(),
            ),
            None => app.clone(),
        });
        serde_json::json!({
            "ctx": self.context,
            "now": self.now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "application": application,
        })
    }

    /// This input with the context `recorded` with a decision in place of today's.
    pub fn with_recorded_context(
        mut self,
        recorded: &serde_json::Value,
    ) -> Result<ScriptInput, String> {
        let now = recorded["now"]
            .as_str()
            .ok_or("the recorded context has no `now`")?;
        self.now = calendar::parse(now)?;
        self.context = recorded["ctx"].clone();
        self.application = match &recorded["application"] {
            serde_json::Value::Null => None,
            app => {
                let mut app = app.clone();
                if let (Some(fields), Some(candidate)) = (app.as_object_mut(), &self.candidate) {
                    fields.insert("candidate".into(), candidate.clone());
                }
                Some(app)
            }
        };
        Ok(self)
    }
}

/// What one run decided.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// The script's name.
    pub script: String,
    /// The version that ran (0 for a draft).
    pub version: i32,
    pub actions: Vec<Action>,
    /// `log`, `print` and `debug` output, in order.
    pub log: Vec<String>,
    pub duration: Duration,
}

/// The variables every script can read.
pub const VARIABLES: &[&str] = &[
    "event",
    "event_type",
    "application",
    "candidate",
    "ctx",
    "now",
];

/// The one engine, configured once and shared by every run on every thread.
pub struct ScriptEngine {
    engine: Engine,
    /// What scripts can call, for the check of calls when a script is compiled.
    calls: calls::CallTable,
}

impl Default for ScriptEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl ScriptEngine {
    /// The sandboxed engine with the script API registered, on the default business calendar
    /// (enough for compiling; runs use [`ScriptEngine::with_calendar`]).
    pub fn new() -> ScriptEngine {
        Self::with_calendar(Arc::new(BusinessCalendar::default()))
    }

    /// The sandboxed engine whose business-day functions answer by `calendar`.
    pub fn with_calendar(calendar: Arc<BusinessCalendar>) -> ScriptEngine {
        let mut engine = growth::engine();
        sandbox::configure(&mut engine);
        let host = api::register(&mut engine, calendar);
        let calls = calls::CallTable::new(&engine, &host);
        ScriptEngine { engine, calls }
    }

    /// Compiles a script text; `file` names it in errors (`import.rhai`).
    pub fn compile(&self, file: &str, source: &str) -> Result<AST, ScriptError> {
        let mut scope = Scope::new();
        for name in VARIABLES {
            scope.push_dynamic(*name, Dynamic::UNIT);
        }
        let mut ast = self
            .engine
            .compile_with_scope(&scope, source)
            .map_err(|e| ScriptError::from_parse(file, &e))?;
        calls::check(file, &ast, &self.calls)?;
        ast.set_source(file);
        Ok(ast)
    }

    /// Runs a compiled script over `input`; `templates` are the names `send_email` accepts.
    pub fn execute(
        &self,
        file: &str,
        ast: &AST,
        input: &ScriptInput,
        templates: Arc<[String]>,
    ) -> Result<(Vec<Action>, Vec<String>, Duration), ScriptError> {
        let mut scope = input_scope(input);
        let started = Instant::now();
        let guard = RunGuard::begin(templates);
        let result = self.engine.run_ast_with_scope(&mut scope, ast);
        let (actions, log) = guard.finish();
        let took = started.elapsed();
        result.map_err(|e| ScriptError::from_eval(file, &e))?;
        Ok((actions, log, took))
    }
}

fn input_scope(input: &ScriptInput) -> Scope<'static> {
    let null = serde_json::Value::Null;
    let mut scope = Scope::new();
    scope
        .push_dynamic("event", script_value(&input.event))
        .push("event_type", input.event_type.clone())
        .push_dynamic(
            "application",
            script_value(input.application.as_ref().unwrap_or(&null)),
        )
        .push_dynamic(
            "candidate",
            script_value(input.candidate.as_ref().unwrap_or(&null)),
        )
        .push_dynamic("ctx", script_value(&input.context))
        .push("now", calendar::to_jst_rfc3339(input.now));
    scope
}

/// A JSON value as a script sees it: an object a map, an array an array, a whole number that
/// fits an `INT` (other numbers `FLOAT`), a string a string, `null` unit. What
/// `rhai::serde::to_dynamic` gives, built directly: the inputs of every event pass through here,
/// and going through serde took half of a script's run.
fn script_value(value: &serde_json::Value) -> Dynamic {
    use serde_json::Value;
    match value {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => Dynamic::from_bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Dynamic::from_int(i),
            None => Dynamic::from_float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => s.as_str().into(),
        Value::Array(items) => Dynamic::from_array(items.iter().map(script_value).collect()),
        Value::Object(fields) => Dynamic::from_map(
            fields
                .iter()
                .map(|(k, v)| (k.as_str().into(), script_value(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Inputs are built directly, as `rhai::serde::to_dynamic` would build them.
    #[test]
    fn script_values_are_what_serde_gives() {
        let json = serde_json::json!({
            "application": {"id": "app_1", "labels": ["ビズリーチ連携:不合格済み", "scout"],
                "job_id": null, "score": 3.5, "years": 7, "big": -9_007_199_254_740_993_i64,
                "active": true, "nested": [[1, 2.25], {"k": "v"}, []]},
        });
        let direct = script_value(&json);
        let via_serde = rhai::serde::to_dynamic(&json).unwrap();
        assert_eq!(format!("{direct:?}"), format!("{via_serde:?}"));
        let back: serde_json::Value = rhai::serde::from_dynamic(&direct).unwrap();
        assert_eq!(back, json);
    }
    use crate::scripting::registry::DEFAULT_TEMPLATES;

    /// Runs `source` over `input` with the default templates.
    pub fn run_with(
        source: &str,
        input: &ScriptInput,
    ) -> Result<(Vec<Action>, Vec<String>), ScriptError> {
        let engine = ScriptEngine::new();
        let ast = engine.compile("test.rhai", source)?;
        let templates: Vec<String> = DEFAULT_TEMPLATES.iter().map(|s| s.to_string()).collect();
        engine
            .execute("test.rhai", &ast, input, templates.into())
            .map(|(a, l, _)| (a, l))
    }

    pub fn run(source: &str) -> Result<(Vec<Action>, Vec<String>), ScriptError> {
        run_with(
            source,
            &ScriptInput::from_payload("test", serde_json::json!({})),
        )
    }

    /// Issue 19: a dry run over history runs with the context the decision was made with.
    #[test]
    fn issue19_the_recorded_context_gives_back_ctx_now_and_the_application() {
        let mut then =
            ScriptInput::from_payload("application.status_changed", serde_json::json!({}));
        then.context = serde_json::json!({"already_invited": false});
        then.now = calendar::parse("2026-11-20T09:00:00.250Z").unwrap();
        then.candidate = Some(serde_json::json!({"email": "a@example.jp"}));
        then.application =
            Some(serde_json::json!({"id": "app_1", "labels": [], "candidate": then.candidate}));
        let recorded = then.recorded_context();
        assert_eq!(
            recorded["application"],
            serde_json::json!({"id": "app_1", "labels": []})
        );
        let mut today = then.clone();
        today.context = serde_json::json!({"already_invited": true});
        today.now = chrono::Utc::now();
        today.application =
            Some(serde_json::json!({"id": "app_1", "labels": ["x"], "candidate": then.candidate}));
        assert_eq!(today.with_recorded_context(&recorded).unwrap(), then);
    }

    #[test]
    fn compile_errors_have_line_and_column() {
        let err = ScriptEngine::new()
            .compile("import.rhai", "let a = 1;\nlet b = ;\n")
            .unwrap_err();
        assert!(matches!(err, ScriptError::Compile { .. }), "{err:?}");
        assert_eq!((err.line(), err.column()), (Some(2), Some(9)));
        assert!(err.to_string().starts_with("import.rhai:2:9: "), "{err}");
    }

    #[test]
    fn undefined_variables_are_compile_errors() {
        let err = ScriptEngine::new()
            .compile(
                "status.rhai",
                "if evnt.to_status == \"rejected\" { invite(); }",
            )
            .unwrap_err();
        assert_eq!(err.line(), Some(1));
        assert!(err.to_string().contains("evnt"), "{err}");
    }

    #[test]
    fn import_and_eval_are_refused() {
        for source in ["import \"x\" as x;", "eval(\"1\")"] {
            let err = ScriptEngine::new().compile("x.rhai", source).unwrap_err();
            assert!(
                matches!(err, ScriptError::Compile { .. }),
                "{source}: {err}"
            );
        }
    }

    #[test]
    fn the_input_is_visible_to_the_script() {
        let mut input = ScriptInput::from_payload(
            "application.received",
            serde_json::json!({"application": {"status": "rejected", "channel": "scout"}}),
        );
        input.context = serde_json::json!({"routing_job_id": null, "notify_subscribers": 2});
        input.now = calendar::parse("2026-11-20T09:00:00Z").unwrap();
        let (_, log) = run_with(
            r#"
            log(event_type);
            log(event.application.status);
            log(ctx.routing_job_id == ());
            log(ctx.notify_subscribers);
            log(application == ());
            log(now);
            "#,
            &input,
        )
        .unwrap();
        assert_eq!(
            log,
            [
                "application.received",
                "rejected",
                "true",
                "2",
                "true",
                "2026-11-20T18:00:00+09:00"
            ]
        );
    }

    #[test]
    fn runtime_errors_have_line_and_column() {
        let err = run("let x = 1;\n  route(\"\");").unwrap_err();
        assert!(matches!(err, ScriptError::Runtime { .. }), "{err:?}");
        assert_eq!(err.line(), Some(2), "{err}");
        assert_eq!(err.column(), Some(3), "{err}");
        assert_eq!(err.to_string(), "test.rhai:2:3: route: `job_id` is empty");
    }

    #[test]
    fn errors_inside_functions_point_into_the_function() {
        let err = run("fn tag_it(x) {\n    label(x);\n}\ntag_it(42);").unwrap_err();
        assert_eq!(err.line(), Some(2), "{err}");
        assert!(err.to_string().contains("in function `tag_it`"), "{err}");
    }
}
