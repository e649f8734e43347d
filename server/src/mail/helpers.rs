//! The template helpers: dates in Japan time, links, upper-casing and fallbacks.
//!
//! `jst_date`, `jst_datetime`, `upper` and `default` return values, so the HTML registry
//! escapes what they give like any other value. `link` writes its own markup: the HTML
//! registry's version escapes the URL and the text itself, the plain one writes `text: url`.
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use handlebars::{
    handlebars_helper, html_escape, Context, Handlebars, Helper, HelperResult, JsonRender, Output,
    RenderContext, RenderErrorReason,
};
use serde_json::Value;

use crate::domain::time::jst;

/// Every helper a template may call: handlebars' built-ins and ours. The variable check
/// refuses a call to any other name.
pub const KNOWN_HELPERS: &[&str] = &[
    "if",
    "unless",
    "each",
    "with",
    "lookup",
    "raw",
    "log",
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
    "and",
    "or",
    "not",
    "len",
    "jst_date",
    "jst_datetime",
    "link",
    "upper",
    "default",
];

const WEEKDAYS: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];

/// A moment given to a date helper: an RFC 3339 string, a `YYYY-MM-DD` date, or unix milliseconds.
enum Moment {
    Instant(DateTime<Utc>),
    Day(NaiveDate),
}

fn moment(value: &Value) -> Option<Moment> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
            .map(Moment::Instant),
        Value::String(s) => DateTime::parse_from_rfc3339(s.trim())
            .map(|t| Moment::Instant(t.with_timezone(&Utc)))
            .ok()
            .or_else(|| {
                NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                    .ok()
                    .map(Moment::Day)
            }),
        _ => None,
    }
}

fn japanese_date(day: NaiveDate) -> String {
    format!(
        "{}年{}月{}日({})",
        day.year(),
        day.month(),
        day.day(),
        WEEKDAYS[day.weekday().num_days_from_monday() as usize]
    )
}

/// `2026年11月26日(木)` in Japan time; a value that is not a time is shown as it is.
pub fn format_jst_date(value: &Value) -> String {
    match moment(value) {
        Some(Moment::Instant(t)) => japanese_date(t.with_timezone(&jst()).date_naive()),
        Some(Moment::Day(d)) => japanese_date(d),
        None => value.render(),
    }
}

