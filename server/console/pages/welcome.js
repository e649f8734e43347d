// An invited user's first visit (`#/welcome/TOKEN`, from the invitation email): they choose a
// password and are signed in. An unusable link names `token`, which has no field: it shows at
// the form's top.
import { post } from "../api.js";
import { t } from "../i18n.js";
import { passwordPage } from "../ui.js";

export function render(main, ctx) {
  passwordPage(main, ctx, {
    id: "welcome",
    title: t("welcome.title"),
    intro: t("welcome.intro"),
    fields: [
      ["password", t("welcome.password"), "new-password"],
      ["confirm", t("welcome.confirm"), "new-password"],
    ],
    password: "password",
    mismatch: t("password.mismatch"),
    submit: t("welcome.submit"),
    send: (v) => post("/v1/session/invitation", { token: ctx.token, password: v.password }),
  });
}
