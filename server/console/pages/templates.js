// Templates (marketer, admin): edit a mail's subject, HTML and text with a live preview the
// server renders from the draft with sample data (at desktop and mobile widths, in a sandboxed
// frame, as a candidate would see it); the server's check as you type (the legal display a
// promotional mail must show); the variables the template may use; save (refused when someone
// saved a newer version first); test-send; versions with diff and rollback.
import { post, get, put } from "../api.js";
import { t } from "../i18n.js";
import { clearErrors, el, field, form, showError, values } from "../ui.js";
import { codeEditor, saveRefusal, versionHistory } from "./editor.js";

/** How long typing pauses before the preview is rendered again. */
const PREVIEW_DELAY_MS = 400;

/** The three parts as one text, for the version diff. */
const joined = (doc) => `${doc.subject}\n\n${doc.html}\n\n${doc.text}`;

/** A sandboxed frame (scripts of its own page only; no cookies, no API) showing mail HTML. */
function previewFrame(id, title) {
  const frame = el("iframe", { id, title, src: "/console/preview.html", sandbox: "allow-scripts", className: id });
  let ready = false;
  let pending = null;
  const send = (html) => frame.contentWindow.postMessage({ type: "hirelay:preview", html }, "*");
  frame.addEventListener("load", () => {
    ready = true;
    if (pending !== null) send(pending);
  });
  return {
    node: frame,
    show(html) {
      pending = html;
      if (ready) send(html);
    },
  };
}

