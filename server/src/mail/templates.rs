//! Email templates as users write them: a directory per template (`subject.hbs`, `html.hbs`,
//! `text.hbs`, `sample.json`, optional `meta.json`) and shared partials in `partials/*.hbs`.
//! Each template is stored as one JSON document per version ([`TemplateDoc`]).
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

use super::{structure, variables};
use crate::domain::names::TemplateName;

/// What every promotional mail shows in its HTML and its text (特定電子メール法 Art. 4), as the
/// variables hirelay fills from `HIRELAY_SENDER_*` and the invitation: a template that drops one
/// is refused.
pub const LEGAL_PARTS: &[(&str, &str)] = &[
    ("sender_name", "the sender's name"),
    ("sender_address", "the sender's postal address"),
    ("sender_contact", "a contact for inquiries and refusals"),
    (
        "opt_out_notice",
        "the sentence that the reader may refuse further mail",
    ),
    ("unsubscribe_url", "the unsubscribe link"),
];

/// One part of a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Subject,
    Html,
    Text,
}

impl Part {
    pub const ALL: [Part; 3] = [Part::Subject, Part::Html, Part::Text];

    pub fn as_str(self) -> &'static str {
        match self {
            Part::Subject => "subject",
            Part::Html => "html",
            Part::Text => "text",
        }
    }

    /// The file the part is written in.
    pub fn file_name(self) -> &'static str {
        match self {
            Part::Subject => "subject.hbs",
            Part::Html => "html.hbs",
            Part::Text => "text.hbs",
        }
    }
}

/// Whether a mail is transactional or marketing (marketing mail carries `List-Unsubscribe`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    #[default]
    Transactional,
    Marketing,
}

/// `meta.json`: what the template is for and what its variables mean.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    #[serde(default)]
    pub purpose: Purpose,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
}

/// One version of a template, as stored in `document_versions` (kind `template`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TemplateDoc {
    pub subject: String,
    pub html: String,
    pub text: String,
    /// The documented sample data: what preview fills in and what the variable check uses.
    #[serde(default = "empty_object")]
    pub sample: Value,
    #[serde(default)]
    pub meta: Meta,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

/// A problem with a template, where the user wrote it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{template}/{file}:{line}:{column}: {message}")]
pub struct TemplateProblem {
    pub template: String,
    /// `subject`, `html`, `text`, `sample` or `meta`.
    pub part: &'static str,
    /// The file it was read from (`html.hbs`, `sample.json`, …).
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// The variable, when the problem is one the sample data lacks (the template compiles).
    pub variable: Option<Box<str>>,
}

impl TemplateProblem {
    /// Whether the template still compiles (the problem is only a variable the sample lacks).
    pub fn is_variable(&self) -> bool {
        self.variable.is_some()
    }
}

impl TemplateDoc {
    pub fn part(&self, part: Part) -> &str {
        match part {
            Part::Subject => &self.subject,
            Part::Html => &self.html,
            Part::Text => &self.text,
        }
    }

    /// Reads a stored version.
    pub fn from_json(body: &str) -> Result<TemplateDoc, serde_json::Error> {
        serde_json::from_str(body)
    }

    /// The stored form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a template directory. A missing `meta.json` is the default (transactional).
    pub fn read_dir(name: &str, dir: &Path) -> Result<TemplateDoc, TemplateProblem> {
        let read = |file: &str, part: &'static str| {
            std::fs::read_to_string(dir.join(file))
                .map_err(|e| problem(name, part, file, 1, 1, format!("cannot read: {e}")))
        };
        let subject = read("subject.hbs", "subject")?;
        let html = read("html.hbs", "html")?;
        let text = read("text.hbs", "text")?;
        let sample: Value = parse_json(
            name,
            "sample",
            "sample.json",
            &read("sample.json", "sample")?,
        )?;
        if !sample.is_object() {
            return Err(problem(
                name,
                "sample",
                "sample.json",
                1,
                1,
                "must be a JSON object",
            ));
        }
        let meta = match std::fs::read_to_string(dir.join("meta.json")) {
            Ok(text) => parse_json(name, "meta", "meta.json", &text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Meta::default(),
            Err(e) => {
                return Err(problem(
                    name,
                    "meta",
                    "meta.json",
                    1,
                    1,
                    format!("cannot read: {e}"),
                ))
            }
        };
        Ok(TemplateDoc {
            subject: subject.trim_end_matches(['\r', '\n']).to_owned(),
            html,
            text,
            sample,
            meta,
        })
    }

