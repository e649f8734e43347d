//! The variable check: walks a parsed template and reports every variable it uses that the
//! data (the template's `sample.json`, or preview data) does not have, and every helper or
//! partial that does not exist.
//!
//! What it understands: plain paths (`a.b`, `a/b`, `this.a`, `./a`, `[odd key]`), `../` and
//! `@root`, `@index`/`@key`/`@first`/`@last`, helper parameters, hash values and
//! subexpressions, `#each` (the block is checked against the array's first element, or the
//! object's first value), `#with`, block parameters (`as |item i|`), `#if`/`#unless` and their
//! `else`, and partials (`{{> footer.text}}`, checked in the caller's scope, with a context
//! parameter or hash values when given).
//!
//! Its limits: an `#each` over an empty array, a helper's result and a `lookup` are not
//! followed (anything below them passes); inline partials and decorators are not checked;
//! `../` counts only `#each`/`#with` scopes (as handlebars does for these).
use handlebars::template::{
    BlockParam, DecoratorTemplate, HelperTemplate, Parameter, Template, TemplateElement,
};
use handlebars::Path;
use serde_json::Value;
use std::collections::BTreeSet;

use super::helpers::KNOWN_HELPERS;
use super::templates::Partials;

/// One problem, where the template has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub line: usize,
    pub column: usize,
    /// The variable as written, for a missing variable.
    pub path: Option<String>,
    pub message: String,
}

/// What the walk found.
#[derive(Debug, Default)]
pub struct Report {
    pub problems: Vec<Finding>,
    /// Top-level names of the data that the template reads.
    pub used_roots: BTreeSet<String>,
}

/// Checks `template` against `data`.
pub fn check(template: &Template, data: &Value, partials: &Partials) -> Report {
    let mut walker = Walker {
        frames: vec![Frame {
            this: Known::Value(data),
            params: Vec::new(),
        }],
        partials,
        report: Report::default(),
        pos: (1, 1),
        partial_stack: Vec::new(),
    };
    walker.walk(template);
    walker.report
}

#[derive(Clone, Copy)]
enum Known<'a> {
    Value(&'a Value),
    /// Not knowable here (a helper's result, a local variable): not checked further.
    Any,
}

struct Frame<'a> {
    this: Known<'a>,
    params: Vec<(String, Known<'a>)>,
}

struct Walker<'a> {
    frames: Vec<Frame<'a>>,
    partials: &'a Partials,
    report: Report,
    pos: (usize, usize),
    /// Partials being walked, with the position of the outermost call.
    partial_stack: Vec<(String, (usize, usize))>,
}

impl<'a> Walker<'a> {
    fn walk(&mut self, template: &'a Template) {
        for (i, element) in template.elements.iter().enumerate() {
            if self.partial_stack.is_empty() {
                if let Some(m) = template.mapping.get(i) {
                    self.pos = (m.0, m.1);
                }
            }
            match element {
                TemplateElement::Expression(ht) | TemplateElement::HtmlExpression(ht) => {
                    self.expression(ht)
                }
                TemplateElement::HelperBlock(ht) => self.block(ht),
                TemplateElement::PartialExpression(dt) | TemplateElement::PartialBlock(dt) => {
                    self.partial(dt)
                }
                _ => {}
            }
        }
    }

    fn problem(&mut self, path: Option<String>, message: String) {
        let message = match self.partial_stack.first() {
            Some((name, _)) => format!("in partial `{name}`: {message}"),
            None => message,
        };
        self.report.problems.push(Finding {
            line: self.pos.0,
            column: self.pos.1,
            path,
            message,
        });
    }

    fn expression(&mut self, ht: &'a HelperTemplate) {
        match &ht.name {
            Parameter::Path(path) if ht.params.is_empty() && ht.hash.is_empty() => {
                self.resolve(path);
            }
            Parameter::Name(name) => {
                self.helper_name(name);
                self.arguments(ht);
            }
            other => {
                self.param(other);
                self.arguments(ht);
            }
        }
    }

