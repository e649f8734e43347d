//! The console's admin pages in a real headless Chromium (issue 14): the import inbox (I6–I8),
//! the group accounts with progress sync's preview (L1–L4, P5, B4) and the settings (outbound
//! webhook subscriptions).
use crate::bizreach_support::{Bizreach, SIM_EMAIL, SIM_PASSWORD};
use crate::browser::Browser;
use crate::console::{sign_in, wait_until};
use crate::helpers::{sample, TestApp};
use hirelay::domain::role::Role;
use serde_json::{json, Value};

const POSITION: &str = "バックエンドエンジニア（Rust）";

/// Imports a BizReach direct application `id` of `email` for `position` through the webhook.
async fn import(b: &Bizreach, id: &str, email: &str, position: &str) {
    let body = sample("bizreach-direct-application.json")
        .replace("br-app-000123", id)
        .replace("Taro.Yamada@Example.jp", email)
        .replace(POSITION, position);
    let event = crate::imports::import(&b.app, &format!("console-{id}"), &body).await;
    assert_eq!(event["status"], "done", "{event}");
}

/// What `script` (a function body) returns on the page, as a string.
async fn eval_str(browser: &Browser, script: &str) -> String {
    browser
        .eval(script)
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// I8 in Chromium: an admin filters the inbox to one position (the count says 2 of 3), selects
/// both, is told beside the menu to choose a job (the ticks stay), chooses one with "register
/// this rule" ticked and routes them; the API then has both routed and the rule, which the
/// page lists; the job is renamed on the same page, and the rule shows the new title.
#[tokio::test]
async fn i8_an_admin_routes_from_the_inbox_with_rule_registration_in_chromium() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let b = Bizreach::spawn(0).await;
    b.sign_in().await;
    b.link("grp-001").await;
    import(&b, "br-app-1", "one@example.jp", POSITION).await;
    import(&b, "br-app-2", "two@example.jp", POSITION).await;
    import(&b, "br-app-3", "three@example.jp", "営業（法人）").await;
    let (status, job) = b
        .app
        .post_json("/v1/jobs", &json!({"title": "バックエンド（Rust）"}))
        .await;
    assert_eq!(status, 201, "{job}");
    let job_id = job["id"].as_str().unwrap().to_owned();

    browser.open(&b.app.url("/console#/inbox")).await;
    browser.wait_for_text("メールアドレス").await;
    let admin = b.app.user(Role::Admin).await;
    sign_in(&browser, &admin, "3 件").await;
    browser.fill("#inbox-filter-position_name", POSITION).await;
    browser.press("表示").await;
    browser.wait_for_text("2 件").await;
    assert!(!browser.text().await.contains("営業（法人）"));
    browser
        .eval("document.getElementById('inbox-select-all').click(); return null")
        .await;
    browser.press("振り分ける").await;
    wait_until(
        &browser,
        "return document.getElementById('route-job_id').getAttribute('aria-invalid') === 'true'",
    )
    .await;
    let error = eval_str(
        &browser,
        "return document.getElementById('route-job_id-error').textContent",
    )
    .await;
    assert!(error.contains("does not exist"), "{error}");
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('#inbox input:checked').length")
            .await,
        2,
        "the choice stays after a failed submit"
    );
    browser
        .eval(&format!(
            "document.getElementById('route-job_id').value = '{job_id}'; \
             document.getElementById('route-register_rule').click(); return null"
        ))
        .await;
    browser.press("振り分ける").await;
    browser.wait_for_text("2 件を振り分けました").await;
    let rule_name = format!("BizReach {POSITION} → バックエンド（Rust）");
    browser.wait_for_text(&rule_name).await;

    for id in ["br-app-1", "br-app-2"] {
        let app = crate::imports::application(&b.app, id).await;
        assert_eq!(app["job_id"], job["id"], "{app}");
    }
    let waiting = crate::imports::application(&b.app, "br-app-3").await;
    assert!(waiting["job_id"].is_null(), "{waiting}");
    let rules = b.app.get_json("/v1/routing-rules").await;
    assert_eq!(rules["items"].as_array().unwrap().len(), 1, "{rules}");
    assert_eq!(rules["items"][0]["position_name"], POSITION);
    assert_eq!(rules["items"][0]["job_id"], job["id"]);
    assert_eq!(b.app.get_json("/v1/imports").await["count"], 1);

    // Rename the job on the page: the rule shows the new title.
    browser
        .fill(
            &format!("#job-{job_id}-title"),
            "バックエンド（Rust・リード）",
        )
        .await;
    browser.press("名前を変更").await;
    browser
        .wait_for_text(&format!(
            "BizReach {POSITION} → バックエンド（Rust・リード）"
        ))
        .await;
    let jobs = b.app.get_json("/v1/jobs").await;
    assert_eq!(jobs["items"][0]["title"], "バックエンド（Rust・リード）");
    browser.quit().await;
}

