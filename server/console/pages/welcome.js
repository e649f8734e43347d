// An invited user's first visit (`#/welcome/TOKEN`, from the invitation email): they choose a
// password and are signed in.
import { post } from "../api.js";
import { t } from "../i18n.js";
import { clearErrors, el, field, form, showError, values } from "../ui.js";

export function render(main, ctx) {
  const submit = async (event) => {
    event.preventDefault();
    const node = event.target;
    clearErrors(node);
    const v = values(node);
    if (v.password !== v.confirm) return showError(node, "confirm", t("password.mismatch"));
    try {
      await ctx.signedIn(await post("/v1/session/invitation", { token: ctx.token, password: v.password }));
    } catch (error) {
      // An unusable link names `token`, which has no field: it shows at the form's top.
      showError(node, error.field, error.message);
    }
  };
  document.title = `${t("welcome.title")} - hirelay`;
  main.replaceChildren(
    el("h1", {}, t("welcome.title")),
    el("p", {}, t("welcome.intro")),
    form(
      "welcome",
      submit,
      field("welcome", { name: "password", label: t("welcome.password"), type: "password", required: true, autocomplete: "new-password" }),
      field("welcome", { name: "confirm", label: t("welcome.confirm"), type: "password", required: true, autocomplete: "new-password" }),
      el("button", { type: "submit" }, t("welcome.submit"))
    )
  );
}
