//! Issue 14: console sign-in sessions through the HTTP API: the cookie's flags, CSRF on every
//! state change, lock-out, disabling, expiry, roles and the password an admin chose.
use crate::accounts::body;
use crate::helpers::{TestApp, USER_PASSWORD};
use hirelay::domain::role::Role;
use reqwest::Method;
use serde_json::json;

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
