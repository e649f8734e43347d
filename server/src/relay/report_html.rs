//! C8: the monthly report as one self-contained HTML file (`hirelay report --month`): inline
//! CSS, the funnel drawn here as inline SVG, no script and nothing fetched from elsewhere, so it
//! can be mailed on, archived or opened offline. Stages, reasons and the company name come from
//! outside: every value is escaped.
use std::fmt::Write;

use super::report::{MonthReport, ReportGroup, ReportStep};

/// The file `hirelay report` writes when not told where: `career-relay-report-2026-11.html`.
pub fn default_file_name(report: &MonthReport) -> String {
    format!("career-relay-report-{}.html", report.month_code)
}

/// Text and attribute values made safe for HTML (and so for SVG inside it).
fn esc(text: &str) -> String {
    handlebars::html_escape(text)
}

const STYLE: &str = "body{font-family:'Hiragino Sans','Noto Sans JP','Yu Gothic',sans-serif;\
color:#222;margin:32px auto;max-width:860px;padding:0 16px;line-height:1.5}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}\
table{border-collapse:collapse;margin:0 0 8px}th,td{padding:4px 12px 4px 0;text-align:left;vertical-align:top}\
td.n,th.n{text-align:right}thead th{border-bottom:1px solid #ccc;color:#555;font-weight:600}\
.met{color:#1a7f37}.missed{color:#c62828}.muted{color:#777}svg text{font-size:13px}";

/// The width of the chart's bars at the largest count, and where they start.
const BAR_MAX: f64 = 380.0;
const BAR_X: f64 = 150.0;
const ROW: usize = 30;

/// The report as a complete HTML document.
pub fn render(report: &MonthReport) -> String {
    let mut html = String::new();
    let title = format!(
        "キャリアリレー月次レポート {} - {}",
        report.month, report.company_name
    );
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>キャリアリレー月次レポート {}</h1>\n<p>{} ／ 期間 {} 〜 {}（日本時間）</p>\n",
        esc(&title),
        esc(&report.month),
        esc(&report.company_name),
        esc(&report.period_from),
        esc(&report.period_to),
    );
    html.push_str("<h2>ファネル</h2>\n");
    html.push_str(&chart(&report.steps));
    html.push_str(&steps_table(report));
    html.push_str("<h2>選考段階別（不合格時の段階）</h2>\n");
    html.push_str(&groups_table("選考段階", &report.by_stage));
    html.push_str("<h2>不合格理由別</h2>\n");
    html.push_str(&groups_table("不合格理由", &report.by_reason));
    html.push_str(&ledger_table(report));
    html.push_str(&targets_table(report));
    html.push_str(&roi_table(report));
    html.push_str("<p class=\"muted\">hirelay が作成しました。</p>\n</body>\n</html>\n");
    html
}

