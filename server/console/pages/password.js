// Choosing one's own password, asked for before anything else when an admin chose it.
import { put } from "../api.js";
import { t } from "../i18n.js";
import { passwordPage } from "../ui.js";

export function render(main, ctx) {
  passwordPage(main, ctx, {
    id: "password",
    title: t("password.title"),
    intro: t("password.intro"),
    fields: [
      ["current_password", t("password.current"), "current-password"],
      ["new_password", t("password.new"), "new-password"],
      ["confirm", t("password.confirm"), "new-password"],
    ],
    password: "new_password",
    mismatch: t("password.mismatch"),
    submit: t("password.submit"),
    send: (v) => put("/v1/session/password", { current_password: v.current_password, new_password: v.new_password }),
  });
}
