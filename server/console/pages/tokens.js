// API tokens (admin): the list (never a secret), create one (its secret shown once), revoke.
import { del, get, post } from "../api.js";
import { t } from "../i18n.js";
import { clearErrors, el, field, form, showError, values, when } from "../ui.js";

const ROLES = ["viewer", "integrator", "marketer", "admin"];
// The webhook source an integrator token is bound to (its events and its subscriptions).
const SOURCES = ["ats", "bizreach", "career_relay"];

export async function render(main) {
  const message = el("p", { role: "status", id: "tokens-message" });
  const shown = el("div", { id: "new-token", "aria-live": "polite" });
  const body = el("tbody", { id: "tokens" });
  const reload = async () => {
    const list = await get("/v1/tokens");
    body.replaceChildren(
      ...list.items.map((token) =>
        el(
          "tr",
          { "data-token": token.id },
          el("td", {}, token.name),
          el("td", {}, t(`role.${token.role}`)),
          el("td", {}, when(token.created_at)),
          el("td", {}, when(token.last_used_at)),
          el("td", {}, when(token.expires_at)),
          el("td", {}, when(token.revoked_at)),
          el("td", {}, token.source ?? ""),
          el(
            "td",
            {},
            token.revoked_at
              ? ""
              : el("button", { type: "button", onclick: () => revoke(token) }, t("tokens.revoke"))
          )
        )
      )
    );
  };
  const revoke = async (token) => {
    if (!window.confirm(t("tokens.confirm", { name: token.name }))) return;
    try {
      await del(`/v1/tokens/${encodeURIComponent(token.id)}`);
    } catch (error) {
      message.textContent = error.message;
    }
    await reload();
  };
  const create = async (event) => {
    event.preventDefault();
    const node = event.target;
    clearErrors(node);
    const v = values(node);
    const days = v.expires_in_days.trim();
    try {
      const created = await post("/v1/tokens", {
        name: v.name,
        role: v.role,
        expires_in_days: days === "" ? null : Number(days),
        source: v.role === "integrator" && v.source !== "" ? v.source : null,
      });
      node.reset();
      shown.replaceChildren(el("p", {}, t("tokens.shown_once")), el("output", { id: "token-secret" }, created.token));
      await reload();
    } catch (error) {
      showError(node, error.field, error.message);
    }
  };
  main.append(
    el("h1", {}, t("tokens.title")),
    el("p", {}, t("tokens.intro")),
    message,
    shown,
    el(
      "table",
      {},
      el(
        "thead",
        {},
        el("tr", {}, ["tokens.name", "tokens.role", "tokens.created_at", "tokens.last_used", "tokens.expires_at", "tokens.revoked_at", "tokens.source", "users.actions"].map((k) => el("th", { scope: "col" }, t(k))))
      ),
      body
    ),
    el("h2", {}, t("tokens.create")),
    form(
      "new-token-form",
      create,
      field("new-token-form", { name: "name", label: t("tokens.name"), required: true }),
      field("new-token-form", { name: "role", label: t("tokens.role"), options: ROLES.map((r) => [r, t(`role.${r}`)]) }),
      field("new-token-form", { name: "source", label: t("tokens.source_hint"), options: [["", t("tokens.no_source")], ...SOURCES.map((s) => [s, s])] }),
      field("new-token-form", { name: "expires_in_days", label: t("tokens.expires"), type: "number", min: 1, inputmode: "numeric" }),
      el("button", { type: "submit" }, t("tokens.submit"))
    )
  );
  await reload();
}
