//! Issue 16 (APPI, C8): one person seeded everywhere hirelay keeps personal data, then erased
//! (every table, the SQLite file and its WAL, every file under the data directory: none of
//! their values left; every total unchanged; the opted-out address never invited again),
//! exported, and kept from viewers.
use reqwest::Method;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::{json, Value};

use crate::ats::{one_click_opt_out, relay_token, tracking_token};
use crate::bizreach_support::Bizreach;
use crate::helpers::{sample, TestApp};

/// The seeded person's values, as the BizReach sample (with a name and company of their own:
/// the sample's are also the templates' sample data and the simulator's company) and the
/// registration below give them.
/// The seeded person's address: their own, not the samples' (other tests in this binary use
/// that one, and the log check reads every test's log lines).
const PERSON_EMAIL: &str = "Urushihara.Miraiko@Example.jp";

const PERSON_PHONE: &str = "080-9876-5432";
const PERSON_CANDIDATE_ID: &str = "br-cand-issue16-person";
const PERSON_APPLICATION_ID: &str = "br-app-issue16-person";

const VALUES: [&str; 9] = [
    "urushihara.miraiko@example.jp",
    "漆原 未来子",
    "漆原未来子",
    PERSON_PHONE,
    PERSON_CANDIDATE_ID,
    "漆原ロボティクス合同会社",
    PERSON_APPLICATION_ID,
    "札幌市テスト区",
    "ロボット研究者",
];

/// `status.rhai` inviting at once, logging the person's name and address, and recording a KPI
/// tagged with their company.
const STATUS_SCRIPT: &str = r#"
if event.to_status == "rejected" && ctx.status_applied == true {
    kpi("rejected", 1.0, #{ stage: event.stage, reason: event.reason, company: candidate.attributes.current_company });
    log("不合格: " + candidate.name + " <" + candidate.email + ">");
    invite();
}
"#;

/// What the funnel, the ledger and the CSV export say (the totals erasure must keep).
async fn totals(app: &TestApp) -> Vec<Value> {
    let mut seen = Vec::new();
    for group in ["month", "stage", "reason"] {
        seen.push(
            app.get_json(&format!(
                "/v1/kpis/funnel?from=2026-11-01&to=2026-12-31&group_by={group}"
            ))
            .await,
        );
    }
    seen.push(app.get_json("/v1/career-relay/ledger").await);
    let csv = app
        .admin(
            Method::GET,
            "/v1/kpis/export.csv?from=2026-11-01&to=2026-12-31",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    seen.push(Value::String(csv.text().await.unwrap()));
    seen
}

/// Every row of every table as text, `table: row` (SQLite or PostgreSQL).
async fn every_row(app: &TestApp) -> Vec<String> {
    let db = &app.state.store.db;
    let backend = db.get_database_backend();
    let tables_sql = match backend {
        DatabaseBackend::Postgres => {
            "SELECT table_name AS name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table'",
    };
    let tables: Vec<String> = db
        .query_all(Statement::from_string(backend, tables_sql))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "name").unwrap())
        .collect();
    let mut rows = Vec::new();
    for table in tables {
        let sql = match backend {
            DatabaseBackend::Postgres => {
                format!("SELECT CAST(t AS TEXT) AS row FROM \"{table}\" t")
            }
            _ => {
                let columns: Vec<String> = db
                    .query_all(Statement::from_string(
                        backend,
                        format!("SELECT name FROM pragma_table_info('{table}')"),
                    ))
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| {
                        let c: String = r.try_get("", "name").unwrap();
                        format!("COALESCE(CAST(\"{c}\" AS TEXT), '')")
                    })
                    .collect();
                format!(
                    "SELECT {} AS row FROM \"{table}\"",
                    columns.join(" || '|' || ")
                )
            }
        };
        for r in db
            .query_all(Statement::from_string(backend, sql))
            .await
            .unwrap()
        {
            let row: String = r.try_get("", "row").unwrap_or_default();
            rows.push(format!("{table}: {row}"));
        }
    }
    rows
}