    fn helper_name(&mut self, name: &str) {
        if !KNOWN_HELPERS.contains(&name) {
            self.problem(
                None,
                format!(
                    "unknown helper `{name}` (helpers: {})",
                    KNOWN_HELPERS.join(", ")
                ),
            );
        }
    }

    fn arguments(&mut self, ht: &'a HelperTemplate) {
        for p in &ht.params {
            self.param(p);
        }
        for p in ht.hash.values() {
            self.param(p);
        }
    }

    fn param(&mut self, p: &'a Parameter) -> Known<'a> {
        match p {
            Parameter::Path(path) => self.resolve(path),
            Parameter::Subexpression(sub) => {
                if let TemplateElement::Expression(ht) = sub.as_element() {
                    self.expression(ht);
                }
                Known::Any
            }
            _ => Known::Any,
        }
    }

    fn block(&mut self, ht: &'a HelperTemplate) {
        let name = match &ht.name {
            Parameter::Name(n) => n.as_str(),
            Parameter::Path(p) => path_raw(p),
            _ => "",
        };
        self.helper_name(name);
        let first = ht.params.first().map(|p| self.param(p));
        for p in ht.params.iter().skip(1).chain(ht.hash.values()) {
            self.param(p);
        }
        let scope = match (name, first) {
            ("each", Some(Known::Value(v))) => Some(first_item(v)),
            ("each", _) => Some(Known::Any),
            ("with", Some(k)) => Some(k),
            _ => None,
        };
        let params = block_params(ht.block_param.as_ref(), scope.unwrap_or(Known::Any));
        let pushed = scope.is_some() || !params.is_empty();
        if pushed {
            let this = scope.unwrap_or(self.frames.last().map_or(Known::Any, |f| f.this));
            self.frames.push(Frame { this, params });
        }
        if let Some(t) = &ht.template {
            self.walk(t);
        }
        if pushed {
            self.frames.pop();
        }
        if let Some(t) = &ht.inverse {
            self.walk(t);
        }
    }

    fn partial(&mut self, dt: &'a DecoratorTemplate) {
        let name = match &dt.name {
            Parameter::Name(n) => n.clone(),
            Parameter::Path(p) => path_raw(p).to_owned(),
            _ => return,
        };
        let Some(template) = self.partials.parsed.get(&name) else {
            self.problem(None, format!("unknown partial `{name}`"));
            return;
        };
        if self.partial_stack.iter().any(|(n, _)| *n == name) || self.partial_stack.len() > 8 {
            return;
        }
        let this = match dt.params.first() {
            Some(p) => self.param(p),
            None => self.frames.last().map_or(Known::Any, |f| f.this),
        };
        let params: Vec<(String, Known<'a>)> = dt
            .hash
            .iter()
            .map(|(k, v)| (k.clone(), self.param(v)))
            .collect();
        self.frames.push(Frame { this, params });
        self.partial_stack.push((name, self.pos));
        self.walk(template);
        self.partial_stack.pop();
        self.frames.pop();
        if let Some(t) = &dt.template {
            self.walk(t);
        }
    }

    /// Follows a path through the known data, recording it when it is not there.
    fn resolve(&mut self, path: &'a Path) -> Known<'a> {
        let raw = match path {
            Path::Local(_) => return Known::Any,
            Path::Relative((_, raw)) => raw.as_str(),
        };
        let (mut index, rest) = match raw
            .strip_prefix("@root")
            .filter(|r| r.is_empty() || r.starts_with(['.', '/']))
        {
            Some(r) => (0, r.trim_start_matches(['.', '/'])),
            None => (self.frames.len() - 1, raw),
        };
        let mut rest = rest;
        let rooted = index == 0 && rest.len() != raw.len();
        while let Some(r) = rest.strip_prefix("../") {
            index = index.saturating_sub(1);
            rest = r;
        }
        for prefix in ["this.", "this/", "./"] {
            rest = rest.strip_prefix(prefix).unwrap_or(rest);
        }
        if rest.starts_with('@') {
            return Known::Any;
        }
        if rest == "this" || rest == "." {
            return self.frames[index].this;
        }
        let segments = split_segments(rest);
        let Some((head, tail)) = segments.split_first() else {
            return self.frames[index].this;
        };
        let relative = rest.len() == raw.len() && !rooted;
        let param = relative
            .then(|| {
                self.frames[..=index]
                    .iter()
                    .rev()
                    .find_map(|f| f.params.iter().find(|(n, _)| n == head).map(|(_, k)| *k))
            })
            .flatten();
        let mut current = match param {
            Some(k) => k,
            None => {
                if index == 0 || self.is_root(self.frames[index].this) {
                    self.report.used_roots.insert(head.clone());
                }
                match lookup(self.frames[index].this, head) {
                    Some(k) => k,
                    None => return self.missing(raw),
                }
            }
        };
        for segment in tail {
            current = match lookup(current, segment) {
                Some(k) => k,
                None => return self.missing(raw),
            };
        }
        current
    }

    /// Whether `this` is the whole data (as in a partial included without a context).
    fn is_root(&self, this: Known<'a>) -> bool {
        match (this, self.frames[0].this) {
            (Known::Value(a), Known::Value(b)) => std::ptr::eq(a, b),
            _ => false,
        }
    }

    fn missing(&mut self, raw: &str) -> Known<'a> {
        self.problem(
            Some(raw.to_owned()),
            format!("variable `{raw}` is not in the data"),
        );
        Known::Any
    }
}

fn path_raw(p: &Path) -> &str {
    match p {
        Path::Relative((_, raw)) | Path::Local((_, _, raw)) => raw,
    }
}

fn block_params<'a>(param: Option<&BlockParam>, item: Known<'a>) -> Vec<(String, Known<'a>)> {
    let name = |p: &Parameter| match p {
        Parameter::Name(n) => Some(n.clone()),
        _ => None,
    };
    match param {
        Some(BlockParam::Single(p)) => name(p).map(|n| vec![(n, item)]).unwrap_or_default(),
        Some(BlockParam::Pair((p, q))) => {
            [name(p).map(|n| (n, item)), name(q).map(|n| (n, Known::Any))]
                .into_iter()
                .flatten()
                .collect()
        }
        _ => Vec::new(),
    }
}

/// What `#each` iterates over, as far as the data shows.
fn first_item(v: &Value) -> Known<'_> {
    match v {
        Value::Array(items) => items.first().map_or(Known::Any, Known::Value),
        Value::Object(map) => map.values().next().map_or(Known::Any, Known::Value),
        _ => Known::Any,
    }
}

