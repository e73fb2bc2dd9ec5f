// Rich result messages: a metrics table with equity and drawdown charts (uPlot), a comparison
// table with overlaid equity curves, and a parameter sweep as a coloured heatmap table.
import uPlot from "uplot";

const PALETTE = ["#1976d2", "#e65100", "#2e7d32", "#8e24aa", "#c62828", "#00838f", "#6d4c41", "#546e7a"];
const PERCENT = new Set([
  "total_return",
  "cagr",
  "volatility",
  "max_drawdown",
  "win_rate",
  "exposure",
  "return",
  "avg_trade",
  "avg_trade_return",
  "best_trade",
  "worst_trade",
]);
const ISO_DAY = /^(\d{4}-\d{2}-\d{2})T00:00:00(\.0+)?(Z|[+-]00:00)?$/;

/** Format one metric value for a table cell. */
export function formatMetric(name, value) {
  if (value === null || value === undefined || value === "") return "–";
  if (typeof value === "string") return value.replace(ISO_DAY, "$1");
  if (typeof value !== "number") return String(value);
  if (!Number.isFinite(value)) return String(value);
  if (PERCENT.has(String(name).replace(/^oos_/, ""))) return (value * 100).toFixed(2) + " %";
  if (Number.isInteger(value)) return value.toLocaleString();
  return Math.abs(value) >= 1000 ? value.toLocaleString(undefined, { maximumFractionDigits: 0 }) : value.toFixed(3);
}

function h(tag, cls, text) {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Metrics as name/value pairs, two pairs per row (compact). */
function metricsTable(stats) {
  const table = h("table", "cow-table cow-metrics");
  const body = table.createTBody();
  const entries = Object.entries(stats || {});
  const half = Math.ceil(entries.length / 2);
  for (let i = 0; i < half; i++) {
    const tr = body.insertRow();
    for (const pair of [entries[i], entries[i + half]]) {
      if (!pair) continue;
      tr.appendChild(h("th", "", pair[0]));
      tr.appendChild(h("td", "", formatMetric(pair[0], pair[1])));
    }
  }
  return table;
}

function comparisonTable(table, strategies) {
  const el = h("table", "cow-table cow-comparison");
  const head = el.createTHead().insertRow();
  head.appendChild(h("th", "", "metric"));
  const cols = strategies?.length ? strategies : Object.keys(Object.values(table || {})[0] || {});
  for (const s of cols) head.appendChild(h("th", "", s));
  const body = el.createTBody();
  for (const [metric, row] of Object.entries(table || {})) {
    const tr = body.insertRow();
    tr.appendChild(h("th", "", metric));
    for (const s of cols) tr.appendChild(h("td", "", formatMetric(metric, row?.[s])));
  }
  return el;
}

function themeColors(el) {
  const cs = getComputedStyle(el);
  return {
    axis: cs.getPropertyValue("--cow-fg2").trim() || "#666",
    grid: cs.getPropertyValue("--cow-border").trim() || "#ddd",
  };
}

function axes(colors, fmt, hideX) {
  const base = { stroke: colors.axis, grid: { stroke: colors.grid, width: 0.5 }, ticks: { stroke: colors.grid } };
  const x = hideX ? { ...base, size: 6, values: (u, vals) => vals.map(() => "") } : { ...base, size: 48 };
  return [x, { ...base, size: 56, values: fmt ? (u, vals) => vals.map(fmt) : undefined }];
}

function makeChart(container, { t, series, height, fmt, syncKey, hideX }) {
  const colors = themeColors(container);
  const width = Math.max(260, container.clientWidth || 480);
  const opts = {
    width,
    height,
    scales: { x: { time: true } },
    axes: axes(colors, fmt, hideX),
    cursor: syncKey ? { sync: { key: syncKey } } : {},
    legend: { show: series.length > 1 },
    series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, fill: s.fill, points: { show: false } }))],
  };
  return new uPlot(opts, [t, ...series.map((s) => s.values)], container);
}