/// Every file under `dir` (the database, its WAL, mail files, the key file …), lowercased.
fn every_file(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                found.push((
                    path.display().to_string(),
                    String::from_utf8_lossy(&bytes).to_lowercase(),
                ));
            }
        }
    }
    found
}

/// Where each value is still found: rows, then files.
async fn leftovers(app: &TestApp) -> Vec<String> {
    let mut left = Vec::new();
    let rows = every_row(app).await;
    let files = every_file(app.dir.path());
    for value in VALUES {
        let lowered = value.to_lowercase();
        for row in &rows {
            if row.to_lowercase().contains(&lowered) {
                left.push(format!("`{value}` in {row}"));
            }
        }
        for (path, text) in &files {
            if text.contains(&lowered) {
                left.push(format!("`{value}` in file {path}"));
            }
        }
    }
    left
}

/// Seeds the person through every path: BizReach import (with a subscriber's notice), ATS
/// rejection under a script that logs them, invitation sent and clicked, registration,
/// one-click opt-out. Answers (application id, candidate id).
async fn seed(b: &Bizreach) -> (String, String) {
    let app = &b.app;
    b.sign_in().await;
    b.link("grp-001").await;
    let res = app
        .admin(Method::PUT, "/v1/notifications/subscriptions")
        .json(&json!({"bizreach_application": true, "email": "hr.lead@example.jp"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    app.activate_rule("status", STATUS_SCRIPT).await;
    let mails_before = app.smtp.mails().len();
    let imported = crate::imports::import(
        app,
        "issue16-import",
        &sample("bizreach-direct-application.json")
            .replace("山田 太郎", "漆原 未来子")
            .replace("Taro.Yamada@Example.jp", PERSON_EMAIL)
            .replace("090-1234-5678", PERSON_PHONE)
            .replace("br-cand-0456", PERSON_CANDIDATE_ID)
            .replace("br-app-000123", PERSON_APPLICATION_ID)
            .replace("\"株式会社サンプル\"", "\"漆原ロボティクス合同会社\""),
    )
    .await;
    assert_eq!(imported["status"], "done", "{imported}");
    let rejected = app
        .deliver(
            "ats",
            "issue16-reject",
            &sample("ats-status-rejected.json").replace("br-app-000123", PERSON_APPLICATION_ID),
        )
        .await;
    assert_eq!(rejected["status"], "done", "{rejected}");
    let mails = app.smtp.wait_for(mails_before + 2).await;
    let invitation = mails
        .iter()
        .find(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(PERSON_EMAIL)))
        .unwrap_or_else(|| panic!("an invitation to the person"))
        .clone();
    let clicked = app
        .client
        .get(app.url(&format!("/r/{}", tracking_token(&invitation))))
        .send()
        .await
        .unwrap();
    assert_eq!(clicked.status(), 302);
    let registration = json!({
        "type": "registration.completed",
        "invitation_token": relay_token(&invitation),
        "registered_at": "2026-11-23T09:30:00+09:00",
        "attributes": {"prefecture": "北海道札幌市テスト区", "desired_role": "ロボット研究者"},
    });
    let registered = app
        .deliver(
            "career-relay",
            "issue16-register",
            &registration.to_string(),
        )
        .await;
    assert_eq!(registered["status"], "done", "{registered}");
    let unsubscribe = invitation.header("List-Unsubscribe").unwrap();
    assert_eq!(one_click_opt_out(app, &unsubscribe).await, 200);
    let found = app
        .get_json("/v1/applications?source_application_id=br-app-issue16-person")
        .await;
    let application = &found["items"][0];
    (
        application["id"].as_str().unwrap().to_owned(),
        application["candidate"]["id"].as_str().unwrap().to_owned(),
    )
}

/// Issue 16, C8: erasure reaches every copy (every table, the SQLite file and its WAL, every
/// file under the data directory), keeps the funnel, the ledger and the CSV export as they
/// were, is audited without the values, and the opted-out address is never invited again: a
/// later rejection of it is a new person, not invited.
#[tokio::test]
async fn issue16_c8_erasure_leaves_no_value_anywhere_and_every_total_unchanged() {
    let b = Bizreach::spawn(0).await;
    let (application_id, candidate_id) = seed(&b).await;
    let app = &b.app;
    assert!(
        !leftovers(app).await.is_empty(),
        "the seeded values are found before the erasure (the search can fail)"
    );
    let before = totals(app).await;
    assert_eq!(before[3]["registered"], 1, "{}", before[3]);

    let erased = app.erase_candidate(&candidate_id).await;
    assert_eq!(erased["already_erased"], false, "{erased}");
    assert!(erased["events"].as_u64().unwrap() >= 3, "{erased}");
    assert!(erased["mails"].as_u64().unwrap() >= 2, "{erased}");

    let left = leftovers(app).await;
    assert!(
        left.is_empty(),
        "values left after the erasure:\n{}",
        left.join("\n")
    );
    assert_eq!(totals(app).await, before, "every total is unchanged");

    // BizReach is told nothing new: progress sync has no erased application to push (the
    // imported application was rejected in the ATS, so it would push `rejected` otherwise).
    crate::progress_sync::switch_sync(&b, true).await;
    let synced = crate::progress_sync::run_sync(app).await;
    assert_eq!(synced["pushed"], 0, "{synced}");

    // The tombstone: the application is still counted, its candidate has no values.
    let tomb = app
        .get_json(&format!("/v1/applications/{application_id}"))
        .await;
    assert_eq!(tomb["candidate"]["name"], "", "{tomb}");
    assert_eq!(tomb["status"], "rejected");
    // Audited: who, when, which id, without the values.
    let log = app
        .get_json(&format!("/v1/audit-log?candidate={candidate_id}"))
        .await;
    let entry = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "candidate.erase")
        .unwrap_or_else(|| panic!("{log}"))
        .clone();
    assert!(
        entry["actor"].as_str().unwrap().contains("tok_bootstrap"),
        "{entry}"
    );
    assert_eq!(entry["target"], candidate_id.as_str());
    // Again: nothing left to do.
    let again = app.erase_candidate(&candidate_id).await;
    assert_eq!(again["already_erased"], true, "{again}");

    // The same address again: a new person, never invited (their opt-out survived).
    let mails = app.smtp.mails().len();
    let body = crate::ats::change(
        "ats-issue16-again",
        " URUSHIHARA.miraiko@example.jp ",
        "rejected",
        "2026-11-25T18:00:00+09:00",
    );
    let event = app.deliver("ats", "issue16-again", &body).await;
    assert_eq!(event["status"], "done", "{event}");
    let again = app
        .get_json("/v1/applications?ats_application_id=ats-issue16-again")
        .await;
    assert_ne!(again["items"][0]["candidate"]["id"], candidate_id.as_str());
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        app.smtp.mails().len(),
        mails,
        "the opted-out address is not invited"
    );

    // Least exposure: no log line of the whole run (every level) holds a value.
    let logs =
        String::from_utf8_lossy(&crate::helpers::log_capture().lock().unwrap()).to_lowercase();
    for value in VALUES {
        assert!(!logs.contains(&value.to_lowercase()), "`{value}` logged");
    }
}

