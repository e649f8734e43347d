//! The render budget: every template render (preview, test-send, a queued mail) stops with a
//! clear error when its output grows past [`MAX_PART_BYTES`] or it runs past
//! [`RENDER_TIME_LIMIT`], so a template that loops over too much data cannot pin a thread.
//!
//! The output cap is enforced by the writer the render writes to ([`CappedWriter`]). The time
//! limit is checked there too and, for loops that write nothing, on every iteration of
//! [`BudgetedEach`], which replaces handlebars' `each`. (Recursion through partials cannot
//! happen: `structure` refuses dynamic and inline partials and cycles among partials before a
//! template is activated.) Helpers receive no per-render context, so the deadline lives in a
//! thread-local slot that a [`Budget`] fills for exactly one render; a render is synchronous on
//! one thread.
use handlebars::{
    BlockContext, BlockParams, Context, Handlebars, Helper, HelperDef, HelperResult, Output,
    RenderContext, RenderError, RenderErrorReason, Renderable,
};
use serde_json::Value;
use std::cell::Cell;
use std::time::{Duration, Instant};

/// Longest one template render may take.
pub const RENDER_TIME_LIMIT: Duration = Duration::from_secs(2);
/// Largest rendered part (subject, HTML or text), in bytes.
pub const MAX_PART_BYTES: usize = 512 * 1024;

/// Why a render was stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exceeded {
    Time,
    Output,
}

impl Exceeded {
    pub fn message(self) -> String {
        match self {
            Exceeded::Time => format!(
                "rendering stopped after {} s: the template loops over too much data",
                RENDER_TIME_LIMIT.as_secs()
            ),
            Exceeded::Output => format!(
                "rendering stopped: the output is over {} KiB",
                MAX_PART_BYTES / 1024
            ),
        }
    }
}

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    static EXCEEDED: Cell<Option<Exceeded>> = const { Cell::new(None) };
}

/// The budget of one render on this thread; cleared when dropped.
pub struct Budget(());

impl Budget {
    /// Starts the clock for a render on this thread.
    pub fn begin() -> Budget {
        DEADLINE.with(|d| d.set(Some(Instant::now() + RENDER_TIME_LIMIT)));
        EXCEEDED.with(|e| e.set(None));
        Budget(())
    }

    /// What stopped the render, if the budget did.
    pub fn exceeded(&self) -> Option<Exceeded> {
        EXCEEDED.with(Cell::get)
    }
}

impl Drop for Budget {
    fn drop(&mut self) {
        DEADLINE.with(|d| d.set(None));
        EXCEEDED.with(|e| e.set(None));
    }
}

fn exceed(why: Exceeded) -> Exceeded {
    EXCEEDED.with(|e| e.set(Some(why)));
    why
}

/// Fails once the render's deadline has passed (never outside a render).
pub fn check_time() -> Result<(), Exceeded> {
    match DEADLINE.with(Cell::get) {
        Some(deadline) if Instant::now() >= deadline => Err(exceed(Exceeded::Time)),
        _ => Ok(()),
    }
}

/// A writer that refuses to grow past [`MAX_PART_BYTES`] or to write past the deadline.
#[derive(Default)]
pub struct CappedWriter {
    pub bytes: Vec<u8>,
}

impl std::io::Write for CappedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let refuse = |why| std::io::Error::other(exceed(why).message());
        if self.bytes.len() + buf.len() > MAX_PART_BYTES {
            return Err(refuse(Exceeded::Output));
        }
        check_time().map_err(refuse)?;
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Renders the registered template `name` within the budget of the render in progress.
pub fn render_capped(
    registry: &Handlebars<'_>,
    name: &str,
    data: &Value,
) -> Result<String, RenderError> {
    let mut writer = CappedWriter::default();
    registry.render_to_write(name, data, &mut writer)?;
    String::from_utf8(writer.bytes)
        .map_err(|e| RenderErrorReason::Other(format!("the output is not UTF-8: {e}")).into())
}

/// Registers [`BudgetedEach`] in place of handlebars' own `each`.
pub fn register(registry: &mut Handlebars<'_>) {
    registry.register_helper("each", Box::new(BudgetedEach));
}

/// Handlebars' `each` (arrays and objects, `@index`, `@key`, `@first`, `@last`, block
/// parameters, `else`), checking the render's deadline before every iteration.
#[derive(Clone, Copy)]
pub struct BudgetedEach;

