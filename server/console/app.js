// The console's shell: who is signed in, the navigation (only the pages the role may use), the
// language switch and sign-out, and a router over `#/page`. A page is a module of ./pages/
// exporting `render(main, ctx)`; to add one, add a file and a line to PAGES (and its words to
// i18n.js).
import { ApiError, del, get, setCsrf } from "./api.js";
import { lang, setLang, t } from "./i18n.js";
import { el } from "./ui.js";

/** Every page: its route, its label, the roles that see it, and its module. */
const PAGES = [
  { id: "dashboard", roles: ["admin", "viewer"], module: "./pages/dashboard.js" },
  { id: "inbox", roles: ["admin"], module: "./pages/inbox.js" },
  { id: "groups", roles: ["admin"], module: "./pages/groups.js" },
  { id: "rules", roles: ["admin"], module: "./pages/rules.js" },
  { id: "events", roles: ["admin"], module: "./pages/events.js" },
  { id: "templates", roles: ["admin", "marketer"], module: "./pages/templates.js" },
  { id: "outbox", roles: ["admin", "marketer"], module: "./pages/events.js" },
  { id: "users", roles: ["admin"], module: "./pages/users.js" },
  { id: "tokens", roles: ["admin"], module: "./pages/tokens.js" },
  { id: "settings", roles: ["admin"], module: "./pages/settings.js" },
];

const $ = (id) => document.getElementById(id);
let user = null;

function allowed() {
  // Until a password an admin chose is changed, the API answers nothing else: no page is offered.
  if (!user || user.password_change_required) return [];
  return PAGES.filter((page) => page.roles.includes(user.role));
}

function route() {
  return location.hash.replace(/^#\/?/, "").split(/[?/]/)[0];
}

/** An invitation link (`#/welcome/TOKEN`): choose a password, then the console. */
async function showWelcome() {
  renderNav(null);
  const token = location.hash.replace(/^#\/?welcome\/?/, "");
  const page = await import("./pages/welcome.js");
  page.render($("main"), {
    token,
    signedIn: (session) => {
      // The link is used: drop it from the address and the history.
      history.replaceState(null, "", location.pathname + location.search);
      return signedIn(session);
    },
  });
}

/** The static words of the shell, in the chosen language. */
function translateShell() {
  document.documentElement.lang = lang();
  $("skip").textContent = t("app.skip");
  $("nav").setAttribute("aria-label", t("app.menu"));
  $("lang").textContent = t("app.switch");
  $("lang").lang = lang() === "ja" ? "en" : "ja";
  $("logout").textContent = t("app.logout");
}

function renderNav(current) {
  const items = allowed().map((page) =>
    el("li", {}, el("a", { href: `#/${page.id}`, "aria-current": page.id === current ? "page" : undefined }, t(`nav.${page.id}`)))
  );
  $("nav").replaceChildren(items.length ? el("ul", {}, items) : "");
  $("who").textContent = user ? `${user.name} (${t(`role.${user.role}`)})` : "";
  $("logout").hidden = !user;
}

/** Shows the page the address names, or the first the role may use. */
async function show() {
  const main = $("main");
  if (route() === "welcome") return showWelcome();
  if (!user) return showSignIn();
  if (user.password_change_required) {
    renderNav(null);
    const page = await import("./pages/password.js");
    return page.render(main, context());
  }
  const pages = allowed();
  const wanted = route();
  const page = PAGES.find((p) => p.id === wanted) || (wanted ? null : pages[0]);
  renderNav(page && page.id);
  if (!pages.length) {
    main.replaceChildren(el("p", { role: "status" }, t("app.no_pages")));
    return;
  }
  if (!page || !pages.includes(page)) {
    main.replaceChildren(el("p", { role: "alert" }, t("app.forbidden")));
    return;
  }
  document.title = `${t(`nav.${page.id}`)} - hirelay`;
  const module = await import(page.module);
  main.replaceChildren();
  await module.render(main, context(page));
}

function context(page) {
  return { user, page, signedIn, refresh: show };
}

async function showSignIn(message) {
  renderNav(null);
  document.title = `${t("signin.title")} - hirelay`;
  const page = await import("./pages/signin.js");
  page.render($("main"), { signedIn, message });
}

/** After a sign-in or a password change: remember who, and show the page asked for. */
function signedIn(session) {
  user = session.user;
  setCsrf(session.csrf_token);
  return show();
}

async function start() {
  translateShell();
  try {
    await signedIn(await get("/v1/session"));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status >= 500) throw error;
    await show();
  }
}

document.addEventListener("hirelay:signed-out", () => {
  if (!user) return;
  user = null;
  setCsrf(null);
  showSignIn();
});

document.addEventListener("DOMContentLoaded", () => {
  $("lang").addEventListener("click", () => {
    setLang(lang() === "ja" ? "en" : "ja");
    translateShell();
    show();
  });
  $("logout").addEventListener("click", async () => {
    try {
      await del("/v1/session");
    } finally {
      user = null;
      setCsrf(null);
      await showSignIn(t("app.signed_out"));
    }
  });
  // Keyboard and screen-reader users land on the page they chose, not on the menu.
  window.addEventListener("hashchange", () => show().then(() => $("main").focus()));
  start();
});
