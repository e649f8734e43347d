//! Issue 14: personal user accounts and console sign-in, through the HTTP API and the command
//! line: Argon2id passwords, the session cookie, CSRF, lock-out, disabling, roles, the audit log.
use crate::cli::{hirelay, stderr, stdout};
use crate::helpers::{log_capture, TestApp, USER_PASSWORD};
use hirelay::domain::role::Role;
use reqwest::Method;
use serde_json::{json, Value};

async fn body(res: reqwest::Response) -> (u16, Value) {
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

/// The session cookie is `HttpOnly`, `SameSite=Strict`, for the whole site, and `Secure` when
/// hirelay is served over https.
#[tokio::test]
async fn issue14_the_session_cookie_is_httponly_strict_and_secure_over_https() {
    for (public_url, secure) in [
        ("http://hirelay.test", false),
        ("https://hirelay.test", true),
    ] {
        let app = TestApp::spawn_with(&[("HIRELAY_PUBLIC_URL", public_url)]).await;
        let email = app.user(Role::Viewer).await;
        let res = app.post_session(&email, USER_PASSWORD).await;
        assert_eq!(res.status(), 200);
        let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(cookie.starts_with("hirelay_session="), "{cookie}");
        for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(cookie.contains(flag), "{flag}: {cookie}");
        }
        assert_eq!(cookie.contains("Secure"), secure, "{cookie}");
        let (_, session) = body(res).await;
        assert_eq!(session["user"]["role"], "viewer");
        assert!(session["csrf_token"].as_str().unwrap().len() >= 32);
    }
}

/// A signed-in browser's state change without the CSRF token, or with a wrong one, is refused
/// with a 403 naming the header, and nothing changes; with the session's token it goes through.
/// A bearer token needs none.
#[tokio::test]
async fn issue14_a_state_change_without_the_csrf_token_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let session = app.sign_in(&app.user(Role::Admin).await).await;
    let job = json!({"title": "バックエンドエンジニア"});
    for csrf in [None, Some("wrong")] {
        let mut req = app
            .client
            .post(app.url("/v1/jobs"))
            .header("cookie", &session.cookie)
            .json(&job);
        if let Some(csrf) = csrf {
            req = req.header("x-csrf-token", csrf);
        }
        let (status, err) = body(req.send().await.unwrap()).await;
        assert_eq!(status, 403, "{csrf:?}: {err}");
        assert_eq!(err["error"]["code"], "csrf_token_invalid");
        assert_eq!(err["error"]["field"], "X-CSRF-Token");
    }
    assert_eq!(app.get_json("/v1/jobs").await["items"], json!([]));
    let res = app
        .as_session(&session, Method::POST, "/v1/jobs")
        .json(&job)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    // Reading needs no token; the session also reads.
    let res = app
        .client
        .get(app.url("/v1/jobs"))
        .header("cookie", &session.cookie)
        .send()
        .await
        .unwrap();
    let (status, jobs) = body(res).await;
    assert_eq!((status, jobs["items"].as_array().unwrap().len()), (200, 1));
}

/// After the configured number of failures, the account is locked: even the right password is
/// refused with 429 and `Retry-After`, and the audit log says so. A wrong password and an
/// unknown address get the same answer.
#[tokio::test]
async fn issue14_repeated_failed_sign_ins_lock_the_account() {
    let app = TestApp::spawn_with(&[
        ("HIRELAY_SIGNIN_MAX_FAILURES", "3"),
        ("HIRELAY_SIGNIN_LOCKOUT_MINUTES", "15"),
    ])
    .await;
    let email = app.user(Role::Viewer).await;
    let (status, unknown) = body(
        app.post_session("nobody@example.jp", "whatever-it-is")
            .await,
    )
    .await;
    assert_eq!(status, 401);
    for attempt in 0..3 {
        let (status, wrong) = body(app.post_session(&email, "not the password").await).await;
        assert_eq!(status, 401, "attempt {attempt}");
        assert_eq!(wrong, unknown, "the same answer for a wrong password");
    }
    let res = app.post_session(&email, USER_PASSWORD).await;
    assert_eq!(res.status(), 429);
    let wait = crate::helpers::retry_after(&res);
    assert!((14 * 60..=15 * 60).contains(&wait), "{wait}");
    let audit = app.get_json("/v1/audit-log").await;
    assert!(
        audit["items"].as_array().unwrap().iter().any(
            |e| e["action"] == "user.locked" && e["actor"] == "viewer さん <viewer@example.jp>"
        ),
        "{audit}"
    );
    // Another account is not affected.
    let other = app.user(Role::Marketer).await;
    assert_eq!(app.post_session(&other, USER_PASSWORD).await.status(), 200);
}

/// An admin disables a user: the user's open session stops working at the next request, and
/// signing in again is refused.
#[tokio::test]
async fn issue14_a_disabled_user_is_signed_out_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.sign_in(&app.user(Role::Admin).await).await;
    let email = app.user(Role::Viewer).await;
    let viewer = app.sign_in(&email).await;
    let ledger = || {
        app.client
            .get(app.url("/v1/career-relay/ledger"))
            .header("cookie", &viewer.cookie)
            .send()
    };
    assert_eq!(ledger().await.unwrap().status(), 200);
    let id = viewer.user["id"].as_str().unwrap();
    let res = app
        .as_session(&admin, Method::PATCH, &format!("/v1/users/{id}"))
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    let (status, user) = body(res).await;
    assert_eq!(
        (status, user["disabled"].clone()),
        (200, json!(true)),
        "{user}"
    );
    let (status, err) = body(ledger().await.unwrap()).await;
    assert_eq!(
        (status, err["error"]["code"].clone()),
        (401, json!("session_expired"))
    );
    assert_eq!(app.post_session(&email, USER_PASSWORD).await.status(), 401);
    // An admin cannot disable themselves.
    let own = admin.user["id"].as_str().unwrap();
    let res = app
        .as_session(&admin, Method::PATCH, &format!("/v1/users/{own}"))
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
}

