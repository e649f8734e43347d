//! M9: what hirelay leaves on disk is for its own user only: the data directory 0700, the
//! SQLite files and `.eml` files 0600; a sent mail's body (live tokens) is not kept; a key file
//! beside the database is warned about.
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use serde_json::json;

use crate::helpers::{fresh_database, log_capture, TestApp};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn logged() -> String {
    String::from_utf8_lossy(&log_capture().lock().unwrap()).into_owned()
}

#[tokio::test]
async fn m9_data_directory_database_and_mail_files_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // An existing, world-readable data directory is tightened.
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let sqlite = std::env::var("HIRELAY_TEST_DATABASE_URL").map_or(true, |u| u.is_empty());
    let database_url = if sqlite {
        // The default layout: the database in the data directory, beside the key file.
        format!("sqlite://{}?mode=rwc", data.join("hirelay.db").display())
    } else {
        fresh_database(dir.path()).await
    };
    let app = TestApp::spawn_in(dir, database_url, &[("HIRELAY_SMTP_URL", "")]).await;

    assert_eq!(mode(&data), 0o700, "the data directory");
    let logs = logged();
    assert!(
        logs.lines().any(
            |l| l.contains("tightened the permissions of the data directory")
                && l.contains(&data.display().to_string())
        ),
        "the tightening is not logged"
    );
    if sqlite {
        for name in ["hirelay.db", "hirelay.db-wal", "hirelay.db-shm"] {
            let file = data.join(name);
            if file.exists() || name == "hirelay.db" {
                assert_eq!(mode(&file), 0o600, "{name}");
            }
        }
        let key_file = data.join("secret.key").display().to_string();
        assert!(
            logs.lines()
                .any(|l| l.contains("secret key file sits beside the database")
                    && l.contains(&key_file)
                    && l.contains("HIRELAY_SECRET_KEY")),
            "no warning about {key_file}"
        );
    }

    let (status, body) = app
        .post_json(
            "/v1/templates/group_link_approval/test-send",
            &json!({"to": "admin@example.jp"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let id = body["outbox_id"].as_str().unwrap().to_owned();
    let outbox = data.join("outbox");
    let mut row = app.state.store.get_mail(&id).await.unwrap();
    for _ in 0..200 {
        row = app.state.store.get_mail(&id).await.unwrap();
        if row.status == "sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(row.status, "sent");
    assert_eq!(mode(&outbox), 0o700, "the outbox directory");
    let files: Vec<_> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(mode(&files[0]), 0o600, "the .eml file");
    let eml = std::fs::read_to_string(&files[0]).unwrap();
    assert!(eml.contains("To: admin@example.jp"), "{eml}");
    // Sent: the rendered bodies (with their links) are gone from the outbox; the subject stays.
    assert_eq!((row.html.as_str(), row.text_body.as_str()), ("", ""));
    assert!(!row.subject.is_empty());
}

/// With the key given by `HIRELAY_SECRET_KEY`, or the database elsewhere, nothing is warned.
#[tokio::test]
async fn m9_no_key_file_warning_when_the_database_is_elsewhere() {
    let app = TestApp::spawn().await;
    let key_file = app.dir.path().join("data").join("secret.key");
    assert!(key_file.exists());
    assert!(!logged().contains(&format!("key_file={}", key_file.display())));
}
