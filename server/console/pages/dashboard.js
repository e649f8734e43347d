// The Career Relay dashboard (C5, C7, C8): the slot ledger, the funnel as a chart (counts, rates
// from the step before, targets) and as a table, the monthly trend, a breakdown by stage, reason
// or a candidate attribute (from the menu, or from the page's address:
// `/console?from=…&to=…&group_by=attribute:age`), the CSV for BI and the month's report.
// Everything shown is set as text, never as HTML.
import { get } from "../api.js";
import { lang } from "../i18n.js";
import { clearErrors, el, field, form, showError } from "../ui.js";
import { funnelChart, trendChart } from "./charts.js";

const WORDS = {
  ja: {
    title: "キャリアリレー ダッシュボード",
    sub: "不合格者の登録で得た紹介枠と、不合格から紹介採用までのファネル。",
    from: "開始日",
    to: "終了日",
    group_by: "内訳",
    none: "なし",
    month: "月別",
    stage: "選考段階別",
    reason: "不合格理由別",
    show: "表示",
    ledger: "紹介枠",
    funnel: "ファネル",
    step: "ステップ",
    count: "件数",
    rate: "前ステップからの率",
    target: "目標",
    csv: "CSV",
    csv_note: "(BI 向け: 不合格 1 件につき 1 行)",
    loading: "読み込み中…",
    updated: "更新しました",
    ledger_labels: ["登録した不合格者", "1 枠あたりの登録数", "獲得した紹介枠", "利用した紹介枠", "残りの紹介枠", "採用", "入社", "定着"],
    attribute: "属性: {key}",
    chart: "ファネル (件数と前ステップからの率)",
    trend: "月別の推移",
    trend_none: "この期間に動きのあった月はありません。",
    breakdown: "内訳",
    report: "月次レポート",
    report_intro: "その月のファネル、選考段階別・理由別の内訳、紹介枠、目標と ROI を 1 つの HTML ファイルで。",
    report_month: "対象月",
    report_download: "ダウンロード",
    steps: {},
  },
  en: {
    title: "Career Relay dashboard",
    sub: "Referral slots earned by registered rejected candidates, and the funnel from rejection to a referred hire.",
    from: "From",
    to: "To",
    group_by: "Split by",
    none: "none",
    month: "month",
    stage: "selection stage",
    reason: "rejection reason",
    show: "Show",
    ledger: "Referral slots",
    funnel: "Funnel",
    step: "Step",
    count: "Count",
    rate: "Rate from previous step",
    target: "Target",
    csv: "CSV",
    csv_note: "(for BI: one row per rejection)",
    loading: "Loading…",
    updated: "Updated",
    ledger_labels: ["Registered rejected candidates", "Registrations per slot", "Slots earned", "Slots used", "Slots available", "Hired", "Joined", "Retained"],
    attribute: "attribute: {key}",
    chart: "Funnel (counts and rates from the previous step)",
    trend: "Monthly trend",
    trend_none: "Nothing happened in any month of this period.",
    breakdown: "Breakdown",
    report: "Monthly report",
    report_intro: "The month's funnel, its breakdown by stage and by reason, the slots, the targets and the ROI, as one HTML file.",
    report_month: "Month",
    report_download: "Download",
    steps: {
      rejected: "Rejected", invitation_sent: "Invitation sent", link_clicked: "Link clicked", registered: "Registered",
      slot_earned: "Slot earned", slot_used: "Slot used", hired: "Hired", joined: "Joined", retained: "Retained",
    },
  },
};
/** The steps the monthly trend draws. */
const TREND = ["rejected", "invitation_sent", "link_clicked", "registered"];
const LEDGER_KEYS = ["registered", "ratio", "slots_earned", "slots_used", "slots_available", "hired", "joined", "retained"];
const FILTERS = ["from", "to", "group_by"];

function rate(value) {
  return value === null || value === undefined ? "—" : (value * 100).toFixed(1) + "%";
}

/** Steps with their label in the chosen language (the API's is Japanese). */
function labelled(steps, w) {
  return steps.map((step) => ({ ...step, label: w.steps[step.name] || step.label || step.name }));
}

/** Downloads what `path` answers as the file `name`; throws the API's error. */
async function download(path, name) {
  const blob = await (await get(path)).blob();
  const link = el("a", { href: URL.createObjectURL(blob), download: name });
  link.click();
  URL.revokeObjectURL(link.href);
}

