// What the console imports from CodeMirror 6: one module, built by build.sh into
// ../console/vendor/codemirror.js. Add an export here (and rebuild) to use more of it.
export { basicSetup } from "codemirror";
export { EditorView, keymap, lineNumbers } from "@codemirror/view";
export { EditorState, Compartment } from "@codemirror/state";
export { StreamLanguage } from "@codemirror/language";
export { rust } from "@codemirror/legacy-modes/mode/rust";
export { html } from "@codemirror/legacy-modes/mode/xml";
export { setDiagnostics, lintGutter } from "@codemirror/lint";
export { getChunks, unifiedMergeView } from "@codemirror/merge";