function chartBox(height, caption, legend = false) {
  const wrap = h("div", "cow-chart");
  if (caption) wrap.appendChild(h("div", "cow-meta", caption));
  const box = h("div", "cow-plot");
  box.style.height = height + (legend ? 30 : 0) + "px";
  wrap.appendChild(box);
  wrap.plot = box;
  return wrap;
}

const pct = (v) => (v * 100).toFixed(0) + "%";
const compact = (v) => {
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(2) + "B";
  if (a >= 1e6) return (v / 1e6).toFixed(2) + "M";
  if (a >= 1e4) return (v / 1e3).toFixed(1) + "k";
  return a >= 100 ? v.toFixed(0) : v.toPrecision(3);
};

/** A backtest: title, metrics and equity + drawdown charts. */
function renderBacktest(card, r, charts) {
  const name = [r.strategyId, r.template, r.symbol].filter(Boolean).join(" · ");
  card.appendChild(h("div", "cow-card-title", `Backtest ${r.runId}${name ? " — " + name : ""}`));
  const grid = h("div", "cow-card-grid");
  grid.appendChild(metricsTable(r.stats));
  const col = h("div", "cow-chart");
  const eq = chartBox(120, "equity");
  const dd = chartBox(110, "drawdown");
  col.append(eq, dd);
  grid.appendChild(col);
  card.appendChild(grid);
  const s = r.series;
  if (s?.t?.length) {
    charts.push(() => {
      const key = "cow-" + r.runId;
      return [
        makeChart(eq.plot, { t: s.t, series: [{ label: "equity", values: s.equity, color: PALETTE[0] }], height: 120, fmt: compact, syncKey: key, hideX: true }),
        makeChart(dd.plot, {
          t: s.t,
          series: [{ label: "drawdown", values: s.drawdown, color: "#c62828", fill: "rgba(198,40,40,0.18)" }],
          height: 110,
          fmt: pct,
          syncKey: key,
        }),
      ];
    });
  }
}

/** A comparison: metrics x strategies table and overlaid equity curves. */
function renderComparison(card, r, charts) {
  card.appendChild(h("div", "cow-card-title", `Comparison ${r.runId} — ${(r.strategies || []).join(" vs ")}`));
  const grid = h("div", "cow-card-grid");
  grid.appendChild(comparisonTable(r.table, r.strategies));
  const box = chartBox(200, "equity", true);
  grid.appendChild(box);
  card.appendChild(grid);
  const s = r.series;
  if (s?.t?.length && s.curves) {
    charts.push(() => [
      makeChart(box.plot, {
        t: s.t,
        series: Object.entries(s.curves).map(([label, values], i) => ({ label, values, color: PALETTE[i % PALETTE.length] })),
        height: 200,
        fmt: compact,
      }),
    ]);
  }
}

function heatColor(x) {
  // 0 -> red, 0.5 -> yellow, 1 -> green
  const hue = Math.round(120 * Math.max(0, Math.min(1, x)));
  return `hsl(${hue}, 70%, 62%)`;
}

/** A sweep: heatmap of the metric over the first two parameters (best over the others).
 *  With `onPick(row)`, clicking a cell passes the row behind it (all its parameters). */
