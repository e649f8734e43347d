//! Script errors with the file, line and column where the script went wrong, so that the admin
//! who wrote it can find the place: `import.rhai:12:5: …`.
use rhai::{EvalAltResult, ParseError, Position};
use std::fmt;

use super::sandbox;

/// Which sandbox limit stopped a script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    Operations,
    WallTime,
    CallDepth,
    StringSize,
    ArraySize,
    MapSize,
    Variables,
}

impl Limit {
    /// A sentence naming the limit and its value.
    pub fn describe(self) -> String {
        match self {
            Limit::Operations => format!(
                "operation limit reached ({} operations): the script runs too long; is there an endless loop?",
                sandbox::MAX_OPERATIONS
            ),
            Limit::WallTime => format!(
                "wall-time limit reached: stopped after {} ms",
                sandbox::WALL_TIME.as_millis()
            ),
            Limit::CallDepth => format!(
                "call depth limit reached ({} nested calls): is there an endless recursion?",
                sandbox::MAX_CALL_LEVELS
            ),
            Limit::StringSize => format!(
                "string size limit reached ({} bytes)",
                sandbox::MAX_STRING_SIZE
            ),
            Limit::ArraySize => format!(
                "array size limit reached ({} items)",
                sandbox::MAX_ARRAY_SIZE
            ),
            Limit::MapSize => format!(
                "map size limit reached ({} entries)",
                sandbox::MAX_MAP_SIZE
            ),
            Limit::Variables => format!(
                "variable limit reached ({} variables)",
                sandbox::MAX_VARIABLES
            ),
        }
    }
}

/// Why a script could not be compiled or run.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// The text does not compile; never activated.
    #[error("{file}:{line}:{column}: {message}")]
    Compile {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// The script failed while running (a bad argument, a missing function, …).
    #[error("{}", Located(file, *line, *column, message))]
    Runtime {
        file: String,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    /// A sandbox limit stopped the script.
    #[error("{}", Located(file, *line, *column, &limit.describe()))]
    Limit {
        file: String,
        limit: Limit,
        line: Option<usize>,
        column: Option<usize>,
    },
    /// No version of the script is active.
    #[error("{0}.rhai: no version of this script is loaded")]
    NotLoaded(String),
}

struct Located<'a>(&'a str, Option<usize>, Option<usize>, &'a str);

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.1, self.2) {
            (Some(line), Some(column)) => write!(f, "{}:{line}:{column}: {}", self.0, self.3),
            (Some(line), None) => write!(f, "{}:{line}: {}", self.0, self.3),
            _ => write!(f, "{}: {}", self.0, self.3),
        }
    }
}

impl ScriptError {
    /// The line (from 1) of the problem, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            ScriptError::Compile { line, .. } => Some(*line),
            ScriptError::Runtime { line, .. } | ScriptError::Limit { line, .. } => *line,
            ScriptError::NotLoaded(_) => None,
        }
    }

    /// The column (from 1) of the problem, when known.
    pub fn column(&self) -> Option<usize> {
        match self {
            ScriptError::Compile { column, .. } => Some(*column),
            ScriptError::Runtime { column, .. } | ScriptError::Limit { column, .. } => *column,
            ScriptError::NotLoaded(_) => None,
        }
    }

    /// The problem without its location.
    pub fn message(&self) -> String {
        match self {
            ScriptError::Compile { message, .. } | ScriptError::Runtime { message, .. } => {
                message.clone()
            }
            ScriptError::Limit { limit, .. } => limit.describe(),
            ScriptError::NotLoaded(_) => "no version of this script is loaded".into(),
        }
    }

    /// A compile error from rhai's parser.
    pub fn from_parse(file: &str, err: &ParseError) -> ScriptError {
        let (line, column) = line_column(err.1);
        ScriptError::Compile {
            file: file.to_owned(),
            line: line.unwrap_or(1),
            column: column.unwrap_or(1),
            message: err.0.to_string(),
        }
    }

    /// A runtime error, with the position of the innermost failing call.
    pub fn from_eval(file: &str, err: &EvalAltResult) -> ScriptError {
        let mut functions = Vec::new();
        let mut inner = err;
        let mut position = err.position();
        while let EvalAltResult::ErrorInFunctionCall(name, _, next, _) = inner {
            functions.push(name.clone());
            inner = next;
            if !inner.position().is_none() {
                position = inner.position();
            }
        }
        let (line, column) = line_column(position);
        if let Some(limit) = limit_of(inner) {
            return ScriptError::Limit {
                file: file.to_owned(),
                limit,
                line,
                column,
            };
        }
        let mut message = match inner {
            EvalAltResult::ErrorRuntime(value, _) if value.is_string() => value.to_string(),
            other => {
                let text = other.to_string();
                let pos = other.position();
                let suffix = format!(" ({pos})");
                match text.strip_suffix(&suffix) {
                    Some(bare) if !pos.is_none() => bare.to_owned(),
                    _ => text,
                }
            }
        };
        for name in functions.iter().rev() {
            message = format!("{message} (in function `{name}`)");
        }
        ScriptError::Runtime {
            file: file.to_owned(),
            line,
            column,
            message,
        }
    }
}

fn limit_of(err: &EvalAltResult) -> Option<Limit> {
    match err {
        EvalAltResult::ErrorTooManyOperations(_) => Some(Limit::Operations),
        EvalAltResult::ErrorTerminated(..) => Some(Limit::WallTime),
        EvalAltResult::ErrorStackOverflow(_) => Some(Limit::CallDepth),
        EvalAltResult::ErrorTooManyVariables(_) => Some(Limit::Variables),
        EvalAltResult::ErrorDataTooLarge(what, _) => {
            let what = what.to_lowercase();
            Some(if what.contains("array") {
                Limit::ArraySize
            } else if what.contains("map") {
                Limit::MapSize
            } else {
                Limit::StringSize
            })
        }
        _ => None,
    }
}

fn line_column(pos: Position) -> (Option<usize>, Option<usize>) {
    (pos.line(), pos.position())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_file_line_and_column() {
        let e = ScriptError::Runtime {
            file: "import.rhai".into(),
            line: Some(12),
            column: Some(5),
            message: "route: the job id is empty".into(),
        };
        assert_eq!(
            e.to_string(),
            "import.rhai:12:5: route: the job id is empty"
        );
        assert_eq!((e.line(), e.column()), (Some(12), Some(5)));
        let e = ScriptError::Limit {
            file: "status.rhai".into(),
            limit: Limit::WallTime,
            line: None,
            column: None,
        };
        assert!(
            e.to_string().starts_with("status.rhai: wall-time limit"),
            "{e}"
        );
    }
}
