//! What a compiled script's calls are checked for before it is activated: a mistake that would
//! only fail on every event is refused when the script is saved, with its line and column.
//!
//! - Every call must name a function the script can reach, with an arity it has: a host
//!   function ([`super::api`]), a function of rhai's packages the engine has, a function the
//!   script defines, or a variable holding a function pointer. A method call (`x.len()`) must
//!   name some function taking the object and its arguments. An unknown name is refused with
//!   the closest known one ("did you mean `invite`?").
//! - A literal argument must be of a kind some form of the function takes (`label(42)`: `label`
//!   takes a string).
//! - `webhook(type, payload)` with a literal type must name an outbound event type one can
//!   subscribe to (issue 13), since a webhook of any other type reaches no one.
use rhai::{ASTNode, Dynamic, Engine, Expr, FnCallExpr, Position, Stmt, AST};
use std::collections::{BTreeMap, HashMap, HashSet};

use super::error::ScriptError;
use super::signature::{Kind, Param, Signature};
use crate::domain::outbound_events::OUTBOUND_EVENT_TYPES;

/// Functions the engine handles itself rather than through its packages: name, least and most
/// arguments (as a function call; a method call passes the object as the first).
const ENGINE_FUNCTIONS: &[(&str, usize, usize)] = &[
    ("print", 0, 1),
    ("debug", 0, 1),
    ("type_of", 1, 1),
    ("Fn", 1, 1),
    ("call", 1, usize::MAX),
    ("curry", 1, usize::MAX),
    ("is_shared", 1, 1),
    ("is_def_var", 1, 1),
    ("is_def_fn", 2, 3),
];

/// One form of a function: what each parameter takes, and its names for a host function.
#[derive(Clone, Debug)]
struct Form {
    kinds: Vec<Kind>,
    names: Option<Vec<&'static str>>,
}

/// Every function a script can call outside its own, by name, with each of its forms.
pub struct CallTable {
    functions: HashMap<String, Vec<Form>>,
}

impl CallTable {
    /// The functions `engine` has (its packages and the host functions registered into it),
    /// the host functions' parameter kinds taken from their `signatures`.
    pub fn new(engine: &Engine, signatures: &[Signature]) -> CallTable {
        let mut functions: HashMap<String, Vec<Form>> = HashMap::new();
        let registered = engine.collect_fn_metadata(
            None,
            |info| {
                let m = info.metadata;
                let mut kinds: Vec<Kind> =
                    m.param_types.iter().map(|t| Kind::of_type(*t)).collect();
                kinds.resize(m.num_params, Kind::Any);
                Some((m.name.to_string(), kinds))
            },
            true,
        );
        for (name, kinds) in registered {
            // Getters, setters, indexers and operators are not called by name.
            if !is_identifier(&name) {
                continue;
            }
            let host = signatures
                .iter()
                .find(|s| s.name == name && s.params.len() == kinds.len());
            let form = match host {
                Some(s) => Form {
                    kinds: s.params.iter().map(|p| p.kind).collect(),
                    names: Some(s.params.iter().map(|p: &Param| p.name).collect()),
                },
                None => Form { kinds, names: None },
            };
            functions.entry(name).or_default().push(form);
        }
        CallTable { functions }
    }