    /// Syntax of every part, then every variable against the sample: all problems found.
    pub fn check(&self, name: &str, partials: &Partials) -> Vec<TemplateProblem> {
        let mut problems = Vec::new();
        let mut parsed = Vec::new();
        for part in Part::ALL {
            match compile(name, part, self.part(part)) {
                Ok(t) => parsed.push((part, t)),
                Err(p) => problems.push(p),
            }
        }
        for (part, template) in &parsed {
            problems.extend(shape_problems(name, *part, template, partials));
            let report = variables::check(template, &self.sample, partials);
            if self.meta.purpose == Purpose::Marketing && *part != Part::Subject {
                problems.extend(
                    LEGAL_PARTS
                        .iter()
                        .filter(|(variable, _)| !report.used_roots.contains(*variable))
                        .map(|(variable, what)| {
                            problem(
                                name,
                                part.as_str(),
                                part.file_name(),
                                1,
                                1,
                                format!(
                                    "promotional mail must show {what}: `{{{{{variable}}}}}` is missing (特定電子メール法)"
                                ),
                            )
                        }),
                );
            }
            for missing in report.problems {
                let mut p = problem(
                    name,
                    part.as_str(),
                    part.file_name(),
                    missing.line,
                    missing.column,
                    missing
                        .message
                        .replace("is not in the data", "is not in sample.json"),
                );
                p.variable = missing.path.map(String::into_boxed_str);
                problems.push(p);
            }
        }
        problems
    }
}

/// What a part is refused for beyond its syntax ([`structure`]): inline or computed partials,
/// or more partial inclusions than a render may expand to.
pub fn shape_problems(
    name: &str,
    part: Part,
    template: &handlebars::Template,
    partials: &Partials,
) -> Vec<TemplateProblem> {
    let shape = structure::shape(template);
    let mut problems: Vec<TemplateProblem> = shape
        .refusals
        .into_iter()
        .map(|f| {
            problem(
                name,
                part.as_str(),
                part.file_name(),
                f.line,
                f.column,
                f.message,
            )
        })
        .collect();
    let expansions = structure::expansions_of(&shape.includes, &partials.parsed);
    if expansions > structure::MAX_PARTIAL_EXPANSIONS {
        problems.push(problem(
            name,
            part.as_str(),
            part.file_name(),
            1,
            1,
            structure::too_many(expansions),
        ));
    }
    problems
}

