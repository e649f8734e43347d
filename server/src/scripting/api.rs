//! What a script can call: the action functions (`label`, `route`, `send_email`, …), `log`, and
//! the JST time helpers. Every function checks its arguments and fails with a message that
//! names the function; rhai adds the call's line and column.
use rhai::{Dynamic, Engine, EvalAltResult, INT};
use std::sync::Arc;

use super::action::Action;
use super::calendar;
use super::sandbox::{self, push_action, runtime_error};
use super::signature::{param, HostApi, Kind, Signature};
use crate::domain::business_calendar::BusinessCalendar;
use crate::domain::email::Email;

type Fallible<T = ()> = Result<T, Box<EvalAltResult>>;

/// Registers every host function; `next_business_morning` and `is_business_day` answer by
/// `calendar`. Answers their signatures, for the save-time check of calls.
pub fn register(engine: &mut Engine, calendar: Arc<BusinessCalendar>) -> Vec<Signature> {
    let mut api = HostApi::new(engine);
    register_actions(&mut api);
    register_time(&mut api, calendar);
    api.add("log", [param("x", Kind::Any)], |msg: Dynamic| {
        sandbox::log_line(msg.to_string())
    });
    api.finish()
}

fn register_actions(api: &mut HostApi) {
    use Kind::{Map, Number, Text};
    api.add(
        "label",
        [param("label", Text)],
        |label: Dynamic| -> Fallible {
            let label = text("label", "label", &label)?;
            push_action(Action::Label { label })
        },
    )
    .add(
        "unlabel",
        [param("label", Text)],
        |label: Dynamic| -> Fallible {
            let label = text("unlabel", "label", &label)?;
            push_action(Action::Unlabel { label })
        },
    )
    .add(
        "route",
        [param("job_id", Text)],
        |job_id: Dynamic| -> Fallible {
            let job_id = text("route", "job_id", &job_id)?;
            push_action(Action::Route { job_id })
        },
    )
    .add(
        "send_email",
        [
            param("template", Text),
            param("to", Text),
            param("data", Map),
        ],
        |template: Dynamic, to: Dynamic, data: Dynamic| -> Fallible {
            email("send_email", template, to, data, None)
        },
    )
    .add(
        "send_email_at",
        [
            param("template", Text),
            param("to", Text),
            param("data", Map),
            param("at", Text),
        ],
        |template: Dynamic, to: Dynamic, data: Dynamic, at: Dynamic| -> Fallible {
            let at = timestamp("send_email_at", "at", &at)?;
            email("send_email_at", template, to, data, Some(at))
        },
    )
    .add("kpi", [param("name", Text)], |name: Dynamic| -> Fallible {
        kpi(
            name,
            Dynamic::from_float(1.0),
            Dynamic::from_map(Default::default()),
        )
    })
    .add(
        "kpi",
        [param("name", Text), param("value", Number)],
        |name: Dynamic, value: Dynamic| -> Fallible {
            kpi(name, value, Dynamic::from_map(Default::default()))
        },
    )
    .add(
        "kpi",
        [
            param("name", Text),
            param("value", Number),
            param("tags", Map),
        ],
        kpi,
    )
    .add(
        "notify",
        [param("kind", Text)],
        |kind: Dynamic| -> Fallible {
            let kind = text("notify", "kind", &kind)?;
            push_action(Action::Notify {
                kind,
                data: serde_json::Value::Object(Default::default()),
            })
        },
    )
    .add(
        "notify",
        [param("kind", Text), param("data", Map)],
        |kind: Dynamic, data: Dynamic| -> Fallible {
            let kind = text("notify", "kind", &kind)?;
            let data = map_json("notify", "data", &data)?;
            push_action(Action::Notify { kind, data })
        },
    )
    .add(
        "webhook",
        [param("event_type", Text), param("payload", Map)],
        |event_type: Dynamic, payload: Dynamic| -> Fallible {
            let event_type = text("webhook", "event_type", &event_type)?;
            let payload = map_json("webhook", "payload", &payload)?;
            push_action(Action::Webhook {
                event_type,
                payload,
            })
        },
    )
    .add("invite", [], || -> Fallible {
        push_action(Action::Invite { send_at: None })
    })
    .add(
        "invite_at",
        [param("at", Text)],
        |at: Dynamic| -> Fallible {
            let at = timestamp("invite_at", "at", &at)?;
            push_action(Action::Invite { send_at: Some(at) })
        },
    );
}

fn email(
    function: &str,
    template: Dynamic,
    to: Dynamic,
    data: Dynamic,
    send_at: Option<String>,
) -> Fallible {
    let template = text(function, "template", &template)?;
    if template == crate::domain::names::INVITATION_TEMPLATE {
        return Err(runtime_error(format!(
            "{function}: `{template}` is promotional mail: call invite(), which honours opt-outs and sends one invitation per rejection"
        )));
    }
    let known = sandbox::with_run(|run| run.templates.contains(&template)).unwrap_or(false);
    if !known {
        let list = sandbox::with_run(|run| run.templates.join(", ")).unwrap_or_default();
        return Err(runtime_error(format!(
            "{function}: unknown template `{template}`; known templates: {list}"
        )));
    }
    let to_text = text(function, "to", &to)?;
    let to = Email::parse(&to_text).map_err(|e| runtime_error(format!("{function}: `to` {e}")))?;
    let data = map_json(function, "data", &data)?;
    push_action(Action::Email {
        template,
        to: to.as_str().to_owned(),
        data,
        send_at,
    })
}