/// C5: the funnel as horizontal bars, each with its count and its rate from the step before.
fn chart(steps: &[ReportStep]) -> String {
    let max = steps.iter().map(|s| s.count).max().unwrap_or(0).max(1) as f64;
    let height = steps.len() * ROW + 10;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg id=\"funnel-chart\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" \
         width=\"720\" height=\"{height}\" viewBox=\"0 0 720 {height}\">\
         <title>ファネル（各ステップの件数と前ステップからの率）</title>"
    );
    for (i, step) in steps.iter().enumerate() {
        let y = i * ROW + 5;
        let width = (step.count as f64 / max * BAR_MAX).max(1.0);
        let _ = writeln!(
            svg,
            "<g class=\"step\" data-step=\"{name}\">\
             <text x=\"0\" y=\"{ty}\">{label}</text>\
             <rect x=\"{BAR_X}\" y=\"{y}\" width=\"{width:.1}\" height=\"20\" fill=\"#3b82c4\"></rect>\
             <text x=\"{tx:.1}\" y=\"{ty}\">{count}（{rate}）</text></g>",
            name = esc(step.name),
            label = esc(step.label),
            ty = y + 15,
            tx = BAR_X + width + 8.0,
            count = step.count,
            rate = esc(&step.rate),
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Each step with its count, rate, and target when it has one.
fn steps_table(report: &MonthReport) -> String {
    let mut html = String::from(
        "<table id=\"steps\">\n<thead><tr><th>ステップ</th><th class=\"n\">件数</th>\
         <th class=\"n\">前ステップから</th><th class=\"n\">目標</th><th>結果</th></tr></thead>\n<tbody>\n",
    );
    for step in &report.steps {
        let target = report.targets.iter().find(|t| t.label == step.label);
        let (goal, result, class) = match target {
            Some(t) => (t.target.as_str(), t.result, met_class(t.met)),
            None => ("", "", ""),
        };
        let _ = writeln!(
            html,
            "<tr data-step=\"{}\"><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"{class}\">{}</td></tr>",
            esc(step.name),
            esc(step.label),
            step.count,
            esc(&step.rate),
            esc(goal),
            esc(result),
        );
    }
    html.push_str("</tbody>\n</table>\n");
    html
}

fn met_class(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "met",
        Some(false) => "missed",
        None => "",
    }
}

/// C7: one row per stage (or reason), a column per candidate-side step: `count（rate）`.
fn groups_table(key_label: &str, groups: &[ReportGroup]) -> String {
    let Some(first) = groups.first() else {
        return "<p class=\"muted\">この月の不合格はありません。</p>\n".to_owned();
    };
    let mut html = format!("<table>\n<thead><tr><th>{}</th>", esc(key_label));
    for step in &first.steps {
        let _ = write!(html, "<th class=\"n\">{}</th>", esc(step.label));
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    for group in groups {
        let _ = write!(html, "<tr><td>{}</td>", esc(&group.key));
        for step in &group.steps {
            let _ = write!(
                html,
                "<td class=\"n\">{}（{}）</td>",
                step.count,
                esc(&step.rate)
            );
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody>\n</table>\n");
    html
}

/// C1, C6: the slot ledger at the month's end.
fn ledger_table(report: &MonthReport) -> String {
    let l = &report.ledger;
    let rows = [
        (
            "登録した不合格者",
            format!("{} 名（{} 名で 1 枠）", l.registered, l.ratio),
        ),
        ("獲得した紹介枠", l.slots_earned.to_string()),
        ("利用した紹介枠", l.slots_used.to_string()),
        ("残りの紹介枠", l.slots_available.to_string()),
        (
            "採用 / 入社 / 定着",
            format!("{} / {} / {}", l.hired, l.joined, l.retained),
        ),
    ];
    let mut html = format!(
        "<h2>紹介枠（{}末時点）</h2>\n<table id=\"ledger\">\n",
        esc(&report.month)
    );
    for (label, value) in rows {
        let _ = writeln!(html, "<tr><th>{label}</th><td>{}</td></tr>", esc(&value));
    }
    html.push_str("</table>\n");
    html
}

/// C5: each target and whether the month met it.
fn targets_table(report: &MonthReport) -> String {
    let mut html = String::from("<h2>目標</h2>\n");
    if report.targets.is_empty() {
        html.push_str(
            "<p class=\"muted\">目標は設定されていません（HIRELAY_CAREER_RELAY_TARGETS）。</p>\n",
        );
        return html;
    }
    html.push_str(
        "<table id=\"targets\">\n<thead><tr><th>ステップ</th><th class=\"n\">目標</th>\
         <th class=\"n\">実績</th><th>結果</th></tr></thead>\n<tbody>\n",
    );
    for t in &report.targets {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"{}\">{}</td></tr>",
            esc(t.label),
            esc(&t.target),
            esc(&t.rate),
            met_class(t.met),
            esc(t.result),
        );
    }
    html.push_str("</tbody>\n</table>\n");
    html
}

/// C6: slots used in the month × the fee per hire, or why there is no amount.
fn roi_table(report: &MonthReport) -> String {
    let roi = &report.roi;
    let mut html = String::from("<h2>ROI</h2>\n<table id=\"roi\">\n");
    let _ = writeln!(
        html,
        "<tr><th>この月に利用した紹介枠</th><td>{}</td></tr>\n\
         <tr><th>1 名あたりの採用費</th><td>{}</td></tr>\n\
         <tr><th>ROI（削減した採用費）</th><td>{}</td></tr>",
        roi.slots_used,
        esc(&roi.fee_text),
        esc(&roi.amount_text),
    );
    html.push_str("</table>\n");
    if !roi.configured {
        html.push_str(
            "<p class=\"muted\">ROI は HIRELAY_CAREER_RELAY_FEE_PER_HIRE（円）を設定すると計算されます。</p>\n",
        );
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relay::ledger::Ledger;
    use crate::relay::report::Roi;
    use crate::store::referrals::ReferralCounts;

    fn step(name: &'static str, count: u64) -> ReportStep {
        ReportStep {
            name,
            label: name,
            count,
            rate: "—".into(),
        }
    }

    fn report(stage: &str) -> MonthReport {
        MonthReport {
            company_name: "株式会社<b>".into(),
            month: "2026年11月".into(),
            month_code: "2026-11".into(),
            period_from: "2026-11-01".into(),
            period_to: "2026-11-30".into(),
            ledger: Ledger::new(ReferralCounts::default(), 10),
            steps: vec![step("rejected", 4), step("registered", 1)],
            by_stage: vec![ReportGroup {
                key: stage.into(),
                steps: vec![step("rejected", 4)],
            }],
            by_reason: vec![],
            targets: vec![],
            roi: Roi::new(0, None),
        }
    }

    /// C8: what came from outside is text, never markup; the file needs nothing else.
    #[test]
    fn c8_the_report_file_escapes_every_value_and_is_self_contained() {
        let html = render(&report("<script>alert(1)</script>"));
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("株式会社&lt;b&gt;"));
        assert!(!html.contains("src=") && !html.contains("href="));
        assert!(html.contains("<svg id=\"funnel-chart\""));
        assert_eq!(html.matches("<g class=\"step\"").count(), 2);
        assert_eq!(
            default_file_name(&report("x")),
            "career-relay-report-2026-11.html"
        );
    }
}