    fn forms(&self, name: &str) -> &[Form] {
        self.functions.get(name).map_or(&[], Vec::as_slice)
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// The functions a script defines, by name, with their numbers of parameters.
type ScriptFunctions = HashMap<String, HashSet<usize>>;

/// The first call of `ast` that can never work, as a compile error of `file`.
pub fn check(file: &str, ast: &AST, table: &CallTable) -> Result<(), ScriptError> {
    let mut own: ScriptFunctions = HashMap::new();
    for f in ast.iter_functions() {
        own.entry(f.name.to_owned())
            .or_default()
            .insert(f.params.len());
    }
    let variables = variables(ast);
    let mut found = None;
    ast.walk(&mut |path: &[ASTNode]| {
        let (call, pos, method) = match path.last() {
            Some(ASTNode::Expr(Expr::FnCall(call, pos))) => (call, *pos, false),
            Some(ASTNode::Stmt(Stmt::FnCall(call, pos))) => (call, *pos, false),
            Some(ASTNode::Expr(Expr::MethodCall(call, pos))) => (call, *pos, true),
            _ => return true,
        };
        let call = Call { call, pos, method };
        let problem = if call.call.is_operator_call()
            || call.call.is_qualified()
            || !is_identifier(&call.call.name)
            || variables.contains(call.call.name.as_str())
        {
            None
        } else {
            call.problem(table, &own)
        };
        match problem {
            Some((at, message)) => {
                found = Some(ScriptError::Compile {
                    file: file.to_owned(),
                    line: at.line().unwrap_or(1),
                    column: at.position().unwrap_or(1),
                    message,
                });
                false
            }
            None => true,
        }
    });
    found.map_or(Ok(()), Err)
}

/// Every name the script binds to a value (`let`, `const`, `for`, `catch`, parameters): a call
/// of one may call a function pointer it holds.
fn variables(ast: &AST) -> HashSet<String> {
    let mut names: HashSet<String> = ast
        .iter_functions()
        .flat_map(|f| f.params.into_iter().map(str::to_owned))
        .collect();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Stmt(Stmt::Var(x, ..))) => {
                names.insert(x.0.name.to_string());
            }
            Some(ASTNode::Stmt(Stmt::For(x, ..))) => {
                names.insert(x.0.name.to_string());
                if let Some(counter) = &x.1 {
                    names.insert(counter.name.to_string());
                }
            }
            Some(ASTNode::Stmt(Stmt::TryCatch(x, ..))) => {
                if let Expr::Variable(v, ..) = &x.expr {
                    names.insert(v.1.to_string());
                }
            }
            _ => {}
        }
        true
    });
    names
}

/// One call in the script.
struct Call<'a> {
    call: &'a FnCallExpr,
    pos: Position,
    /// `x.f(a)`: the object is the first argument of a native function.
    method: bool,
}