fn problem(
    template: &str,
    part: &'static str,
    file: &str,
    line: usize,
    column: usize,
    message: impl Into<String>,
) -> TemplateProblem {
    TemplateProblem {
        template: template.to_owned(),
        part,
        file: file.to_owned(),
        line,
        column,
        message: message.into(),
        variable: None,
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(
    name: &str,
    part: &'static str,
    file: &str,
    text: &str,
) -> Result<T, TemplateProblem> {
    serde_json::from_str(text).map_err(|e| {
        problem(
            name,
            part,
            file,
            e.line().max(1),
            e.column().max(1),
            e.to_string(),
        )
    })
}

/// Parses one part, with the line and column of a syntax error.
pub fn compile(
    name: &str,
    part: Part,
    source: &str,
) -> Result<handlebars::Template, TemplateProblem> {
    handlebars::Template::compile(source).map_err(|e| {
        let (line, column) = e.pos().unwrap_or((1, 1));
        problem(
            name,
            part.as_str(),
            part.file_name(),
            line,
            column,
            e.reason().to_string(),
        )
    })
}

/// The shared partials: `partials/header.html.hbs` is `{{> header.html}}`.
#[derive(Clone, Debug, Default)]
pub struct Partials {
    pub sources: BTreeMap<String, String>,
    pub parsed: BTreeMap<String, handlebars::Template>,
}

impl Partials {
    /// Parses every partial; a partial that does not parse, or that [`structure`] refuses
    /// (inline or computed partials, a cycle, too many inclusions), is a problem of
    /// `partials/` and is left out.
    pub fn parse(sources: BTreeMap<String, String>) -> (Partials, Vec<TemplateProblem>) {
        let mut partials = Partials::default();
        let mut problems = Vec::new();
        for (name, source) in sources {
            let file = format!("{name}.hbs");
            match handlebars::Template::compile(&source) {
                Ok(t) => {
                    let refusals = structure::shape(&t).refusals;
                    if refusals.is_empty() {
                        partials.parsed.insert(name.clone(), t);
                        partials.sources.insert(name, source);
                    }
                    problems.extend(refusals.into_iter().map(|f| {
                        problem("partials", "partial", &file, f.line, f.column, f.message)
                    }));
                }
                Err(e) => {
                    let (line, column) = e.pos().unwrap_or((1, 1));
                    problems.push(problem(
                        "partials",
                        "partial",
                        &file,
                        line,
                        column,
                        e.reason().to_string(),
                    ));
                }
            }
        }
        problems.extend(partials.prune());
        (partials, problems)
    }

    /// Leaves out the partials that are in a cycle or expand to too many inclusions; answers
    /// each as a problem of `partials/`.
    pub fn prune(&mut self) -> Vec<TemplateProblem> {
        structure::graph_problems(&self.parsed)
            .into_iter()
            .map(|(name, message)| {
                self.parsed.remove(&name);
                self.sources.remove(&name);
                problem("partials", "partial", &format!("{name}.hbs"), 1, 1, message)
            })
            .collect()
    }
}

/// What a templates directory holds: each template directory read (or the problem reading it)
/// and the partials' sources.
pub struct TemplateTree {
    pub templates: Vec<(TemplateName, Result<TemplateDoc, TemplateProblem>)>,
    pub partials: BTreeMap<String, String>,
}

/// Reads a templates directory (blocking: call from `spawn_blocking` on the runtime).
pub fn read_tree(dir: &Path) -> std::io::Result<TemplateTree> {
    let mut templates = Vec::new();
    let mut partials = BTreeMap::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if file_name == "partials" {
            for (path, source) in crate::watch::read_tree(&entry.path(), &[".hbs"])? {
                if let Some(stem) = path
                    .file_name()
                    .and_then(|f| f.to_str())
                    .and_then(|f| f.strip_suffix(".hbs"))
                {
                    partials.insert(stem.to_owned(), source);
                }
            }
            continue;
        }
        let Ok(name) = TemplateName::parse(&file_name) else {
            continue;
        };
        let doc = TemplateDoc::read_dir(name.as_str(), &entry.path());
        templates.push((name, doc));
    }
    Ok(TemplateTree {
        templates,
        partials,
    })
}

/// `hirelay templates check`: every problem of every template of `dir` as
/// `name/file:line:column: message`; empty when all are fine.
pub fn check_dir(dir: &Path) -> Vec<String> {
    let tree = match read_tree(dir) {
        Ok(t) => t,
        Err(e) => return vec![format!("{}: {e}", dir.display())],
    };
    let (partials, mut problems) = Partials::parse(tree.partials);
    if tree.templates.is_empty() {
        return vec![format!("{}: no templates found", dir.display())];
    }
    for (name, doc) in tree.templates {
        match doc {
            Ok(doc) => problems.extend(doc.check(name.as_str(), &partials)),
            Err(p) => problems.push(p),
        }
    }
    problems.iter().map(ToString::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, files: &[(&str, &str)]) {
        let d = dir.join(name);
        std::fs::create_dir_all(&d).unwrap();
        for (f, c) in files {
            std::fs::write(d.join(f), c).unwrap();
        }
    }

    #[test]
    fn check_dir_names_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "group_link_approval",
            &[
                ("subject.hbs", "{{company_name}}"),
                ("html.hbs", "<p>\n</p>\n  {{#if x}}\n"),
                ("text.hbs", "{{user_nme}}"),
                ("sample.json", r#"{"company_name": "A", "x": true}"#),
            ],
        );
        let problems = check_dir(dir.path());
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with("group_link_approval/html.hbs:"),
            "{problems:?}"
        );
        assert!(
            problems[1].starts_with("group_link_approval/text.hbs:1:1:")
                && problems[1].contains("user_nme"),
            "{problems:?}"
        );
    }

    #[test]
    fn h1_partials_that_include_each_other_are_reported_and_left_out() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "partials",
            &[
                ("a.hbs", "{{> b}}"),
                ("b.hbs", "{{> a}}"),
                ("c.hbs", "{{#*inline \"x\"}}{{> x}}{{/inline}}"),
            ],
        );
        write(
            dir.path(),
            "group_link_approval",
            &[
                ("subject.hbs", "s"),
                ("html.hbs", "{{> a}}"),
                ("text.hbs", "t"),
                ("sample.json", "{}"),
            ],
        );
        let problems = check_dir(dir.path()).join("\n");
        assert!(
            problems
                .contains("partials/a.hbs:1:1: partials include each other in a cycle: a → b → a"),
            "{problems}"
        );
        assert!(
            problems.contains("partials/c.hbs:1:1: inline partials"),
            "{problems}"
        );
        assert!(
            problems.contains("group_link_approval/html.hbs:1:1: unknown partial `a`"),
            "{problems}"
        );
    }

    #[test]
    fn c2_a_promotional_template_without_its_legal_display_is_refused() {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates");
        let doc = TemplateDoc::read_dir(
            "career_relay_invitation",
            &shipped.join("career_relay_invitation"),
        )
        .unwrap();
        let (partials, _) = Partials::parse(read_tree(&shipped).unwrap().partials);
        assert_eq!(doc.check("career_relay_invitation", &partials), vec![]);
        for (variable, _) in LEGAL_PARTS {
            let mut dropped = doc.clone();
            let cut = |s: &str| s.replace(&format!("{{{{{variable}}}}}"), "");
            dropped.text = cut(&dropped.text);
            dropped.html = cut(&dropped.html).replace(&format!("link {variable} "), "link \"#\" ");
            let problems = dropped.check("career_relay_invitation", &partials);
            assert_eq!(problems.len(), 2, "{variable}: {problems:?}");
            for (p, file) in problems.iter().zip(["html.hbs", "text.hbs"]) {
                assert_eq!(p.file, file);
                assert!(
                    p.message
                        .contains(&format!("`{{{{{variable}}}}}` is missing")),
                    "{p}"
                );
            }
        }
        // A transactional template needs none of it.
        let mut notice = doc.clone();
        notice.meta.purpose = Purpose::Transactional;
        notice.html = "<p>x</p>".into();
        notice.text = "x".into();
        assert_eq!(notice.check("career_relay_invitation", &partials), vec![]);
    }

    #[test]
    fn the_shipped_templates_pass_the_check() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates");
        assert_eq!(check_dir(&dir), Vec::<String>::new());
    }
}
