// The sign-in page: email and password; errors beside the field they concern; what was typed
// as the address stays after a failure.
import { post } from "../api.js";
import { t } from "../i18n.js";
import { clearErrors, el, field, form, showError, values } from "../ui.js";

export function render(main, ctx) {
  const submit = async (event) => {
    event.preventDefault();
    const node = event.target;
    clearErrors(node);
    const { email, password } = values(node);
    try {
      await ctx.signedIn(await post("/v1/session", { email, password }));
    } catch (error) {
      node.elements.password.value = "";
      if (error.status === 429) showError(node, "password", t("signin.locked", { secs: error.retryAfter || "?" }));
      else if (error.code === "invalid_credentials") showError(node, "password", t("signin.bad"));
      else showError(node, error.field, error.message);
    }
  };
  main.replaceChildren(
    el("h1", {}, t("signin.title")),
    ctx.message ? el("p", { role: "status" }, ctx.message) : "",
    form(
      "signin",
      submit,
      field("signin", { name: "email", label: t("signin.email"), type: "email", required: true, autocomplete: "username" }),
      field("signin", { name: "password", label: t("signin.password"), type: "password", required: true, autocomplete: "current-password" }),
      el("button", { type: "submit" }, t("signin.submit"))
    )
  );
  main.querySelector("#signin-email").focus();
}
