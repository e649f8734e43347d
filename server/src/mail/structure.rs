//! What a template may be built from, beyond its syntax. handlebars renders partials by
//! recursion with no depth limit, so a template that includes itself (through inline partials,
//! a computed partial name, or partials that include each other) overflows the stack and takes
//! the process down. Rendering is therefore bounded by construction: inline partials and
//! decorators are refused, a partial is named as written (`{{> footer.html}}`), the partials
//! form no cycle, and no template expands to more than [`MAX_PARTIAL_EXPANSIONS`] inclusions.
use handlebars::template::{DecoratorTemplate, Parameter, Template, TemplateElement};
use handlebars::Path;
use std::collections::BTreeMap;

use super::variables::Finding;

/// Most partial inclusions one template may expand to, counting the partials' own.
pub const MAX_PARTIAL_EXPANSIONS: usize = 1_000;

/// The partials a template includes, and what it is refused for.
#[derive(Debug, Default)]
pub struct Shape {
    /// Each partial named, once per place it is included.
    pub includes: Vec<String>,
    pub refusals: Vec<Finding>,
}

/// Walks `template` for partials and for what it may not contain.
pub fn shape(template: &Template) -> Shape {
    let mut shape = Shape::default();
    walk(template, (1, 1), &mut shape);
    shape
}

fn walk(template: &Template, outer: (usize, usize), shape: &mut Shape) {
    for (i, element) in template.elements.iter().enumerate() {
        let pos = template.mapping.get(i).map_or(outer, |m| (m.0, m.1));
        match element {
            TemplateElement::HelperBlock(ht) => {
                for t in [&ht.template, &ht.inverse].into_iter().flatten() {
                    walk(t, pos, shape);
                }
            }
            TemplateElement::DecoratorExpression(_) | TemplateElement::DecoratorBlock(_) => refuse(
                shape,
                pos,
                "inline partials and decorators (`{{#*inline …}}`, `{{* …}}`) are not \
                     allowed: put a shared part in templates/partials/ and include it by name",
            ),
            TemplateElement::PartialExpression(dt) | TemplateElement::PartialBlock(dt) => {
                partial(dt, pos, shape)
            }
            _ => {}
        }
    }
}

fn partial(dt: &DecoratorTemplate, pos: (usize, usize), shape: &mut Shape) {
    match static_name(&dt.name) {
        Some(name) if name.starts_with('@') => refuse(
            shape,
            pos,
            "`{{> @partial-block}}` is not allowed: include a partial by its name",
        ),
        Some(name) => shape.includes.push(name.to_owned()),
        None => refuse(
            shape,
            pos,
            "a partial's name must be written out (`{{> footer.html}}`), not computed",
        ),
    }
    if let Some(t) = &dt.template {
        walk(t, pos, shape);
    }
}

fn static_name(name: &Parameter) -> Option<&str> {
    match name {
        Parameter::Name(n) => Some(n),
        Parameter::Path(Path::Relative((_, raw))) => Some(raw),
        Parameter::Path(Path::Local((_, _, raw))) => Some(raw),
        _ => None,
    }
}

fn refuse(shape: &mut Shape, (line, column): (usize, usize), message: &str) {
    shape.refusals.push(Finding {
        line,
        column,
        path: None,
        message: message.to_owned(),
    });
}

/// The partials that cannot be used as they stand: in a cycle, or expanding to too many
/// inclusions; each with why.
pub fn graph_problems(partials: &BTreeMap<String, Template>) -> BTreeMap<String, String> {
    let includes: BTreeMap<&str, Vec<String>> = partials
        .iter()
        .map(|(name, t)| (name.as_str(), shape(t).includes))
        .collect();
    let mut problems = BTreeMap::new();
    for cycle in cycles(&includes) {
        let path = cycle.join(" → ");
        for name in &cycle[..cycle.len() - 1] {
            problems.entry(name.clone()).or_insert_with(|| {
                format!("partials include each other in a cycle: {path}; a cycle never ends")
            });
        }
    }
    let mut counted = BTreeMap::new();
    for name in includes.keys() {
        if problems.contains_key(*name) {
            continue;
        }
        let n = expansions(name, &includes, &problems, &mut counted);
        if n > MAX_PARTIAL_EXPANSIONS {
            problems.insert((*name).to_owned(), too_many(n));
        }
    }
    problems
}

/// How many inclusions the partials `includes` expand to, given the usable partials.
pub fn expansions_of(includes: &[String], partials: &BTreeMap<String, Template>) -> usize {
    let graph: BTreeMap<&str, Vec<String>> = partials
        .iter()
        .map(|(name, t)| (name.as_str(), shape(t).includes))
        .collect();
    let mut counted = BTreeMap::new();
    includes
        .iter()
        .map(|name| 1 + expansions(name, &graph, &BTreeMap::new(), &mut counted))
        .fold(0, usize::saturating_add)
}

/// The message for a template or partial that expands to `n` inclusions.
pub fn too_many(n: usize) -> String {
    format!(
        "the partials expand to {n} inclusions, more than {MAX_PARTIAL_EXPANSIONS}: \
         include fewer partials, or fewer times"
    )
}

