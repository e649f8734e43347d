//! The web console: served with a strict policy from a table of embedded files, and used in a
//! real headless Chromium: signing in as each role (issue 14), the Users and API tokens pages,
//! and the Career Relay dashboard (C5).
use crate::browser::Browser;
use crate::helpers::{TestApp, USER_PASSWORD};
use hirelay::domain::role::Role;

/// The page, its script and its style come from this server only, nothing inline runs, and the
/// page cannot be framed.
#[tokio::test]
async fn the_console_is_served_with_a_strict_content_security_policy() {
    let app = TestApp::spawn().await;
    for (path, content_type) in [
        ("/console", "text/html"),
        ("/console/app.js", "text/javascript"),
        ("/console/pages/users.js", "text/javascript"),
        ("/console/console.css", "text/css"),
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let header = |name: &str| res.headers()[name].to_str().unwrap().to_owned();
        assert!(header("content-type").starts_with(content_type), "{path}");
        let policy = header("content-security-policy");
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(policy.contains(directive), "{path}: {policy}");
        }
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert_eq!(header("x-content-type-options"), "nosniff");
    }
    let page = app.client.get(app.url("/console")).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert_eq!(html.matches("<script").count(), 1);
    assert!(
        html.contains("<script type=\"module\" src=\"/console/app.js\""),
        "no inline script"
    );
    let res = app
        .client
        .get(app.url("/console/../Cargo.toml"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

/// Every file of `server/console/` is served (a page added as a file but not to the table would
/// fail to load in the browser), and nothing else is.
#[tokio::test]
async fn every_console_file_is_served_from_the_embedded_table() {
    fn files(dir: &std::path::Path, prefix: &str, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
            if entry.file_type().unwrap().is_dir() {
                files(&entry.path(), &format!("{name}/"), out);
            } else if !["index.html", "README.md"].contains(&name.as_str()) {
                out.push(name);
            }
        }
    }
    let app = TestApp::spawn().await;
    let mut all = Vec::new();
    files(
        &crate::helpers::repo_root().join("server/console"),
        "",
        &mut all,
    );
    assert!(all.len() >= 10, "{all:?}");
    for name in all {
        let res = app
            .client
            .get(app.url(&format!("/console/{name}")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            200,
            "{name} is not in the console's ASSETS table"
        );
    }
    let res = app
        .client
        .get(app.url("/console/pages/nothing.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

/// Signs in on the console's sign-in page (once its form is shown: the shell's script draws it,
/// which on a busy machine takes a moment after the page loaded) and waits for the shell.
pub(crate) async fn sign_in(browser: &Browser, email: &str, expect: &str) {
    wait_until(browser, "return !!document.getElementById('signin-email')").await;
    browser.fill("#signin-email", email).await;
    browser.fill("#signin-password", USER_PASSWORD).await;
    browser.press("サインイン").await;
    browser.wait_for_text(expect).await;
}

/// The labels of the navigation's links, comma-separated.
pub(crate) async fn navigation(browser: &Browser) -> String {
    let nav = browser
        .eval("return [...document.querySelectorAll('#nav a')].map(a => a.textContent).join(',')")
        .await;
    nav.as_str().unwrap_or_default().to_owned()
}

/// The status of a request the page itself makes (cookie included, no CSRF header).
async fn status_from_page(browser: &Browser, method: &str, path: &str) -> u64 {
    let script = format!(
        "const x = new XMLHttpRequest(); x.open('{method}', '{path}', false); \
         x.setRequestHeader('content-type', 'application/json'); x.send('{{\"title\": \"x\"}}'); return x.status"
    );
    browser.eval(&script).await.as_u64().unwrap()
}

/// Issue 14 in Chromium: each role signs in and its navigation lists only the pages it may use;
/// a call the page makes outside its role answers 403, and a state change without the CSRF
/// token 403; a wrong password is told beside the field and the address typed stays; English is
/// a switch away and remembered; signing out leads back to the sign-in page.
#[tokio::test]
async fn issue14_each_role_signs_in_and_sees_only_its_pages() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let expected = [
        (
            Role::Admin,
            "ダッシュボード,インポート受信箱,グループアカウント,ルール,イベントとメール,テンプレート,送信箱,ユーザー,API トークン,設定",
            "/v1/audit-log",
            200,
        ),
        (Role::Viewer, "ダッシュボード", "/v1/users", 403),
        (Role::Marketer, "テンプレート,送信箱", "/v1/applications?ats_application_id=x", 403),
        (Role::Integrator, "", "/v1/career-relay/ledger", 403),
    ];
    browser.open(&app.url("/")).await;
    browser.wait_for_text("メールアドレス").await;
    let viewer = app.user(Role::Viewer).await;
    browser.fill("#signin-email", &viewer).await;
    browser.fill("#signin-password", "not the password").await;
    browser.press("サインイン").await;
    browser
        .wait_for_text("メールアドレスまたはパスワードが違います")
        .await;
    assert_eq!(
        browser
            .eval("return document.getElementById('signin-email').value")
            .await,
        viewer.as_str(),
        "the address typed stays"
    );
    assert_eq!(
        browser
            .eval("return document.getElementById('signin-password').getAttribute('aria-invalid')")
            .await,
        "true"
    );
    for (role, pages, outside, status) in expected {
        let email = if role == Role::Viewer {
            viewer.clone()
        } else {
            app.user(role).await
        };
        let who = format!("{} さん", role.as_str());
        sign_in(&browser, &email, &who).await;
        assert_eq!(navigation(&browser).await, pages, "{}", role.as_str());
        assert_eq!(
            status_from_page(&browser, "GET", outside).await,
            status,
            "{} GET {outside}",
            role.as_str()
        );
        if role == Role::Admin {
            assert_eq!(
                status_from_page(&browser, "POST", "/v1/jobs").await,
                403,
                "no CSRF token"
            );
            assert_eq!(
                app.get_json("/v1/jobs").await["items"],
                serde_json::json!([])
            );
            browser.press("English").await;
            browser.wait_for_text("Import inbox").await;
            browser.open(&app.url("/console")).await;
            browser.wait_for_text("Import inbox").await;
            assert_eq!(
                browser.eval("return document.documentElement.lang").await,
                "en"
            );
            browser.press("日本語").await;
            browser.wait_for_text("インポート受信箱").await;
        }
        browser.press("ログアウト").await;
        browser.wait_for_text("サインアウトしました").await;
    }
    browser.quit().await;
}

/// Waits until `script` (a function body) returns true on the page; panics after 10 s.
pub(crate) async fn wait_until(browser: &Browser, script: &str) {
    for _ in 0..200 {
        if browser.eval(script).await == true {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "`{script}` stayed false; the page shows:\n{}",
        browser.text().await
    );
}

/// Issue 14 in Chromium: an admin creates a user on the Users page (a short password is told
/// beside its field, and nothing typed is lost), disables them; creates an API token, which is
/// shown once and works, and revokes it.
#[tokio::test]
async fn issue14_an_admin_manages_users_and_api_tokens_in_chromium() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let admin = app.user(Role::Admin).await;
    browser.open(&app.url("/console#/users")).await;
    browser.wait_for_text("メールアドレス").await;
    sign_in(&browser, &admin, "ユーザーを作成").await;
    browser.fill("#new-user-email", "hanako@example.jp").await;
    browser.fill("#new-user-name", "佐藤 花子").await;
    browser.fill("#new-user-password", "short").await;
    browser.press("作成").await;
    let text = browser.wait_for_text("12 characters").await;
    assert!(!text.contains("hanako@example.jp を作成しました"), "{text}");
    assert_eq!(
        browser
            .eval("return document.getElementById('new-user-name').value")
            .await,
        "佐藤 花子"
    );
    browser
        .fill("#new-user-password", "a-long-initial-password")
        .await;
    browser.press("作成").await;
    browser
        .wait_for_text("hanako@example.jp を作成しました")
        .await;
    wait_until(
        &browser,
        "return !!document.querySelector('tr[data-user=\"hanako@example.jp\"] button')",
    )
    .await;
    browser
        .eval("document.querySelector('tr[data-user=\"hanako@example.jp\"] button').click(); return null")
        .await;
    wait_until(&browser, "return document.querySelector('tr[data-user=\"hanako@example.jp\"]').textContent.includes('有効にする')").await;
    let users = app.get_json("/v1/users").await;
    let hanako = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "hanako@example.jp")
        .cloned()
        .unwrap();
    assert_eq!(
        (hanako["disabled"].clone(), hanako["name"].clone()),
        (serde_json::json!(true), serde_json::json!("佐藤 花子"))
    );

    browser.open(&app.url("/console#/tokens")).await;
    browser.wait_for_text("トークンを作成").await;
    browser
        .fill("#new-token-form-name", "BI エクスポート")
        .await;
    browser.press("作成").await;
    wait_until(&browser, "return !!document.getElementById('token-secret')").await;
    let token = browser
        .eval("return document.getElementById('token-secret').textContent")
        .await;
    let token = token.as_str().unwrap().to_owned();
    let ledger = || {
        app.as_token(&token, reqwest::Method::GET, "/v1/career-relay/ledger")
            .send()
    };
    assert_eq!(
        ledger().await.unwrap().status(),
        200,
        "a viewer token by default"
    );
    browser
        .eval("window.confirm = () => true; return null")
        .await;
    browser.press("失効させる").await;
    wait_until(&browser, "return !document.querySelector('#tokens button')").await;
    assert_eq!(ledger().await.unwrap().status(), 401);

    // Issue 15: an integrator token bound to a source, made in the form.
    browser
        .eval(
            "document.getElementById('new-token-form-role').value = 'integrator'; \
             document.getElementById('new-token-form-source').value = 'ats'; return null",
        )
        .await;
    browser.fill("#new-token-form-name", "ATS 連携").await;
    browser.press("作成").await;
    wait_until(
        &browser,
        "return [...document.querySelectorAll('#tokens td')].some((td) => td.textContent === 'ats')",
    )
    .await;
    let tokens = app.get_json("/v1/tokens").await;
    let made = tokens["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "ATS 連携")
        .unwrap_or_else(|| panic!("{tokens}"));
    assert_eq!(
        (made["role"].as_str(), made["source"].as_str()),
        (Some("integrator"), Some("ats"))
    );
    browser.quit().await;
}

/// C5 in Chromium: an HR manager opens the dashboard, signs in as a viewer and sees the slots
/// and the funnel of the month split by the candidates' age (a split given in the page's URL),
/// then by selection stage; a stage
/// the ATS sent as markup is shown as text, never run.
#[tokio::test]
async fn c5_an_hr_manager_reads_the_ledger_and_the_funnel_in_chromium() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn_with(&[
        ("HIRELAY_CAREER_RELAY_RATIO", "2"),
        ("HIRELAY_CAREER_RELAY_TARGETS", "registered=0.5"),
    ])
    .await;
    let mails = crate::ats::rejected_and_invited(&app, 3).await;
    crate::ats::register(&app, "reg-0", &mails[0]).await;
    crate::ats::register(&app, "reg-1", &mails[1]).await;
    let markup = "<img src=x onerror=\"document.title='pwned'\">";
    let body = crate::ats::change(
        "ats-markup",
        "markup@example.jp",
        "rejected",
        "2026-11-22T18:00:00+09:00",
    )
    .replace("一次面接", &markup.replace('"', "\\\""));
    assert_eq!(
        app.deliver("ats", "markup-1", &body).await["status"],
        "done"
    );

    browser
        .open(&app.url("/console?from=2026-11-01&to=2026-11-30&group_by=attribute:age"))
        .await;
    browser.wait_for_text("メールアドレス").await;
    let viewer = app.user(Role::Viewer).await;
    sign_in(&browser, &viewer, "獲得した紹介枠").await;
    assert_eq!(
        browser.title().await,
        "キャリアリレー ダッシュボード - hirelay"
    );
    let text = browser.text().await;
    assert!(text.contains("登録した不合格者\n2"), "{text}");
    assert!(text.contains("獲得した紹介枠\n1"), "{text}");
    assert!(text.contains("不合格\t4\t—"), "{text}");
    assert!(text.contains("紹介登録済\t2"), "{text}");
    assert!(
        text.contains("\n35\n"),
        "split by the candidates' age: {text}"
    );
    // Split by stage, chosen from the menu: the stage the ATS sent as markup shows as text.
    browser
        .eval("document.getElementById('group_by').value = 'stage'; return null")
        .await;
    browser.press("表示").await;
    let text = browser.wait_for_text("一次面接").await;
    assert!(text.contains(markup), "the markup is shown as text: {text}");
    assert_eq!(browser.eval("return document.images.length").await, 0);
    assert_eq!(
        browser.title().await,
        "キャリアリレー ダッシュボード - hirelay"
    );
    browser.quit().await;
}

/// Issue 14 in Chromium: a person invited by mail opens the link, chooses a password (a
/// mismatch is told beside the confirmation), and lands in the console signed in, with the
/// link's token gone from the address.
#[tokio::test]
async fn issue14_an_invited_user_chooses_a_password_from_the_email_in_chromium() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let (status, user) = app
        .post_json(
            "/v1/users",
            &serde_json::json!({"email": "new@example.jp", "role": "marketer", "name": "新人"}),
        )
        .await;
    assert_eq!(status, 201, "{user}");
    let text = app.smtp.wait_for(1).await[0].part("text/plain").unwrap();
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with("http://hirelay.test/console#/welcome/"))
        .unwrap_or_else(|| panic!("no link in {text}"))
        .replace("http://hirelay.test", &app.address);
    browser.open(&link).await;
    browser.wait_for_text("パスワードを決める").await;
    browser.fill("#welcome-password", USER_PASSWORD).await;
    browser
        .fill("#welcome-confirm", "something else entirely")
        .await;
    browser.press("決定してサインイン").await;
    browser
        .wait_for_text("確認用のパスワードが一致しません")
        .await;
    browser.fill("#welcome-confirm", USER_PASSWORD).await;
    browser.press("決定してサインイン").await;
    browser.wait_for_text("新人 (マーケター)").await;
    assert_eq!(navigation(&browser).await, "テンプレート,送信箱");
    let address = browser.eval("return location.href").await;
    assert!(!address.as_str().unwrap().contains("welcome"), "{address}");
    assert_eq!(
        app.post_session("new@example.jp", USER_PASSWORD)
            .await
            .status(),
        200
    );
    browser.quit().await;
}

/// Issue 14: a user whose password an admin chose is asked for a new one at the first sign-in
/// in the browser, before any page; a mismatched confirmation is shown beside its field, and the
/// new password is the one that works afterwards.
#[tokio::test]
async fn issue14_a_password_an_admin_chose_is_changed_first_in_chromium() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let initial = "chosen-by-the-admin-2026";
    let (status, user) = app
        .post_json(
            "/v1/users",
            &serde_json::json!({"email": "second@example.jp", "role": "marketer", "name": "二人目", "password": initial}),
        )
        .await;
    assert_eq!(status, 201, "{user}");
    browser.open(&app.url("/console")).await;
    // The sign-in form is drawn by the console's script once it has loaded.
    browser.wait_for_text("メールアドレス").await;
    browser.fill("#signin-email", "second@example.jp").await;
    browser.fill("#signin-password", initial).await;
    browser.press("サインイン").await;
    browser.wait_for_text("パスワードの変更").await;
    assert_eq!(navigation(&browser).await, "", "no page before the change");
    browser.fill("#password-current_password", initial).await;
    browser.fill("#password-new_password", USER_PASSWORD).await;
    browser
        .fill("#password-confirm", "something else entirely")
        .await;
    browser.press("変更する").await;
    browser
        .wait_for_text("確認用のパスワードが一致しません")
        .await;
    browser.fill("#password-confirm", USER_PASSWORD).await;
    browser.press("変更する").await;
    wait_until(
        &browser,
        "return document.querySelectorAll('#nav a').length > 0",
    )
    .await;
    assert_eq!(navigation(&browser).await, "テンプレート,送信箱");
    browser.wait_for_text("二人目 (マーケター)").await;
    let new = app.post_session("second@example.jp", USER_PASSWORD).await;
    assert_eq!(new.status(), 200);
    let old = app.post_session("second@example.jp", initial).await;
    assert_eq!(old.status(), 401);
    browser.quit().await;
}
