// Settings (admin): the signed-in user's notification switches (I5, C8), the outbound webhook
// subscriptions (create, with the signing secret shown once; delete) and their deliveries, and
// the way to the API tokens page.
import { del, get, post, put } from "../api.js";
import { pageWords } from "../i18n.js";
import { clearErrors, el, field, form, showError, values, when } from "../ui.js";

const EVENT_TYPES = [
  "application.routed",
  "application.labeled",
  "application.status_synced",
  "career_relay.invited",
  "career_relay.clicked",
  "career_relay.registered",
  "career_relay.slot_earned",
];
const DELIVERY_STATUSES = ["pending", "delivered", "dead"];

const w = pageWords({
  ja: {
    title: "設定",
    notifications: "自分への通知",
    notifications_intro: "あなた (サインイン中のユーザー) に届くメール通知です。",
    switches: "通知するもの",
    bizreach_application: "BizReach の応募が届いたら通知する",
    monthly_report: "キャリアリレーの月次レポートを送る",
    email: "通知先のメールアドレス",
    save: "保存",
    saved: "通知の設定を保存しました。",
    webhooks: "送信 Webhook の購読",
    webhooks_intro: "hirelay のイベントを ATS や BI に送る先です。署名の秘密鍵は作成時に一度だけ表示されます。",
    url: "送信先 URL (https://…)",
    url_column: "送信先 URL",
    event_types: "送るイベント",
    subscribe: "購読を作成",
    created_at: "作成",
    actions: "操作",
    delete: "削除",
    confirm_delete: "{url} への送信をやめますか？",
    no_subscriptions: "購読はまだありません。",
    secret_once: "この購読の署名の秘密鍵は一度だけ表示されます。今コピーしてください:",
    subscribed: "{url} への購読を作成しました。",
    deliveries: "Webhook の配信",
    status: "状態",
    all: "すべて",
    show: "表示",
    event_type: "イベント",
    subscription: "送信先",
    attempts: "試行",
    last_error: "最後のエラー",
    delivered_at: "配信",
    next_attempt: "次の試行",
    no_deliveries: "配信はまだありません。",
    tokens: "API トークン",
    tokens_intro: "ATS や BI などの機械が使う API トークンは API トークンのページで管理します:",
    tokens_link: "API トークンのページへ",
    pending: "待機中",
    delivered: "配信済み",
    dead: "断念",
  },
  en: {
    title: "Settings",
    notifications: "Your notifications",
    notifications_intro: "Emails to you, the signed-in user.",
    switches: "Notify me of",
    bizreach_application: "Notify me when a BizReach application arrives",
    monthly_report: "Send me the monthly Career Relay report",
    email: "Address to notify",
    save: "Save",
    saved: "Saved your notifications.",
    webhooks: "Outbound webhook subscriptions",
    webhooks_intro: "Where hirelay sends its events (an ATS, a BI tool). The signing secret is shown once, when a subscription is created.",
    url: "URL to send to (https://…)",
    url_column: "URL",
    event_types: "Events to send",
    subscribe: "Subscribe",
    created_at: "Created",
    actions: "Actions",
    delete: "Delete",
    confirm_delete: "Stop sending to {url}?",
    no_subscriptions: "No subscriptions yet.",
    secret_once: "This subscription's signing secret is shown once. Copy it now:",
    subscribed: "Subscribed {url}.",
    deliveries: "Webhook deliveries",
    status: "Status",
    all: "all",
    show: "Show",
    event_type: "Event",
    subscription: "Sent to",
    attempts: "Tries",
    last_error: "Last error",
    delivered_at: "Delivered",
    next_attempt: "Next try",
    no_deliveries: "No deliveries yet.",
    tokens: "API tokens",
    tokens_intro: "API tokens, for machines such as the ATS or a BI tool, are managed on their own page:",
    tokens_link: "Go to the API tokens page",
    pending: "pending",
    delivered: "delivered",
    dead: "given up",
  },
});

/** A group of checkboxes named `name`, with one error line (`{form}-{name}-error`). */
function checkboxes(formId, name, legend, options) {
  const errorId = `${formId}-${name}-error`;
  return el(
    "fieldset",
    { className: "choices" },
    el("legend", {}, legend),
    options.map(([value, text]) =>
      el("label", { className: "choice" }, el("input", { type: "checkbox", name, value, "aria-describedby": errorId }), text)
    ),
    el("p", { id: errorId, className: "field-error", "aria-live": "polite" })
  );
}

async function notifications(say) {
  const current = await get("/v1/notifications/subscriptions");
  const switches = checkboxes("notify", "switches", w("switches"), [
    ["bizreach_application", w("bizreach_application")],
    ["monthly_report", w("monthly_report")],
  ]);
  for (const box of switches.querySelectorAll("input")) box.checked = !!current[box.value];
  const save = async (event) => {
    event.preventDefault();
    const node = event.target;
    clearErrors(node);
    const on = new FormData(node).getAll("switches");
    try {
      await put("/v1/notifications/subscriptions", {
        bizreach_application: on.includes("bizreach_application"),
        monthly_report: on.includes("monthly_report"),
        email: values(node).email || null,
      });
      say(w("saved"));
    } catch (error) {
      showError(node, error.field, error.message);
    }
  };
  return form(
    "notify",
    save,
    switches,
    field("notify", { name: "email", label: w("email"), type: "email", value: current.email || "", autocomplete: "email" }),
    el("button", { type: "submit" }, w("save"))
  );
}

