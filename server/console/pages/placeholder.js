// A page not built yet: says so and lists the API endpoints that do its work meanwhile.
import { t } from "../i18n.js";
import { el } from "../ui.js";

export function render(main, ctx) {
  main.append(
    el("h1", {}, t(`nav.${ctx.page.id}`)),
    el("p", {}, t("placeholder.text")),
    el("ul", {}, (ctx.page.api || []).map((line) => el("li", {}, el("code", {}, line))))
  );
}