/// The row of group `id` on the Group accounts page, as text.
async fn group_row(browser: &Browser, id: &str) -> String {
    eval_str(
        browser,
        &format!("const r = document.querySelector('tr[data-group=\"{id}\"]'); return r ? r.innerText : ''"),
    )
    .await
}

/// Clicks the button of group `id`'s row whose text starts with `label`.
async fn press_in_row(browser: &Browser, id: &str, label: &str) {
    let clicked = browser
        .eval(&format!(
            "const b = [...document.querySelectorAll('tr[data-group=\"{id}\"] button')].find(b => b.textContent.startsWith('{label}')); \
             if (b) b.click(); return !!b"
        ))
        .await;
    assert_eq!(clicked, true, "no button `{label}` for {id}");
}

/// L1–L4, B4, P5 in Chromium: an admin signs in to BizReach on the Group accounts page (the
/// groups appear 未連携), requests a link (承認待ち); once the group's administrator approved
/// it, the group is 連携済み; a backfill answers with its counts; switching progress sync on
/// first shows what it would overwrite, and only the confirmation switches it on.
#[tokio::test]
async fn p5_an_admin_links_a_group_and_switches_sync_on_through_its_preview_in_chromium() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let b = Bizreach::spawn(0).await;
    let group = crate::progress_sync::GROUP;
    browser.open(&b.app.url("/console#/groups")).await;
    browser.wait_for_text("メールアドレス").await;
    let admin = b.app.user(Role::Admin).await;
    sign_in(&browser, &admin, "BizReach にサインイン").await;
    browser.fill("#bizreach-signin-email", SIM_EMAIL).await;
    browser
        .fill("#bizreach-signin-password", "not the password")
        .await;
    browser.press("サインインして読み込む").await;
    wait_until(
        &browser,
        "return document.querySelector('#bizreach-signin .form-error').textContent !== ''",
    )
    .await;
    assert_eq!(
        eval_str(
            &browser,
            "return document.getElementById('bizreach-signin-email').value"
        )
        .await,
        SIM_EMAIL,
        "the address typed stays"
    );
    browser
        .fill("#bizreach-signin-password", SIM_PASSWORD)
        .await;
    browser.press("サインインして読み込む").await;
    browser
        .wait_for_text("件のグループアカウントを読み込みました")
        .await;
    let row = group_row(&browser, group).await;
    assert!(row.contains("未連携"), "{row}");

    press_in_row(&browser, group, "連携を申請").await;
    browser.wait_for_text("承認メールを送りました").await;
    let row = group_row(&browser, group).await;
    assert!(row.contains("承認待ち"), "{row}");
    let url = b.approval_mail(group).await.1;
    let res = b.app.client.post(url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    // A new address (not only a new fragment), so that the page loads again.
    browser.open(&b.app.url("/console?again#/groups")).await;
    wait_until(
        &browser,
        &format!(
            "return !!document.querySelector('tr[data-group=\"{group}\"][data-state=\"linked\"]')"
        ),
    )
    .await;
    assert!(group_row(&browser, group).await.contains("連携済み"));

    // An application BizReach and hirelay both have: a backfill skips it and says so.
    let offer = crate::progress_sync::imported(&b, group, "br-app-offer", "new").await;
    press_in_row(&browser, group, "過去の応募を取り込む").await;
    let text = browser.wait_for_text("件を取り込みました").await;
    assert!(text.contains("0 件を取り込みました"), "{text}");
    assert!(text.contains("取り込み済み 1 件"), "{text}");

    // The ATS moved it on: switching sync on would overwrite BizReach's "new".
    crate::progress_sync::ats_status(&b, &offer, "offer", 2).await;
    press_in_row(&browser, group, "進捗同期をオンにする").await;
    browser
        .wait_for_text("上書きされる応募は次の 1 件です")
        .await;
    let preview = eval_str(
        &browser,
        "return document.querySelector('#sync-preview tr[data-application=\"br-app-offer\"]').innerText",
    )
    .await;
    assert_eq!(
        preview,
        "br-app-offer\t候補者 br-app-offer\toffer\tnew\tin_progress"
    );
    assert_eq!(
        eval_str(&browser, "return document.activeElement.id").await,
        "sync-preview-title",
        "the preview takes the focus"
    );
    assert_eq!(
        b.group(group).await["progress_sync"],
        false,
        "the preview alone switches nothing"
    );
    browser.press("確認して進捗同期をオンにする").await;
    browser.wait_for_text("進捗同期をオンにしました").await;
    assert_eq!(b.group(group).await["progress_sync"], true);
    let row = group_row(&browser, group).await;
    assert!(row.contains("進捗同期をオフにする"), "{row}");
    browser.quit().await;
}