/// Sessions carry the user's role: each role reaches its part of the API and gets 403 outside
/// it (a marketer never reads applications, a viewer never administers).
#[tokio::test]
async fn issue14_a_session_reaches_only_its_roles_part_of_the_api() {
    let app = TestApp::spawn().await;
    let cases: [(Role, &str, u16); 8] = [
        (Role::Viewer, "/v1/career-relay/ledger", 200),
        (Role::Viewer, "/v1/users", 403),
        (Role::Viewer, "/v1/templates", 403),
        (Role::Marketer, "/v1/templates", 200),
        (Role::Marketer, "/v1/applications?ats_application_id=x", 403),
        (Role::Marketer, "/v1/tokens", 403),
        (Role::Integrator, "/v1/career-relay/ledger", 403),
        (Role::Admin, "/v1/users", 200),
    ];
    let mut sessions = std::collections::HashMap::new();
    for (role, path, expected) in cases {
        if let std::collections::hash_map::Entry::Vacant(slot) = sessions.entry(role.as_str()) {
            slot.insert(app.sign_in(&app.user(role).await).await);
        }
        let session = &sessions[role.as_str()];
        let res = app
            .as_session(session, Method::GET, path)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status().as_u16(),
            expected,
            "{} GET {path}",
            role.as_str()
        );
    }
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

/// A user whose password an admin chose must change it before anything else; the change ends
/// other sessions and keeps this one signed in. Signing out ends the session.
#[tokio::test]
async fn issue14_an_admin_chosen_password_is_changed_first_and_sign_out_ends_the_session() {
    let app = TestApp::spawn().await;
    let initial = "initial-password-01";
    let res = app
        .admin(Method::POST, "/v1/users")
        .json(&json!({"email": "v@example.jp", "role": "viewer", "password": initial}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let res = app.post_session("v@example.jp", initial).await;
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let (_, signed) = body(res).await;
    let first = crate::helpers::Session {
        cookie,
        csrf: signed["csrf_token"].as_str().unwrap().to_owned(),
        user: signed["user"].clone(),
    };
    let (status, err) = body(
        app.as_session(&first, Method::GET, "/v1/career-relay/ledger")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, err["error"]["code"].clone()),
        (403, json!("password_change_required"))
    );
    let change = |current: &str, new: &str| {
        app.as_session(&first, Method::PUT, "/v1/session/password")
            .json(&json!({"current_password": current, "new_password": new}))
            .send()
    };
    let (status, err) = body(
        change("wrong-password-00", "a-new-long-password")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, err["error"]["field"].clone()),
        (400, json!("current_password"))
    );
    let res = change(initial, "a-new-long-password").await.unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let (_, signed) = body(res).await;
    assert_eq!(signed["user"]["password_change_required"], false);
    let second = crate::helpers::Session {
        cookie,
        csrf: signed["csrf_token"].as_str().unwrap().to_owned(),
        user: signed["user"].clone(),
    };
    let ledger = |s: &crate::helpers::Session| {
        app.as_session(s, Method::GET, "/v1/career-relay/ledger")
            .send()
    };
    assert_eq!(
        ledger(&first).await.unwrap().status(),
        401,
        "the old session ended"
    );
    assert_eq!(ledger(&second).await.unwrap().status(), 200);
    let res = app
        .as_session(&second, Method::DELETE, "/v1/session")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(ledger(&second).await.unwrap().status(), 401);
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
    crate::helpers::migrate_down_through(db, "m0013_user_accounts").await;
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

/// A session ends after the idle time without a request, and at its absolute expiry however
/// busy it was: the next request answers `401 session_expired`.
#[tokio::test]
async fn issue14_a_session_ends_when_idle_and_at_its_absolute_expiry() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn_with(&[("HIRELAY_SESSION_IDLE_MINUTES", "30")]).await;
    let email = app.user(Role::Viewer).await;
    let now = hirelay::domain::time::now_millis();
    for (column, value) in [("last_seen_at", now - 31 * 60_000), ("expires_at", now - 1)] {
        let session = app.sign_in(&email).await;
        let ledger = || {
            app.as_session(&session, Method::GET, "/v1/career-relay/ledger")
                .send()
        };
        assert_eq!(ledger().await.unwrap().status(), 200);
        app.state
            .store
            .db
            .execute_unprepared(&format!("UPDATE sessions SET {column} = {value}"))
            .await
            .unwrap();
        let (status, err) = body(ledger().await.unwrap()).await;
        assert_eq!(
            (status, err["error"]["code"].clone()),
            (401, json!("session_expired")),
            "{column}"
        );
    }
    // A failed sign-in of a known user is audited under their name.
    assert_eq!(
        app.post_session(&email, "not the password").await.status(),
        401
    );
    let audit = app.get_json("/v1/audit-log").await;
    assert_eq!(
        audit["items"][0]["action"], "session.sign_in_failed",
        "{audit}"
    );
    assert_eq!(
        audit["items"][0]["actor"],
        "viewer さん <viewer@example.jp>"
    );
}