/// Issue 16: the export holds everything on one person, each part saying where it came
/// from, and is audited; erasing by address (in any case) reaches the same person.
#[tokio::test]
async fn issue16_the_export_shows_everything_held_with_its_source_and_erasure_by_address() {
    let b = Bizreach::spawn(0).await;
    let (_, candidate_id) = seed(&b).await;
    let app = &b.app;
    let export = app
        .get_json(&format!("/v1/candidates/{candidate_id}/export"))
        .await;
    let parts = &export["parts"];
    assert_eq!(
        parts["candidate"]["items"][0]["record"]["email"],
        "urushihara.miraiko@example.jp"
    );
    for (part, at_least) in [
        ("applications", 1),
        ("status_history", 1),
        ("invitations", 1),
        ("events", 3),
        ("decisions", 3),
        ("mails", 2),
        ("kpi_records", 1),
        ("opt_outs", 1),
    ] {
        assert!(
            parts[part]["source"]
                .as_str()
                .is_some_and(|s| !s.is_empty()),
            "{part} says where it came from"
        );
        let n = parts[part]["items"].as_array().unwrap().len();
        assert!(n >= at_least, "{part}: {n} items: {export}");
    }
    let text = export.to_string();
    assert!(
        text.contains("ロボット研究者"),
        "the registration's attributes"
    );
    assert!(text.contains("不合格: 漆原 未来子"), "the script's log");

    let res = app
        .admin(
            Method::DELETE,
            "/v1/candidates?email=URUSHIHARA.Miraiko%40example.jp",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let erased: Value = res.json().await.unwrap();
    assert_eq!(erased["candidate_id"], candidate_id.as_str());
    let res = app
        .admin(Method::DELETE, "/v1/candidates?email=nobody%40example.jp")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = app
        .admin(Method::DELETE, "/v1/candidates?email=not-an-address")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let after = app
        .get_json(&format!("/v1/candidates/{candidate_id}/export"))
        .await;
    assert!(after["erased_at"].is_string(), "{after}");
    assert!(!after.to_string().contains("漆原"), "{after}");
    let actions: Vec<String> = app
        .get_json(&format!("/v1/audit-log?candidate={candidate_id}"))
        .await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    for action in ["candidate.read", "candidate.export", "candidate.erase"] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
}

/// Issue 16, least exposure: a viewer reads applications with the candidate as a pseudonymous
/// id only; an admin sees the person, and that read is in the access log.
#[tokio::test]
async fn issue16_a_viewer_sees_pseudonymous_ids_never_names_or_addresses() {
    use hirelay::domain::role::Role;
    let b = Bizreach::spawn(0).await;
    let (application_id, candidate_id) = seed(&b).await;
    let app = &b.app;
    let viewer = app.token(Role::Viewer).await;
    for path in [
        format!("/v1/applications/{application_id}"),
        "/v1/applications?source_application_id=br-app-issue16-person".to_owned(),
    ] {
        let res = app
            .as_token(&viewer, Method::GET, &path)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let text = res.text().await.unwrap();
        assert!(text.contains(&candidate_id), "the pseudonymous id: {text}");
        for value in [
            "漆原",
            "urushihara.miraiko",
            "Urushihara.Miraiko",
            PERSON_PHONE,
            "ロボティクス",
        ] {
            assert!(!text.contains(value), "{value} shown to a viewer: {text}");
        }
    }
    let log = app
        .get_json(&format!("/v1/audit-log?candidate={candidate_id}"))
        .await;
    let reads = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "candidate.read")
        .count();
    assert!(reads >= 1, "the admin's read in seed() is logged: {log}");
}