fn kpi(name: Dynamic, value: Dynamic, tags: Dynamic) -> Fallible {
    let name = text("kpi", "name", &name)?;
    let value = if let Ok(f) = value.as_float() {
        f
    } else if let Ok(i) = value.as_int() {
        i as f64
    } else {
        return Err(runtime_error(format!(
            "kpi: `value` must be a number, got {}",
            value.type_name()
        )));
    };
    if !value.is_finite() {
        return Err(runtime_error("kpi: `value` must be a finite number"));
    }
    let tags = match map_json("kpi", "tags", &tags)? {
        serde_json::Value::Object(map) => map,
        _ => Default::default(),
    };
    push_action(Action::Kpi { name, value, tags })
}

fn register_time(api: &mut HostApi, calendar: Arc<BusinessCalendar>) {
    use Kind::{Int, Text};
    let for_mornings = calendar.clone();
    api.add(
        "next_business_morning",
        [param("ts", Text)],
        move |ts: Dynamic| -> Fallible<String> {
            let function = "next_business_morning";
            let at = instant(function, &ts)?;
            for_mornings
                .next_business_morning(at)
                .map(calendar::to_jst_rfc3339)
                .map_err(|e| runtime_error(format!("{function}: {e}")))
        },
    )
    .add(
        "is_business_day",
        [param("ts", Text)],
        move |ts: Dynamic| -> Fallible<bool> {
            let function = "is_business_day";
            calendar
                .is_business_day(instant(function, &ts)?)
                .map_err(|e| runtime_error(format!("{function}: {e}")))
        },
    )
    .add(
        "add_hours",
        [param("ts", Text), param("n", Int)],
        |ts: Dynamic, n: INT| -> Fallible<String> {
            shift("add_hours", &ts, chrono::Duration::try_hours(n))
        },
    )
    .add(
        "add_days",
        [param("ts", Text), param("n", Int)],
        |ts: Dynamic, n: INT| -> Fallible<String> {
            shift("add_days", &ts, chrono::Duration::try_days(n))
        },
    )
    .add(
        "jst_date",
        [param("ts", Text)],
        |ts: Dynamic| -> Fallible<String> { Ok(calendar::jst_date(instant("jst_date", &ts)?)) },
    );
}

fn shift(function: &str, ts: &Dynamic, by: Option<chrono::Duration>) -> Fallible<String> {
    let at = instant(function, ts)?;
    by.and_then(|d| at.checked_add_signed(d))
        .map(calendar::to_jst_rfc3339)
        .ok_or_else(|| runtime_error(format!("{function}: the result is out of range")))
}

/// A non-empty string argument.
fn text(function: &str, arg: &str, value: &Dynamic) -> Fallible<String> {
    let s = value.clone().into_string().map_err(|actual| {
        runtime_error(format!(
            "{function}: `{arg}` must be a string, got {actual}"
        ))
    })?;
    if s.trim().is_empty() {
        return Err(runtime_error(format!("{function}: `{arg}` is empty")));
    }
    Ok(s)
}

fn instant(function: &str, ts: &Dynamic) -> Fallible<chrono::DateTime<chrono::Utc>> {
    let s = text(function, "ts", ts)?;
    calendar::parse(&s).map_err(|e| runtime_error(format!("{function}: {e}")))
}

/// An RFC 3339 argument, normalised to JST.
fn timestamp(function: &str, arg: &str, value: &Dynamic) -> Fallible<String> {
    let s = text(function, arg, value)?;
    calendar::parse(&s)
        .map(calendar::to_jst_rfc3339)
        .map_err(|e| runtime_error(format!("{function}: `{arg}`: {e}")))
}

