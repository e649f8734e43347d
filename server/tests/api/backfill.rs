//! B1–B4: backfilling a linked group's earlier applications, against the simulator.
use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::bizreach_support::*;

fn hours_ago(h: i64) -> String {
    (Utc::now() - Duration::hours(h)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn backfill(b: &Bizreach, group: &str) -> (u16, Value) {
    b.app
        .post_json(&format!("/v1/group-accounts/{group}/backfill"), &json!({}))
        .await
}

fn ids_of(events: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = events
        .iter()
        .map(|e| application_id(e["webhook_id"].as_str().unwrap()))
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn b1_backfill_takes_latest_500_within_a_year() {
    let b = Bizreach::spawn(0).await;
    b.sign_in().await;
    // 580 applications within the year, newest first by index, every fifth one rejected or
    // hired; and 30 more than a year old.
    let mut apps: Vec<Value> = (0..580)
        .map(|i: i64| {
            let status = match i % 10 {
                0 => "rejected",
                5 => "hired",
                _ => "in_progress",
            };
            json!({"id": format!("br-b1-{i:04}"), "applied_at": hours_ago(i + 1), "status": status})
        })
        .collect();
    apps.extend((0..30).map(|i: i64| {
        json!({"id": format!("br-old-{i:04}"), "applied_at": hours_ago(24 * 400 + i), "status": "new"})
    }));
    b.add_applications("grp-001", Value::Array(apps)).await;
    b.link("grp-001").await;

    let (status, report) = backfill(&b, "grp-001").await;
    assert_eq!(status, 200, "{report}");
    // Of the 500 newest, 100 are rejected or hired (B3); the 80 beyond them are not taken (B1);
    // the 30 older than a year are counted as too old.
    assert_eq!(
        report,
        json!({"imported": 400, "skipped": {"too_old": 30, "beyond_latest_500": 80,
            "status_excluded": 100, "already_imported": 0}})
    );
    let ids = ids_of(&b.events("backfill:").await);
    assert_eq!(ids.len(), 400);
    assert!(ids.contains(&"br-b1-0001".to_owned()));
    assert!(
        ids.contains(&"br-b1-0499".to_owned()),
        "the 500th newest is taken"
    );
    assert!(
        !ids.contains(&"br-b1-0501".to_owned()),
        "the 501st newest is not"
    );
    assert!(!ids.contains(&"br-b1-0000".to_owned()), "rejected");
    assert!(
        !ids.iter().any(|id| id.starts_with("br-old-")),
        "older than a year"
    );
}

#[tokio::test]
async fn b1_backfill_twice_imports_nothing_twice() {
    let b = Bizreach::spawn(0).await;
    b.sign_in().await;
    let apps: Vec<Value> = (0..5)
        .map(|i: i64| json!({"applied_at": hours_ago(48 + i), "status": "new"}))
        .collect();
    b.add_applications("grp-001", Value::Array(apps)).await;
    b.link("grp-001").await;
    // One made after the link, imported by the poller.
    b.add_applications("grp-001", json!([{"status": "new"}]))
        .await;
    let (_, report) = b.poll().await;
    assert_eq!(report["new_events"], 1, "{report}");

    let (_, first) = backfill(&b, "grp-001").await;
    assert_eq!(first["imported"], 5, "{first}");
    assert_eq!(first["skipped"]["already_imported"], 1, "{first}");
    let (_, second) = backfill(&b, "grp-001").await;
    assert_eq!(second["imported"], 0, "{second}");
    assert_eq!(second["skipped"]["already_imported"], 6, "{second}");
    assert_eq!(b.events("backfill:").await.len(), 5);
}

#[tokio::test]
async fn b2_backfill_only_for_linked_groups() {
    let b = Bizreach::spawn(3).await;
    b.sign_in().await;
    let (status, body) = backfill(&b, "grp-001").await;
    assert_eq!(status, 409, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("unlinked") && message.contains("B2"),
        "{message}"
    );
    b.link("grp-001").await;
    b.app
        .post_json("/v1/group-accounts/grp-001/suspend", &json!({}))
        .await;
    let (status, body) = backfill(&b, "grp-001").await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("suspended"));
    let (status, _) = backfill(&b, "grp-404").await;
    assert_eq!(status, 404);
    assert!(b.events("backfill:").await.is_empty());
}

#[tokio::test]
async fn b3_backfill_skips_rejected_declined_and_hired() {
    let b = Bizreach::spawn(0).await;
    b.sign_in().await;
    let apps: Vec<Value> = ["new", "in_progress", "rejected", "declined", "hired"]
        .iter()
        .enumerate()
        .map(|(i, s)| json!({"id": format!("br-b3-{s}"), "applied_at": hours_ago(10 + i as i64), "status": s}))
        .collect();
    b.add_applications("grp-001", Value::Array(apps)).await;
    b.link("grp-001").await;
    let (status, report) = backfill(&b, "grp-001").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["imported"], 2);
    assert_eq!(report["skipped"]["status_excluded"], 3);
    assert_eq!(
        ids_of(&b.events("backfill:").await),
        ["br-b3-in_progress", "br-b3-new"]
    );
}

#[tokio::test]
async fn b4_backfill_refused_while_progress_sync_is_on() {
    let b = Bizreach::spawn(3).await;
    b.sign_in().await;
    // Progress sync can be switched on only for a linked group.
    let res = b
        .app
        .admin(
            reqwest::Method::PUT,
            "/v1/group-accounts/grp-001/progress-sync",
        )
        .json(&json!({"enabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    b.link("grp-001").await;
    let res = b
        .app
        .admin(
            reqwest::Method::PUT,
            "/v1/group-accounts/grp-001/progress-sync",
        )
        .json(&json!({"enabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(b.group("grp-001").await["progress_sync"], true);
    let (status, body) = backfill(&b, "grp-001").await;
    assert_eq!(status, 409, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("進捗連携"), "{message}");
    assert!(message.contains("progress sync is on"), "{message}");
    assert!(b.events("backfill:").await.is_empty());
    // Switched off, the backfill runs.
    b.app
        .admin(
            reqwest::Method::PUT,
            "/v1/group-accounts/grp-001/progress-sync",
        )
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    let (status, body) = backfill(&b, "grp-001").await;
    assert_eq!(status, 200, "{body}");
}

/// Issue 18 (low): an application whose candidate address is invalid is skipped, and the
/// warning about it shows the address's domain only, never the rest of what BizReach sent.
#[tokio::test]
async fn a_malformed_address_is_logged_redacted() {
    let logs = crate::helpers::log_capture();
    let b = Bizreach::spawn(0).await;
    b.sign_in().await;
    b.add_applications(
        "grp-001",
        json!([{"id": "br-bad-mail", "applied_at": hours_ago(2), "status": "new",
            "candidate": {"email": "hanako.m18secret@@example.jp"}}]),
    )
    .await;
    b.link("grp-001").await;
    let (status, report) = backfill(&b, "grp-001").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["imported"], 0, "{report}");
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(!text.contains("m18secret"), "the raw address was logged");
    assert!(
        text.lines().any(
            |l| l.contains("backfill: an application BizReach listed is malformed")
                && l.contains("`***@example.jp` is not an email address")
        ),
        "the skipped application is not warned about by its domain"
    );
}