impl Call<'_> {
    fn name(&self) -> &str {
        self.call.name.as_str()
    }

    /// How many arguments a native function gets.
    fn arity(&self) -> usize {
        self.call.args.len() + usize::from(self.method)
    }

    /// What is wrong with the call, and where, if anything.
    fn problem(&self, table: &CallTable, own: &ScriptFunctions) -> Option<(Position, String)> {
        let name = self.name();
        let args = self.call.args.len();
        if let Some(arities) = own.get(name) {
            // A method call may bind the object to `this`, or pass it as the first argument.
            if arities.contains(&args) || (self.method && arities.contains(&(args + 1))) {
                return None;
            }
        }
        if ENGINE_FUNCTIONS
            .iter()
            .any(|(n, least, most)| *n == name && (*least..=*most).contains(&self.arity()))
        {
            return None;
        }
        let forms: Vec<&Form> = table
            .forms(name)
            .iter()
            .filter(|f| f.kinds.len() == self.arity())
            .collect();
        if forms.is_empty() {
            return Some((self.pos, self.unknown(table, own)));
        }
        if let Some(problem) = self.literal_problem(&forms) {
            return Some(problem);
        }
        if name == "webhook" && !self.method && args == 2 {
            return webhook_problem(&self.call.args[0]);
        }
        None
    }

    /// The first literal argument no form of the function takes.
    fn literal_problem(&self, forms: &[&Form]) -> Option<(Position, String)> {
        let skip = usize::from(self.method);
        for (i, arg) in self.call.args.iter().enumerate() {
            let Some((literal, shown)) = literal_kind(arg) else {
                continue;
            };
            let index = i + skip;
            if forms.iter().any(|f| f.kinds[index].accepts(literal)) {
                continue;
            }
            let name = self.name();
            let message = match forms {
                [Form {
                    kinds,
                    names: Some(names),
                }] => format!(
                    "{name}: `{}` must be {}, got {} ({shown})",
                    names[index],
                    kinds[index].describe(),
                    literal.describe()
                ),
                _ => format!(
                    "`{name}` takes no {} as argument {}: {shown}",
                    literal
                        .describe()
                        .trim_start_matches("a ")
                        .trim_start_matches("an "),
                    index + 1
                ),
            };
            return Some((arg.position(), message));
        }
        None
    }

    /// "unknown function …; did you mean …?", or the arities the name has.
    fn unknown(&self, table: &CallTable, own: &ScriptFunctions) -> String {
        let name = self.name();
        let mut arities: Vec<usize> = table.forms(name).iter().map(|f| f.kinds.len()).collect();
        arities.extend(own.get(name).into_iter().flatten().copied());
        for (n, least, _) in ENGINE_FUNCTIONS {
            if *n == name {
                arities.push(*least);
            }
        }
        arities.sort_unstable();
        arities.dedup();
        let with = arguments(&self.call.args.len().to_string());
        let called = if self.method {
            format!("method `{name}` with {with}")
        } else {
            format!("`{name}` with {with}")
        };
        if !arities.is_empty() {
            let skip = usize::from(self.method);
            let takes: Vec<String> = arities
                .iter()
                .filter(|a| **a >= skip)
                .map(|a| (a - skip).to_string())
                .collect();
            return format!(
                "no function {called}: `{name}` takes {}",
                arguments(&takes.join(" or "))
            );
        }
        let kind = if self.method { "method" } else { "function" };
        match closest(name, self.arity(), table, own) {
            Some(near) => format!("unknown {kind} `{name}`: did you mean `{near}`?"),
            None => format!("unknown {kind} `{name}`; rules/README.md lists what scripts can call"),
        }
    }
}

/// "1 argument", "2 arguments", "1 or 2 arguments".
fn arguments(count: &str) -> String {
    if count == "1" {
        "1 argument".into()
    } else {
        format!("{count} arguments")
    }
}

fn webhook_problem(event_type: &Expr) -> Option<(Position, String)> {
    let Expr::StringConstant(event_type, pos) = event_type else {
        return None;
    };
    if OUTBOUND_EVENT_TYPES.contains(&event_type.as_str()) {
        return None;
    }
    Some((
        *pos,
        format!(
            "webhook: no one can subscribe to `{event_type}`; the outbound event types are {}",
            OUTBOUND_EVENT_TYPES.join(", ")
        ),
    ))
}

/// The kind of a literal argument, and how it reads; `None` for anything computed.
fn literal_kind(arg: &Expr) -> Option<(Kind, String)> {
    let kind = match arg {
        Expr::StringConstant(s, ..) => return Some((Kind::Text, format!("{s:?}"))),
        Expr::InterpolatedString(..) => Kind::Text,
        Expr::IntegerConstant(i, ..) => return Some((Kind::Int, i.to_string())),
        Expr::FloatConstant(f, ..) => return Some((Kind::Float, f.to_string())),
        Expr::BoolConstant(b, ..) => return Some((Kind::Bool, b.to_string())),
        Expr::CharConstant(c, ..) => return Some((Kind::Char, format!("{c:?}"))),
        Expr::Unit(..) => Kind::Unit,
        Expr::Array(..) => Kind::Array,
        Expr::Map(..) => Kind::Map,
        Expr::DynamicConstant(value, ..) => dynamic_kind(value)?,
        _ => return None,
    };
    let shown = match kind {
        Kind::Unit => "()",
        Kind::Array => "[…]",
        Kind::Map => "#{…}",
        _ => "`…`",
    };
    Some((kind, shown.to_owned()))
}

