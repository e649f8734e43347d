//! The console's Rules and Templates pages in a real headless Chromium (issue 14): the vendored
//! code editor (CodeMirror) under the console's strict policy, errors marked at their line,
//! dry runs over history, versions and rollback; a template's live preview in its sandboxed
//! frame, the legal display checked as the marketer types, and a test-send read back from the
//! SMTP server.
use crate::browser::Browser;
use crate::console::{sign_in, wait_until};
use crate::helpers::{sample, TestApp};
use hirelay::domain::role::Role;
use std::time::Duration;

/// WebDriver's Backspace and Tab keys.
const BACKSPACE: &str = "\u{E003}";
const TAB: &str = "\u{E004}";

/// Waits until the document in the frame `selector` has `wanted` in its text; panics after 10 s.
async fn wait_in_frame(browser: &Browser, selector: &str, wanted: &str) {
    let mut text = String::new();
    for _ in 0..200 {
        let shown = browser
            .in_frame(
                selector,
                "return document.body ? document.body.innerText : ''",
            )
            .await;
        text = shown.as_str().unwrap_or_default().to_owned();
        if text.contains(wanted) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("`{wanted}` did not appear in {selector} within 10 s; it shows:\n{text}");
}

/// Issue 14: the code editor's style elements get through the shell's policy only with a nonce
/// made for that one response (never `unsafe-inline`); the mail preview's frame has a policy of
/// its own (a mail's inline styles, nothing remote, framed by the console only), and the shell
/// frames nothing but this server.
#[tokio::test]
async fn issue14_editor_styles_need_the_responses_nonce_and_the_preview_frame_is_fenced() {
    let app = TestApp::spawn().await;
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let res = app.client.get(app.url("/console")).send().await.unwrap();
        let policy = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        let page = res.text().await.unwrap();
        let nonce = policy
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("no nonce: {policy}"))
            .to_owned();
        assert!(
            page.contains(&format!("<meta name=\"style-nonce\" content=\"{nonce}\">")),
            "{page}"
        );
        assert!(policy.contains("frame-src 'self'"), "{policy}");
        assert!(!policy.contains("unsafe"), "{policy}");
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1], "one nonce per response");

    let res = app
        .client
        .get(app.url("/console/preview.html"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let policy = res.headers()["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'unsafe-inline'",
        "img-src 'self' data:",
        "frame-ancestors 'self'",
    ] {
        assert!(policy.contains(directive), "{policy}");
    }
    assert_eq!(res.headers()["x-frame-options"], "SAMEORIGIN");
    let script = app
        .client
        .get(app.url("/console/pages/rules.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.headers()["x-frame-options"], "DENY");
}

/// Issue 14 in Chromium, the Rules page's main task: an admin edits `status.rhai` with an error,
/// sees it at its line (in the list under the editor and as a gutter mark), leaves the editor
/// with Tab, fixes it, saves,
/// dry-runs the draft over the stored event (the summary and that event's diff), compares with
/// the first version and rolls back to it; a save over a version someone else saved meanwhile
/// is refused (If-Match) and the page says who saved which version, keeping the edit.
#[tokio::test]
async fn issue14_an_admin_fixes_a_script_at_its_line_dry_runs_it_over_history_and_rolls_back_in_chromium(
) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let event = app
        .deliver(
            "ats",
            "msg_console_rules",
            &sample("ats-status-rejected-other-channel.json"),
        )
        .await;
    assert_eq!(event["status"], "done", "{event}");
    let original = app.get_json("/v1/rules/status?format=json").await;
    let source = original["source"].as_str().unwrap().to_owned();
    let first = original["version"].as_i64().unwrap();
    let admin = app.user(Role::Admin).await;
    browser.open(&app.url("/console#/rules?name=status")).await;
    browser.wait_for_text("メールアドレス").await;
    sign_in(&browser, &admin, "admin さん").await;
    browser.wait_for_text("スクリプトの内容").await;
    wait_until(
        &browser,
        "return document.querySelector('#rule-source .cm-content').textContent.includes('status.rhai')",
    )
    .await;
    // CodeMirror's own styles apply under `style-src 'self'` (no inline style is allowed).
    assert_eq!(
        browser
            .eval("return getComputedStyle(document.querySelector('#rule-source')).display")
            .await,
        "flex"
    );

    let broken = "\nlet broken = ;";
    let line = source.split('\n').count() + 1;
    browser.type_keys("#rule-source .cm-content", broken).await;
    browser.press("検査する").await;
    let text = browser.wait_for_text("スクリプトに誤りがあります").await;
    assert!(text.contains(&format!("{line} 行")), "line {line}:\n{text}");
    wait_until(
        &browser,
        "return document.querySelectorAll('#rule-source .cm-lint-marker-error').length === 1",
    )
    .await;
    // Tab leaves the editor (the keyboard is not trapped) for the next control.
    browser.type_keys("#rule-source .cm-content", TAB).await;
    wait_until(
        &browser,
        "return !document.getElementById('rule-source').contains(document.activeElement)",
    )
    .await;

    let fix = BACKSPACE.repeat(broken.chars().count());
    browser.type_keys("#rule-source .cm-content", &fix).await;
    browser
        .type_keys(
            "#rule-source .cm-content",
            "\nkpi(\"console_edit\", 1.0, #{});",
        )
        .await;
    browser.press("検査する").await;
    browser.wait_for_text("問題は見つかりませんでした").await;
    browser.press("保存して使用する").await;
    browser
        .wait_for_text(&format!("v{} として保存し", first + 1))
        .await;
    let saved = app.get_json("/v1/rules/status?format=json").await;
    assert!(
        saved["source"]
            .as_str()
            .unwrap()
            .ends_with("\nkpi(\"console_edit\", 1.0, #{});"),
        "{saved}"
    );

    browser.press("過去のイベントで試す").await;
    let text = browser.wait_for_text("1 more KPI").await;
    assert!(text.contains("1 件中 1 件で結果が変わります"), "{text}");
    let id = event["id"].as_str().unwrap();
    assert!(text.contains(&format!("イベント {id}")), "{text}");
    // The event's diff: the recorded actions beside the draft's, drawn when opened.
    browser
        .eval("document.querySelector('#history-result details').open = true; return null")
        .await;
    wait_until(
        &browser,
        "return !!document.querySelector('#history-result .cm-changedLine')",
    )
    .await;
    let diff = browser
        .eval("return document.querySelector('#history-result details').innerText")
        .await;
    assert!(diff.as_str().unwrap().contains("console_edit"), "{diff}");

    browser.press(&format!("v{first} との差分")).await;
    wait_until(
        &browser,
        "return !!document.querySelector('#version-diff .cm-changedLine')",
    )
    .await;
    browser
        .eval("window.confirm = () => true; return null")
        .await;
    browser.press(&format!("v{first} に戻す")).await;
    browser
        .wait_for_text(&format!("v{first} に戻しました"))
        .await;
    let now = app.get_json("/v1/rules/status?format=json").await;
    assert_eq!(now["source"], source.as_str());
    assert_eq!(now["version"], first + 2);

    // Someone else saves meanwhile: this page's save is refused and says so; nothing is lost.
    app.activate_rule("status", "// someone else's version\n")
        .await;
    browser
        .type_keys("#rule-source .cm-content", "\n// mine")
        .await;
    browser.press("保存して使用する").await;
    let text = browser.wait_for_text("保存していません").await;
    assert!(
        text.contains(&format!("v{} を保存しました", first + 3)),
        "{text}"
    );
    let now = app.get_json("/v1/rules/status?format=json").await;
    assert_eq!(now["source"], "// someone else's version\n");
    wait_until(
        &browser,
        "return document.querySelector('#rule-source .cm-content').textContent.endsWith('// mine')",
    )
    .await;
    browser.quit().await;
}

/// Issue 14 in Chromium, the Templates page's main task (C8): a marketer edits the invitation's
/// subject and sees the preview change; drops the sender's address and is told at once
/// (特定電子メール法), puts it back with a sentence added, sees it in the desktop and mobile
/// frames (with the mail's inline styles), saves, test-sends, and reads the mail from the SMTP
/// server.
#[tokio::test]
async fn issue14_c8_a_marketer_edits_a_template_with_a_live_preview_and_test_sends_it_in_chromium()
{
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let active = app.get_json("/v1/templates/career_relay_invitation").await;
    let html = active["html"].as_str().unwrap().to_owned();
    let marketer = app.user(Role::Marketer).await;
    browser.open(&app.url("/console#/templates")).await;
    browser.wait_for_text("メールアドレス").await;
    sign_in(&browser, &marketer, "marketer さん").await;
    browser.wait_for_text("使える変数").await;
    browser
        .eval(
            "const s = document.getElementById('templates-pick-name'); \
             s.value = 'career_relay_invitation'; s.dispatchEvent(new Event('change')); return null",
        )
        .await;
    browser.wait_for_text("{{sender_address}}").await;
    wait_in_frame(&browser, "#preview-desktop", "キャリアリレーに登録する").await;

    browser
        .fill("#template-form-subject", "新しいご案内 {{company_name}}")
        .await;
    wait_until(
        &browser,
        "return document.getElementById('preview-subject').textContent.startsWith('新しいご案内 ')",
    )
    .await;

    let without_address = html.replace("{{sender_address}}", "");
    browser
        .paste_over("#template-html .cm-content", &without_address)
        .await;
    let text = browser.wait_for_text("検査: 1 件の問題").await;
    assert!(text.contains("sender_address"), "{text}");

    let added = html.replace(
        "{{> footer.html}}",
        "<p>追記した一文です。</p>\n{{> footer.html}}",
    );
    browser
        .paste_over("#template-html .cm-content", &added)
        .await;
    browser.wait_for_text("検査: 問題ありません").await;
    wait_in_frame(&browser, "#preview-desktop", "追記した一文です。").await;
    wait_in_frame(&browser, "#preview-mobile", "追記した一文です。").await;
    // The frame shows the mail's inline styles, as a mail reader would.
    let background = browser
        .in_frame(
            "#preview-desktop",
            "return getComputedStyle(document.querySelector('a')).backgroundColor",
        )
        .await;
    assert_eq!(background, "rgb(26, 115, 232)");

    browser.press("保存して使用する").await;
    browser
        .wait_for_text("として保存し、使用を開始しました")
        .await;
    browser
        .fill("#test-send-form-to", "marketer@example.jp")
        .await;
    browser.press("テスト送信する").await;
    browser.wait_for_text("に送信を依頼しました").await;
    let mails = app.smtp.wait_for(1).await;
    assert_eq!(mails[0].to, vec!["marketer@example.jp"]);
    let subject = mails[0].decoded_header("Subject").unwrap();
    assert!(subject.starts_with("新しいご案内 "), "{subject}");
    assert!(mails[0]
        .part("text/html")
        .unwrap()
        .contains("追記した一文です。"));
    browser.quit().await;
}