/** The month before this one, `YYYY-MM`. */
function lastMonth() {
  const d = new Date();
  d.setDate(1);
  d.setMonth(d.getMonth() - 1);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`;
}

function stepRows(steps) {
  return steps.map((step) => {
    const target = el("td", {}, step.target_rate === undefined ? "" : rate(step.target_rate));
    if (step.on_target === true) target.className = "on";
    if (step.on_target === false) target.className = "off";
    return el("tr", {}, el("td", {}, step.label || step.name), el("td", {}, step.count), el("td", {}, rate(step.rate_from_previous)), target);
  });
}

export async function render(main) {
  const w = WORDS[lang()];
  document.title = `${w.title} - hirelay`;
  const input = (id, type) => el("input", { id, name: id, type });
  const groupBy = el(
    "select",
    { id: "group_by", name: "group_by" },
    el("option", { value: "" }, w.none),
    el("option", { value: "month" }, w.month),
    el("option", { value: "stage" }, w.stage),
    el("option", { value: "reason" }, w.reason)
  );
  const message = el("p", { id: "message", role: "status" });
  const ledger = el("section", { id: "ledger", hidden: true }, el("h2", {}, w.ledger), el("dl", { id: "ledger-figures" }));
  const steps = el("tbody", { id: "funnel-steps" });
  const chart = el("figure", { id: "funnel-figure", className: "chart-box" });
  const trend = el("section", { id: "trend", hidden: true }, el("h2", {}, w.trend), el("figure", { className: "chart-box" }));
  const groups = el("div", { id: "groups" });
  const exportLink = el("a", { id: "export", href: "/v1/kpis/export.csv" }, w.csv);
  const funnel = el(
    "section",
    { id: "funnel", hidden: true },
    el("h2", {}, w.funnel),
    chart,
    el("table", {}, el("thead", {}, el("tr", {}, el("th", { scope: "col" }, w.step), el("th", { scope: "col" }, w.count), el("th", { scope: "col" }, w.rate), el("th", { scope: "col" }, w.target))), steps),
    el("h3", { id: "breakdown-title", hidden: true }, w.breakdown),
    groups,
    el("p", {}, exportLink, " ", w.csv_note)
  );
  const reportForm = form(
    "report",
    (event) => getReport(event),
    field("report", { name: "month", label: w.report_month, type: "month", value: lastMonth(), required: true }),
    el("button", { type: "submit" }, w.report_download)
  );
  const report = el("section", { id: "month-report" }, el("h2", {}, w.report), el("p", { className: "sub" }, w.report_intro), reportForm);
  const query = el(
    "form",
    { id: "query", className: "inline" },
    el("label", {}, w.from, input("from", "date")),
    el("label", {}, w.to, input("to", "date")),
    el("label", {}, w.group_by, groupBy),
    el("button", { type: "submit" }, w.show)
  );
  main.append(el("h1", {}, w.title), el("p", { className: "sub" }, w.sub), query, message, ledger, funnel, trend, report);

  const say = (text, isError) => {
    message.textContent = text;
    message.className = isError ? "error" : "";
  };
  const params = () => {
    const p = new URLSearchParams();
    for (const name of FILTERS) {
      const value = query.elements[name].value;
      if (value) p.set(name, value);
    }
    return p;
  };
  const show = async (event) => {
    if (event) event.preventDefault();
    say(w.loading);
    try {
      const monthly = params();
      monthly.set("group_by", "month");
      const [figures, result, months] = await Promise.all([
        get("/v1/career-relay/ledger"),
        get("/v1/kpis/funnel?" + params()),
        get("/v1/kpis/funnel?" + monthly),
      ]);
      ledger.querySelector("dl").replaceChildren(
        ...LEDGER_KEYS.map((key, i) => el("div", {}, el("dt", {}, w.ledger_labels[i]), el("dd", {}, figures[key])))
      );
      ledger.hidden = false;
      const shown = labelled(result.steps, w);
      chart.replaceChildren(funnelChart("funnel-chart", shown, { title: w.chart, target: w.target }), el("figcaption", {}, w.chart));
      steps.replaceChildren(...stepRows(shown));
      groups.replaceChildren(
        ...(result.groups || []).map((group) => el("section", {}, el("h3", {}, group.key), el("table", {}, el("tbody", {}, stepRows(labelled(group.steps, w))))))
      );
      funnel.querySelector("#breakdown-title").hidden = !(result.groups || []).length;
      const byMonth = months.groups || [];
      const labels = Object.fromEntries(shown.map((step) => [step.name, step.label]));
      const series = TREND.map((name) => [name, labels[name] || name]);
      trend.querySelector("figure").replaceChildren(
        byMonth.length ? trendChart("trend-chart", byMonth, series, { trend: w.trend }) : el("p", {}, w.trend_none)
      );
      trend.hidden = false;
      funnel.hidden = false;
      say(`${w.updated} ${new Date().toLocaleString(lang() === "en" ? "en-GB" : "ja-JP")}`);
    } catch (error) {
      say(error.message, true);
    }
  };
  const csv = async (event) => {
    event.preventDefault();
    const p = params();
    p.delete("group_by");
    try {
      await download("/v1/kpis/export.csv?" + p, "career-relay-funnel.csv");
    } catch (error) {
      say(error.message, true);
    }
  };
  async function getReport(event) {
    event.preventDefault();
    clearErrors(reportForm);
    const month = reportForm.elements.month.value;
    try {
      await download("/v1/career-relay/report?month=" + encodeURIComponent(month), `career-relay-report-${month}.html`);
    } catch (error) {
      showError(reportForm, error.field, error.message);
    }
  }

  try {
    // C7: every candidate attribute the funnel can be split by, in the menu.
    const attributes = await get("/v1/kpis/funnel/attributes");
    for (const key of attributes.items) {
      groupBy.append(el("option", { value: `attribute:${key}` }, w.attribute.replace("{key}", key)));
    }
  } catch (_) {
    // The menu keeps stage and reason; the message line says what failed when the funnel loads.
  }
  const given = new URLSearchParams(location.search);
  for (const name of FILTERS) {
    if (!given.has(name)) continue;
    const value = given.get(name);
    // A split the menu does not list (e.g. group_by=attribute:age) is added to it.
    if (name === "group_by" && ![...groupBy.options].some((o) => o.value === value)) groupBy.append(new Option(value, value));
    query.elements[name].value = value;
  }
  query.addEventListener("submit", show);
  exportLink.addEventListener("click", csv);
  return show();
}
