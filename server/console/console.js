// The Career Relay dashboard: reads the ledger and the funnel from the admin API with the API
// token the user gives (kept in this tab's sessionStorage only). Everything shown is set as
// text, never as HTML.
"use strict";

const LEDGER_LABELS = [
  ["registered", "登録した不合格者"],
  ["ratio", "1 枠あたりの登録数"],
  ["slots_earned", "獲得した紹介枠"],
  ["slots_used", "利用した紹介枠"],
  ["slots_available", "残りの紹介枠"],
  ["hired", "採用"],
  ["joined", "入社"],
  ["retained", "定着"],
];

const $ = (id) => document.getElementById(id);

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function say(text, isError) {
  const message = $("message");
  message.textContent = text;
  message.className = isError ? "error" : "";
}

function query() {
  const params = new URLSearchParams();
  for (const name of ["from", "to", "group_by"]) {
    const value = $(name).value;
    if (value) params.set(name, value);
  }
  return params;
}

async function get(path) {
  const res = await fetch(path, {
    headers: { authorization: "Bearer " + $("token").value },
  });
  if (!res.ok) {
    let message = res.status + " " + res.statusText;
    try {
      const body = await res.json();
      message = body.error.message + (body.error.field ? " (" + body.error.field + ")" : "");
    } catch (_) {}
    if (res.status === 401) message = "トークンが無効です / the token is not valid";
    if (res.status === 403) message = "このトークンでは見られません / the token's role may not read this";
    throw new Error(message);
  }
  return res;
}

function rate(value) {
  return value === null || value === undefined ? "—" : (value * 100).toFixed(1) + "%";
}

function stepRows(steps) {
  return steps.map((step) => {
    const row = el("tr");
    row.append(el("td", step.label || step.name));
    row.append(el("td", step.count));
    row.append(el("td", rate(step.rate_from_previous)));
    const target = el("td", step.target_rate === undefined ? "" : rate(step.target_rate));
    if (step.on_target === true) target.className = "on";
    if (step.on_target === false) target.className = "off";
    row.append(target);
    return row;
  });
}

function showLedger(ledger) {
  const figures = $("ledger-figures");
  figures.replaceChildren(
    ...LEDGER_LABELS.map(([key, label]) => {
      const item = el("div");
      item.append(el("dt", label), el("dd", ledger[key]));
      return item;
    })
  );
  $("ledger").hidden = false;
}

function showFunnel(funnel) {
  $("funnel-steps").replaceChildren(...stepRows(funnel.steps));
  const groups = (funnel.groups || []).map((group) => {
    const section = el("section");
    const table = el("table");
    const body = el("tbody");
    body.append(...stepRows(group.steps));
    table.append(body);
    section.append(el("h3", group.key), table);
    return section;
  });
  $("groups").replaceChildren(...groups);
  $("funnel").hidden = false;
}

async function show(event) {
  if (event) event.preventDefault();
  sessionStorage.setItem("hirelay-token", $("token").value);
  say("読み込み中… / loading");
  try {
    const [ledger, funnel] = await Promise.all([
      get("/v1/career-relay/ledger").then((r) => r.json()),
      get("/v1/kpis/funnel?" + query()).then((r) => r.json()),
    ]);
    showLedger(ledger);
    showFunnel(funnel);
    say("更新しました / updated " + new Date().toLocaleString("ja-JP"));
  } catch (error) {
    say(error.message, true);
  }
}

async function download(event) {
  event.preventDefault();
  const params = query();
  params.delete("group_by");
  try {
    const blob = await (await get("/v1/kpis/export.csv?" + params)).blob();
    const link = el("a");
    link.href = URL.createObjectURL(blob);
    link.download = "career-relay-funnel.csv";
    link.click();
    URL.revokeObjectURL(link.href);
  } catch (error) {
    say(error.message, true);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const params = new URLSearchParams(location.search);
  for (const name of ["from", "to", "group_by"]) {
    if (!params.has(name)) continue;
    const value = params.get(name);
    // A split the menu does not list (e.g. group_by=attribute:age) is added to it.
    if (name === "group_by" && ![...$(name).options].some((o) => o.value === value)) {
      $(name).append(new Option(value, value));
    }
    $(name).value = value;
  }
  $("token").value = sessionStorage.getItem("hirelay-token") || "";
  $("query").addEventListener("submit", show);
  $("export").addEventListener("click", download);
  if ($("token").value) show();
});
