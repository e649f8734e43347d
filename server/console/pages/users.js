// Users (admin): the list with each user's role and status, change a role, disable or enable,
// and create a user with an initial password (changed at the first sign-in).
import { get, patch, post } from "../api.js";
import { t } from "../i18n.js";
import { clearErrors, el, field, form, showError, values, when } from "../ui.js";

const ROLES = ["admin", "viewer", "marketer", "integrator"];
const roleOptions = () => ROLES.map((role) => [role, t(`role.${role}`)]);

function row(user, ctx, reload, say) {
  const change = async (body) => {
    try {
      await patch(`/v1/users/${encodeURIComponent(user.id)}`, body);
      say(t("app.saved"));
    } catch (error) {
      say(error.message, true);
    }
    await reload();
  };
  const role = el(
    "select",
    { "aria-label": `${t("users.role")}: ${user.email}`, onchange: (e) => change({ role: e.target.value }) },
    roleOptions().map(([value, text]) => el("option", { value }, text))
  );
  role.value = user.role;
  const status = user.disabled
    ? t("users.disabled")
    : user.locked_until
      ? t("users.locked")
      : user.invitation_pending
        ? t("users.invited")
        : t("users.active");
  const toggle = el(
    "button",
    { type: "button", onclick: () => change({ disabled: !user.disabled }), disabled: user.id === ctx.user.id },
    user.disabled ? t("users.enable") : t("users.disable")
  );
  return el(
    "tr",
    { "data-user": user.email },
    el("td", {}, user.email),
    el("td", {}, user.name),
    el("td", {}, role),
    el("td", {}, status),
    el("td", {}, when(user.created_at)),
    el("td", {}, toggle)
  );
}

export async function render(main, ctx) {
  const message = el("p", { role: "status", id: "users-message" });
  const say = (text, isError) => {
    message.textContent = text;
    message.className = isError ? "error" : "";
  };
  const body = el("tbody", { id: "users" });
  const reload = async () => {
    const list = await get("/v1/users");
    body.replaceChildren(...list.items.map((user) => row(user, ctx, reload, say)));
  };
  const create = async (event) => {
    event.preventDefault();
    const node = event.target;
    clearErrors(node);
    const v = values(node);
    try {
      const user = await post("/v1/users", { email: v.email, name: v.name || null, role: v.role, password: v.password || null });
      node.reset();
      say(t(user.invitation_pending ? "users.invitation_sent" : "users.created", { email: user.email }));
      await reload();
    } catch (error) {
      showError(node, error.field, error.message);
    }
  };
  main.append(
    el("h1", {}, t("users.title")),
    message,
    el(
      "table",
      {},
      el(
        "thead",
        {},
        el("tr", {}, ["users.email", "users.name", "users.role", "users.status", "tokens.created_at", "users.actions"].map((k) => el("th", { scope: "col" }, t(k))))
      ),
      body
    ),
    el("h2", {}, t("users.create")),
    form(
      "new-user",
      create,
      field("new-user", { name: "email", label: t("users.email"), type: "email", required: true }),
      field("new-user", { name: "name", label: t("users.name") }),
      field("new-user", { name: "role", label: t("users.role"), options: roleOptions(), value: "viewer" }),
      field("new-user", { name: "password", label: t("users.password"), type: "password", autocomplete: "new-password" }),
      el("button", { type: "submit" }, t("users.submit"))
    )
  );
  await reload();
}
