//! `hirelay backup` and `hirelay restore` (issue 15, item 6) as an operator runs them: an online
//! copy taken while webhooks arrive, restored into another data directory and served from there;
//! no restore under a running server; and a binary older than its database's schema refuses it.
use crate::cli::{hirelay, run, serve_command, stderr, stdout, Served};
use crate::helpers::fresh_database;
use hirelay::ingest::signature::WebhookSecrets;
use std::path::Path;

const ADMIN: &str = "adm-backup-test-Hq4mX9vB2kLp7";
const SECRET: &str = "whsec_YmFja3VwLXRlc3Qtd2ViaG9vay1rZXktMDEyMzQ1Njc=";

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("hirelay.db").display())
}

fn served(dir: &Path, database_url: &str) -> Served {
    Served::start(
        serve_command(dir, database_url)
            .env("HIRELAY_ADMIN_TOKEN", ADMIN)
            .env("HIRELAY_WEBHOOK_SECRET_ATS", SECRET),
    )
}

/// Posts one signed ATS status change; its answer's status.
async fn post_status_change(client: &reqwest::Client, served: &Served, n: usize) -> u16 {
    let body = format!(
        r#"{{"type":"application.status_changed","ats_application_id":"ats-backup-{n}","candidate":{{"name":"控 太郎","email":"backup{n}@example.jp"}},"to_status":"screening","changed_at":"2026-11-21T18:00:00+09:00"}}"#
    );
    let id = format!("backup-{n}");
    let ts = chrono::Utc::now().timestamp();
    let signature = WebhookSecrets::parse(SECRET)
        .unwrap()
        .sign(&id, ts, body.as_bytes())
        .unwrap();
    client
        .post(served.url("/v1/webhooks/ats"))
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn event_count(client: &reqwest::Client, served: &Served) -> usize {
    let page: serde_json::Value = client
        .get(served.url("/v1/events?limit=500"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["items"].as_array().expect("items").len()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_taken_while_serving_restores_into_a_new_data_directory_with_every_event() {
    let live = tempfile::tempdir().unwrap();
    let url = sqlite_url(live.path());
    let server = served(live.path(), &url);
    let client = reqwest::Client::new();
    for n in 0..20 {
        assert_eq!(post_status_change(&client, &server, n).await, 202);
    }
    let copy = live.path().join("backups").join("hirelay-backup.db");
    // Taken while the server runs, with more webhooks arriving meanwhile.
    let server = std::sync::Arc::new(server);
    let writer = {
        let (client, server) = (client.clone(), server.clone());
        tokio::spawn(async move {
            for n in 100..110 {
                assert_eq!(post_status_change(&client, &server, n).await, 202);
            }
        })
    };
    let output = run(hirelay(live.path())
        .arg("backup")
        .arg(&copy)
        .env("HIRELAY_DATA_DIR", live.path().join("data"))
        .env("HIRELAY_DATABASE_URL", &url));
    writer.await.unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("backed up"), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("secret.key"),
        "the backup says where the key is: {}",
        stderr(&output)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode, 0o600,
            "a backup holds personal data: only its owner reads it"
        );
    }
    // A second backup to the same name is refused and leaves the first intact.
    let again = run(hirelay(live.path())
        .arg("backup")
        .arg(&copy)
        .env("HIRELAY_DATABASE_URL", &url));
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    drop(std::sync::Arc::into_inner(server));

    // Restored into another machine's data directory, with the key carried apart.
    let other = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(other.path().join("data")).unwrap();
    std::fs::copy(
        live.path().join("data").join("secret.key"),
        other.path().join("data").join("secret.key"),
    )
    .unwrap();
    let restored_url = sqlite_url(other.path());
    let output = run(hirelay(other.path())
        .arg("restore")
        .arg(&copy)
        .env("HIRELAY_DATABASE_URL", &restored_url));
    assert!(output.status.success(), "{}", stderr(&output));
    let server = served(other.path(), &restored_url);
    let restored = event_count(&client, &server).await;
    assert!(
        (20..=30).contains(&restored),
        "every event acknowledged before the backup began, and only whole ones after: {restored}"
    );
    // The restored server takes new webhooks as the old one did; a redelivery is still one.
    assert_eq!(post_status_change(&client, &server, 7).await, 200);
    assert_eq!(post_status_change(&client, &server, 20).await, 202);
    assert_eq!(event_count(&client, &server).await, restored + 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn restore_refuses_while_a_server_has_the_database_open_and_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let server = served(dir.path(), &url);
    let client = reqwest::Client::new();
    assert_eq!(post_status_change(&client, &server, 1).await, 202);
    let copy = dir.path().join("copy.db");
    let output = run(hirelay(dir.path())
        .arg("backup")
        .arg(&copy)
        .env("HIRELAY_DATABASE_URL", &url));
    assert!(output.status.success(), "{}", stderr(&output));

    let output = run(hirelay(dir.path())
        .arg("restore")
        .arg(&copy)
        .env("HIRELAY_DATABASE_URL", &url));
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("stop every `hirelay serve`"),
        "{}",
        stderr(&output)
    );
    // Still serving from the same file.
    assert_eq!(post_status_change(&client, &server, 2).await, 202);
    assert_eq!(event_count(&client, &server).await, 2);
    drop(server);

    // Stopped, the restore goes through and keeps the replaced file beside the database.
    let output = run(hirelay(dir.path())
        .arg("restore")
        .arg(&copy)
        .env("HIRELAY_DATABASE_URL", &url));
    assert!(output.status.success(), "{}", stderr(&output));
    let kept = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("hirelay.db.before-restore-") && name.ends_with('Z')
        })
        .count();
    assert_eq!(kept, 1, "{}", stdout(&output));
    let server = served(dir.path(), &url);
    assert_eq!(
        event_count(&client, &server).await,
        1,
        "the backup's one event"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_binary_older_than_the_database_schema_refuses_to_run_on_it() {
    use sea_orm::ConnectionTrait;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(dir.path()).await;
    let output = run(hirelay(dir.path())
        .arg("migrate")
        .env("HIRELAY_DATA_DIR", dir.path().join("data"))
        .env("HIRELAY_DATABASE_URL", &url));
    assert!(output.status.success(), "{}", stderr(&output));
    let db = sea_orm::Database::connect(&url).await.unwrap();
    db.execute_unprepared(
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m9999_from_a_newer_hirelay', 0)",
    )
    .await
    .unwrap();
    db.close().await.unwrap();

    let mut migrate = hirelay(dir.path());
    migrate
        .arg("migrate")
        .env("HIRELAY_DATA_DIR", dir.path().join("data"))
        .env("HIRELAY_DATABASE_URL", &url);
    for (command, mut process) in [
        ("migrate", migrate),
        ("serve", serve_command(dir.path(), &url)),
    ] {
        let output = run(&mut process);
        assert!(
            !output.status.success(),
            "`{command}` ran on a newer schema"
        );
        let err = stderr(&output);
        assert!(
            err.contains("newer hirelay") && err.contains("m9999_from_a_newer_hirelay"),
            "`{command}`: {err}"
        );
    }
}

#[test]
fn backup_on_postgresql_points_to_pg_dump() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(hirelay(dir.path())
        .arg("backup")
        .arg(dir.path().join("x.db"))
        .env(
            "HIRELAY_DATABASE_URL",
            "postgres://hirelay:hirelay@127.0.0.1:1/hirelay",
        ));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("pg_dump"), "{}", stderr(&output));
    assert!(!dir.path().join("x.db").exists());
}