fn lookup<'a>(known: Known<'a>, segment: &str) -> Option<Known<'a>> {
    match known {
        Known::Any => Some(Known::Any),
        Known::Value(Value::Null) => Some(Known::Any),
        Known::Value(Value::Object(map)) => map.get(segment).map(Known::Value),
        Known::Value(Value::Array(items)) => {
            if segment == "length" {
                return Some(Known::Any);
            }
            segment
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i))
                .map(Known::Value)
        }
        Known::Value(_) => None,
    }
}

/// `a.b/[c d].e` → `["a", "b", "c d", "e"]`.
fn split_segments(path: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut in_brackets = false;
    for c in path.chars() {
        match c {
            '[' if !in_brackets && current.is_empty() => in_brackets = true,
            ']' if in_brackets => in_brackets = false,
            '.' | '/' if !in_brackets => {
                if !current.is_empty() {
                    segments.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        segments.push(current);
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn missing(source: &str, data: Value) -> Vec<String> {
        let t = Template::compile(source).unwrap();
        let (partials, _) = Partials::parse(BTreeMap::from([(
            "footer.text".to_owned(),
            "{{company_name}} {{footer_note}}".to_owned(),
        )]));
        check(&t, &data, &partials)
            .problems
            .into_iter()
            .map(|f| format!("{}:{} {}", f.line, f.column, f.message))
            .collect()
    }

    #[test]
    fn known_variables_pass_and_unknown_ones_are_found_with_their_position() {
        let data =
            json!({"user_name": "太郎", "company": {"name": "A"}, "items": [{"title": "x"}]});
        assert!(missing(
            "{{user_name}} {{company.name}} {{this.user_name}} {{company/name}}",
            data.clone()
        )
        .is_empty());
        assert_eq!(
            missing("a\n  {{user_nme}}", data.clone()),
            vec!["2:3 variable `user_nme` is not in the data"]
        );
        assert_eq!(missing("{{company.nam}}", data).len(), 1);
    }

    #[test]
    fn each_and_with_check_inside_their_scope() {
        let data =
            json!({"items": [{"title": "x", "tags": ["a"]}], "company": {"name": "A"}, "top": 1});
        assert_eq!(
            missing(
                "{{#each items}}{{@index}} {{title}} {{this.title}} {{../top}} {{@root.top}}{{#each tags}}{{this}}{{/each}}{{/each}}",
                data.clone()
            ),
            Vec::<String>::new()
        );
        assert!(missing(
            "{{#each items as |item i|}}{{item.title}} {{i}}{{/each}}",
            data.clone()
        )
        .is_empty());
        assert!(missing("{{#with company}}{{name}}{{/with}}", data.clone()).is_empty());
        assert_eq!(
            missing("{{#each items}}{{titel}}{{/each}}", data.clone()).len(),
            1
        );
        assert_eq!(
            missing("{{#with company}}{{top}}{{/with}}", data.clone()).len(),
            1
        );
        assert_eq!(
            missing("{{#if top}}{{a}}{{else}}{{b}}{{/if}}", data).len(),
            2
        );
    }

    #[test]
    fn helpers_parameters_and_partials_are_checked() {
        let data = json!({"url": "u", "company_name": "A", "at": "2026-01-01"});
        assert!(missing(
            "{{link url \"押す\"}} {{jst_date at}} {{upper (default company_name \"x\")}}",
            data.clone()
        )
        .is_empty());
        assert_eq!(missing("{{link urll \"x\"}}", data.clone()).len(), 1);
        let unknown = missing("{{shout company_name}}", data.clone());
        assert!(unknown[0].contains("unknown helper `shout`"), "{unknown:?}");
        let partial = missing("{{> footer.text}}", data.clone());
        assert_eq!(partial.len(), 1);
        assert!(
            partial[0].contains("in partial `footer.text`") && partial[0].contains("footer_note")
        );
        assert!(missing("{{> footer.text footer_note=\"x\"}}", data.clone()).is_empty());
        assert!(missing("{{> nope}}", data)[0].contains("unknown partial"));
    }

    #[test]
    fn used_roots_count_what_partials_read_of_the_whole_data() {
        let (partials, _) = Partials::parse(BTreeMap::from([(
            "footer.text".to_owned(),
            "{{company_name}} {{footer_note}}".to_owned(),
        )]));
        let data = json!({"company_name": "A", "footer_note": "n", "item": {"company_name": "B"}});
        let read = |source: &str| {
            let t = Template::compile(source).unwrap();
            check(&t, &data, &partials)
                .used_roots
                .into_iter()
                .collect::<Vec<_>>()
        };
        assert_eq!(
            read("{{> footer.text}}"),
            vec!["company_name", "footer_note"]
        );
        assert_eq!(
            read("{{#with item}}{{> footer.text}}{{/with}}"),
            vec!["item"]
        );
    }

    #[test]
    fn used_roots_are_collected() {
        let t = Template::compile("{{a.b}} {{#each list}}{{x}}{{/each}} {{upper c}}").unwrap();
        let report = check(&t, &json!({}), &Partials::default());
        assert_eq!(
            report.used_roots.into_iter().collect::<Vec<_>>(),
            vec!["a", "c", "list"]
        );
    }
}