/// Issue 14 in Chromium: on the Settings page an admin subscribes a URL that is not one; the
/// error shows beside the URL field and what was typed and ticked stays; fixed, the
/// subscription is created, its secret shown once, and it is listed (and in the API). I5: the
/// admin switches on their own notification, told beside the field to give an address first.
#[tokio::test]
async fn issue14_an_admin_subscribes_a_webhook_on_the_settings_page_in_chromium() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    browser.open(&app.url("/console#/settings")).await;
    browser.wait_for_text("メールアドレス").await;
    let admin = app.user(Role::Admin).await;
    sign_in(&browser, &admin, "送信 Webhook の購読").await;
    assert!(browser.text().await.contains("API トークンのページへ"));
    browser
        .fill("#new-subscription-form-url", "ats.example.jp/hooks")
        .await;
    browser
        .eval("document.querySelector('#new-subscription-form input[value=\"application.routed\"]').click(); return null")
        .await;
    browser.press("購読を作成").await;
    wait_until(
        &browser,
        "return document.getElementById('new-subscription-form-url').getAttribute('aria-invalid') === 'true'",
    )
    .await;
    let error = eval_str(
        &browser,
        "return document.getElementById('new-subscription-form-url-error').textContent",
    )
    .await;
    assert!(
        error.contains("is not an http:// or https:// URL"),
        "{error}"
    );
    let kept: Value = browser
        .eval("return [document.getElementById('new-subscription-form-url').value, \
               document.querySelector('#new-subscription-form input[value=\"application.routed\"]').checked]")
        .await;
    assert_eq!(kept, json!(["ats.example.jp/hooks", true]));

    let url = "http://127.0.0.1:9/hooks";
    browser.fill("#new-subscription-form-url", url).await;
    browser.press("購読を作成").await;
    browser.wait_for_text("への購読を作成しました").await;
    wait_until(
        &browser,
        &format!("return !!document.querySelector('tr[data-subscription=\"{url}\"]')"),
    )
    .await;
    let secret = eval_str(
        &browser,
        "return document.getElementById('subscription-secret').textContent",
    )
    .await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert!(browser.text().await.contains("application.routed"));
    let subs = app.get_json("/v1/webhook-subscriptions").await;
    assert_eq!(subs["items"][0]["url"], url);
    assert_eq!(
        subs["items"][0]["event_types"],
        json!(["application.routed"])
    );

    // I5: the signed-in person's own notification: a switch on needs an address, told beside it.
    browser
        .eval("document.querySelector('#notify input[value=\"bizreach_application\"]').click(); return null")
        .await;
    browser.press("保存").await;
    wait_until(
        &browser,
        "return document.getElementById('notify-email').getAttribute('aria-invalid') === 'true'",
    )
    .await;
    let error = eval_str(
        &browser,
        "return document.getElementById('notify-email-error').textContent",
    )
    .await;
    assert!(error.contains("`email` is required"), "{error}");
    browser.fill("#notify-email", "hr@example.jp").await;
    browser.press("保存").await;
    browser.wait_for_text("通知の設定を保存しました").await;
    let session = app.sign_in(&admin).await;
    let own: Value = app
        .as_session(
            &session,
            reqwest::Method::GET,
            "/v1/notifications/subscriptions",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        own,
        json!({"bizreach_application": true, "monthly_report": false, "email": "hr@example.jp"})
    );
    browser.quit().await;
}
