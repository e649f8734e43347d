// What the Rules and Templates pages share: a code editor (CodeMirror 6, vendored as one module
// in ../vendor/) with line numbers, highlighting and errors marked at their line; a read-only
// diff of two texts; the version history with diff and rollback; and the message a save gets
// when someone saved a newer version first (412).
import {
  EditorState,
  EditorView,
  StreamLanguage,
  basicSetup,
  getChunks,
  html,
  lintGutter,
  rust,
  setDiagnostics,
  unifiedMergeView,
} from "../vendor/codemirror.js";
import { get, post } from "../api.js";
import { t } from "../i18n.js";
import { el, when } from "../ui.js";

// Rhai reads like Rust (let, fn, if, `//` comments, strings): Rust's highlighting fits it.
const LANGUAGES = {
  rhai: () => StreamLanguage.define(rust),
  html: () => StreamLanguage.define(html),
  text: () => [],
};

// CodeMirror adds its styles as <style> elements; the console's policy lets through only those
// with this page's nonce (see server/src/http/console.rs).
const nonceMeta = document.querySelector('meta[name="style-nonce"]');
const styleNonce = EditorView.cspNonce.of(nonceMeta ? nonceMeta.content : "");

function extensions(language, labelId, describedBy) {
  return [
    styleNonce,
    basicSetup,
    lintGutter(),
    LANGUAGES[language](),
    EditorView.lineWrapping,
    // Labelled like any field. Tab is left unbound (no indentWithTab), so it moves on to the
    // next control: the keyboard is never trapped in the editor.
    EditorView.contentAttributes.of({ "aria-labelledby": labelId, "aria-describedby": describedBy }),
  ];
}

/**
 * A labelled code editor: `{id, label, language ("rhai", "html", "text"), value, onChange}`.
 * Answers `{node, view, value(), setValue(text), mark(problems), focus()}`; `mark` takes
 * `[{line, column, message}]` and shows each at its place and in the list under the editor.
 */
export function codeEditor(spec) {
  const labelId = `${spec.id}-label`;
  const errorId = `${spec.id}-error`;
  const problems = el("ul", { id: errorId, className: "field-error editor-problems", "aria-live": "polite" });
  const view = new EditorView({
    state: EditorState.create({
      doc: spec.value || "",
      extensions: [
        extensions(spec.language, labelId, errorId),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && spec.onChange) spec.onChange();
        }),
      ],
    }),
  });
  view.dom.id = spec.id;
  const at = (line, column) => {
    const doc = view.state.doc;
    const row = doc.line(Math.min(Math.max(line || 1, 1), doc.lines));
    return Math.min(row.from + Math.max((column || 1) - 1, 0), row.to);
  };
  const editor = {
    view,
    node: el("div", { className: "field editor" }, el("label", { id: labelId, className: "editor-label" }, spec.label), view.dom, problems),
    value: () => view.state.doc.toString(),
    setValue(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    focus: () => view.focus(),
    mark(found) {
      const list = found || [];
      const diagnostics = list.map((p) => {
        const from = at(p.line, p.column);
        const end = view.state.doc.lineAt(from).to;
        return { from, to: Math.max(end, from), severity: "error", message: p.message };
      });
      view.dispatch(setDiagnostics(view.state, diagnostics));
      problems.replaceChildren(
        ...list.map((p) =>
          el(
            "li",
            {},
            el(
              "button",
              {
                type: "button",
                className: "link",
                onclick: () => {
                  view.dispatch({ selection: { anchor: at(p.line, p.column) }, scrollIntoView: true });
                  view.focus();
                },
              },
              t("editor.at", { line: p.line || 1, column: p.column || 1 })
            ),
            " ",
            p.message
          )
        )
      );
    },
  };
  return editor;
}

/**
 * A read-only unified diff from `before` to `after`, highlighted as `language`, put in
 * `container` and scrolled to its first change (CodeMirror draws only the lines in view).
 */
export function showDiff(container, before, after, language) {
  const view = new EditorView({
    state: EditorState.create({
      doc: after,
      extensions: [
        styleNonce,
        basicSetup,
        LANGUAGES[language](),
        EditorView.lineWrapping,
        EditorView.editable.of(false),
        EditorState.readOnly.of(true),
        unifiedMergeView({ original: before, mergeControls: false, gutter: true }),
      ],
    }),
  });
  view.dom.classList.add("diff");
  container.append(view.dom);
  const found = getChunks(view.state);
  const first = found && found.chunks.length ? found.chunks[0].fromB : 0;
  view.dom.scrollIntoView({ block: "nearest" });
  view.dispatch({ effects: EditorView.scrollIntoView(Math.min(first, view.state.doc.length), { y: "center" }) });
}

/**
 * The version history of a rule script or template at `base` (`/v1/rules/status`): a table with
 * a diff of each version against the editor's text (`current()`), and a rollback button.
 * `textOf(version)` makes one text of a stored version; `rolledBack()` reloads the page's
 * editor. Answers `{node, reload()}`.
 */
export function versionHistory({ base, current, textOf, language, rolledBack, message }) {
  const body = el("tbody", {});
  const diff = el("div", { id: "version-diff", "aria-live": "polite" });
  const reload = async () => {
    const list = await get(`${base}/versions`);
    const items = [...list.items].reverse();
    body.replaceChildren(
      ...items.map((v) =>
        el(
          "tr",
          { "data-version": v.version },
          el("td", {}, `v${v.version}`, v.active ? ` (${t("editor.active")})` : ""),
          el("td", {}, when(v.created_at)),
          el("td", {}, v.author),
          el("td", {}, t(`editor.origin.${v.origin}`)),
          el(
            "td",
            {},
            el("button", { type: "button", onclick: () => compare(v.version) }, t("editor.diff", { version: v.version })),
            " ",
            v.active ? "" : el("button", { type: "button", onclick: () => rollback(v.version) }, t("editor.rollback", { version: v.version }))
          )
        )
      )
    );
  };
  const compare = async (version) => {
    const stored = await get(`${base}/versions/${version}`);
    diff.replaceChildren(el("h3", {}, t("editor.diff_title", { version })));
    showDiff(diff, textOf(stored), current(), language);
  };
  const rollback = async (version) => {
    if (!window.confirm(t("editor.rollback_confirm", { version }))) return;
    try {
      const saved = await post(`${base}/rollback`, { version });
      message(t("editor.rolled_back", { version, now: saved.version }));
      diff.replaceChildren();
      await rolledBack();
    } catch (error) {
      message(error.message, true);
    }
  };
  const node = el(
    "section",
    { "aria-labelledby": "versions-title" },
    el("h2", { id: "versions-title" }, t("editor.versions")),
    el(
      "table",
      {},
      el("thead", {}, el("tr", {}, ["editor.version", "editor.created_at", "editor.author", "editor.origin_col", "users.actions"].map((k) => el("th", { scope: "col" }, t(k))))),
      body
    ),
    diff
  );
  return { node, reload };
}

/** What the page says when a save is refused: someone saved a newer version first (412), or else the API's message. */
export function saveRefusal(error) {
  if (error.status === 412 && error.details) {
    return t("editor.conflict", {
      current: error.details.current_version,
      author: error.details.author || "?",
      expected: error.details.expected_version,
    });
  }
  return error.message;
}