/// Issue 16: retention over aged data. The dry run says what would go and changes nothing; the
/// run purges the old event's payload, script log and audit entries, erases the candidate with
/// no activity in their window (totals kept), and leaves fresh data alone; a replay and a dry
/// run over history say the payload was purged.
#[tokio::test]
async fn issue16_retention_dry_run_and_run_over_aged_data() {
    let app = TestApp::spawn().await;
    crate::ats::invite_at_once(&app).await;
    let old_body = crate::ats::change(
        "ats-ret-old",
        "old@example.jp",
        "rejected",
        "2024-11-21T18:00:00+09:00",
    );
    let old = app.deliver("ats", "ret-old", &old_body).await;
    assert_eq!(old["status"], "done", "{old}");
    app.smtp.wait_for(1).await;
    let old_id = old["id"].as_str().unwrap().to_owned();
    let db = &app.state.store.db;
    // The sender marks the mail sent (blanking its body) after the SMTP server took it.
    for _ in 0..200 {
        let sent = app.get_json("/v1/outbox?status=sent").await;
        if sent["items"].as_array().is_some_and(|i| !i.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    // Two years and more ago: the event, its decision, its mail, the candidate, the audit log.
    const DAYS_800: i64 = 800 * 86_400_000;
    const DAYS_2000: i64 = 2000 * 86_400_000;
    for sql in [
        format!("UPDATE events SET received_at = received_at - {DAYS_800}"),
        format!("UPDATE decisions SET decided_at = decided_at - {DAYS_800}"),
        format!("UPDATE mail_outbox SET created_at = created_at - {DAYS_800}, html = 'old body'"),
        format!("UPDATE candidates SET updated_at = updated_at - {DAYS_2000}"),
        format!("UPDATE applications SET updated_at = updated_at - {DAYS_2000}"),
        format!("UPDATE invitations SET created_at = created_at - {DAYS_2000}"),
        format!("UPDATE audit_log SET at = at - {DAYS_2000}"),
    ] {
        db.execute_unprepared(&sql).await.unwrap();
    }
    let fresh_body = crate::ats::change(
        "ats-ret-new",
        "new@example.jp",
        "interview",
        "2026-11-30T18:00:00+09:00",
    );
    let fresh = app.deliver("ats", "ret-new", &fresh_body).await;
    assert_eq!(fresh["status"], "done", "{fresh}");
    let before = totals(&app).await;

    let (status, dry) = app
        .post_json("/v1/scheduler/retention/run?dry_run=true", &json!({}))
        .await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["candidates"], 1, "{dry}");
    for what in ["payloads", "script_logs", "mail_bodies", "audit_entries"] {
        assert!(dry[what].as_u64().unwrap() >= 1, "{what}: {dry}");
    }
    let untouched = app.get_json(&format!("/v1/events/{old_id}")).await;
    assert_eq!(
        untouched["payload"]["ats_application_id"], "ats-ret-old",
        "a dry run changes nothing"
    );
    let (status, wrong) = app
        .post_json("/v1/scheduler/progress-sync/run?dry_run=true", &json!({}))
        .await;
    assert_eq!(status, 400, "{wrong}");

    let (status, run) = app
        .post_json("/v1/scheduler/retention/run", &json!({}))
        .await;
    assert_eq!(status, 200, "{run}");
    for what in [
        "payloads",
        "script_logs",
        "candidates",
        "mail_bodies",
        "audit_entries",
    ] {
        assert_eq!(
            run[what], dry[what],
            "{what}: the run did what the dry run said: {run}"
        );
    }
    let purged = app.get_json(&format!("/v1/events/{old_id}")).await;
    assert_eq!(purged["payload"]["purged"]["by"], "retention", "{purged}");
    assert_eq!(purged["decision"]["log"], json!([]), "{purged}");
    assert!(!purged.to_string().contains("old@example.jp"), "{purged}");
    // The candidate with no activity in their window is erased; the fresh one stays.
    let fresh_app = app
        .get_json("/v1/applications?ats_application_id=ats-ret-new")
        .await;
    assert_eq!(
        fresh_app["items"][0]["candidate"]["email"],
        "new@example.jp"
    );
    let gone = app
        .get_json("/v1/applications?ats_application_id=ats-ret-old")
        .await;
    assert!(gone["items"].as_array().unwrap().is_empty(), "{gone}");
    assert_eq!(totals(&app).await, before, "every total is unchanged");

    // A replay and a dry run over history say the payload was purged.
    let res = app
        .admin(Method::POST, &format!("/v1/events/{old_id}/replay"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    let refused: Value = res.json().await.unwrap();
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("purged by retention"),
        "{refused}"
    );
    let (status, history) = app
        .post_json(
            "/v1/rules/status/dry-run",
            &json!({"script": "invite();", "events": {"since": "2020-01-01T00:00:00Z"}}),
        )
        .await;
    assert_eq!(status, 200, "{history}");
    let old_result = history["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["event_id"] == old_id.as_str())
        .unwrap_or_else(|| panic!("{history}"))
        .clone();
    assert!(
        old_result["draft"]["not_run"]
            .as_str()
            .unwrap()
            .contains("purged by retention"),
        "{old_result}"
    );
    let (_, again) = app
        .post_json("/v1/scheduler/retention/run?dry_run=true", &json!({}))
        .await;
    for what in ["payloads", "script_logs", "candidates", "mail_bodies"] {
        assert_eq!(again[what], 0, "{what}: nothing left: {again}");
    }
}

/// Issue 16: m0017 adds `candidates.erased_at`, `audit_log.candidate_id` and the indexes an
/// erasure looks rows up by, on both databases; it goes down (a candidate kept) and up again.
#[tokio::test]
async fn issue16_m0017_goes_down_and_up_keeping_candidates() {
    use migrations::{Migrator, MigratorTrait};
    let dir = tempfile::tempdir().unwrap();
    let url = crate::helpers::fresh_database(dir.path()).await;
    let store = hirelay::store::Store::connect(&url, 2, 1).await.unwrap();
    store.migrate().await.unwrap();
    let db = &store.db;
    db.execute_unprepared(
        "INSERT INTO candidates (id, email, name, attributes, created_at, updated_at, erased_at) \
         VALUES ('cand_m17', 'erased:cand_m17', '', '{}', 0, 0, 1)",
    )
    .await
    .unwrap();
    crate::helpers::migrate_down_through(db, "m0017_candidate_erasure").await;
    assert!(db
        .execute_unprepared("SELECT erased_at FROM candidates")
        .await
        .is_err());
    assert!(db
        .execute_unprepared("SELECT candidate_id FROM audit_log")
        .await
        .is_err());
    Migrator::up(db, None).await.unwrap();
    let kept = db
        .query_one(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM candidates WHERE id = 'cand_m17' AND erased_at IS NULL",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.try_get::<i64>("", "n").unwrap(), 1);
}

/// `.eml` files under the data directory's outbox.
fn mail_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Issue 16: without an SMTP server mail is written as `.eml` files under the data directory;
/// an erasure removes the person's, and not those of someone whose address ends like theirs.
#[tokio::test]
async fn issue16_erasure_removes_the_persons_mail_files_and_no_one_elses() {
    let app = TestApp::spawn_with(&[("HIRELAY_SMTP_URL", "")]).await;
    crate::ats::invite_at_once(&app).await;
    let mut events = Vec::new();
    for (hook, ats, email) in [
        ("files-1", "ats-files-1", "b863@example.jp"),
        ("files-2", "ats-files-2", "b1863@example.jp"),
    ] {
        let body = crate::ats::change(ats, email, "rejected", "2026-11-21T18:00:00+09:00");
        let event = app.deliver("ats", hook, &body).await;
        assert_eq!(event["status"], "done", "{event}");
        events.push(event["id"].as_str().unwrap().to_owned());
    }
    let outbox = app.dir.path().join("data").join("outbox");
    for _ in 0..400 {
        if mail_files(&outbox).len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(mail_files(&outbox).len(), 2, "both invitations written");
    let found = app
        .get_json("/v1/applications?ats_application_id=ats-files-1")
        .await;
    let candidate = found["items"][0]["candidate"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let erased = app.erase_candidate(&candidate).await;
    assert_eq!(erased["files"], 1, "{erased}");
    let left = mail_files(&outbox);
    assert_eq!(left.len(), 1);
    assert!(
        left[0].contains("b1863@example.jp"),
        "the other person's mail stays"
    );
    let other = app
        .get_json("/v1/applications?ats_application_id=ats-files-2")
        .await;
    assert_eq!(
        other["items"][0]["candidate"]["email"], "b1863@example.jp",
        "an address ending like the erased one is another person"
    );
    let kept = app.get_json(&format!("/v1/events/{}", events[1])).await;
    assert_eq!(
        kept["payload"]["candidate"]["email"], "b1863@example.jp",
        "{kept}"
    );
    let purged = app.get_json(&format!("/v1/events/{}", events[0])).await;
    assert_eq!(purged["payload"]["purged"]["by"], "erasure", "{purged}");
}

/// The `candidate.read` entries of one candidate's audit log, as `(via, target)`.
async fn reads_of(app: &TestApp, candidate_id: &str) -> Vec<(String, String)> {
    let log = app
        .get_json(&format!("/v1/audit-log?candidate={candidate_id}"))
        .await;
    log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "candidate.read")
        .map(|e| {
            (
                e["detail"]["via"].as_str().unwrap_or_default().to_owned(),
                e["target"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Issue 16, access audit: an admin's reads of a person's data through the import inbox and
/// through a stored event's payload are audited as `candidate.read`, each naming what was
/// read, and `GET /v1/audit-log?candidate=` lists them.
#[tokio::test]
async fn issue16_reads_through_the_import_inbox_and_an_events_payload_are_audited() {
    let b = Bizreach::spawn(0).await;
    b.sign_in().await;
    b.link("grp-001").await;
    let app = &b.app;
    let imported = crate::imports::import(
        app,
        "issue16-audit-import",
        &sample("bizreach-direct-application.json")
            .replace("Taro.Yamada@Example.jp", "Audit.Reader@Example.jp")
            .replace("br-app-000123", "br-app-issue16-audit"),
    )
    .await;
    assert_eq!(imported["status"], "done", "{imported}");
    let event_id = imported["id"].as_str().unwrap().to_owned();
    let application = crate::imports::application(app, "br-app-issue16-audit").await;
    let (application_id, candidate_id) = (
        application["id"].as_str().unwrap().to_owned(),
        application["candidate"]["id"].as_str().unwrap().to_owned(),
    );
    let before = reads_of(app, &candidate_id).await;
    assert!(
        !before.iter().any(|(via, _)| via == "GET /v1/imports"),
        "{before:?}"
    );

    let inbox = app.get_json("/v1/imports").await;
    assert!(
        inbox.to_string().contains("audit.reader@example.jp"),
        "the inbox shows the address: {inbox}"
    );
    let event = app.get_json(&format!("/v1/events/{event_id}")).await;
    assert!(
        event["payload"].to_string().contains("Audit.Reader"),
        "{event}"
    );

    let reads = reads_of(app, &candidate_id).await;
    assert!(
        reads.contains(&("GET /v1/imports".to_owned(), application_id.clone())),
        "the inbox read: {reads:?}"
    );
    assert!(
        reads.contains(&("GET /v1/events/{id}".to_owned(), event_id.clone())),
        "the payload read: {reads:?}"
    );
}

/// Issue 16, least exposure: a mixed run with the samples' address (import, inbox, routing,
/// ATS rejection, invitation mail, opt-out, export, events, erasure by address) logs it by
/// domain only: no line of the whole capture (every level, every crate) holds it in full.
#[tokio::test]
async fn issue16_c8_no_log_line_holds_an_address_in_full() {
    const ADDRESS: &str = "taro.yamada@example.jp";
    let b = Bizreach::spawn(0).await;
    b.sign_in().await;
    b.link("grp-001").await;
    let app = &b.app;
    app.activate_rule("status", STATUS_SCRIPT).await;
    let imported = crate::imports::import(
        app,
        "issue16-logs-import",
        &sample("bizreach-direct-application.json"),
    )
    .await;
    assert_eq!(imported["status"], "done", "{imported}");
    let inbox = app.get_json("/v1/imports").await;
    let application_id = inbox["items"][0]["id"].as_str().unwrap().to_owned();
    let candidate_id = inbox["items"][0]["candidate"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mails_before = app.smtp.mails().len();
    let rejected = app
        .deliver(
            "ats",
            "issue16-logs-reject",
            &sample("ats-status-rejected.json"),
        )
        .await;
    assert_eq!(rejected["status"], "done", "{rejected}");
    // A redelivery with another body: a 409 naming the event, nothing stored.
    let conflict = app
        .post_webhook(
            "ats",
            "issue16-logs-reject",
            &sample("ats-status-rejected.json").replace("一次面接", "二次面接"),
        )
        .await;
    assert_eq!(conflict.status(), 409);
    let mails = app.smtp.wait_for(mails_before + 1).await;
    assert!(
        mails
            .iter()
            .any(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(ADDRESS))),
        "the invitation went to the address"
    );
    let export = app
        .get_json(&format!("/v1/candidates/{candidate_id}/export"))
        .await;
    assert!(export.to_string().to_lowercase().contains(ADDRESS));
    app.get_json(&format!("/v1/applications/{application_id}"))
        .await;
    let res = app
        .admin(
            Method::DELETE,
            "/v1/candidates?email=Taro.Yamada@Example.JP",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    let logs =
        String::from_utf8_lossy(&crate::helpers::log_capture().lock().unwrap()).to_lowercase();
    assert!(
        logs.contains("example.jp"),
        "the capture holds this run's lines"
    );
    let leaks: Vec<&str> = logs.lines().filter(|l| l.contains(ADDRESS)).collect();
    assert!(leaks.is_empty(), "logged in full:\n{}", leaks.join("\n"));
}

/// `(person_hash, candidate_id)` of event `id`.
async fn recorded_person(
    db: &sea_orm::DatabaseConnection,
    id: &str,
) -> (Option<String>, Option<String>) {
    let row = db
        .query_one(Statement::from_sql_and_values(
            db.get_database_backend(),
            match db.get_database_backend() {
                DatabaseBackend::Postgres => {
                    "SELECT person_hash, candidate_id FROM events WHERE id = $1"
                }
                _ => "SELECT person_hash, candidate_id FROM events WHERE id = ?",
            },
            [id.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    (
        row.try_get("", "person_hash").unwrap(),
        row.try_get("", "candidate_id").unwrap(),
    )
}

/// Issue 16: m0018 records each stored event's person, so an erasure finds them by index. An
/// event stored before it (down through m0018 and up again) gets its candidate from its
/// history at once, and the keyed hash of its address from the server after the upgrade; an
/// erasure finds it before and after that. A new event is recorded as it is stored.
#[tokio::test]
async fn issue16_m0019_records_the_person_of_older_events_after_the_upgrade() {
    use migrations::{Migrator, MigratorTrait};
    let app = TestApp::spawn().await;
    let body = crate::ats::change(
        "ats-m18",
        "m18.person@example.jp",
        "rejected",
        "2026-11-21T18:00:00+09:00",
    );
    let event = app.deliver("ats", "m18-reject", &body).await;
    assert_eq!(event["status"], "done", "{event}");
    let event_id = event["id"].as_str().unwrap().to_owned();
    let (hash, _) = recorded_person(&app.state.store.db, &event_id).await;
    let hash = hash.expect("recorded as stored");
    assert_eq!(hash.len(), 64, "the keyed hash of the address: {hash}");
    assert!(!hash.contains("m18"), "{hash}");
    let candidate_id = app
        .get_json("/v1/applications?ats_application_id=ats-m18")
        .await["items"][0]["candidate"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (dir, url) = app.stop().await;
    let store = hirelay::store::Store::connect(&url, 2, 1).await.unwrap();
    crate::helpers::migrate_down_through(&store.db, "m0019_event_person").await;
    assert!(store
        .db
        .execute_unprepared("SELECT person_hash FROM events")
        .await
        .is_err());
    Migrator::up(&store.db, None).await.unwrap();
    assert_eq!(
        recorded_person(&store.db, &event_id).await,
        (None, Some(candidate_id.clone())),
        "the candidate from the history, the hash not yet"
    );
    store.db.clone().close().await.unwrap();

    let app = TestApp::spawn_in(dir, url, &[]).await;
    let mut recorded = (None, None);
    for _ in 0..200 {
        recorded = recorded_person(&app.state.store.db, &event_id).await;
        if recorded.0.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(recorded, (Some(hash), Some(candidate_id.clone())));
    let erased = app.erase_candidate(&candidate_id).await;
    assert_eq!(erased["events"], 1, "{erased}");
    let purged = app.get_json(&format!("/v1/events/{event_id}")).await;
    assert!(purged["payload"]["purged"].is_object(), "{purged}");
}