export function sweepHeatmap(rows, params, metric, onPick = null) {
  const px = params[0];
  const py = params[1];
  const xs = [...new Set(rows.map((r) => r[px]))].sort((a, b) => a - b);
  const ys = py ? [...new Set(rows.map((r) => r[py]))].sort((a, b) => a - b) : [null];
  const cells = new Map();
  const best = new Map(); // cell -> the row with the best metric
  for (const r of rows) {
    const v = Number(r[metric]);
    if (!Number.isFinite(v)) continue;
    const k = r[px] + "|" + (py ? r[py] : null);
    if (!cells.has(k) || cells.get(k) < v) {
      cells.set(k, v);
      best.set(k, r);
    }
  }
  const values = [...cells.values()];
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const table = h("table", "cow-table cow-heat");
  const head = table.createTHead().insertRow();
  head.appendChild(h("th", "", py ? `${py} \\ ${px}` : px));
  for (const x of xs) head.appendChild(h("th", "", String(x)));
  const body = table.createTBody();
  for (const y of ys) {
    const tr = body.insertRow();
    tr.appendChild(h("th", "", py ? String(y) : metric));
    for (const x of xs) {
      const v = cells.get(x + "|" + y);
      const td = h("td", "cow-cell", v === undefined ? "" : formatMetric(metric, v));
      if (v !== undefined) {
        td.style.background = heatColor(hi > lo ? (v - lo) / (hi - lo) : 1);
        td.title = `${px}=${x}${py ? `, ${py}=${y}` : ""}: ${metric} ${formatMetric(metric, v)}`;
        if (onPick) {
          const row = best.get(x + "|" + y);
          td.classList.add("cow-pick");
          td.title += " (click: backtest these parameters)";
          td.addEventListener("click", () => onPick(row));
        }
      }
      tr.appendChild(td);
    }
  }
  return table;
}

function renderSweep(card, r, onRun) {
  const metric = r.metric || "sharpe";
  const params = r.params || [];
  const rows = r.rows || [];
  card.appendChild(
    h("div", "cow-card-title", `Sweep ${r.runId} — ${r.template || ""} ${r.symbol || ""} (${r.count ?? rows.length} combinations, colour = ${metric}${r.split ? `, in sample; out of sample from ${r.split}` : ""})`),
  );
  const pick = onRun && r.template
    ? (row) => onRun([`/run_backtest ${r.template}`, r.symbol ? `symbol=${r.symbol}` : "",
        ...params.map((p) => `${p}=${row[p]}`)].filter(Boolean).join(" "))
    : null;
  if (params.length && rows.length) card.appendChild(sweepHeatmap(rows, params, metric, pick));
  const top = [...rows].sort((a, b) => (b[metric] ?? -Infinity) - (a[metric] ?? -Infinity)).slice(0, 5);
  if (top.length) {
    // with a split, the out-of-sample columns sit next to the in-sample ones
    const stats = [metric, "oos_" + metric, "total_return", "oos_total_return", "max_drawdown"];
    const cols = [...params, ...stats].filter((c, i, a) => a.indexOf(c) === i && c in top[0]);
    const t = h("table", "cow-table cow-top");
    const head = t.createTHead().insertRow();
    for (const c of cols) head.appendChild(h("th", "", c));
    const body = t.createTBody();
    for (const row of top) {
      const tr = body.insertRow();
      for (const c of cols) tr.appendChild(h("td", "", formatMetric(c, row[c])));
    }
    card.appendChild(h("div", "cow-meta", "best combinations"));
    card.appendChild(t);
  }
}

/** Build the bubble for a result; returns {el, mount, destroy} (charts are drawn on mount). */
/** `onRun(text)` (optional) runs a command, e.g. a backtest of a clicked sweep cell. */
export function renderResult(result, onRun = null) {
  const card = h("div", "cow-bubble cow-rich");
  const charts = [];
  const kind = result.kind;
  if (kind === "backtest") renderBacktest(card, result, charts);
  else if (kind === "comparison") renderComparison(card, result, charts);
  else if (kind === "sweep") renderSweep(card, result, onRun);
  else {
    card.appendChild(h("div", "cow-card-title", `${kind || "result"} ${result.runId || ""}`));
    if (result.stats) card.appendChild(metricsTable(result.stats));
  }
  if (result.points && result.totalPoints && result.points < result.totalPoints) {
    card.appendChild(h("div", "cow-meta", `chart: ${result.points} of ${result.totalPoints} points (downsampled; the kernel keeps the full DataFrame)`));
  }
  let plots = [];
  return {
    el: card,
    mount() {
      for (const make of charts) plots = plots.concat(make());
    },
    destroy() {
      for (const p of plots) p.destroy();
      plots = [];
    },
  };
}
