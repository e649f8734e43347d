//! The web console: the Career Relay dashboard (C5) served with a strict policy, and used in a
//! real headless Chromium.
use crate::browser::Browser;
use crate::helpers::TestApp;
use hirelay::domain::role::Role;

/// The page, its script and its style come from this server only, nothing inline runs, and the
/// page cannot be framed.
#[tokio::test]
async fn the_console_is_served_with_a_strict_content_security_policy() {
    let app = TestApp::spawn().await;
    for (path, content_type) in [
        ("/console", "text/html"),
        ("/console/console.js", "text/javascript"),
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
        html.contains("<script src=\"/console/console.js\""),
        "no inline script"
    );
}

/// C5 in Chromium: an HR manager opens the dashboard, gives a viewer token and sees the slots
/// and the funnel of the month split by the candidates' age (a split given in the page's URL),
/// then by selection stage; a wrong token is told so, and a stage
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
    assert_eq!(
        browser.title().await,
        "キャリアリレー ダッシュボード - hirelay"
    );
    browser.fill("#token", "not-a-token").await;
    browser.press("表示").await;
    browser.wait_for_text("トークンが無効です").await;

    let viewer = app.token(Role::Viewer).await;
    browser.fill("#token", &viewer).await;
    browser.press("表示").await;
    let text = browser.wait_for_text("獲得した紹介枠").await;
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
