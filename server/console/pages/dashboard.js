// The Career Relay dashboard (C5): the slot ledger and the funnel, with a period and a split
// (from the menu, or from the page's address: `/console?from=…&to=…&group_by=attribute:age`),
// and the CSV for BI. Everything shown is set as text, never as HTML.
import { get } from "../api.js";
import { lang } from "../i18n.js";
import { el } from "../ui.js";

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
  },
};
const LEDGER_KEYS = ["registered", "ratio", "slots_earned", "slots_used", "slots_available", "hired", "joined", "retained"];
const FILTERS = ["from", "to", "group_by"];

function rate(value) {
  return value === null || value === undefined ? "—" : (value * 100).toFixed(1) + "%";
}

function stepRows(steps) {
  return steps.map((step) => {
    const target = el("td", {}, step.target_rate === undefined ? "" : rate(step.target_rate));
    if (step.on_target === true) target.className = "on";
    if (step.on_target === false) target.className = "off";
    return el("tr", {}, el("td", {}, step.label || step.name), el("td", {}, step.count), el("td", {}, rate(step.rate_from_previous)), target);
  });
}

export function render(main) {
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
  const groups = el("div", { id: "groups" });
  const exportLink = el("a", { id: "export", href: "/v1/kpis/export.csv" }, w.csv);
  const funnel = el(
    "section",
    { id: "funnel", hidden: true },
    el("h2", {}, w.funnel),
    el("table", {}, el("thead", {}, el("tr", {}, el("th", { scope: "col" }, w.step), el("th", { scope: "col" }, w.count), el("th", { scope: "col" }, w.rate), el("th", { scope: "col" }, w.target))), steps),
    groups,
    el("p", {}, exportLink, " ", w.csv_note)
  );
  const query = el(
    "form",
    { id: "query", className: "inline" },
    el("label", {}, w.from, input("from", "date")),
    el("label", {}, w.to, input("to", "date")),
    el("label", {}, w.group_by, groupBy),
    el("button", { type: "submit" }, w.show)
  );
  main.append(el("h1", {}, w.title), el("p", { className: "sub" }, w.sub), query, message, ledger, funnel);

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
      const [figures, result] = await Promise.all([get("/v1/career-relay/ledger"), get("/v1/kpis/funnel?" + params())]);
      ledger.querySelector("dl").replaceChildren(
        ...LEDGER_KEYS.map((key, i) => el("div", {}, el("dt", {}, w.ledger_labels[i]), el("dd", {}, figures[key])))
      );
      ledger.hidden = false;
      steps.replaceChildren(...stepRows(result.steps));
      groups.replaceChildren(
        ...(result.groups || []).map((group) => el("section", {}, el("h3", {}, group.key), el("table", {}, el("tbody", {}, stepRows(group.steps)))))
      );
      funnel.hidden = false;
      say(`${w.updated} ${new Date().toLocaleString(lang() === "en" ? "en-GB" : "ja-JP")}`);
    } catch (error) {
      say(error.message, true);
    }
  };
  const download = async (event) => {
    event.preventDefault();
    const p = params();
    p.delete("group_by");
    try {
      const blob = await (await get("/v1/kpis/export.csv?" + p)).blob();
      const link = el("a", { href: URL.createObjectURL(blob), download: "career-relay-funnel.csv" });
      link.click();
      URL.revokeObjectURL(link.href);
    } catch (error) {
      say(error.message, true);
    }
  };

  const given = new URLSearchParams(location.search);
  for (const name of FILTERS) {
    if (!given.has(name)) continue;
    const value = given.get(name);
    // A split the menu does not list (e.g. group_by=attribute:age) is added to it.
    if (name === "group_by" && ![...groupBy.options].some((o) => o.value === value)) groupBy.append(new Option(value, value));
    query.elements[name].value = value;
  }
  query.addEventListener("submit", show);
  exportLink.addEventListener("click", download);
  return show();
}
