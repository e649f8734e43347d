//! The scripts shipped in `rules/` reproduce the product's rules (tests only).
use serde_json::{json, Value};

use super::action::Action;
use super::calendar;
use super::engine::tests::run_with;
use super::engine::ScriptInput;

fn shipped(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../rules")
        .join(format!("{name}.rhai"));
    std::fs::read_to_string(path).unwrap()
}

fn input(event_type: &str, event: Value, context: Value, now: &str) -> ScriptInput {
    ScriptInput {
        event_type: event_type.into(),
        event,
        application: None,
        candidate: None,
        context,
        now: calendar::parse(now).unwrap(),
    }
}

fn rejection(stage: &str) -> Value {
    json!({"type": "application.status_changed", "to_status": "rejected", "stage": stage, "reason": "スキルミスマッチ"})
}

fn status_actions(event: Value, context: Value) -> Vec<Action> {
    let friday_evening = "2026-11-20T18:00:00+09:00";
    let i = input("application.status_changed", event, context, friday_evening);
    run_with(&shipped("status"), &i).unwrap().0
}

#[test]
fn the_shipped_rules_directory_checks_clean() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
    assert_eq!(super::check_dir(&dir), Vec::<String>::new());
}

#[test]
fn c2_a_rejection_is_invited_the_next_business_morning() {
    let actions = status_actions(rejection("一次面接"), json!({"status_applied": true}));
    assert_eq!(
        actions,
        [
            Action::Kpi {
                name: "rejected".into(),
                value: 1.0,
                tags: json!({"stage": "一次面接", "reason": "スキルミスマッチ"})
                    .as_object()
                    .unwrap()
                    .clone(),
            },
            // Mon 23 Nov 2026 is 勤労感謝の日.
            Action::Invite {
                send_at: Some("2026-11-24T09:00:00+09:00".into())
            },
        ]
    );
}

#[test]
fn c8_opted_out_already_invited_and_excluded_stages_get_no_invitation() {
    for (event, context) in [
        (
            rejection("一次面接"),
            json!({"status_applied": true, "opted_out": true}),
        ),
        (
            rejection("一次面接"),
            json!({"status_applied": true, "already_invited": true}),
        ),
        (rejection("内定"), json!({"status_applied": true})),
    ] {
        let actions = status_actions(event.clone(), context.clone());
        assert!(
            !actions.iter().any(|a| matches!(a, Action::Invite { .. })),
            "{event} {context}: {actions:?}"
        );
        assert_eq!(actions.len(), 1, "the rejection KPI is still recorded");
    }
}

#[test]
fn status_changes_not_applied_or_not_rejections_do_nothing() {
    assert!(status_actions(rejection("一次面接"), json!({"status_applied": false})).is_empty());
    let offer =
        json!({"type": "application.status_changed", "to_status": "offer", "stage": "最終面接"});
    assert!(status_actions(offer, json!({"status_applied": true})).is_empty());
}

#[test]
fn i5_subscribers_are_notified_and_the_import_is_counted() {
    let event = json!({"type": "application.received", "group_account_id": "grp-001", "application": {
        "id": "br-app-1", "channel": "direct", "position_name": "PM", "applied_at": "2026-11-20T10:15:00+09:00",
        "status": "new", "candidate": {"id": "c", "name": "山田 太郎", "email": "t@example.jp"}}});
    let i = input(
        "application.received",
        event,
        json!({"routing_job_id": null, "notify_subscribers": 2}),
        "2026-11-20T10:20:00+09:00",
    );
    let (actions, _) = run_with(&shipped("import"), &i).unwrap();
    assert!(actions.contains(&Action::Label {
        label: "ビズリーチ:直接応募".into()
    }));
    assert!(!actions.iter().any(|a| matches!(a, Action::Route { .. })));
    assert!(actions.iter().any(
        |a| matches!(a, Action::Notify { kind, data } if kind == "bizreach_application" && data["application_id"] == "br-app-1")
    ));
    assert!(actions
        .iter()
        .any(|a| matches!(a, Action::Kpi { name, tags, .. } if name == "bizreach_imported" && tags["channel"] == "direct")));
}

#[test]
fn career_relay_events_become_kpis() {
    let registered = input(
        "registration.completed",
        json!({"type": "registration.completed", "invitation_token": "t", "attributes": {"prefecture": "東京都"}}),
        json!({}),
        "2026-11-23T09:30:00+09:00",
    );
    let (actions, _) = run_with(&shipped("career_relay"), &registered).unwrap();
    assert!(
        matches!(&actions[..], [Action::Kpi { name, tags, .. }] if name == "registered" && tags["prefecture"] == "東京都")
    );
    let hired = input(
        "referral.updated",
        json!({"type": "referral.updated", "referral_id": "cr-ref-9", "outcome": "hired"}),
        json!({}),
        "2026-12-01T09:00:00+09:00",
    );
    let (actions, _) = run_with(&shipped("career_relay"), &hired).unwrap();
    assert!(matches!(&actions[..], [Action::Kpi { name, .. }] if name == "hired"));
}

/// The code of every table row of `rules/README.md` that has an `example` column: the first
/// code span of that cell, `…` (left for the reader to fill in) dropped.
fn readme_examples() -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let mut examples = Vec::new();
    let mut column = None;
    for line in readme.lines() {
        if !line.starts_with('|') {
            column = None;
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        match column {
            None => column = cells.iter().position(|c| *c == "example"),
            Some(_) if line.starts_with("|---") => {}
            Some(at) => {
                let code = cells[at].split('`').nth(1).unwrap_or_else(|| {
                    panic!("an example without code: {line}");
                });
                examples.push(code.replace('…', ""));
            }
        }
    }
    examples
}

#[test]
fn issue19_every_example_in_the_rules_readme_passes_the_check() {
    let examples = readme_examples();
    assert!(examples.len() >= 25, "{examples:?}");
    let engine = super::engine::ScriptEngine::new();
    for example in &examples {
        if let Err(e) = engine.compile("README.rhai", example) {
            panic!("rules/README.md: `{example}`: {e}");
        }
    }
    assert!(examples.iter().any(|e| e.starts_with("invite_at(")));
}
