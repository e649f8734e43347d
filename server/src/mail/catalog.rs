//! The active templates, compiled into two handlebars registries: one escaping HTML (the HTML
//! part) and one that does not escape (subject and text, which are not HTML).
use handlebars::Handlebars;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

use super::budget::{self, Budget};
use super::helpers;
use super::templates::{
    compile, shape_problems, Part, Partials, Purpose, TemplateDoc, TemplateProblem,
};
use super::variables;

/// A template version in use.
#[derive(Clone, Debug)]
pub struct Active {
    pub version: i32,
    pub doc: TemplateDoc,
}

/// A template rendered for sending or preview.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub html: String,
    pub text: String,
    /// Variables the template reads that the data does not have: `html.hbs:3:7: …`.
    pub warnings: Vec<String>,
}

/// Every active template and the shared partials.
pub struct Catalog {
    html: Handlebars<'static>,
    plain: Handlebars<'static>,
    partials: Partials,
    active: BTreeMap<String, Active>,
}

impl Default for Catalog {
    fn default() -> Self {
        Self::new()
    }
}

fn key(name: &str, part: Part) -> String {
    // `:` cannot appear in a partial's file name, so templates and partials never collide.
    format!("tpl:{name}:{}", part.as_str())
}

impl Catalog {
    pub fn new() -> Catalog {
        let mut html = Handlebars::new();
        html.set_strict_mode(false);
        helpers::register(&mut html, true);
        budget::register(&mut html);
        let mut plain = Handlebars::new();
        plain.set_strict_mode(false);
        plain.register_escape_fn(handlebars::no_escape);
        helpers::register(&mut plain, false);
        budget::register(&mut plain);
        Catalog {
            html,
            plain,
            partials: Partials::default(),
            active: BTreeMap::new(),
        }
    }

    pub fn partials(&self) -> &Partials {
        &self.partials
    }

    /// Replaces the partials with every one of `sources` that parses; the ones that do not keep
    /// their previous version and are returned as problems. A partial that would close a cycle
    /// or expand to too many inclusions is left out.
    pub fn set_partials(&mut self, sources: BTreeMap<String, String>) -> Vec<TemplateProblem> {
        let (parsed, mut problems) = Partials::parse(sources);
        let broken: BTreeSet<&str> = problems
            .iter()
            .filter_map(|p| p.file.strip_suffix(".hbs"))
            .collect();
        let mut next = Partials::default();
        for (name, source) in &self.partials.sources {
            if broken.contains(name.as_str()) && !parsed.parsed.contains_key(name) {
                if let Some(t) = self.partials.parsed.get(name) {
                    next.sources.insert(name.clone(), source.clone());
                    next.parsed.insert(name.clone(), t.clone());
                }
            }
        }
        next.sources.extend(parsed.sources);
        next.parsed.extend(parsed.parsed);
        problems.extend(next.prune());
        for name in self.partials.parsed.keys() {
            self.html.unregister_template(name);
            self.plain.unregister_template(name);
        }
        for (name, template) in &next.parsed {
            self.html.register_template(name, template.clone());
            self.plain.register_template(name, template.clone());
        }
        self.partials = next;
        problems
    }

