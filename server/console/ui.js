// Small DOM helpers every page shares: elements built with text (never HTML), labelled form
// fields with an error line each, and showing an ApiError beside the field it names.

/** An element with attributes (`class`, `for`, …, and `on…` listeners) and children (strings become text). */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "className") node.className = value;
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/**
 * A labelled field: `{name, label, type, value, required, options, autocomplete}`; `options`
 * (`[[value, text]]`) makes a select. Its error line has the id `{form}-{name}-error`.
 */
export function field(form, spec) {
  const id = `${form}-${spec.name}`;
  const errorId = `${id}-error`;
  const common = {
    id,
    name: spec.name,
    required: spec.required,
    autocomplete: spec.autocomplete || "off",
    "aria-describedby": errorId,
  };
  let input;
  if (spec.options) {
    input = el("select", common, spec.options.map(([value, text]) => el("option", { value }, text)));
    if (spec.value !== undefined) input.value = spec.value;
  } else {
    input = el("input", { ...common, type: spec.type || "text", value: spec.value, min: spec.min, inputmode: spec.inputmode });
  }
  return el(
    "div",
    { className: "field" },
    el("label", { for: id }, spec.label),
    input,
    el("p", { id: errorId, className: "field-error", "aria-live": "polite" })
  );
}

/** A form with a form-level error line (`role=alert`) first. */
export function form(id, onsubmit, ...children) {
  return el(
    "form",
    { id, novalidate: true, onsubmit },
    el("p", { className: "form-error", role: "alert" }),
    ...children
  );
}

/** Clears the errors a form shows. */
export function clearErrors(formNode) {
  for (const line of formNode.querySelectorAll(".field-error, .form-error")) line.textContent = "";
  for (const input of formNode.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

/**
 * Shows `message` beside the field `name` of a form (and focuses it), or at the form's top when
 * the form has no such field. What the user typed stays.
 */
export function showError(formNode, name, message) {
  const input = name ? formNode.querySelector(`[name="${CSS.escape(name)}"]`) : null;
  if (input) {
    input.setAttribute("aria-invalid", "true");
    document.getElementById(input.getAttribute("aria-describedby")).textContent = message;
    input.focus();
  } else {
    formNode.querySelector(".form-error").textContent = message;
  }
}

/** The values of a form's named fields. */
export function values(formNode) {
  return Object.fromEntries(new FormData(formNode).entries());
}

/** An RFC 3339 time as this browser shows dates and times (or a dash). */
export function when(value) {
  return value ? new Date(value).toLocaleString(document.documentElement.lang === "en" ? "en-GB" : "ja-JP") : "—";
}

/**
 * A page whose form chooses a password: `{id, title, intro, fields, submit, password, send}`.
 * `fields` are `[name, label, autocomplete]` of password inputs, the last one named `confirm`
 * and checked against the field `password` names; `send(values)` answers what to sign in with.
 * Errors show beside their field (or at the form's top), and what was typed stays.
 */
export function passwordPage(main, ctx, spec) {
  const submit = async (event) => {
    event.preventDefault();
    const node = event.target;
    clearErrors(node);
    const v = values(node);
    if (v[spec.password] !== v.confirm) return showError(node, "confirm", spec.mismatch);
    try {
      await ctx.signedIn(await spec.send(v));
    } catch (error) {
      showError(node, error.field, error.message);
    }
  };
  document.title = `${spec.title} - hirelay`;
  main.replaceChildren(
    el("h1", {}, spec.title),
    el("p", {}, spec.intro),
    form(
      spec.id,
      submit,
      spec.fields.map(([name, label, autocomplete]) =>
        field(spec.id, { name, label, type: "password", required: true, autocomplete })
      ),
      el("button", { type: "submit" }, spec.submit)
    )
  );
}