/// `2026年11月26日(木) 18:00` in Japan time; a date alone is shown without a time.
pub fn format_jst_datetime(value: &Value) -> String {
    match moment(value) {
        Some(Moment::Instant(t)) => {
            let local = t.with_timezone(&jst());
            format!(
                "{} {}",
                japanese_date(local.date_naive()),
                local.format("%H:%M")
            )
        }
        Some(Moment::Day(d)) => japanese_date(d),
        None => value.render(),
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

handlebars_helper!(jst_date: |ts: Json| format_jst_date(ts));
handlebars_helper!(jst_datetime: |ts: Json| format_jst_datetime(ts));
handlebars_helper!(upper: |value: Json| value.render().to_uppercase());
handlebars_helper!(default: |value: Json, fallback: Json| {
    if is_empty(value) { fallback.clone() } else { value.clone() }
});

fn link_parts(h: &Helper) -> Result<(String, String), RenderErrorReason> {
    let url = h
        .param(0)
        .map(|p| p.value().render())
        .ok_or_else(|| RenderErrorReason::ParamNotFoundForName("link", "url".into()))?;
    let text = h
        .param(1)
        .map(|p| p.value().render())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| url.clone());
    Ok((url, text))
}

/// Whether `url` may be a mail's link target: `https:`, `http:` or `mailto:` only. Escaping
/// keeps a value inside the attribute, not a `javascript:` or `data:` URL out of it.
fn is_linkable(url: &str) -> bool {
    let scheme = url
        .trim_start()
        .split_once(':')
        .map(|(scheme, _)| scheme.to_ascii_lowercase());
    matches!(scheme.as_deref(), Some("https" | "http" | "mailto"))
}

/// `{{link url text}}` in HTML: an anchor whose URL and text are escaped here. A URL of any
/// other scheme than `https`, `http` or `mailto` (a `javascript:` URL from a webhook's data,
/// say) gives the text alone, with no anchor (security review E1).
fn link_html(
    h: &Helper,
    _: &Handlebars,
    _: &Context,
    _: &mut RenderContext,
    out: &mut dyn Output,
) -> HelperResult {
    let (url, text) = link_parts(h)?;
    if is_linkable(&url) {
        out.write(&format!(
            "<a href=\"{}\">{}</a>",
            html_escape(url.trim()),
            html_escape(&text)
        ))?;
    } else {
        out.write(&html_escape(&text))?;
    }
    Ok(())
}

/// `{{link url text}}` in the subject and text part: `text: url`.
fn link_plain(
    h: &Helper,
    _: &Handlebars,
    _: &Context,
    _: &mut RenderContext,
    out: &mut dyn Output,
) -> HelperResult {
    let (url, text) = link_parts(h)?;
    if text == url {
        out.write(&url)?;
    } else {
        out.write(&format!("{text}: {url}"))?;
    }
    Ok(())
}

/// Registers every helper; `html` picks the escaping `link`.
pub fn register(registry: &mut Handlebars<'static>, html: bool) {
    registry.register_helper("jst_date", Box::new(jst_date));
    registry.register_helper("jst_datetime", Box::new(jst_datetime));
    registry.register_helper("upper", Box::new(upper));
    registry.register_helper("default", Box::new(default));
    if html {
        registry.register_helper("link", Box::new(link_html));
    } else {
        registry.register_helper("link", Box::new(link_plain));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn registry(html: bool) -> Handlebars<'static> {
        let mut r = Handlebars::new();
        if !html {
            r.register_escape_fn(handlebars::no_escape);
        }
        register(&mut r, html);
        r
    }

    #[test]
    fn dates_are_shown_in_japan_time_with_the_weekday() {
        let r = registry(false);
        let data =
            json!({"at": "2026-11-26T09:00:00Z", "ms": 1_795_683_600_000i64, "day": "2026-11-26"});
        assert_eq!(
            r.render_template("{{jst_date at}}", &data).unwrap(),
            "2026年11月26日(木)"
        );
        assert_eq!(
            r.render_template("{{jst_datetime at}}", &data).unwrap(),
            "2026年11月26日(木) 18:00"
        );
        assert_eq!(
            r.render_template("{{jst_datetime ms}}", &data).unwrap(),
            "2026年11月26日(木) 18:00"
        );
        assert_eq!(
            r.render_template("{{jst_date day}}", &data).unwrap(),
            "2026年11月26日(木)"
        );
        // Late evening UTC is the next day in Japan.
        assert_eq!(
            r.render_template("{{jst_date t}}", &json!({"t": "2026-11-25T16:30:00Z"}))
                .unwrap(),
            "2026年11月26日(木)"
        );
    }

    /// Security review E1: escaping keeps a URL inside `href`, but only the scheme check keeps
    /// a `javascript:` or `data:` URL (from a webhook's data, say) from being a link at all.
    #[test]
    fn review_e1_link_makes_anchors_only_for_web_and_mail_urls() {
        let r = registry(true);
        for url in [
            "javascript:alert(document.cookie)",
            " JavaScript:alert(1)",
            "data:text/html;base64,PHNjcmlwdD4=",
            "vbscript:msgbox",
            "//evil.test/path",
            "no-scheme-at-all",
        ] {
            let html = r
                .render_template("{{link u \"押す\"}}", &json!({ "u": url }))
                .unwrap();
            assert_eq!(html, "押す", "{url:?}");
        }
        for url in [
            "https://x.test/a",
            "http://x.test/",
            "mailto:a@example.jp",
            "HTTPS://X.TEST/",
        ] {
            let html = r
                .render_template("{{link u \"押す\"}}", &json!({ "u": url }))
                .unwrap();
            assert!(html.starts_with("<a href=\""), "{url:?}: {html}");
        }
    }

    #[test]
    fn link_escapes_in_html_and_is_plain_in_text() {
        let data = json!({"u": "https://x.test/a?b=1&c=\"2\"", "t": "<押す>"});
        assert_eq!(
            registry(true)
                .render_template("{{link u t}}", &data)
                .unwrap(),
            "<a href=\"https://x.test/a?b&#x3D;1&amp;c&#x3D;&quot;2&quot;\">&lt;押す&gt;</a>"
        );
        assert_eq!(
            registry(false)
                .render_template("{{link u t}}", &data)
                .unwrap(),
            "<押す>: https://x.test/a?b=1&c=\"2\""
        );
    }

    #[test]
    fn upper_and_default_are_escaped_in_html() {
        let r = registry(true);
        let data = json!({"name": "<b>a</b>", "empty": ""});
        assert_eq!(
            r.render_template("{{upper name}}", &data).unwrap(),
            "&lt;B&gt;A&lt;/B&gt;"
        );
        assert_eq!(
            r.render_template(
                "{{default empty \"なし\"}}|{{default missing \"-\"}}|{{default name \"x\"}}",
                &data
            )
            .unwrap(),
            "なし|-|&lt;b&gt;a&lt;/b&gt;"
        );
    }
}
