//! The console's Events & mail and Outbox pages and the dashboard's charts, in a real headless
//! Chromium (issue 14): an admin replays an event a broken script failed, a marketer cancels a
//! scheduled mail seeing addresses by domain only, an HR manager reads the funnel chart (C5) and
//! splits it by a candidate attribute from the menu (C7); and every page of the navigation is
//! visited (and, with `HIRELAY_SCREENSHOTS=DIR`, photographed at desktop and phone widths).
use std::time::Duration;

use crate::browser::Browser;
use crate::console::{sign_in, wait_until};
use crate::helpers::{repo_root, TestApp};
use hirelay::domain::role::Role;
use serde_json::{json, Value};

/// Waits (10 s at most) until `check` holds for the event `id` as the API shows it.
async fn wait_for_event(app: &TestApp, id: &str, check: impl Fn(&Value) -> bool) -> Value {
    let mut event = Value::Null;
    for _ in 0..200 {
        event = app.get_json(&format!("/v1/events/{id}")).await;
        if check(&event) {
            return event;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("event {id} never reached the state wanted: {event}");
}

/// A status script that fails every event, as a script with a mistake does.
const BROKEN: &str = "throw \"boom: the script is broken\";";

/// Delivers an ATS rejection that the broken script fails; answers the event.
async fn failed_event(app: &TestApp, webhook_id: &str, email: &str) -> Value {
    app.activate_rule("status", BROKEN).await;
    let body = crate::ats::change(webhook_id, email, "rejected", "2026-11-21T18:00:00+09:00");
    let event = app.deliver("ats", webhook_id, &body).await;
    assert_eq!(event["status"], "failed", "{event}");
    event
}

/// The shipped status script, which handles a rejection.
fn shipped_status_script() -> String {
    std::fs::read_to_string(repo_root().join("rules/status.rhai")).unwrap()
}

/// Issue 14 (contract: a failed event can be replayed once its script is fixed): an admin
/// filters the event log to the failed events, reads the decision record with the script's
/// error, replays one event after the script is fixed through the API and sees it done, then
/// replays the rest with the filter (every failed event).
#[tokio::test]
async fn issue14_an_admin_replays_a_failed_event_after_fixing_its_script_in_chromium() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let other = failed_event(&app, "ats-broken-2", "broken2@example.jp").await;
    let other = other["id"].as_str().unwrap().to_owned();
    let event = failed_event(&app, "ats-broken", "broken@example.jp").await;
    let id = event["id"].as_str().unwrap().to_owned();
    app.activate_rule("status", &shipped_status_script()).await;

    let admin = app.user(Role::Admin).await;
    browser.open(&app.url("/console#/events")).await;
    browser.wait_for_text("メールアドレス").await;
    sign_in(&browser, &admin, "イベントとメール").await;
    assert_eq!(browser.title().await, "イベントとメール - hirelay");
    // The title is set before the page's data has come: the filter is drawn with it.
    wait_until(&browser, "return !!document.getElementById('event-filter')").await;
    browser
        .eval("const f = document.getElementById('event-filter'); f.elements.status.value = 'failed'; return null")
        .await;
    browser.press("絞り込む").await;
    let row = format!("#events tr[data-event='{id}']");
    wait_until(
        &browser,
        &format!("return !!document.querySelector(\"{row}\")"),
    )
    .await;
    assert_eq!(
        browser
            .eval("return [...document.querySelectorAll('#events tr')].map(r => r.dataset.status).join()")
            .await,
        "failed,failed",
        "only the failed events are listed"
    );
    browser
        .eval(&format!(
            "document.querySelector(\"{row} button\").click(); return null"
        ))
        .await;
    let text = browser.wait_for_text(&format!("判定の記録: {id}")).await;
    assert!(text.contains("boom: the script is broken"), "{text}");
    assert!(text.contains("status"), "the script's name: {text}");

    browser
        .eval(&format!(
            "document.querySelectorAll(\"{row} button\")[1].click(); return null"
        ))
        .await;
    browser
        .wait_for_text(&format!("イベント {id} を再実行します"))
        .await;
    let done = wait_for_event(&app, &id, |e| e["status"] == "done").await;
    let decisions = done["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), 2, "the replay added a decision: {done}");
    assert!(decisions[1]["error"].is_null(), "{done}");

    // The other failed event, with every event the filter shows (still: failed).
    wait_until(
        &browser,
        &format!("return !document.querySelector(\"{row}[data-status=failed]\")"),
    )
    .await;
    browser
        .eval("window.confirm = () => true; return null")
        .await;
    browser.press("この条件のイベントを再実行").await;
    browser.wait_for_text("1 件のイベントを再実行します").await;
    wait_for_event(&app, &other, |e| e["status"] == "done").await;

    browser
        .eval("const f = document.getElementById('event-filter'); f.elements.status.value = 'done'; return null")
        .await;
    browser.press("絞り込む").await;
    wait_until(
        &browser,
        &format!("return document.querySelector(\"{row}\")?.dataset.status === 'done'"),
    )
    .await;
    let audit = app.get_json("/v1/audit-log").await;
    assert!(
        audit.to_string().contains("event.replay"),
        "the replay is in the audit log: {audit}"
    );
    browser.quit().await;
}

/// Issue 14: a time filter the server cannot read is refused beside its field (never a 500),
/// and the other filters the admin chose stay; the filtered replay refuses to replay everything.
#[tokio::test]
async fn issue14_the_event_filters_are_checked_by_the_server() {
    let app = TestApp::spawn().await;
    for (query, field) in [
        ("since=yesterday", "since"),
        ("until=2026-13-01T00:00:00Z", "until"),
        ("source=mail", "source"),
        ("status=lost", "status"),
    ] {
        let res = app
            .admin(reqwest::Method::GET, &format!("/v1/events?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{query}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["field"], field, "{body}");
    }
    let (status, body) = app
        .post_json("/v1/events/replay", &json!({"source": "nowhere"}))
        .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (400, json!("source"))
    );
}

/// Issue 14: the event log filters by source and by the time received, as the page asks.
#[tokio::test]
async fn issue14_events_are_filtered_by_source_and_time() {
    let app = TestApp::spawn().await;
    let event = failed_event(&app, "ats-filter", "filter@example.jp").await;
    let id = event["id"].as_str().unwrap();
    let ids = |v: Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(app.get_json("/v1/events?source=ats").await), [id]);
    assert!(ids(app.get_json("/v1/events?source=bizreach").await).is_empty());
    let received = event["received_at"].as_str().unwrap();
    let before =
        chrono::DateTime::parse_from_rfc3339(received).unwrap() - chrono::Duration::seconds(1);
    let since = urlencoding(&before.to_rfc3339());
    assert_eq!(
        ids(app.get_json(&format!("/v1/events?since={since}")).await),
        [id]
    );
    assert!(ids(app.get_json(&format!("/v1/events?until={since}")).await).is_empty());
    // A filtered replay takes the same filter.
    app.activate_rule("status", &shipped_status_script()).await;
    let (status, body) = app
        .post_json("/v1/events/replay", &json!({"source": "bizreach"}))
        .await;
    assert_eq!((status, body["replayed"].clone()), (202, json!(0)));
    let (status, body) = app
        .post_json(
            "/v1/events/replay",
            &json!({"source": "ats", "status": "failed"}),
        )
        .await;
    assert_eq!((status, body["replayed"].clone()), (202, json!(1)));
    wait_for_event(&app, id, |e| e["status"] == "done").await;
}

/// `+` and `:` of an RFC 3339 time made safe for a query string.
fn urlencoding(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

/// C8 (the outbox; a marketer never sees candidates' addresses in full): a marketer opens the
/// outbox, sees the scheduled invitation with its address by domain only, and cancels it.
#[tokio::test]
async fn c8_a_marketer_cancels_a_scheduled_mail_in_the_outbox_in_chromium() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let send_at = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    app.activate_rule(
        "status",
        &format!("if event.to_status == \"rejected\" {{ invite_at(\"{send_at}\"); }}"),
    )
    .await;
    let body = crate::ats::change(
        "ats-outbox",
        "hidden.person@example.jp",
        "rejected",
        "2026-11-21T18:00:00+09:00",
    );
    assert_eq!(
        app.deliver("ats", "outbox-1", &body).await["status"],
        "done"
    );

    let marketer = app.user(Role::Marketer).await;
    browser.open(&app.url("/console#/outbox")).await;
    browser.wait_for_text("メールアドレス").await;
    sign_in(&browser, &marketer, "送信箱").await;
    let text = browser.wait_for_text("***@example.jp").await;
    assert!(!text.contains("hidden.person"), "{text}");
    assert!(text.contains("予約済み"), "{text}");
    assert!(
        !text.contains("イベント"),
        "a marketer sees no event log: {text}"
    );
    browser
        .eval("window.confirm = () => true; return null")
        .await;
    browser.press("取り消す").await;
    browser.wait_for_text("メールを取り消しました").await;
    wait_until(
        &browser,
        "return document.querySelector('#mails tr')?.dataset.status === 'cancelled'",
    )
    .await;
    let cancelled = app.get_json("/v1/outbox?status=cancelled").await;
    let items = cancelled["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{cancelled}");
    assert_eq!(
        items[0]["recipient"], "hidden.person@example.jp",
        "an admin sees it in full"
    );
    assert!(
        items[0]["cancel_reason"]
            .as_str()
            .unwrap()
            .contains("cancelled by"),
        "{cancelled}"
    );
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('#mails button').length")
            .await,
        0,
        "a cancelled mail offers no cancel"
    );
    browser.quit().await;
}

/// C5, C7 in Chromium: an HR manager reads the funnel chart (each step's bar, its count and its
/// rate from the step before, the target mark and whether it is met), the monthly trend, and
/// splits the funnel by a candidate attribute chosen from the menu the API fills (C7).
#[tokio::test]
async fn c5_an_hr_manager_reads_the_funnel_chart_in_chromium() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn_with(&[
        ("HIRELAY_CAREER_RELAY_RATIO", "2"),
        (
            "HIRELAY_CAREER_RELAY_TARGETS",
            "registered=0.5,link_clicked=0.9",
        ),
    ])
    .await;
    let mails = crate::ats::rejected_and_invited(&app, 4).await;
    crate::ats::register(&app, "reg-0", &mails[0]).await;
    crate::ats::register(&app, "reg-1", &mails[1]).await;

    browser.open(&app.url("/console")).await;
    browser.wait_for_text("メールアドレス").await;
    let viewer = app.user(Role::Viewer).await;
    sign_in(&browser, &viewer, "獲得した紹介枠").await;
    wait_until(
        &browser,
        "return !!document.querySelector('#funnel-chart g.step')",
    )
    .await;
    let bars = browser
        .eval(
            "return [...document.querySelectorAll('#funnel-chart g.step')].slice(0, 5).map(g => \
             [g.dataset.step, g.querySelector('text.label').textContent, g.querySelector('text.value').textContent, \
              Number(g.querySelector('rect').getAttribute('width')), g.querySelector('rect').getAttribute('class'), \
              !!g.querySelector('line.target')])",
        )
        .await;
    assert_eq!(
        bars,
        json!([
            ["rejected", "不合格", "4", 330, "bar", false],
            [
                "invitation_sent",
                "案内メール送信",
                "4 (100.0%)",
                330,
                "bar",
                false
            ],
            [
                "link_clicked",
                "リンククリック",
                "2 (50.0%)",
                165,
                "bar off",
                true
            ],
            [
                "registered",
                "紹介登録済",
                "2 (100.0%)",
                165,
                "bar on",
                true
            ],
            ["slot_earned", "紹介枠獲得", "1 (50.0%)", 82.5, "bar", false],
        ]),
        "bars as long as their counts, rates from the step before, targets met or missed"
    );
    let target_x = browser
        .eval("return Number(document.querySelector('#funnel-chart g[data-step=link_clicked] line.target').getAttribute('x1'))")
        .await;
    assert_eq!(
        target_x,
        json!(447),
        "at 90 % of the step before: 150 + 330 × 0.9"
    );
    let chart_name = browser
        .eval("return document.getElementById('funnel-chart-desc').textContent")
        .await;
    assert!(
        chart_name
            .as_str()
            .unwrap()
            .contains("紹介登録済: 2 (100.0%)"),
        "screen readers get the figures: {chart_name}"
    );
    // The trend has a bar per month and step; over the months they add up to the funnel's.
    let trend = browser
        .eval(
            "const sums = {}; for (const g of document.querySelectorAll('#trend-chart g.point')) \
             sums[g.dataset.step] = (sums[g.dataset.step] || 0) + Number(g.querySelector('text').textContent); \
             return [document.querySelectorAll('#trend-chart g.month').length > 0, sums]",
        )
        .await;
    assert_eq!(
        trend,
        json!([true, {"rejected": 4, "invitation_sent": 4, "link_clicked": 2, "registered": 2}])
    );

    // C7: the menu lists the candidates' attributes the API found; the split is shown.
    let options = browser
        .eval("return [...document.getElementById('group_by').options].map(o => o.value + '=' + o.textContent)")
        .await;
    assert!(
        options
            .as_array()
            .unwrap()
            .contains(&json!("attribute:age=属性: age")),
        "{options}"
    );
    browser
        .eval("document.getElementById('group_by').value = 'attribute:age'; return null")
        .await;
    browser.press("表示").await;
    wait_until(
        &browser,
        "return [...document.querySelectorAll('#groups h3')].map(h => h.textContent).join() === '35'",
    )
    .await;
    browser.quit().await;
}

