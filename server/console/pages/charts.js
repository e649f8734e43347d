// Charts drawn as SVG with DOM calls (no library, nothing inline: the strict CSP allows neither
// inline style nor markup). Colours come from console.css by class; every value is set as text.
// Each chart has a title and a description for screen readers; the tables beside them hold the
// same figures.
const NS = "http://www.w3.org/2000/svg";

/** An SVG element with attributes and children (strings become text). */
export function svg(tag, attrs, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A rate (0.333) as `33.3%`, or `—`. */
export function percent(value) {
  return value === null || value === undefined ? "—" : (value * 100).toFixed(1) + "%";
}

/** The root `<svg>` of a chart `width`×`height`, scaled to its container, labelled. */
function frame(id, width, height, title, description) {
  return svg(
    "svg",
    // Drawn at its own size (never scaled up), and shrunk to fit a narrow screen by the style.
    { id, class: "chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": `${id}-title ${id}-desc` },
    svg("title", { id: `${id}-title` }, title),
    svg("desc", { id: `${id}-desc` }, description)
  );
}

const LABEL_W = 150;
const BAR_W = 330;
const ROW_H = 32;

/**
 * The funnel as horizontal bars, one row per step: its label, a bar as long as its count (the
 * largest count fills the width), the count and the rate from the step before, and, where a
 * target rate is configured, a mark where the count would meet it (bar coloured by whether it
 * does). `steps`: `[{name, label, count, rate_from_previous, target_rate, on_target}]`.
 */
export function funnelChart(id, steps, words) {
  const max = Math.max(1, ...steps.map((s) => s.count));
  const scale = (n) => (n / max) * BAR_W;
  const height = steps.length * ROW_H + 8;
  const description = steps.map((s) => `${s.label}: ${s.count} (${percent(s.rate_from_previous)})`).join(", ");
  const chart = frame(id, LABEL_W + BAR_W + 130, height, words.title, description);
  steps.forEach((step, i) => {
    const y = i * ROW_H + 4;
    const mid = y + ROW_H / 2;
    const state = step.on_target === true ? " on" : step.on_target === false ? " off" : "";
    const width = Math.max(scale(step.count), step.count > 0 ? 2 : 0);
    const value = i === 0 || step.rate_from_previous === null || step.rate_from_previous === undefined
      ? `${step.count}`
      : `${step.count} (${percent(step.rate_from_previous)})`;
    const previous = steps[i - 1];
    const target = step.target_rate !== undefined && previous ? LABEL_W + scale(previous.count * step.target_rate) : null;
    // The figures go right of the bar, and of the target mark when it is further right.
    const textX = Math.max(LABEL_W + width, target ?? 0) + 6;
    const row = svg(
      "g",
      { class: "step", "data-step": step.name },
      svg("text", { class: "label", x: LABEL_W - 8, y: mid, "text-anchor": "end", "dominant-baseline": "middle" }, step.label),
      svg("rect", { class: `bar${state}`, x: LABEL_W, y: y + 4, width: width.toFixed(1), height: ROW_H - 8, rx: 2 }),
      svg("text", { class: "value", x: textX.toFixed(1), y: mid, "dominant-baseline": "middle" }, value)
    );
    if (target !== null) {
      row.append(
        svg(
          "line",
          { class: "target", x1: target.toFixed(1), x2: target.toFixed(1), y1: y + 1, y2: y + ROW_H - 1 },
          svg("title", {}, `${words.target} ${percent(step.target_rate)}`)
        )
      );
    }
    chart.append(row);
  });
  return chart;
}

const PLOT_H = 160;
const TOP = 24;
const LEFT = 40;

/**
 * The monthly trend as grouped vertical bars: for each month (`groups`, `[{key, steps}]`), one
 * bar per series (`series`, `[[stepName, label]]`), with its count above it, and a legend.
 */
export function trendChart(id, groups, series, words) {
  const count = (group, name) => (group.steps.find((s) => s.name === name) || { count: 0 }).count;
  const max = Math.max(1, ...groups.flatMap((g) => series.map(([name]) => count(g, name))));
  const barW = 18;
  const groupW = series.length * barW + 24;
  const legendW = 130;
  const width = Math.max(LEFT + groups.length * groupW + 16, LEFT + series.length * legendW);
  const height = TOP + PLOT_H + 44;
  const description = groups
    .map((g) => `${g.key}: ` + series.map(([name, label]) => `${label} ${count(g, name)}`).join(", "))
    .join("; ");
  const chart = frame(id, width, height, words.trend, description);
  const base = TOP + PLOT_H;
  chart.append(svg("line", { class: "axis", x1: LEFT - 4, x2: width - 8, y1: base, y2: base }));
  chart.append(svg("text", { class: "tick", x: LEFT - 8, y: TOP, "text-anchor": "end", "dominant-baseline": "middle" }, max));
  chart.append(svg("text", { class: "tick", x: LEFT - 8, y: base, "text-anchor": "end", "dominant-baseline": "middle" }, 0));
  groups.forEach((group, g) => {
    const x0 = LEFT + g * groupW + 12;
    const bars = series.map(([name, label], s) => {
      const n = count(group, name);
      const h = (n / max) * PLOT_H;
      const x = x0 + s * barW;
      return svg(
        "g",
        { class: "point", "data-month": group.key, "data-step": name },
        svg("rect", { class: `series-${s}`, x, y: (base - h).toFixed(1), width: barW - 3, height: h.toFixed(1) }, svg("title", {}, `${group.key} ${label}: ${n}`)),
        svg("text", { class: "value", x: x + (barW - 3) / 2, y: base - h - 4, "text-anchor": "middle" }, n)
      );
    });
    chart.append(
      svg("g", { class: "month" }, bars, svg("text", { class: "tick", x: x0 + (series.length * barW) / 2, y: base + 16, "text-anchor": "middle" }, group.key))
    );
  });
  const legend = svg("g", { class: "legend" });
  series.forEach(([, label], s) => {
    const x = LEFT + s * legendW;
    legend.append(
      svg("rect", { class: `series-${s}`, x, y: height - 14, width: 10, height: 10 }),
      svg("text", { x: x + 14, y: height - 5 }, label)
    );
  });
  chart.append(legend);
  return chart;
}
