//! Issue 19 item 4, "edits on disk silently overwrite API edits": `HIRELAY_RULES_SOURCE` says
//! which wins (`both` by default, `files`, `api`); an API edit is never undone by another file;
//! `GET …/versions/{n}` reads old versions.
use crate::helpers::TestApp;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

/// Saves a new subject for `template` through the API (keeping its parts); answers the answer.
async fn save_subject(app: &TestApp, template: &str, subject: &str) -> (u16, Value) {
    let current = app.get_json(&format!("/v1/templates/{template}")).await;
    let res = app
        .admin(Method::PUT, &format!("/v1/templates/{template}"))
        .json(&json!({"subject": subject, "html": current["html"], "text": current["text"]}))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// Puts `text` as rule `name` through the API; answers the status and body.
async fn put_rule(app: &TestApp, name: &str, text: &str) -> (u16, Value) {
    let res = app
        .admin(Method::PUT, &format!("/v1/rules/{name}"))
        .header("content-type", "text/plain")
        .body(text.to_owned())
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// Waits (up to 10 s) until `path`'s `version` is `version`.
async fn wait_version(app: &TestApp, path: &str, version: i64) {
    for _ in 0..100 {
        if app.get_json(path).await["version"] == version {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never reached version {version}");
}

/// Rewrites a file with what it holds plus `extra` (`""`: only touched, same content).
fn edit(path: &std::path::Path, extra: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, format!("{text}{extra}")).unwrap();
}

/// Issue 19 (`both`, the default): a marketer's saved subject and an admin's saved script stay
/// when other files change and when their own files are rewritten unchanged; a change to
/// that very file is taken.
#[tokio::test]
async fn touching_an_unrelated_file_never_reverts_an_api_edit() {
    let app = TestApp::spawn().await;
    let (status, saved) = save_subject(&app, "career_relay_invitation", "マーケ担当の件名").await;
    assert_eq!(status, 200, "{saved}");
    let script = "kpi(\"api-edit\");\n";
    assert_eq!(put_rule(&app, "status", script).await.0, 200);

    let invitation = app.templates_dir.join("career_relay_invitation");
    edit(&invitation.join("subject.hbs"), "");
    edit(&invitation.join("html.hbs"), "");
    edit(&app.rules_dir.join("status.rhai"), "");
    edit(
        &app.templates_dir
            .join("group_link_approval")
            .join("text.hbs"),
        "\n",
    );
    edit(&app.rules_dir.join("import.rhai"), "\n// edited on disk\n");
    wait_version(&app, "/v1/templates/group_link_approval", 2).await;
    wait_version(&app, "/v1/rules/import?format=json", 2).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let template = app.get_json("/v1/templates/career_relay_invitation").await;
    assert_eq!(template["subject"], "マーケ担当の件名", "{template}");
    let rule = app.get_json("/v1/rules/status?format=json").await;
    assert_eq!(rule["source"], script, "{rule}");

    edit(&invitation.join("subject.hbs"), "（ファイル）");
    wait_version(&app, "/v1/templates/career_relay_invitation", 3).await;
}

/// Issue 19 (`files`): the API refuses edits with a 409 naming the file to change, and at start
/// the files replace a version saved through the API before.
#[tokio::test]
async fn with_files_as_the_source_the_api_refuses_edits_and_the_files_run() {
    let app = TestApp::spawn().await;
    assert_eq!(put_rule(&app, "status", "kpi(\"api\");\n").await.0, 200);
    let (dir, database_url) = app.stop().await;
    let app = TestApp::spawn_in(dir, database_url, &[("HIRELAY_RULES_SOURCE", "files")]).await;
    let on_disk = std::fs::read_to_string(app.rules_dir.join("status.rhai")).unwrap();
    let rule = app.get_json("/v1/rules/status?format=json").await;
    assert_eq!(rule["source"], on_disk.as_str(), "{rule}");
    assert_eq!(rule["version"], 3, "{rule}");

    let (status, body) = put_rule(&app, "status", "kpi(\"api\");\n").await;
    assert_eq!(status, 409, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("HIRELAY_RULES_SOURCE=files"), "{message}");
    assert!(message.contains("status.rhai"), "{message}");
    let (status, body) = app
        .post_json("/v1/rules/status/rollback", &json!({"version": 1}))
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = save_subject(&app, "career_relay_invitation", "件名").await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("career_relay_invitation"),
        "{body}"
    );
}

/// Issue 19 (`api`): files seed what the database lacks, then edits on disk are ignored and
/// the API edits.
#[tokio::test]
async fn with_the_api_as_the_source_files_only_seed() {
    let app = TestApp::spawn_with(&[("HIRELAY_RULES_SOURCE", "api")]).await;
    let rule = app.get_json("/v1/rules/status?format=json").await;
    assert_eq!(rule["version"], 1, "{rule}");
    edit(&app.rules_dir.join("status.rhai"), "\n// edited on disk\n");
    edit(
        &app.templates_dir
            .join("group_link_approval")
            .join("subject.hbs"),
        "（ファイル）",
    );
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let versions = app.get_json("/v1/rules/status/versions").await;
    assert_eq!(versions["items"].as_array().unwrap().len(), 1, "{versions}");
    let template = app.get_json("/v1/templates/group_link_approval").await;
    assert_eq!(template["version"], 1, "{template}");
    assert_eq!(put_rule(&app, "status", "kpi(\"api\");\n").await.0, 200);
}

/// Issue 19: `GET …/versions/{n}` reads an old version of a rule script and of a template; an
/// unknown version is a 404 naming it and the versions there are, a word a 400 naming the field.
#[tokio::test]
async fn old_versions_can_be_read_and_an_unknown_one_is_named() {
    let app = TestApp::spawn().await;
    let on_disk = std::fs::read_to_string(app.rules_dir.join("status.rhai")).unwrap();
    assert_eq!(put_rule(&app, "status", "kpi(\"v2\");\n").await.0, 200);
    let old = app.get_json("/v1/rules/status/versions/1").await;
    assert_eq!(old["source"], on_disk.as_str(), "{old}");
    assert_eq!(old["origin"], "file");
    assert_eq!(old["active"], false);
    let new = app.get_json("/v1/rules/status/versions/2").await;
    assert_eq!(new["source"], "kpi(\"v2\");\n");
    assert_eq!(new["origin"], "api");
    assert_eq!(new["active"], true);

    let res = app
        .admin(Method::GET, "/v1/rules/status/versions/9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("`status` has no version 9"), "{message}");
    assert!(message.contains("1 to 2"), "{message}");
    let res = app
        .admin(Method::GET, "/v1/rules/status/versions/latest")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["field"], "version", "{body}");

    let original = app.get_json("/v1/templates/career_relay_invitation").await;
    save_subject(&app, "career_relay_invitation", "新しい件名").await;
    let first = app
        .get_json("/v1/templates/career_relay_invitation/versions/1")
        .await;
    assert_eq!(first["subject"], original["subject"], "{first}");
    assert_eq!(first["active"], false);
    let res = app
        .admin(
            Method::GET,
            "/v1/templates/career_relay_invitation/versions/7",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no version 7"),
        "{body}"
    );
}