/// C7, C8: the attributes the breakdown menu offers, and the month's report as the HTML file
/// `hirelay report` writes, for a viewer; a month that is not one is refused naming the field.
#[tokio::test]
async fn c8_a_viewer_downloads_the_months_report_and_lists_the_attributes() {
    let app = TestApp::spawn().await;
    let viewer = app.token(Role::Viewer).await;
    let get = |path: &'static str| app.as_token(&viewer, reqwest::Method::GET, path).send();
    let empty: Value = get("/v1/kpis/funnel/attributes")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(empty["items"], json!([]));
    crate::ats::rejected_and_invited(&app, 1).await;
    let listed: Value = get("/v1/kpis/funnel/attributes")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"], json!(["age"]));

    let res = get("/v1/career-relay/report?month=2026-11").await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"career-relay-report-2026-11.html\""
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("2026年11月"), "{html}");
    assert!(!html.contains("r0@example.jp"), "counts only, no addresses");
    let res = get("/v1/career-relay/report?month=2026-13").await.unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["field"], "month", "{body}");
}

/// Whether the page shows an error: an alert, a form's or a field's error line, or a message
/// in error, with text in it.
const ERROR_SHOWN: &str =
    "return [...document.querySelectorAll('[role=alert], .error, .form-error, .field-error')]\
     .map(e => e.textContent.trim()).filter(t => t).join(' | ')";

