//! What a compiled script's calls are checked for before it is activated: a mistake that would
//! only fail on every event is refused when the script is saved, with its line and column.
//! Today: `webhook(type, payload)` with a literal type must name an outbound event type one can
//! subscribe to (issue 13), since a webhook of any other type reaches no one.
use rhai::{ASTNode, Expr, FnCallExpr, Stmt, AST};

use super::error::ScriptError;
use crate::domain::outbound_events::OUTBOUND_EVENT_TYPES;

/// The first call of `ast` that can never work, as a compile error of `file`.
pub fn check(file: &str, ast: &AST) -> Result<(), ScriptError> {
    let mut found = None;
    ast.walk(&mut |path: &[ASTNode]| {
        // A call is an expression, or a statement of its own.
        let call: &FnCallExpr = match path.last() {
            Some(ASTNode::Expr(Expr::FnCall(call, _))) => call,
            Some(ASTNode::Stmt(Stmt::FnCall(call, _))) => call,
            _ => return true,
        };
        if call.name != "webhook" || call.args.len() != 2 || call.is_qualified() {
            return true;
        }
        if let Expr::StringConstant(event_type, pos) = &call.args[0] {
            if !OUTBOUND_EVENT_TYPES.contains(&event_type.as_str()) {
                found = Some(ScriptError::Compile {
                    file: file.to_owned(),
                    line: pos.line().unwrap_or(1),
                    column: pos.position().unwrap_or(1),
                    message: format!(
                        "webhook: no one can subscribe to `{event_type}`; the outbound event types are {}",
                        OUTBOUND_EVENT_TYPES.join(", ")
                    ),
                });
                return false;
            }
        }
        true
    });
    found.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use crate::scripting::engine::ScriptEngine;

    #[test]
    fn a_webhook_no_one_can_subscribe_to_is_refused_where_it_is_written() {
        let engine = ScriptEngine::new();
        let err = engine
            .compile(
                "status.rhai",
                "let x = 1;\nif x > 0 {\n    webhook(\"candidate.rejected\", #{});\n}",
            )
            .unwrap_err();
        assert_eq!((err.line(), err.column()), (Some(3), Some(13)), "{err}");
        assert!(
            err.to_string()
                .contains("no one can subscribe to `candidate.rejected`"),
            "{err}"
        );
        let inside_fn = engine
            .compile(
                "status.rhai",
                "fn tell() { webhook(\"nope\", #{}); }\ntell();",
            )
            .unwrap_err();
        assert_eq!(inside_fn.line(), Some(1), "{inside_fn}");
        for fine in [
            "webhook(\"career_relay.invited\", #{});",
            "let t = \"application.labeled\"; webhook(t, #{});",
        ] {
            assert!(engine.compile("status.rhai", fine).is_ok(), "{fine}");
        }
    }
}