/// Inclusions below `name` (the partial itself not counted), memoised; a cycle member or an
/// unknown partial counts nothing.
fn expansions(
    name: &str,
    graph: &BTreeMap<&str, Vec<String>>,
    cyclic: &BTreeMap<String, String>,
    counted: &mut BTreeMap<String, usize>,
) -> usize {
    if let Some(n) = counted.get(name) {
        return *n;
    }
    // Marked before the walk, so that a cycle the caller did not exclude still ends.
    counted.insert(name.to_owned(), 0);
    let n = match graph.get(name) {
        Some(children) if !cyclic.contains_key(name) => children
            .iter()
            .map(|c| 1 + expansions(c, graph, cyclic, counted))
            .fold(0, usize::saturating_add),
        _ => 0,
    };
    counted.insert(name.to_owned(), n);
    n
}

/// Every cycle among the partials, as the names along it with the first repeated at the end.
fn cycles(graph: &BTreeMap<&str, Vec<String>>) -> Vec<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit<'a>(
        name: &'a str,
        graph: &'a BTreeMap<&str, Vec<String>>,
        marks: &mut BTreeMap<&'a str, Mark>,
        stack: &mut Vec<&'a str>,
        found: &mut Vec<Vec<String>>,
    ) {
        marks.insert(name, Mark::Open);
        stack.push(name);
        for child in graph.get(name).into_iter().flatten() {
            let Some((key, _)) = graph.get_key_value(child.as_str()) else {
                continue;
            };
            match marks.get(key) {
                Some(Mark::Open) => {
                    let start = stack.iter().position(|n| n == key).unwrap_or(0);
                    let mut cycle: Vec<String> =
                        stack[start..].iter().map(|n| (*n).to_owned()).collect();
                    cycle.push((*key).to_owned());
                    found.push(cycle);
                }
                Some(Mark::Done) => {}
                None => visit(key, graph, marks, stack, found),
            }
        }
        stack.pop();
        marks.insert(name, Mark::Done);
    }
    let mut marks = BTreeMap::new();
    let mut found = Vec::new();
    for name in graph.keys() {
        if !marks.contains_key(name) {
            visit(name, graph, &mut marks, &mut Vec::new(), &mut found);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusals(source: &str) -> Vec<String> {
        shape(&Template::compile(source).unwrap())
            .refusals
            .into_iter()
            .map(|f| format!("{}:{} {}", f.line, f.column, f.message))
            .collect()
    }

    fn partials(sources: &[(&str, &str)]) -> BTreeMap<String, Template> {
        sources
            .iter()
            .map(|(n, s)| ((*n).to_owned(), Template::compile(s).unwrap()))
            .collect()
    }

    #[test]
    fn h1_inline_partials_and_computed_partial_names_are_refused() {
        let inline = refusals(
            "a\n{{#*inline \"a\"}}{{> (concat \"b\" \"\")}}{{/inline}}{{#*inline \"b\"}}{{> a}}{{/inline}}{{> a}}",
        );
        assert!(inline.len() >= 2, "{inline:?}");
        assert!(inline[0].starts_with("2:1 inline partials"), "{inline:?}");
        let computed = refusals("{{#if x}}\n  {{> (lookup this \"name\")}}{{/if}}");
        assert_eq!(computed.len(), 1, "{computed:?}");
        assert!(computed[0].starts_with("2:3 a partial's name must be written out"));
        assert!(
            refusals("{{#> layout}}{{> @partial-block}}{{/layout}}")[0].contains("@partial-block")
        );
        assert!(refusals("{{> footer.html}} {{#each a}}{{> row}}{{/each}}").is_empty());
    }

    #[test]
    fn h1_partials_that_include_each_other_are_a_cycle() {
        let problems = graph_problems(&partials(&[
            ("a", "{{> b}}"),
            ("b", "x {{#if y}}{{> a}}{{/if}}"),
            ("self", "{{> self}}"),
            ("fine", "{{> leaf}}"),
            ("leaf", "ok"),
        ]));
        assert_eq!(
            problems.keys().collect::<Vec<_>>(),
            vec!["a", "b", "self"],
            "{problems:?}"
        );
        assert!(problems["a"].contains("a → b → a"), "{problems:?}");
        assert!(problems["self"].contains("self → self"), "{problems:?}");
    }

    #[test]
    fn h1_partials_that_fan_out_past_the_limit_are_refused() {
        let ten = |next: &str| format!("{{{{> {next}}}}}").repeat(10);
        let (p3, p2, p1) = (ten("p4"), ten("p3"), ten("p2"));
        let problems = graph_problems(&partials(&[
            ("p1", &p1),
            ("p2", &p2),
            ("p3", &p3),
            ("p4", ""),
        ]));
        assert_eq!(
            problems.keys().collect::<Vec<_>>(),
            vec!["p1"],
            "{problems:?}"
        );
        assert!(problems["p1"].contains("1110 inclusions"), "{problems:?}");
        let set = partials(&[("p2", &p2), ("p3", &p3), ("p4", "")]);
        assert_eq!(expansions_of(&["p2".into()], &set), 111);
    }
}