    /// Compiles and activates a version; a version that does not compile leaves the active one.
    pub fn activate(
        &mut self,
        name: &str,
        version: i32,
        doc: TemplateDoc,
    ) -> Result<(), Vec<TemplateProblem>> {
        let mut compiled = Vec::new();
        let mut problems = Vec::new();
        for part in Part::ALL {
            match compile(name, part, doc.part(part)) {
                Ok(t) => {
                    problems.extend(shape_problems(name, part, &t, &self.partials));
                    compiled.push((part, t));
                }
                Err(p) => problems.push(p),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        for (part, template) in compiled {
            let registry = if part == Part::Html {
                &mut self.html
            } else {
                &mut self.plain
            };
            registry.register_template(&key(name, part), template);
        }
        self.active.insert(name.to_owned(), Active { version, doc });
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&Active> {
        self.active.get(name)
    }

    /// Every active template, by name.
    pub fn all(&self) -> &BTreeMap<String, Active> {
        &self.active
    }

    /// Renders the active version of `name` with exactly `data`.
    pub fn render(&self, name: &str, data: &Value) -> Option<Result<Rendered, TemplateProblem>> {
        self.active.get(name)?;
        Some(self.render_active(name, data))
    }

    /// Renders the three parts within one render budget ([`budget`]): blocking for at most
    /// [`budget::RENDER_TIME_LIMIT`], so callers on the async runtime render off its threads.
    fn render_active(&self, name: &str, data: &Value) -> Result<Rendered, TemplateProblem> {
        let budget = Budget::begin();
        let render = |part: Part| {
            let registry = if part == Part::Html {
                &self.html
            } else {
                &self.plain
            };
            budget::render_capped(registry, &key(name, part), data).map_err(|e| TemplateProblem {
                template: name.to_owned(),
                part: part.as_str(),
                file: part.file_name().to_owned(),
                line: e.line_no.unwrap_or(1),
                column: e.column_no.unwrap_or(1),
                message: budget
                    .exceeded()
                    .map_or_else(|| e.reason().to_string(), |why| why.message()),
                variable: None,
            })
        };
        let subject = render(Part::Subject)?
            .replace(['\r', '\n'], " ")
            .trim()
            .to_owned();
        Ok(Rendered {
            subject,
            html: render(Part::Html)?,
            text: render(Part::Text)?,
            warnings: self.warnings(name, data).0,
        })
    }

    /// Variables the template reads that `data` does not have, as `html.hbs:3:7: …`; and the
    /// top-level names it reads.
    fn warnings(&self, name: &str, data: &Value) -> (Vec<String>, BTreeSet<String>) {
        let mut warnings = Vec::new();
        let mut used = BTreeSet::new();
        for part in Part::ALL {
            let registry = if part == Part::Html {
                &self.html
            } else {
                &self.plain
            };
            let Some(template) = registry.get_template(&key(name, part)) else {
                continue;
            };
            let report = variables::check(template, data, &self.partials);
            used.extend(report.used_roots);
            for f in report.problems {
                warnings.push(format!(
                    "{}:{}:{}: {}",
                    part.file_name(),
                    f.line,
                    f.column,
                    f.message
                ));
            }
        }
        (warnings, used)
    }

    /// Keys of `given` that the template never reads (probably misspelt), as warnings.
    pub fn unused_keys(&self, name: &str, given: &Value) -> Vec<String> {
        let (_, used) = self.warnings(name, &Value::Null);
        match given {
            Value::Object(map) => map
                .keys()
                .filter(|k| !used.contains(k.as_str()))
                .map(|k| format!("`{k}` is given but the template does not use it (misspelt?)"))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The template's purpose, if it is active.
    pub fn purpose(&self, name: &str) -> Option<Purpose> {
        self.active.get(name).map(|a| a.doc.meta.purpose)
    }
}

/// `data` laid over `base`: objects merge key by key, anything else in `data` wins.
pub fn deep_merge(base: &Value, data: &Value) -> Value {
    match (base, data) {
        (Value::Object(b), Value::Object(d)) => {
            let mut out = b.clone();
            for (k, v) in d {
                let merged = match b.get(k) {
                    Some(bv) => deep_merge(bv, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (_, d) => d.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(html: &str) -> TemplateDoc {
        TemplateDoc {
            subject: "{{company_name}} {{user_name}} 様より".into(),
            html: html.into(),
            text: "{{user_name}} 様\n{{link url \"開く\"}}".into(),
            sample: json!({"company_name": "A社", "user_name": "太郎", "url": "https://x.test/?a=1&b=2"}),
            meta: Default::default(),
        }
    }

    #[test]
    fn html_is_escaped_and_subject_and_text_are_not() {
        let mut c = Catalog::new();
        c.activate("t", 1, doc("<p>{{user_name}}</p>{{{raw_html}}}"))
            .unwrap();
        let data = json!({"company_name": "<A&B>", "user_name": "<script>alert(1)</script>", "url": "https://x.test/?a=1&b=2", "raw_html": "<b>ok</b>"});
        let r = c.render("t", &data).unwrap().unwrap();
        assert_eq!(r.subject, "<A&B> <script>alert(1)</script> 様より");
        assert_eq!(
            r.html,
            "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p><b>ok</b>"
        );
        assert!(r.text.starts_with("<script>alert(1)</script> 様"));
        assert!(r.text.ends_with("開く: https://x.test/?a=1&b=2"));
    }

    #[test]
    fn a_version_that_does_not_compile_is_not_activated() {
        let mut c = Catalog::new();
        c.activate("t", 1, doc("<p>{{user_name}}</p>")).unwrap();
        let problems = c
            .activate("t", 2, doc("<p>\n{{#if user_name}}</p>"))
            .unwrap_err();
        assert_eq!(problems[0].part, "html");
        assert_eq!(c.get("t").unwrap().version, 1);
    }

    #[test]
    fn warnings_name_missing_and_unused_variables() {
        let mut c = Catalog::new();
        c.activate("t", 1, doc("<p>{{user_name}}</p>")).unwrap();
        let data = json!({"company_name": "A", "url": "u", "user_nme": "x"});
        let r = c.render("t", &data).unwrap().unwrap();
        assert!(
            r.warnings.iter().any(|w| w.contains("`user_name`")),
            "{:?}",
            r.warnings
        );
        let unused = c.unused_keys("t", &data);
        assert_eq!(unused.len(), 1, "{unused:?}");
        assert!(unused[0].contains("`user_nme`"));
    }

    #[test]
    fn deep_merge_fills_what_data_does_not_give() {
        let merged = deep_merge(
            &json!({"a": 1, "o": {"x": 1, "y": 2}, "l": [1, 2]}),
            &json!({"o": {"y": 3}, "l": [9], "n": true}),
        );
        assert_eq!(
            merged,
            json!({"a": 1, "o": {"x": 1, "y": 3}, "l": [9], "n": true})
        );
    }
}