impl HelperDef for BudgetedEach {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        r: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        rc: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let value = h
            .param(0)
            .ok_or(RenderErrorReason::ParamNotFoundForIndex("each", 0))?;
        let Some(template) = h.template() else {
            return Ok(());
        };
        let items: Vec<(Value, &Value)> = match value.value() {
            Value::Array(list) if !list.is_empty() || h.inverse().is_none() => list
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::from(i), v))
                .collect(),
            Value::Object(map) if !map.is_empty() || h.inverse().is_none() => map
                .iter()
                .map(|(k, v)| (Value::from(k.as_str()), v))
                .collect(),
            _ => {
                return match h.inverse() {
                    Some(inverse) => inverse.render(r, ctx, rc, out),
                    None if r.strict_mode() => {
                        Err(RenderError::strict_error(value.relative_path()))
                    }
                    None => Ok(()),
                }
            }
        };
        let base_path = value.context_path();
        let mut block = BlockContext::new();
        match base_path {
            Some(path) => block.base_path_mut().clone_from(path),
            None => block.set_base_value(value.value().clone()),
        }
        rc.push_block(block);
        let len = items.len();
        for (i, (key, item)) in items.into_iter().enumerate() {
            check_time().map_err(|why| RenderErrorReason::Other(why.message()))?;
            if let Some(block) = rc.block_mut() {
                block.set_local_var("first", Value::from(i == 0));
                block.set_local_var("last", Value::from(i + 1 == len));
                block.set_local_var("index", Value::from(i));
                if key.is_string() {
                    block.set_local_var("key", key.clone());
                }
                let segment = key.as_str().map_or_else(|| i.to_string(), str::to_owned);
                match base_path {
                    Some(path) => {
                        let mut p = path.clone();
                        p.push(segment);
                        *block.base_path_mut() = p;
                    }
                    None => block.set_base_value(item.clone()),
                }
                let mut params = BlockParams::new();
                if let Some(name) = h.block_param() {
                    bind(&mut params, name, base_path.is_some(), item)?;
                    block.set_block_params(params);
                } else if let Some((name, key_name)) = h.block_param_pair() {
                    bind(&mut params, name, base_path.is_some(), item)?;
                    params.add_value(key_name, key)?;
                    block.set_block_params(params);
                }
            }
            template.render(r, ctx, rc, out)?;
        }
        rc.pop_block();
        Ok(())
    }
}

/// A block parameter: the item's path when the list has one, else its value.
fn bind<'rc>(
    params: &mut BlockParams<'rc>,
    name: &'rc str,
    by_path: bool,
    item: &Value,
) -> Result<(), RenderError> {
    if by_path {
        params.add_path(name, Vec::new())
    } else {
        params.add_value(name, item.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn registry(source: &str) -> Handlebars<'static> {
        let mut r = Handlebars::new();
        register(&mut r);
        r.register_template_string("t", source).unwrap();
        r
    }

    fn render(source: &str, data: &Value) -> Result<String, String> {
        let budget = Budget::begin();
        render_capped(&registry(source), "t", data).map_err(|e| match budget.exceeded() {
            Some(why) => why.message(),
            None => e.to_string(),
        })
    }

    #[test]
    fn each_renders_as_handlebars_does() {
        let data = json!({"items": [{"t": "a"}, {"t": "b"}], "map": {"x": 1, "y": 2}, "top": "T"});
        let cases = [
            (
                "{{#each items}}{{@index}}{{@first}}{{@last}}{{t}}{{../top}}|{{/each}}",
                "0truefalseaT|1falsetruebT|",
            ),
            (
                "{{#each map}}{{@key}}={{this}}{{@index}};{{/each}}",
                "x=10;y=21;",
            ),
            (
                "{{#each items as |it i|}}{{i}}:{{it.t}} {{/each}}",
                "0:a 1:b ",
            ),
            ("{{#each map as |v k|}}{{k}}{{v}}{{/each}}", "x1y2"),
            ("{{#each none}}x{{else}}empty{{/each}}", "empty"),
            (
                "{{#each items}}{{#each ../map}}{{@key}}{{/each}}{{/each}}",
                "xyxy",
            ),
        ];
        for (source, want) in cases {
            let mut stock = Handlebars::new();
            stock.register_template_string("t", source).unwrap();
            assert_eq!(stock.render("t", &data).unwrap(), want, "{source}");
            assert_eq!(render(source, &data).unwrap(), want, "{source}");
        }
    }

    #[test]
    fn m6_nested_loops_that_write_nothing_stop_at_the_time_limit() {
        let data = json!({"a": vec![0; 3000]});
        let started = Instant::now();
        let err = render(
            "{{#each a}}{{#each ../a}}{{#each ../../a}}{{/each}}{{/each}}{{/each}}",
            &data,
        )
        .unwrap_err();
        assert!(started.elapsed() < RENDER_TIME_LIMIT + Duration::from_secs(1));
        assert!(err.contains("rendering stopped after 2 s"), "{err}");
    }

    #[test]
    fn m6_output_past_the_cap_stops_the_render() {
        let data = json!({"a": vec!["x".repeat(100); 2000], "b": vec![0; 2000]});
        let err = render("{{#each b}}{{#each ../a}}{{this}}{{/each}}{{/each}}", &data).unwrap_err();
        assert!(err.contains("output is over 512 KiB"), "{err}");
    }

    #[test]
    fn without_a_render_in_progress_time_is_never_up() {
        assert_eq!(check_time(), Ok(()));
    }
}