export async function render(main) {
  const list = await get("/v1/templates");
  const names = list.items.map((x) => x.name);
  let name = names[0];
  let base = null;
  let timer = null;

  const status = el("p", { id: "templates-message", role: "status", "aria-live": "polite" });
  const say = (text, isError) => {
    status.textContent = text;
    status.className = isError ? "form-error" : "";
  };
  const picker = field("templates-pick", { name: "name", label: t("templates.template"), options: names.map((n) => [n, n]), value: name });
  const subject = field("template-form", { name: "subject", label: t("templates.subject"), required: true });
  const subjectInput = subject.querySelector("input");
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(preview, PREVIEW_DELAY_MS);
  };
  subjectInput.addEventListener("input", schedule);
  // Saving puts the template in use for real mail: only the button does it, not Enter here.
  subjectInput.addEventListener("keydown", (e) => {
    if (e.key === "Enter") e.preventDefault();
  });
  const htmlPart = codeEditor({ id: "template-html", label: t("templates.html"), language: "html", onChange: schedule });
  const textPart = codeEditor({ id: "template-text", label: t("templates.text"), language: "text", onChange: schedule });
  const editors = { html: htmlPart, text: textPart };
  const variables = el("dl", { id: "template-variables" });
  const legal = el("div", { id: "template-check", role: "status", "aria-live": "polite" });
  const previewSubject = el("strong", { id: "preview-subject" });
  const desktop = previewFrame("preview-desktop", t("templates.desktop"));
  const mobile = previewFrame("preview-mobile", t("templates.mobile"));
  const previewText = el("pre", { id: "preview-text" });
  const warnings = el("ul", { id: "preview-warnings" });
  const api = () => `/v1/templates/${encodeURIComponent(name)}`;
  const draft = () => ({ subject: subjectInput.value, html: htmlPart.value(), text: textPart.value() });

  /** The server's problems with the draft, each beside its part. */
  const showProblems = (error) => {
    const problems = (error.details && error.details.problems) || [];
    htmlPart.mark(problems.filter((p) => p.part === "html"));
    textPart.mark(problems.filter((p) => p.part === "text"));
    const onSubject = problems.filter((p) => p.part === "subject");
    subject.querySelector(".field-error").textContent = onSubject.map((p) => p.message).join(" ");
    legal.replaceChildren(
      el("p", { className: "form-error" }, t("templates.problems", { count: problems.length || 1 })),
      el("ul", {}, (problems.length ? problems : [{ part: "", message: error.message }]).map((p) => el("li", {}, p.part ? `${t(`templates.part.${p.part}`)}: ` : "", p.message)))
    );
  };
  const clearProblems = () => {
    Object.values(editors).forEach((e) => e.mark([]));
    subject.querySelector(".field-error").textContent = "";
  };

  async function preview() {
    try {
      const r = await post(`${api()}/preview`, { template: draft() });
      clearProblems();
      legal.replaceChildren(el("p", { className: "ok" }, t("templates.check_ok")));
      previewSubject.textContent = r.subject;
      desktop.show(r.html);
      mobile.show(r.html);
      previewText.textContent = r.text;
      warnings.replaceChildren(...r.warnings.map((w) => el("li", {}, w)));
    } catch (error) {
      if (error.code === "template_invalid") showProblems(error);
      else say(error.message, true);
    }
  }

  const load = async () => {
    const doc = await get(api());
    base = doc.version;
    subjectInput.value = doc.subject;
    htmlPart.setValue(doc.html);
    textPart.setValue(doc.text);
    clearTimeout(timer);
    const vars = (doc.meta && doc.meta.variables) || {};
    variables.replaceChildren(...Object.entries(vars).flatMap(([key, doc]) => [el("dt", {}, el("code", {}, `{{${key}}}`)), el("dd", {}, doc)]));
    await preview();
    await versions.reload();
  };
  const historyFor = () =>
    versionHistory({ base: api(), current: () => joined(draft()), textOf: joined, language: "html", rolledBack: load, message: say });
  let versions = historyFor();

  const save = async (event) => {
    event.preventDefault();
    clearErrors(event.target);
    clearProblems();
    try {
      const saved = await put(api(), draft(), base === null ? {} : { "if-match": `"${base}"` });
      base = saved.version;
      say(t("templates.saved", { version: saved.version }));
      await versions.reload();
    } catch (error) {
      if (error.code === "template_invalid") showProblems(error);
      else if (error.field === "subject") showError(event.target, "subject", error.message);
      else say(saveRefusal(error), true);
    }
  };
  const testSend = async (event) => {
    event.preventDefault();
    const node = event.target;
    clearErrors(node);
    try {
      await post(`${api()}/test-send`, { to: values(node).to });
      say(t("templates.sent", { to: values(node).to }));
    } catch (error) {
      showError(node, error.field, error.message);
    }
  };

  picker.querySelector("select").addEventListener("change", async (e) => {
    name = e.target.value;
    versions.node.replaceWith((versions = historyFor()).node);
    say("");
    await load();
  });

  main.append(
    el("h1", {}, t("nav.templates")),
    el("p", {}, t("templates.intro")),
    status,
    picker,
    el(
      "div",
      { className: "template-layout" },
      el(
        "div",
        { className: "template-edit" },
        form("template-form", save, subject, htmlPart.node, textPart.node, el("button", { type: "submit" }, t("templates.save"))),
        legal
      ),
      el("aside", { "aria-labelledby": "variables-title" }, el("h2", { id: "variables-title" }, t("templates.variables")), variables)
    ),
    el(
      "section",
      { "aria-labelledby": "preview-title" },
      el("h2", { id: "preview-title" }, t("templates.preview")),
      el("p", {}, t("templates.subject_line"), " ", previewSubject),
      el("div", { className: "previews" }, el("figure", {}, el("figcaption", {}, t("templates.desktop")), desktop.node), el("figure", {}, el("figcaption", {}, t("templates.mobile")), mobile.node)),
      el("h3", {}, t("templates.text")),
      previewText,
      warnings
    ),
    el(
      "section",
      { "aria-labelledby": "test-send-title" },
      el("h2", { id: "test-send-title" }, t("templates.test_send")),
      el("p", {}, t("templates.test_send_intro")),
      form("test-send-form", testSend, field("test-send-form", { name: "to", label: t("templates.to"), type: "email", required: true, autocomplete: "email" }), el("button", { type: "submit" }, t("templates.send")))
    ),
    versions.node
  );
  if (name) await load();
}
