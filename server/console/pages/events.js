// Events and mail (admin), and the outbox alone (`#/outbox`, admin and marketer): one module for
// both routes. The event log with filters (status, source, time received), each event's decision
// record (script and version, actions, log, error), replay of one event or of every event the
// filter shows; the outbox (scheduled, sent, failed, dead, cancelled) with cancel. A marketer's
// outbox shows addresses by their domain only: the API answers them so. Text only, never HTML.
import { get, post } from "../api.js";
import { lang } from "../i18n.js";
import { clearErrors, el, field, form, showError, values, when } from "../ui.js";

const WORDS = {
  ja: {
    events_title: "イベントとメール",
    outbox_title: "送信箱",
    events: "イベント",
    events_intro: "受け取った Webhook と、それぞれをルールがどう処理したか。スクリプトを直した後は、失敗したイベントを再実行できます。",
    outbox: "送信箱",
    outbox_intro: "予約済み・送信済み・失敗・取り消し済みのメール。まだ送られていないメールは取り消せます。",
    status: "状態",
    source: "送信元",
    since: "受信日時 (から)",
    until: "受信日時 (まで)",
    kind: "種類 (テンプレート)",
    any: "すべて",
    filter: "絞り込む",
    replay_all: "この条件のイベントを再実行",
    replay_all_confirm: "この条件に合うイベントをすべて再実行しますか？",
    replay_needs_filter: "再実行する前に、状態・送信元・日時のどれかで絞り込んでください。",
    replayed: "{n} 件のイベントを再実行します。",
    received: "受信",
    type: "種類",
    attempts: "試行",
    error: "エラー",
    actions: "操作",
    details: "詳細",
    replay: "再実行",
    replay_one: "イベント {id} を再実行します。",
    more: "さらに表示",
    none: "該当するものはありません。",
    decision: "判定の記録",
    script: "スクリプト",
    version: "版",
    decided_at: "判定日時",
    decided_actions: "アクション",
    log: "ログ",
    no_decision: "このイベントにはまだ判定の記録がありません。",
    payload: "受け取った内容",
    close: "閉じる",
    recipient: "宛先",
    created: "作成",
    send_at: "送信予定",
    sent_at: "送信",
    reason: "エラー / 取り消し理由",
    cancel: "取り消す",
    cancel_confirm: "このメールを取り消しますか？",
    cancelled: "メールを取り消しました。",
    statuses: {
      pending: "処理待ち", processing: "処理中", done: "完了", failed: "失敗", dead: "停止",
      scheduled: "予約済み", sent: "送信済み", cancelled: "取り消し済み",
    },
    sources: { bizreach: "ビズリーチ", ats: "ATS", career_relay: "キャリアリレー", hirelay: "hirelay" },
  },
  en: {
    events_title: "Events & mail",
    outbox_title: "Outbox",
    events: "Events",
    events_intro: "The webhooks received and what the rules did with each. After fixing a script, replay the events it failed.",
    outbox: "Outbox",
    outbox_intro: "Mail scheduled, sent, failed and cancelled. A mail not sent yet can be cancelled.",
    status: "Status",
    source: "Source",
    since: "Received from",
    until: "Received until",
    kind: "Kind (template)",
    any: "all",
    filter: "Filter",
    replay_all: "Replay the events shown",
    replay_all_confirm: "Replay every event that matches this filter?",
    replay_needs_filter: "Filter by status, source or time before replaying.",
    replayed: "Replaying {n} events.",
    received: "Received",
    type: "Type",
    attempts: "Tries",
    error: "Error",
    actions: "Actions",
    details: "Details",
    replay: "Replay",
    replay_one: "Replaying event {id}.",
    more: "Show more",
    none: "Nothing matches.",
    decision: "Decision record",
    script: "Script",
    version: "Version",
    decided_at: "Decided",
    decided_actions: "Actions",
    log: "Log",
    no_decision: "No decision is recorded for this event yet.",
    payload: "What was received",
    close: "Close",
    recipient: "To",
    created: "Created",
    send_at: "Due",
    sent_at: "Sent",
    reason: "Error / why cancelled",
    cancel: "Cancel",
    cancel_confirm: "Cancel this mail?",
    cancelled: "The mail is cancelled.",
    statuses: {
      pending: "pending", processing: "processing", done: "done", failed: "failed", dead: "dead",
      scheduled: "scheduled", sent: "sent", cancelled: "cancelled",
    },
    sources: { bizreach: "BizReach", ats: "ATS", career_relay: "Career Relay", hirelay: "hirelay" },
  },
};
const EVENT_STATUSES = ["pending", "processing", "done", "failed", "dead"];
const SOURCES = ["bizreach", "ats", "career_relay", "hirelay"];
const MAIL_STATUSES = ["scheduled", "sent", "failed", "dead", "cancelled"];
/** A mail in these states has not been sent: it can still be cancelled. */
const CANCELLABLE = ["scheduled", "failed"];

function words() {
  return WORDS[lang()];
}