/// Issue 14: every page the navigation offers an admin on a seeded instance opens without an
/// error (its heading shown, nothing loading); with `HIRELAY_SCREENSHOTS=DIR` each is saved as
/// `DIR/{page}-desktop.png` (1280×800), `DIR/{page}-mobile.png` (390×844) and
/// `DIR/{page}-full.png` (the whole page, 1280 wide), in Japanese, with the sign-in page first. The pages come from the navigation, so pages added later are in.
#[tokio::test]
async fn issue14_every_page_opens_without_an_error_and_is_photographed() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let shots = std::env::var_os("HIRELAY_SCREENSHOTS").map(std::path::PathBuf::from);
    if let Some(dir) = &shots {
        std::fs::create_dir_all(dir).unwrap();
    }
    let app = TestApp::spawn_with(&[
        ("HIRELAY_CAREER_RELAY_RATIO", "2"),
        (
            "HIRELAY_CAREER_RELAY_TARGETS",
            "registered=0.3,link_clicked=0.6",
        ),
    ])
    .await;
    // Seed: rejections with invitations, registrations, a failed event and a scheduled mail.
    let mails = crate::ats::rejected_and_invited(&app, 5).await;
    crate::ats::register(&app, "reg-0", &mails[0]).await;
    crate::ats::register(&app, "reg-1", &mails[1]).await;
    failed_event(&app, "ats-shot-failed", "failed@example.jp").await;
    let send_at = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    app.activate_rule(
        "status",
        &format!("if event.to_status == \"rejected\" {{ invite_at(\"{send_at}\"); }}"),
    )
    .await;
    let later = crate::ats::change(
        "ats-shot-later",
        "later@example.jp",
        "rejected",
        "2026-11-25T18:00:00+09:00",
    );
    app.deliver("ats", "ats-shot-later", &later).await;

    // Each page at the top, at desktop and phone sizes, and the whole page at desktop width.
    let save = |name: String| {
        let browser = &browser;
        let shots = shots.clone();
        async move {
            let Some(dir) = shots else { return };
            let full = browser
                .eval("return Math.min(document.documentElement.scrollHeight, 4000)")
                .await
                .as_u64()
                .unwrap() as u32;
            for (size, width, height) in [
                ("desktop", 1280, 800),
                ("mobile", 390, 844),
                ("full", 1280, full.max(800)),
            ] {
                browser.resize(width, height).await;
                browser.eval("window.scrollTo(0, 0); return null").await;
                tokio::time::sleep(Duration::from_millis(300)).await;
                let png = browser.screenshot().await;
                assert_eq!(&png[1..4], b"PNG", "{name}-{size}");
                std::fs::write(dir.join(format!("{name}-{size}.png")), png).unwrap();
            }
            browser.resize(1280, 800).await;
        }
    };
    browser.resize(1280, 800).await;
    browser.open(&app.url("/console")).await;
    browser.wait_for_text("メールアドレス").await;
    save("signin".to_owned()).await;
    let admin = app.user(Role::Admin).await;
    sign_in(&browser, &admin, "ログアウト").await;
    let links = browser
        .eval("return [...document.querySelectorAll('#nav a')].map(a => [a.getAttribute('href'), a.textContent])")
        .await;
    let links = links.as_array().unwrap().clone();
    assert!(links.len() >= 9, "{links:?}");
    for link in links {
        let (href, label) = (link[0].as_str().unwrap(), link[1].as_str().unwrap());
        let page = href.trim_start_matches("#/");
        // The page shown now is marked, so that the wait below sees the next one's heading.
        browser
            .eval(&format!("for (const e of document.querySelectorAll('main > *')) e.setAttribute('data-old', '1'); location.hash = '{href}'; return null"))
            .await;
        wait_until(
            &browser,
            &format!("return document.querySelector('#nav a[aria-current=page]')?.textContent === '{label}'"),
        )
        .await;
        wait_until(
            &browser,
            "return !document.querySelector('main [data-old]') && !!document.querySelector('main h1') && !document.querySelector('main').innerText.includes('読み込み中')",
        )
        .await;
        // Let the page's lists arrive.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let error = browser.eval(ERROR_SHOWN).await;
        assert_eq!(error, "", "{page} shows an error");
        assert_eq!(
            browser
                .eval("return document.querySelectorAll('main h1').length")
                .await,
            1,
            "{page} is shown once"
        );
        assert_eq!(
            browser.eval("return document.documentElement.lang").await,
            "ja"
        );
        save(page.to_owned()).await;
    }
    browser.quit().await;
}