export async function render(main) {
  document.title = `${w("title")} - hirelay`;
  const message = el("p", { role: "status", id: "settings-message" });
  const say = (text, isError) => {
    message.textContent = text;
    message.className = isError ? "error" : "";
  };

  // Webhook subscriptions.
  const subscriptions = el("tbody", { id: "webhook-subscriptions" });
  const secret = el("div", { id: "new-subscription", "aria-live": "polite" });
  let urls = {};
  const reloadSubscriptions = async () => {
    const list = await get("/v1/webhook-subscriptions");
    urls = Object.fromEntries(list.items.map((s) => [s.id, s.url]));
    subscriptions.replaceChildren(
      ...list.items.map((sub) =>
        el(
          "tr",
          { "data-subscription": sub.url },
          el("td", {}, sub.url),
          el("td", {}, sub.event_types.join(", ")),
          el("td", {}, when(sub.created_at)),
          el("td", {}, el("button", { type: "button", onclick: () => remove(sub), "aria-label": `${w("delete")}: ${sub.url}` }, w("delete")))
        )
      )
    );
    if (!list.items.length) subscriptions.append(el("tr", {}, el("td", { colspan: 4 }, w("no_subscriptions"))));
  };
  const remove = async (sub) => {
    if (!window.confirm(w("confirm_delete", { url: sub.url }))) return;
    try {
      await del(`/v1/webhook-subscriptions/${encodeURIComponent(sub.id)}`);
    } catch (error) {
      say(error.message, true);
    }
    await reloadSubscriptions();
  };
  const subscribe = async (event) => {
    event.preventDefault();
    const node = event.target;
    clearErrors(node);
    const data = new FormData(node);
    try {
      const created = await post("/v1/webhook-subscriptions", { url: data.get("url"), event_types: data.getAll("event_types") });
      node.reset();
      secret.replaceChildren(el("p", {}, w("secret_once")), el("output", { id: "subscription-secret" }, created.secret));
      await Promise.all([reloadSubscriptions(), reloadDeliveries()]);
      say(w("subscribed", { url: created.url }));
    } catch (error) {
      // `event_types[2]` names one choice; its error line is the group's.
      showError(node, (error.field || "").replace(/\[\d+\]$/, ""), error.message);
    }
  };

  // Deliveries, newest first, by status.
  const deliveries = el("tbody", { id: "webhook-deliveries" });
  const deliveryFilter = form(
    "deliveries",
    (event) => {
      event.preventDefault();
      reloadDeliveries();
    },
    field("deliveries", { name: "status", label: w("status"), options: [["", w("all")], ...DELIVERY_STATUSES.map((s) => [s, w(s)])] }),
    el("button", { type: "submit" }, w("show"))
  );
  deliveryFilter.classList.add("inline");
  const reloadDeliveries = async () => {
    clearErrors(deliveryFilter);
    const status = values(deliveryFilter).status;
    try {
      const list = await get(`/v1/webhook-deliveries?limit=100${status ? `&status=${encodeURIComponent(status)}` : ""}`);
      deliveries.replaceChildren(
        ...list.items.map((d) =>
          el(
            "tr",
            { "data-delivery": d.id },
            el("td", {}, d.event_type),
            el("td", {}, urls[d.subscription_id] || d.subscription_id),
            el("td", {}, w(d.status)),
            el("td", {}, d.attempts),
            el("td", {}, d.last_error || "—"),
            el("td", {}, when(d.created_at)),
            el("td", {}, when(d.delivered_at)),
            el("td", {}, when(d.next_attempt_at))
          )
        )
      );
      if (!list.items.length) deliveries.append(el("tr", {}, el("td", { colspan: 8 }, w("no_deliveries"))));
    } catch (error) {
      showError(deliveryFilter, error.field, error.message);
    }
  };

  const head = (...keys) => el("thead", {}, el("tr", {}, keys.map((k) => el("th", { scope: "col" }, w(k)))));
  main.append(
    el("h1", {}, w("title")),
    message,
    el("h2", {}, w("notifications")),
    el("p", {}, w("notifications_intro")),
    await notifications(say),
    el("h2", {}, w("webhooks")),
    el("p", {}, w("webhooks_intro")),
    secret,
    el("div", { className: "scroll" }, el("table", {}, head("url_column", "event_types", "created_at", "actions"), subscriptions)),
    form(
      "new-subscription-form",
      subscribe,
      field("new-subscription-form", { name: "url", label: w("url"), type: "url", required: true, inputmode: "url" }),
      checkboxes("new-subscription-form", "event_types", w("event_types"), EVENT_TYPES.map((t) => [t, t])),
      el("button", { type: "submit" }, w("subscribe"))
    ),
    el("h2", {}, w("deliveries")),
    deliveryFilter,
    el("div", { className: "scroll" }, el("table", {}, head("event_type", "subscription", "status", "attempts", "last_error", "created_at", "delivered_at", "next_attempt"), deliveries)),
    el("h2", {}, w("tokens")),
    el("p", {}, w("tokens_intro"), " ", el("a", { href: "#/tokens", id: "tokens-link" }, w("tokens_link")))
  );
  await reloadSubscriptions();
  await reloadDeliveries();
}
