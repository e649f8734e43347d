//! Issue 14: personal user accounts and API tokens, through the HTTP API and the command line:
//! Argon2id passwords, the users and tokens endpoints, the audit log, `hirelay user`, m0013.
//! (Signing in and sessions: `sessions.rs`.)
use crate::cli::{hirelay, stderr, stdout};
use crate::helpers::{log_capture, TestApp, USER_PASSWORD};
use hirelay::domain::role::Role;
use reqwest::Method;
use serde_json::{json, Value};

/// An answer's status and JSON body (null when it has none).
pub async fn body(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// An admin creates a user through the API: the stored password is an Argon2id PHC string,
/// neither the answer nor any log line holds the password, and the user signs in with it.
#[tokio::test]
async fn issue14_a_password_is_stored_as_argon2id_and_never_logged() {
    let logs = log_capture();
    let app = TestApp::spawn().await;
    let password = "初期パスワード-unique-7f3a9c";
    let res = app
        .admin(Method::POST, "/v1/users")
        .json(
            &json!({"email": " Hanako.Sato@Example.jp ", "role": "marketer",
            "name": "佐藤 花子", "password": password}),
        )
        .send()
        .await
        .unwrap();
    let (status, user) = body(res).await;
    assert_eq!(status, 201, "{user}");
    assert_eq!(user["email"], "hanako.sato@example.jp", "normalised");
    assert_eq!(user["password_change_required"], true);
    assert!(!user.to_string().contains(password));
    assert!(!user.to_string().contains("argon2"));
    let stored = app
        .state
        .store
        .find_user(user["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored.password_hash.starts_with("$argon2id$v=19$"),
        "{}",
        stored.password_hash
    );
    assert!(!stored.password_hash.contains(password));
    assert_eq!(
        app.post_session("HANAKO.SATO@example.jp", password)
            .await
            .status(),
        200
    );
    // The same address again is a conflict; a short password names its field.
    let (status, _) = body(
        app.admin(Method::POST, "/v1/users")
            .json(
                &json!({"email": "hanako.sato@example.jp", "role": "viewer", "password": password}),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 409);
    let (status, err) = body(
        app.admin(Method::POST, "/v1/users")
            .json(&json!({"email": "x@example.jp", "role": "viewer", "password": "short"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, err["error"]["field"].clone()),
        (400, json!("password"))
    );
    let logged = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(!logged.contains(password), "the password reached a log");
}

/// What a signed-in person changes is audited under their name and address.
#[tokio::test]
async fn issue14_the_audit_log_names_the_person() {
    let app = TestApp::spawn().await;
    let session = app.sign_in(&app.user(Role::Admin).await).await;
    let res = app
        .as_session(&session, Method::POST, "/v1/jobs")
        .json(&json!({"title": "営業"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let audit = app.get_json("/v1/audit-log").await;
    let entry = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "job.create")
        .cloned()
        .unwrap_or_else(|| panic!("{audit}"));
    assert_eq!(entry["actor"], "admin さん <admin@example.jp>");
}

/// The tokens page's API: an admin creates a token (shown once), lists it without its secret,
/// and revokes it, after which it is refused. The new endpoints are in `/openapi.json`.
#[tokio::test]
async fn issue14_an_admin_creates_lists_and_revokes_api_tokens() {
    let app = TestApp::spawn().await;
    let (status, created) = app
        .post_json(
            "/v1/tokens",
            &json!({"name": "ATS 連携", "role": "viewer", "expires_in_days": 30}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(created["expires_at"].is_string());
    let ledger = || {
        app.as_token(&token, Method::GET, "/v1/career-relay/ledger")
            .send()
    };
    assert_eq!(ledger().await.unwrap().status(), 200);
    let list = app.get_json("/v1/tokens").await;
    assert!(!list.to_string().contains(&token), "never the secret");
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["id"] == id.as_str()));
    let (status, bad) = app
        .post_json("/v1/tokens", &json!({"name": "x", "role": "boss"}))
        .await;
    assert_eq!(
        (status, bad["error"]["field"].clone()),
        (400, json!("role"))
    );
    let res = app
        .admin(Method::DELETE, &format!("/v1/tokens/{id}"))
        .send()
        .await
        .unwrap();
    let (status, revoked) = body(res).await;
    assert_eq!(status, 200);
    assert!(revoked["revoked_at"].is_string());
    assert_eq!(ledger().await.unwrap().status(), 401);
    let res = app
        .admin(Method::DELETE, "/v1/tokens/tok_unknown")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let openapi = app.openapi().await;
    for path in [
        "/v1/session",
        "/v1/session/password",
        "/v1/users",
        "/v1/users/{id}",
        "/v1/tokens",
        "/v1/tokens/{id}",
    ] {
        assert!(
            openapi["paths"].get(path).is_some(),
            "{path} is not in /openapi.json"
        );
    }
    let viewer = app.token(Role::Viewer).await;
    let res = app
        .as_token(&viewer, Method::GET, "/v1/tokens")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

/// `hirelay user create` reads the password from standard input (never an argument), `user
/// list` shows the user, `set-role` and `disable` change it, and the user signs in with it.
#[tokio::test]
async fn issue14_the_cli_creates_a_user_from_stdin() {
    use std::io::Write;
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let database_url = crate::helpers::fresh_database(dir.path()).await;
    let cli = |args: &[&str]| {
        let mut command = hirelay(dir.path());
        command
            .args(args)
            .env("HIRELAY_DATA_DIR", dir.path().join("data"))
            .env("HIRELAY_DATABASE_URL", &database_url);
        command
    };
    let mut child = cli(&[
        "user",
        "create",
        "--email",
        "Admin@Example.jp",
        "--role",
        "admin",
        "--name",
        "管理 太郎",
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{USER_PASSWORD}\n").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("admin@example.jp"),
        "{}",
        stdout(&output)
    );
    assert!(!stdout(&output).contains(USER_PASSWORD));
    let output = crate::cli::run(&mut cli(&[
        "user",
        "set-role",
        "admin@example.jp",
        "viewer",
    ]));
    assert!(output.status.success(), "{}", stderr(&output));
    let output = crate::cli::run(&mut cli(&["user", "list"]));
    let listed = stdout(&output);
    assert!(
        listed.contains("admin@example.jp\t管理 太郎\tviewer\tno"),
        "{listed}"
    );

    let app = TestApp::spawn_in(dir, database_url.clone(), &[]).await;
    let session = app.sign_in("admin@example.jp").await;
    assert_eq!(session.user["role"], "viewer");
    assert_eq!(session.user["name"], "管理 太郎");
    let (dir, url) = app.stop().await;
    let output = crate::cli::run(
        hirelay(dir.path())
            .args(["user", "disable", "admin@example.jp"])
            .env("HIRELAY_DATA_DIR", dir.path().join("data"))
            .env("HIRELAY_DATABASE_URL", &url),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("1 session(s) ended"),
        "{}",
        stdout(&output)
    );
    // A too short password is refused, naming the field.
    let output = crate::cli::run(
        hirelay(dir.path())
            .args([
                "user",
                "create",
                "--email",
                "b@example.jp",
                "--role",
                "viewer",
            ])
            .env("HIRELAY_DATA_DIR", dir.path().join("data"))
            .env("HIRELAY_DATABASE_URL", &url),
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("`password`"),
        "{}",
        stderr(&output)
    );
}

/// m0013 rolls back and forward on SQLite and PostgreSQL, and the database itself keeps one
/// account per normalised address (a second insert is a conflict, not a second row).
#[tokio::test]
async fn issue14_the_user_accounts_migration_rolls_back_and_keeps_addresses_unique() {
    use migrations::{Migrator, MigratorTrait};
    let app = TestApp::spawn().await;
    let db = &app.state.store.db;
    app.user(Role::Viewer).await;
    crate::helpers::migrate_down_through(db, "m0016_user_accounts").await;
    Migrator::up(db, None).await.unwrap();
    assert!(app.state.store.list_users().await.unwrap().is_empty());
    app.user(Role::Viewer).await;
    let again = app
        .state
        .accounts
        .create_user(
            " VIEWER@example.jp",
            None,
            Role::Admin,
            USER_PASSWORD.to_owned().into(),
            false,
            0,
        )
        .await;
    assert!(
        matches!(
            again,
            Err(hirelay::accounts::AccountError::Store(
                hirelay::store::StoreError::Conflict(_)
            ))
        ),
        "{:?}",
        again.err()
    );
    assert_eq!(app.state.store.list_users().await.unwrap().len(), 1);
}

/// An admin invites a person without choosing a password for them: the invitation email
/// arrives with a single-use link to the console; the person chooses a password there and is
/// signed in; the link then no longer works, and no password signed them in before.
#[tokio::test]
async fn issue14_an_invited_user_chooses_a_password_through_the_emailed_link() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in(&app.user(Role::Admin).await).await;
    let res = app
        .as_session(&admin, Method::POST, "/v1/users")
        .json(&json!({"email": "new.hire@example.jp", "role": "marketer", "name": "新人 さん"}))
        .send()
        .await
        .unwrap();
    let (status, user) = body(res).await;
    assert_eq!(status, 201, "{user}");
    assert_eq!(user["invitation_pending"], true);
    let mails = app.smtp.wait_for(1).await;
    let mail = &mails[0];
    assert_eq!(mail.to, vec!["new.hire@example.jp".to_owned()]);
    let text = mail.part("text/plain").expect("a text part");
    let start = text
        .find("http://hirelay.test/console#/welcome/")
        .unwrap_or_else(|| panic!("no link in {text}"));
    let token: String = text[start + "http://hirelay.test/console#/welcome/".len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert!(token.len() >= 40, "{token}");
    assert!(text.contains("admin さん"), "the inviter is named: {text}");
    let accept = |password: &str| {
        app.client
            .post(app.url("/v1/session/invitation"))
            .json(&json!({"token": token, "password": password}))
            .send()
    };
    let (status, err) = body(accept("short").await.unwrap()).await;
    assert_eq!(
        (status, err["error"]["field"].clone()),
        (400, json!("password"))
    );
    let res = accept(USER_PASSWORD).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("HttpOnly"));
    let (_, session) = body(res).await;
    assert_eq!(session["user"]["role"], "marketer");
    assert_eq!(session["user"]["invitation_pending"], false);
    let (status, err) = body(accept("another-long-password").await.unwrap()).await;
    assert_eq!(
        (status, err["error"]["field"].clone()),
        (404, json!("token")),
        "single use"
    );
    assert_eq!(
        app.post_session("new.hire@example.jp", USER_PASSWORD)
            .await
            .status(),
        200
    );
}