fn dynamic_kind(value: &Dynamic) -> Option<Kind> {
    Some(match value {
        v if v.is_array() => Kind::Array,
        v if v.is_map() => Kind::Map,
        v if v.is_string() => Kind::Text,
        v if v.is_int() => Kind::Int,
        v if v.is_float() => Kind::Float,
        v if v.is_bool() => Kind::Bool,
        v if v.is_char() => Kind::Char,
        v if v.is_unit() => Kind::Unit,
        _ => return None,
    })
}

/// The known name nearest `name`: one that starts like it or is a few edits away, those taking
/// `arity` arguments first.
fn closest(name: &str, arity: usize, table: &CallTable, own: &ScriptFunctions) -> Option<String> {
    let mut candidates: BTreeMap<(bool, usize, String), ()> = BTreeMap::new();
    let known = table
        .functions
        .iter()
        .map(|(n, forms)| (n.as_str(), forms.iter().any(|f| f.kinds.len() == arity)))
        .chain(own.iter().map(|(n, a)| (n.as_str(), a.contains(&arity))))
        .chain(
            ENGINE_FUNCTIONS
                .iter()
                .map(|(n, least, most)| (*n, (*least..=*most).contains(&arity))),
        );
    let wanted = name.to_lowercase();
    for (candidate, fits) in known {
        if candidate.starts_with("anon$") {
            continue;
        }
        let lower = candidate.to_lowercase();
        let distance = edit_distance(&wanted, &lower);
        let prefix = lower.len() >= 3 && (wanted.starts_with(&lower) || lower.starts_with(&wanted));
        if prefix || distance <= (wanted.chars().count() / 3).max(2) {
            candidates.insert((!fits, distance, candidate.to_owned()), ());
        }
    }
    candidates.into_keys().next().map(|(_, _, n)| n)
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use crate::scripting::engine::ScriptEngine;
    use crate::scripting::error::ScriptError;

    fn refused(source: &str) -> ScriptError {
        ScriptEngine::new()
            .compile("status.rhai", source)
            .expect_err(source)
    }

    #[test]
    fn a_webhook_no_one_can_subscribe_to_is_refused_where_it_is_written() {
        let engine = ScriptEngine::new();
        let err = refused("let x = 1;\nif x > 0 {\n    webhook(\"candidate.rejected\", #{});\n}");
        assert_eq!((err.line(), err.column()), (Some(3), Some(13)), "{err}");
        assert!(
            err.to_string()
                .contains("no one can subscribe to `candidate.rejected`"),
            "{err}"
        );
        let inside_fn = refused("fn tell() { webhook(\"nope\", #{}); }\ntell();");
        assert_eq!(inside_fn.line(), Some(1), "{inside_fn}");
        for fine in [
            "webhook(\"career_relay.invited\", #{});",
            "let t = \"application.labeled\"; webhook(t, #{});",
        ] {
            assert!(engine.compile("status.rhai", fine).is_ok(), "{fine}");
        }
    }

    #[test]
    fn issue19_an_unknown_function_is_refused_with_the_closest_name() {
        let err = refused("let x = 1;\n  invite_tomorrow();");
        assert!(matches!(err, ScriptError::Compile { .. }), "{err:?}");
        assert_eq!((err.line(), err.column()), (Some(2), Some(3)), "{err}");
        assert_eq!(
            err.to_string(),
            "status.rhai:2:3: unknown function `invite_tomorrow`: did you mean `invite`?"
        );
        let err = refused("lable(\"x\");");
        assert!(err.to_string().contains("did you mean `label`?"), "{err}");
        let err = refused("if true {\n  let s = \"a\";\n  s.lenght();\n}");
        assert_eq!(err.line(), Some(3), "{err}");
        assert!(
            err.to_string()
                .contains("unknown method `lenght`: did you mean `len`?"),
            "{err}"
        );
        let err = refused("fn tag() { xyzzy(1, 2); }");
        assert!(
            err.to_string().contains("unknown function `xyzzy`"),
            "{err}"
        );
    }

    #[test]
    fn issue19_a_known_function_with_the_wrong_arity_is_refused() {
        let err = refused("label(\"a\", \"b\");");
        assert!(
            err.to_string()
                .contains("no function `label` with 2 arguments: `label` takes 1 argument"),
            "{err}"
        );
        let err = refused("kpi();");
        assert!(
            err.to_string().contains("takes 1 or 2 or 3 arguments"),
            "{err}"
        );
        let err = refused("fn mine(a) { a }\nmine(1, 2);");
        assert_eq!(err.line(), Some(2), "{err}");
        assert!(err.to_string().contains("`mine` takes 1 argument"), "{err}");
    }

    #[test]
    fn issue19_a_literal_of_the_wrong_type_is_refused_naming_the_expected_type() {
        let err = refused("\n  label(42);");
        assert_eq!((err.line(), err.column()), (Some(2), Some(9)), "{err}");
        assert!(
            err.to_string()
                .ends_with("label: `label` must be a string, got an integer (42)"),
            "{err}"
        );
        for (source, expected) in [
            (r#"route(())"#, "route: `job_id` must be a string, got `()`"),
            (
                r#"send_email("group_link_approval", "a@b.jp", 1)"#,
                "send_email: `data` must be an object map (`#{…}`), got an integer",
            ),
            (
                r#"kpi("x", "many")"#,
                "kpi: `value` must be a number, got a string",
            ),
            (r#"add_days(now, "1")"#, "add_days: `n` must be an integer"),
            (
                r#"invite_at(1.5)"#,
                "invite_at: `at` must be a string, got a float",
            ),
            (
                r#"let s = "abc"; s.sub_string("x");"#,
                "`sub_string` takes no string as argument 2",
            ),
        ] {
            let err = refused(source);
            assert!(err.to_string().contains(expected), "{source}: {err}");
        }
    }

    #[test]
    fn issue19_whatever_the_language_and_the_script_provide_is_accepted() {
        let engine = ScriptEngine::new();
        for fine in [
            // Methods and functions of the packages, with literals of the right types.
            r#"let s = "a,b"; let parts = s.split(","); s.len(); s.sub_string(1, 2); s.to_upper(); parts.len(); parts.push(1); parts.contains("a"); s.contains('a'); s.pad(4, "x");"#,
            r#"let m = #{a: 1}; m.keys(); m.contains("a"); m.remove("a"); m.len(); to_string(1); parse_int("3"); abs(-1); max(1, 2);"#,
            r#"let a = [3, 1]; a.sort(); a.map(|x| x + 1); a.filter(|x| x > 1); a.reduce(|sum, x| sum + x, 0); a.index_of(1);"#,
            r#"print("x"); debug(1); print(); type_of(1); let f = Fn("to_string"); f.call(1); is_def_var("x");"#,
            // Functions the script defines, called as functions and as methods; pointers.
            "fn twice(x) { x * 2 }\nfn bump() { this += 1; }\nlet n = 1; n.bump(); twice(n); n.twice();",
            "let shout = |s| s.to_upper(); shout(\"a\"); shout.call(\"b\");",
            // Host functions whose arguments are computed at run time.
            "let l = event.label; label(l); kpi(\"x\", 1); kpi(\"x\", 2.5); kpi(\"x\", 1, #{}); notify(\"k\");",
            "invite(); invite_at(next_business_morning(now)); log(add_hours(now, 2)); log(jst_date(now));",
            r#"try { route("job_1"); } catch (e) { log(e); }"#,
            "for (x, i) in [1, 2] { log(x + i); }",
            "let v = `${1 + 1}`; label(`x-${v}`); log(1 in [1]); log(!true); log(-1); log(1..3);",
        ] {
            if let Err(e) = engine.compile("x.rhai", fine) {
                panic!("{fine}: {e}");
            }
        }
    }
}
