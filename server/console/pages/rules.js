// Rules (admin): edit a rule script with highlighting and line numbers; check it (errors at
// their line); dry-run the draft on a sample event or over stored history (summary and
// per-event diff); save (activates it, refused when someone saved a newer version first);
// versions with diff and rollback.
import { get, post, put } from "../api.js";
import { t } from "../i18n.js";
import { el, field } from "../ui.js";
import { codeEditor, saveRefusal, showDiff, versionHistory } from "./editor.js";
import { SAMPLES } from "./samples.js";

const json = (value) => JSON.stringify(value, null, 2);

export async function render(main) {
  const list = await get("/v1/rules");
  const names = list.items.map((s) => s.name);
  const wanted = new URLSearchParams(location.hash.split("?")[1] || "").get("name");
  let name = names.includes(wanted) ? wanted : names[0];
  let base = null; // the version the edit started from (If-Match)

  const status = el("p", { id: "rules-message", role: "status", "aria-live": "polite" });
  const say = (text, isError) => {
    status.textContent = text;
    status.className = isError ? "form-error" : "";
  };
  const picker = field("rules-pick", { name: "name", label: t("rules.script"), options: names.map((n) => [n, `${n}.rhai`]), value: name });
  const source = codeEditor({ id: "rule-source", label: t("rules.source"), language: "rhai" });
  const versionLine = el("p", { id: "rule-version" });
  const dryOut = el("div", { id: "dry-run-result", "aria-live": "polite" });
  const historyOut = el("div", { id: "history-result", "aria-live": "polite" });

  const api = () => `/v1/rules/${encodeURIComponent(name)}`;
  const showProblem = (error) => {
    const d = error.details || {};
    if (error.code === "script_invalid") {
      source.mark([{ line: d.line, column: d.column, message: error.message }]);
      say(t("rules.invalid"), true);
    } else {
      say(saveRefusal(error), true);
    }
  };

  const load = async () => {
    const script = await get(`${api()}?format=json`);
    base = script.version;
    source.setValue(script.source);
    source.mark([]);
    versionLine.textContent = t("rules.version", { version: script.version, author: script.author });
    dryOut.replaceChildren();
    historyOut.replaceChildren();
    await versions.reload();
  };
  // The history follows the script chosen.
  const historyFor = () =>
    versionHistory({ base: api(), current: () => source.value(), textOf: (v) => v.source, language: "rhai", rolledBack: load, message: say });
  let versions = historyFor();

  const check = async () => {
    source.mark([]);
    try {
      await post(`${api()}/check`, source.value());
      say(t("rules.valid"));
    } catch (error) {
      showProblem(error);
    }
  };
  const save = async () => {
    source.mark([]);
    try {
      const saved = await put(api(), source.value(), base === null ? {} : { "if-match": `"${base}"` });
      base = saved.version;
      versionLine.textContent = t("rules.version", { version: saved.version, author: saved.author });
      say(t("rules.saved", { version: saved.version }));
      await versions.reload();
    } catch (error) {
      showProblem(error);
    }
  };

  // Dry run on one event: the contract's samples, preloaded and editable.
  const samples = () => SAMPLES.filter((s) => s.script === name).concat(SAMPLES.filter((s) => s.script !== name));
  const samplePick = field("rules-sample", { name: "sample", label: t("rules.sample"), options: samples().map((s) => [s.name, s.name]) });
  const event = codeEditor({ id: "rule-event", label: t("rules.event"), language: "text", value: json(samples()[0].event) });
  samplePick.querySelector("select").addEventListener("change", (e) => {
    event.setValue(json(SAMPLES.find((s) => s.name === e.target.value).event));
  });
  const dryRun = async () => {
    source.mark([]);
    event.mark([]);
    let parsed;
    try {
      parsed = JSON.parse(event.value());
    } catch (error) {
      event.mark([{ line: 1, column: 1, message: t("rules.event_json", { why: error.message }) }]);
      return;
    }
    try {
      const result = await post(`${api()}/dry-run`, { event: parsed, script: source.value() });
      dryOut.replaceChildren(
        el("h3", {}, t("rules.actions")),
        el("pre", { id: "dry-run-actions" }, json(result.actions)),
        el("h3", {}, t("rules.log")),
        el("pre", {}, result.log.join("\n") || "—")
      );
      say(t("rules.dry_done"));
    } catch (error) {
      showProblem(error);
    }
  };

  // Dry run over history: the draft beside what was recorded, event by event.
  const limit = field("rules-history", { name: "limit", label: t("rules.limit"), type: "number", min: 1, value: 100, inputmode: "numeric" });
  const since = field("rules-history", { name: "since", label: t("rules.since"), type: "datetime-local" });
  const dryHistory = async () => {
    source.mark([]);
    const events = { limit: Number(limit.querySelector("input").value) || 100 };
    const from = since.querySelector("input").value;
    if (from) events.since = new Date(from).toISOString();
    try {
      const report = await post(`${api()}/dry-run`, { script: source.value(), events });
      const changed = report.results.filter((r) => r.changed);
      historyOut.replaceChildren(
        el("p", { id: "history-summary" }, t("rules.summary", { events: report.summary.events, changed: report.summary.changed }), " ", report.summary.text),
        ...changed.map((r) => {
          const node = el("details", { className: "event-diff" }, el("summary", {}, t("rules.event_changed", { id: r.event_id })));
          // Drawn when opened: a diff needs to be in view to be laid out.
          node.addEventListener("toggle", () => {
            if (!node.open || node.dataset.shown) return;
            node.dataset.shown = "yes";
            if (r.draft.error) node.append(el("p", { className: "form-error" }, r.draft.error));
            else showDiff(node, json(r.recorded ? r.recorded.actions : []), json(r.draft.actions || []), "text");
          });
          return node;
        })
      );
      say(t("rules.history_done"));
    } catch (error) {
      showProblem(error);
    }
  };

  picker.querySelector("select").addEventListener("change", async (e) => {
    name = e.target.value;
    versions.node.replaceWith((versions = historyFor()).node);
    say("");
    await load();
  });

  main.append(
    el("h1", {}, t("nav.rules")),
    el("p", {}, t("rules.intro")),
    status,
    picker,
    versionLine,
    source.node,
    el(
      "div",
      { className: "actions" },
      el("button", { type: "button", onclick: check }, t("rules.check")),
      el("button", { type: "button", onclick: save }, t("rules.save"))
    ),
    el(
      "section",
      { "aria-labelledby": "dry-title" },
      el("h2", { id: "dry-title" }, t("rules.dry_title")),
      samplePick,
      event.node,
      el("button", { type: "button", onclick: dryRun }, t("rules.dry_run")),
      dryOut
    ),
    el(
      "section",
      { "aria-labelledby": "history-title" },
      el("h2", { id: "history-title" }, t("rules.history_title")),
      limit,
      since,
      el("button", { type: "button", onclick: dryHistory }, t("rules.dry_history")),
      historyOut
    ),
    versions.node
  );
  if (name) await load();
  else say(t("rules.none"));
}