/** `{n}`-style words with their values. */
function fill(text, vars) {
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

/** A status line (`role=status`) and how to say something in it. */
function statusLine(id) {
  const line = el("p", { id, role: "status" });
  const say = (text, isError) => {
    line.textContent = text;
    line.className = isError ? "error" : "";
  };
  return [line, say];
}

/** A table with a header row of `columns` and the body `body`. */
function table(columns, body) {
  return el("table", {}, el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col" }, c)))), body);
}

/** Options of a select: "all" first, then each value with its words. */
function choices(list, names) {
  return [["", words().any], ...list.map((v) => [v, names[v] || v])];
}

/** A `datetime-local` value as RFC 3339 (this browser's time zone), or nothing. */
function rfc3339(local) {
  return local ? new Date(local).toISOString() : undefined;
}

/** The filled-in parts of a filter form as query parameters (times as RFC 3339). */
function filterParams(formNode, times) {
  const p = new URLSearchParams();
  for (const [name, value] of Object.entries(values(formNode))) {
    if (value) p.set(name, times.includes(name) ? rfc3339(value) : value);
  }
  return p;
}

/** `<pre>` with a value as indented JSON. */
function json(value) {
  return el("pre", { className: "json" }, JSON.stringify(value, null, 2));
}

/** The decision record of one event: script and version, actions, log, error; then its payload. */
function decisionView(event, w, close) {
  const d = event.decision;
  const record = d
    ? [
        el(
          "dl",
          { className: "facts" },
          el("div", {}, el("dt", {}, w.script), el("dd", {}, d.script)),
          el("div", {}, el("dt", {}, w.version), el("dd", {}, d.script_version)),
          el("div", {}, el("dt", {}, w.decided_at), el("dd", {}, when(new Date(d.decided_at).toISOString())))
        ),
        d.error ? el("p", { className: "error decision-error" }, `${w.error}: ${d.error}`) : null,
        el("h4", {}, w.decided_actions),
        json(d.actions),
        el("h4", {}, w.log),
        d.log.length ? el("ol", { className: "log" }, d.log.map((line) => el("li", {}, line))) : el("p", {}, "—"),
      ]
    : [el("p", {}, w.no_decision)];
  return el(
    "section",
    { id: "event-detail", "aria-labelledby": "event-detail-title", tabindex: "-1" },
    el("h3", { id: "event-detail-title" }, `${w.decision}: ${event.id} (${w.statuses[event.status] || event.status})`),
    event.last_error ? el("p", { className: "error" }, event.last_error) : null,
    record,
    el("h4", {}, w.payload),
    json(event.payload),
    el("button", { type: "button", onclick: close }, w.close)
  );
}

/** The event log: filters, the list (newest first, a page at a time), details and replay. */
function eventsSection(w) {
  const [message, say] = statusLine("events-message");
  const body = el("tbody", { id: "events" });
  const detail = el("div", { id: "event-detail-slot" });
  const more = el("button", { type: "button", hidden: true }, w.more);
  const empty = el("p", { hidden: true }, w.none);
  let cursor = null;

  const showDetail = async (id) => {
    try {
      const event = await get(`/v1/events/${encodeURIComponent(id)}`);
      detail.replaceChildren(decisionView(event, w, () => detail.replaceChildren()));
      detail.querySelector("#event-detail").focus();
    } catch (error) {
      say(error.message, true);
    }
  };
  const replayOne = async (id) => {
    try {
      await post(`/v1/events/${encodeURIComponent(id)}/replay`);
      say(fill(w.replay_one, { id }));
      await load(false);
    } catch (error) {
      say(error.message, true);
    }
  };
  const row = (event) =>
    el(
      "tr",
      { "data-event": event.id, "data-status": event.status },
      el("td", {}, when(event.received_at)),
      el("td", {}, w.sources[event.source] || event.source),
      el("td", {}, el("code", {}, event.type)),
      el("td", {}, el("span", { className: `badge ${event.status}` }, w.statuses[event.status] || event.status)),
      el("td", {}, event.attempts),
      el("td", { className: "clip" }, event.last_error || ""),
      el(
        "td",
        { className: "buttons" },
        el("button", { type: "button", onclick: () => showDetail(event.id), "aria-label": `${w.details}: ${event.id}` }, w.details),
        event.source === "hirelay" || event.status === "processing"
          ? null
          : el("button", { type: "button", onclick: () => replayOne(event.id), "aria-label": `${w.replay}: ${event.id}` }, w.replay)
      )
    );

  const filters = form(
    "event-filter",
    (event) => {
      event.preventDefault();
      load(false);
    },
    el(
      "div",
      { className: "row" },
      field("event-filter", { name: "status", label: w.status, options: choices(EVENT_STATUSES, w.statuses) }),
      field("event-filter", { name: "source", label: w.source, options: choices(SOURCES, w.sources) }),
      field("event-filter", { name: "since", label: w.since, type: "datetime-local" }),
      field("event-filter", { name: "until", label: w.until, type: "datetime-local" })
    ),
    el(
      "div",
      { className: "row" },
      el("button", { type: "submit" }, w.filter),
      el("button", { type: "button", id: "replay-filtered", onclick: () => replayFiltered() }, w.replay_all)
    )
  );
  filters.className = "filters";

  async function load(append) {
    clearErrors(filters);
    const p = filterParams(filters, ["since", "until"]);
    if (append && cursor) p.set("cursor", cursor);
    try {
      const page = await get(`/v1/events?${p}`);
      const rows = page.items.map(row);
      if (append) body.append(...rows);
      else body.replaceChildren(...rows);
      cursor = page.next_cursor;
      more.hidden = !cursor;
      empty.hidden = body.children.length > 0;
    } catch (error) {
      showError(filters, error.field, error.message);
    }
  }

  async function replayFiltered() {
    clearErrors(filters);
    const p = filterParams(filters, ["since", "until"]);
    if ([...p.keys()].length === 0) return showError(filters, null, w.replay_needs_filter);
    if (!window.confirm(w.replay_all_confirm)) return;
    try {
      const answer = await post("/v1/events/replay", Object.fromEntries(p));
      say(fill(w.replayed, { n: answer.replayed }));
      await load(false);
    } catch (error) {
      showError(filters, error.field, error.message);
    }
  }

  more.addEventListener("click", () => load(true));
  const section = el(
    "section",
    { id: "event-log", "aria-labelledby": "event-log-title" },
    el("h2", { id: "event-log-title" }, w.events),
    el("p", { className: "sub" }, w.events_intro),
    filters,
    message,
    el(
      "div",
      { className: "scroll" },
      table([w.received, w.source, w.type, w.status, w.attempts, w.error, w.actions], body)
    ),
    empty,
    more,
    detail
  );
  return { section, load: () => load(false) };
}

/** The outbox: filters, the mails (newest first) and cancel for those not sent yet. */
function outboxSection(w, titled) {
  const [message, say] = statusLine("outbox-message");
  const body = el("tbody", { id: "mails" });
  const empty = el("p", { hidden: true }, w.none);

  const cancel = async (mail) => {
    if (!window.confirm(w.cancel_confirm)) return;
    try {
      await post(`/v1/outbox/${encodeURIComponent(mail.id)}/cancel`);
      say(w.cancelled);
    } catch (error) {
      say(error.message, true);
    }
    await load();
  };
  const row = (mail) =>
    el(
      "tr",
      { "data-mail": mail.id, "data-status": mail.status },
      el("td", {}, when(mail.created_at)),
      el("td", {}, el("code", {}, mail.kind), ` v${mail.template_version}`),
      el("td", {}, mail.recipient),
      el("td", {}, el("span", { className: `badge ${mail.status}` }, w.statuses[mail.status] || mail.status)),
      el("td", {}, when(mail.send_at)),
      el("td", {}, when(mail.sent_at)),
      el("td", {}, mail.attempts),
      el("td", { className: "clip" }, mail.cancel_reason || mail.last_error || ""),
      el(
        "td",
        { className: "buttons" },
        CANCELLABLE.includes(mail.status)
          ? el("button", { type: "button", onclick: () => cancel(mail), "aria-label": `${w.cancel}: ${mail.kind} ${mail.recipient}` }, w.cancel)
          : null
      )
    );
  const filters = form(
    "mail-filter",
    (event) => {
      event.preventDefault();
      load();
    },
    el(
      "div",
      { className: "row" },
      field("mail-filter", { name: "status", label: w.status, options: choices(MAIL_STATUSES, w.statuses) }),
      field("mail-filter", { name: "kind", label: w.kind })
    ),
    el("div", { className: "row" }, el("button", { type: "submit" }, w.filter))
  );
  filters.className = "filters";

  async function load() {
    clearErrors(filters);
    try {
      const page = await get(`/v1/outbox?${filterParams(filters, [])}`);
      body.replaceChildren(...page.items.map(row));
      empty.hidden = page.items.length > 0;
    } catch (error) {
      showError(filters, error.field, error.message);
    }
  }
  const section = el(
    "section",
    { id: "outbox", "aria-labelledby": "outbox-title" },
    titled ? el("h2", { id: "outbox-title" }, w.outbox) : null,
    el("p", { className: "sub" }, w.outbox_intro),
    filters,
    message,
    el(
      "div",
      { className: "scroll" },
      table([w.created, w.kind, w.recipient, w.status, w.send_at, w.sent_at, w.attempts, w.reason, w.actions], body)
    ),
    empty
  );
  return { section, load };
}

export async function render(main, ctx) {
  const w = words();
  if (ctx.page.id === "outbox") {
    const outbox = outboxSection(w, false);
    main.append(el("h1", { id: "outbox-title" }, w.outbox_title), outbox.section);
    return outbox.load();
  }
  const events = eventsSection(w);
  const outbox = outboxSection(w, true);
  main.append(el("h1", {}, w.events_title), events.section, outbox.section);
  await Promise.all([events.load(), outbox.load()]);
}
