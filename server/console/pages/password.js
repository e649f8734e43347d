// Choosing one's own password, asked for before anything else when an admin chose it.
import { put } from "../api.js";
import { t } from "../i18n.js";
import { clearErrors, el, field, form, showError, values } from "../ui.js";

export function render(main, ctx) {
  const submit = async (event) => {
    event.preventDefault();
    const node = event.target;
    clearErrors(node);
    const v = values(node);
    if (v.new_password !== v.confirm) return showError(node, "confirm", t("password.mismatch"));
    try {
      await ctx.signedIn(await put("/v1/session/password", { current_password: v.current_password, new_password: v.new_password }));
    } catch (error) {
      showError(node, error.field, error.message);
    }
  };
  document.title = `${t("password.title")} - hirelay`;
  main.replaceChildren(
    el("h1", {}, t("password.title")),
    el("p", {}, t("password.intro")),
    form(
      "password",
      submit,
      field("password", { name: "current_password", label: t("password.current"), type: "password", required: true, autocomplete: "current-password" }),
      field("password", { name: "new_password", label: t("password.new"), type: "password", required: true, autocomplete: "new-password" }),
      field("password", { name: "confirm", label: t("password.confirm"), type: "password", required: true, autocomplete: "new-password" }),
      el("button", { type: "submit" }, t("password.submit"))
    )
  );
}