/// An object map argument, as JSON.
fn map_json(function: &str, arg: &str, value: &Dynamic) -> Fallible<serde_json::Value> {
    if !value.is_map() {
        return Err(runtime_error(format!(
            "{function}: `{arg}` must be an object map (`#{{…}}`), got {}",
            value.type_name()
        )));
    }
    rhai::serde::from_dynamic(value)
        .map_err(|e| runtime_error(format!("{function}: `{arg}` cannot be converted: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripting::engine::tests::run;
    use serde_json::json;

    fn one(source: &str) -> Action {
        let (mut actions, _) = run(source).unwrap_or_else(|e| panic!("{source}: {e}"));
        assert_eq!(actions.len(), 1, "{source}: {actions:?}");
        actions.remove(0)
    }

    #[test]
    fn each_function_produces_its_action() {
        assert_eq!(
            one(r#"label("ビズリーチ:スカウト")"#),
            Action::Label {
                label: "ビズリーチ:スカウト".into()
            }
        );
        assert_eq!(
            one(r#"unlabel("x")"#),
            Action::Unlabel { label: "x".into() }
        );
        assert_eq!(
            one(r#"route("job_1")"#),
            Action::Route {
                job_id: "job_1".into()
            }
        );
        assert_eq!(
            one(r#"send_email("bizreach_application_notice", "Taro@Example.jp", #{name: "太郎"})"#),
            Action::Email {
                template: "bizreach_application_notice".into(),
                to: "taro@example.jp".into(),
                data: json!({"name": "太郎"}),
                send_at: None
            }
        );
        assert_eq!(
            one(r#"send_email_at("group_link_approval", "a@b.jp", #{}, "2026-11-24T00:00:00Z")"#),
            Action::Email {
                template: "group_link_approval".into(),
                to: "a@b.jp".into(),
                data: json!({}),
                send_at: Some("2026-11-24T09:00:00+09:00".into())
            }
        );
        assert_eq!(
            one(r#"kpi("rejected")"#),
            Action::Kpi {
                name: "rejected".into(),
                value: 1.0,
                tags: Default::default()
            }
        );
        assert_eq!(
            one(r#"kpi("hours", 3)"#),
            Action::Kpi {
                name: "hours".into(),
                value: 3.0,
                tags: Default::default()
            }
        );
        let Action::Kpi { tags, value, .. } = one(r#"kpi("rejected", 1.5, #{stage: "一次面接"})"#)
        else {
            panic!("not a kpi")
        };
        assert_eq!((value, json!(tags)), (1.5, json!({"stage": "一次面接"})));
        assert_eq!(
            one(r#"notify("bizreach_application")"#),
            Action::Notify {
                kind: "bizreach_application".into(),
                data: json!({})
            }
        );
        assert_eq!(
            one(r#"notify("bizreach_application", #{position: "PM"})"#),
            Action::Notify {
                kind: "bizreach_application".into(),
                data: json!({"position": "PM"})
            }
        );
        assert_eq!(
            one(r#"webhook("application.labeled", #{label: "x"})"#),
            Action::Webhook {
                event_type: "application.labeled".into(),
                payload: json!({"label": "x"})
            }
        );
        assert_eq!(one("invite()"), Action::Invite { send_at: None });
        assert_eq!(
            one(r#"invite_at("2026-11-24T09:00:00+09:00")"#),
            Action::Invite {
                send_at: Some("2026-11-24T09:00:00+09:00".into())
            }
        );
    }

    #[test]
    fn bad_arguments_are_runtime_errors_with_position() {
        for (source, expected) in [
            (r#"route("")"#, "route: `job_id` is empty"),
            // Computed arguments; literals of the wrong type are refused when compiled.
            (r#"route(event.job)"#, "route: `job_id` must be a string"),
            (
                r#"send_email("welcome", "a@b.jp", #{})"#,
                "unknown template `welcome`",
            ),
            (
                r#"send_email("group_link_approval", "nobody", #{})"#,
                "`to` is not an email",
            ),
            (
                r#"send_email("group_link_approval", "a@b.jp", event.data)"#,
                "`data` must be an object map",
            ),
            (
                r#"send_email("career_relay_invitation", "a@b.jp", #{})"#,
                "promotional mail: call invite()",
            ),
            (
                r#"send_email_at("career_relay_invitation", "a@b.jp", #{}, "2026-11-24T00:00:00Z")"#,
                "promotional mail: call invite()",
            ),
            (r#"invite_at("tomorrow")"#, "not an RFC 3339"),
            (
                r#"next_business_morning("2099-12-31T18:00:00+09:00")"#,
                "next_business_morning: 2100-01-01 is outside the holiday calendar (2020–2099)",
            ),
            (r#"kpi("x", event.many)"#, "`value` must be a number"),
        ] {
            let err = run(&format!("\n  {source};")).unwrap_err();
            assert!(err.to_string().contains(expected), "{source}: {err}");
            assert_eq!(
                (err.line(), err.column()),
                (Some(2), Some(3)),
                "{source}: {err}"
            );
        }
    }

    #[test]
    fn time_helpers_work_in_jst() {
        let (_, log) = run(r#"
            log(next_business_morning("2026-11-20T18:00:00+09:00"));
            log(is_business_day("2026-11-23T12:00:00+09:00"));
            log(add_hours("2026-11-20T18:00:00+09:00", 15));
            log(add_days("2026-11-20T18:00:00+09:00", -1));
            log(jst_date("2026-11-25T16:00:00Z"));
            "#)
        .unwrap();
        assert_eq!(
            log,
            [
                "2026-11-24T09:00:00+09:00",
                "false",
                "2026-11-21T09:00:00+09:00",
                "2026-11-19T18:00:00+09:00",
                "2026年11月26日"
            ]
        );
    }
}
