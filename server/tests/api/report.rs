//! C6, C8: `hirelay report --month YYYY-MM`, run as a user runs it on a database a server
//! filled: one HTML file with the month's funnel (an inline SVG chart), the breakdowns by stage
//! and reason, the slot ledger at the month's end, the targets and the ROI.
use crate::cli::{hirelay, run, stderr, stdout};
use crate::helpers::TestApp;
use hirelay::domain::role::Role;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGETS: &str = "link_clicked=0.3,registered=0.9";
/// A selection stage as a hostile ATS might send it.
const MARKUP_STAGE: &str = "<script>alert(1)</script>";

/// A database with November 2026's Career Relay month: three candidates rejected (一次面接) and
/// one at a stage sent as markup, all invited; one click, two registrations; a referral that
/// used a slot and was hired in November and one that used a slot in December; and a rejection
/// in October. Answers the stopped server's directory and database.
async fn seeded_november() -> (tempfile::TempDir, String) {
    let app = TestApp::spawn_with(&[("HIRELAY_CAREER_RELAY_RATIO", "2")]).await;
    let mails = crate::ats::rejected_and_invited(&app, 3).await;
    let token = crate::ats::tracking_token(&mails[0]);
    let clicked = app
        .client
        .get(app.url(&format!("/r/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(clicked.status(), 302);
    crate::ats::register(&app, "reg-0", &mails[0]).await;
    crate::ats::register(&app, "reg-1", &mails[1]).await;
    let markup = crate::ats::change(
        "ats-markup",
        "markup@example.jp",
        "rejected",
        "2026-11-22T18:00:00+09:00",
    )
    .replace("一次面接", MARKUP_STAGE);
    assert_eq!(
        app.deliver("ats", "markup", &markup).await["status"],
        "done"
    );
    let october = crate::ats::change(
        "ats-october",
        "october@example.jp",
        "rejected",
        "2026-10-15T10:00:00+09:00",
    );
    assert_eq!(
        app.deliver("ats", "october", &october).await["status"],
        "done"
    );
    referral(&app, "cr-ref-1", "slot_used", "2026-11-25T10:00:00+09:00").await;
    referral(&app, "cr-ref-1", "hired", "2026-11-28T10:00:00+09:00").await;
    referral(&app, "cr-ref-2", "slot_used", "2026-12-01T10:00:00+09:00").await;
    // The invitations are sent when the test runs, after November.
    wait_until_sent(&app, "from=2026-10-01", 5).await;
    app.stop().await
}

/// Career Relay reports `outcome` of referral `id` at `at`.
async fn referral(app: &TestApp, id: &str, outcome: &str, at: &str) {
    let body = json!({"type": "referral.updated", "referral_id": id, "outcome": outcome, "at": at});
    let webhook_id = format!("{id}-{outcome}");
    let event = app
        .deliver("career-relay", &webhook_id, &body.to_string())
        .await;
    assert_eq!(event["status"], "done", "{event}");
}

/// Waits until the funnel of `period` counts `sent` invitations sent (the sender marks a mail
/// sent just after the SMTP server took it).
async fn wait_until_sent(app: &TestApp, period: &str, sent: u64) {
    let viewer = app.token(Role::Viewer).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let funnel: Value = app
            .as_token(
                &viewer,
                reqwest::Method::GET,
                &format!("/v1/kpis/funnel?{period}"),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if funnel["steps"][1]["count"] == sent {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "invitations not sent: {funnel}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// `hirelay report` in `cwd` on `database_url` with the ratio of the seeded data and `extra`
/// variables.
fn report_command(cwd: &Path, database_url: &str, extra: &[(&str, &str)]) -> Command {
    let mut command = hirelay(cwd);
    command
        .arg("report")
        .env("HIRELAY_DATABASE_URL", database_url)
        .env("HIRELAY_DATA_DIR", cwd.join("data"))
        .env("HIRELAY_CAREER_RELAY_RATIO", "2");
    for (k, v) in extra {
        command.env(k, v);
    }
    command
}

/// Runs `hirelay report --month 2026-11 --out FILE`; answers the file's HTML.
fn report_file(dir: &Path, database_url: &str, extra: &[(&str, &str)], name: &str) -> String {
    let out: PathBuf = dir.join(name);
    let output = run(report_command(dir, database_url, extra)
        .args(["--month", "2026-11", "--out"])
        .arg(&out));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains(&out.display().to_string()),
        "says where it wrote: {}",
        stdout(&output)
    );
    std::fs::read_to_string(&out).unwrap()
}

/// The row of the steps table for `step`, markup and all.
fn step_row<'a>(html: &'a str, step: &str) -> &'a str {
    let start = html
        .find(&format!("<tr data-step=\"{step}\">"))
        .unwrap_or_else(|| panic!("no row of {step}"));
    let end = start + html[start..].find("</tr>").unwrap();
    &html[start..end]
}

/// C8: the file holds November's funnel (each step's count and rate, with its target), the
/// breakdowns by stage and reason, the ledger at November's end (a slot used in December not
/// yet), and nothing it would fetch or run. Without `--out` it lands in the working directory;
/// a month that is not YYYY-MM is refused, naming the form.
#[tokio::test]
async fn c8_hirelay_report_writes_the_months_figures_to_one_html_file() {
    let (dir, database_url) = seeded_november().await;
    let targets = [("HIRELAY_CAREER_RELAY_TARGETS", TARGETS)];
    let html = report_file(dir.path(), &database_url, &targets, "november.html");

    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("キャリアリレー月次レポート 2026年11月"));
    assert!(html.contains("2026-11-01 〜 2026-11-30"));
    // Each step counts what happened in November: the invitations went out when the test
    // ran, after November; both registrations imply their clicks (C5).
    let expected = [
        ("rejected", "4", "—"),
        ("invitation_sent", "0", "0.0%"),
        ("link_clicked", "2", "—"),
        ("registered", "2", "100.0%"),
        ("slot_earned", "1", "50.0%"),
        ("slot_used", "1", "100.0%"),
        ("hired", "1", "100.0%"),
        ("joined", "0", "0.0%"),
        ("retained", "0", "—"),
    ];
    for (step, count, rate) in expected {
        let row = step_row(&html, step);
        assert!(
            row.contains(&format!(
                "<td class=\"n\">{count}</td><td class=\"n\">{rate}</td>"
            )),
            "{step}: {row}"
        );
        assert!(
            html.contains(&format!("<g class=\"step\" data-step=\"{step}\">")),
            "the chart has {step}"
        );
    }
    assert!(
        html.contains(">4（—）</text>"),
        "counts and rates on the bars"
    );
    let clicked = step_row(&html, "link_clicked");
    assert!(
        clicked.contains("30.0%") && !clicked.contains("未達") && !clicked.contains("達成"),
        "no rate after no invitation in November: {clicked}"
    );
    assert!(step_row(&html, "registered").contains("90.0%</td><td class=\"met\">達成"));
    // By stage and by reason: the candidate side.
    assert!(html.contains("<tr><td>一次面接</td><td class=\"n\">3（—）</td><td class=\"n\">0（0.0%）</td><td class=\"n\">2（—）</td><td class=\"n\">2（100.0%）</td>"), "{html}");
    assert!(html.contains("<tr><td>経験年数不足</td><td class=\"n\">4（—）</td>"));
    // The ledger at November's end.
    assert!(html.contains("<h2>紹介枠（2026年11月末時点）</h2>"));
    assert!(html.contains("<tr><th>登録した不合格者</th><td>2 名（2 名で 1 枠）</td></tr>"));
    assert!(html.contains("<tr><th>獲得した紹介枠</th><td>1</td></tr>"));
    assert!(
        html.contains("<tr><th>利用した紹介枠</th><td>1</td></tr>"),
        "December's use is not counted"
    );
    assert!(html.contains("<tr><th>採用 / 入社 / 定着</th><td>1 / 0 / 0</td></tr>"));
    // Self-contained.
    for outside in ["<script", "src=", "href=", "<link", "@import", "url("] {
        assert!(!html.contains(outside), "{outside} in the report");
    }

    let output = run(report_command(dir.path(), &database_url, &[]).args(["--month", "2026-11"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let default = dir.path().join("career-relay-report-2026-11.html");
    assert!(default.exists(), "{}", stdout(&output));
    assert!(stdout(&output).contains("career-relay-report-2026-11.html"));

    for bad in ["2026-13", "2026/11", "11-2026"] {
        let output = run(report_command(dir.path(), &database_url, &[]).args(["--month", bad]));
        assert!(!output.status.success(), "{bad}");
        assert!(stderr(&output).contains("YYYY-MM"), "{}", stderr(&output));
    }
}

/// C8: a selection stage the ATS sent as markup, and a company name with markup, show as text
/// in the report file: nothing in it runs.
#[tokio::test]
async fn c8_the_report_shows_a_stage_sent_as_markup_as_text() {
    let (dir, database_url) = seeded_november().await;
    let company = [("HIRELAY_COMPANY_NAME", "株式会社<i>テスト</i>")];
    let html = report_file(dir.path(), &database_url, &company, "escaped.html");
    assert!(
        html.contains("<tr><td>&lt;script&gt;alert(1)&lt;&#x2F;script&gt;</td>")
            || html.contains("<tr><td>&lt;script&gt;alert(1)&lt;/script&gt;</td>"),
        "{html}"
    );
    assert!(!html.contains(MARKUP_STAGE));
    assert!(!html.contains("<script"));
    assert!(html.contains("株式会社&lt;i&gt;テスト&lt;"));
    assert!(!html.contains("<i>"));
}

/// C6: ROI is the month's slots used times `HIRELAY_CAREER_RELAY_FEE_PER_HIRE`; without the fee
/// the report says ROI is not configured.
#[tokio::test]
async fn c6_the_reports_roi_is_slots_used_times_the_fee_per_hire() {
    let (dir, database_url) = seeded_november().await;
    let fee = [("HIRELAY_CAREER_RELAY_FEE_PER_HIRE", "1200000")];
    let html = report_file(dir.path(), &database_url, &fee, "roi.html");
    assert!(html.contains("<tr><th>この月に利用した紹介枠</th><td>1</td></tr>"));
    assert!(html.contains("<tr><th>1 名あたりの採用費</th><td>¥1,200,000</td></tr>"));
    assert!(html.contains("<tr><th>ROI（削減した採用費）</th><td>¥1,200,000</td></tr>"));

    let html = report_file(dir.path(), &database_url, &[], "no-fee.html");
    assert!(html.contains("<tr><th>ROI（削減した採用費）</th><td>未設定</td></tr>"));
    assert!(html.contains("HIRELAY_CAREER_RELAY_FEE_PER_HIRE"));

    let bad = run(report_command(
        dir.path(),
        &database_url,
        &[("HIRELAY_CAREER_RELAY_FEE_PER_HIRE", "-5")],
    )
    .args(["--month", "2026-11"]));
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("HIRELAY_CAREER_RELAY_FEE_PER_HIRE"));
}

/// C5, C8 in Chromium: the report file, opened from disk, shows the funnel's chart with every
/// step.
#[tokio::test]
async fn c8_the_report_file_shows_the_funnel_chart_in_chromium() {
    let Some(browser) = crate::browser::Browser::start().await else {
        return;
    };
    let (dir, database_url) = seeded_november().await;
    let out = dir.path().join("chart.html");
    report_file(dir.path(), &database_url, &[], "chart.html");
    browser.open(&format!("file://{}", out.display())).await;
    assert_eq!(
        browser.title().await,
        "キャリアリレー月次レポート 2026年11月 - 採用担当"
    );
    let steps = browser
        .eval(
            "return Array.from(document.querySelectorAll('svg#funnel-chart g.step'))\
             .map(g => g.getAttribute('data-step') + ' ' + g.textContent)",
        )
        .await;
    assert_eq!(
        steps,
        json!([
            "rejected 不合格4（—）",
            "invitation_sent 案内メール送信0（0.0%）",
            "link_clicked リンククリック2（—）",
            "registered 紹介登録済2（100.0%）",
            "slot_earned 紹介枠獲得1（50.0%）",
            "slot_used 紹介枠利用1（100.0%）",
            "hired 採用1（100.0%）",
            "joined 入社0（0.0%）",
            "retained 定着0（—）"
        ])
    );
    let drawn = browser
        .eval("return document.querySelector('svg#funnel-chart').getBBox().width > 0")
        .await;
    assert_eq!(drawn, true, "the chart is drawn");
    assert_eq!(browser.eval("return document.scripts.length").await, 0);
    browser.quit().await;
}
