// Research result cards: a walk-forward (the stitched out-of-sample equity with buy & hold, the
// chosen parameters per window as a step chart, the window table) and a portfolio (its curve,
// each symbol's cumulative pnl contribution, a table per symbol); the universe card is in
// universe.js. `RESEARCH` maps a result kind to its renderer (used by result.js).
import uPlot from "uplot";
import { el } from "../dom.js";
import { chartBox, chartFrame, makeChart, PALETTE } from "./charts.js";
import { compact, formatMetric, pct } from "./format.js";
import { tableBox } from "./tables.js";
import { renderUniverse } from "./universe.js";

/** The stat a column is formatted as: `oos_return` is a total return, `is_x` is x. */
export function statOf(column) {
  if (/(^|_)return$/.test(column)) return "total_return";
  return column.replace(/^is_/, "");
}

/** A value of `column` as text (dates as YYYY-MM-DD, weights as percent). */
export function cellText(column, value) {
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}T/.test(value)) return value.slice(0, 10);
  if (column === "weight" && Number.isFinite(value)) return `${(value * 100).toFixed(1)} %`;
  return formatMetric(statOf(column), value);
}

const LABELS = {
  wfe: "walk-forward efficiency",
  is_cagr: "in-sample CAGR (mean)",
  param_changes: "param changes",
  param_change_rate: "param change rate",
  flat_windows: "windows in cash",
};

function pairsTable(pairs) {
  const t = el("table", "cow-table cow-metrics");
  const body = t.createTBody();
  const half = Math.ceil(pairs.length / 2);
  for (let i = 0; i < half; i++) {
    const tr = body.insertRow();
    for (const p of [pairs[i], pairs[i + half]]) {
      if (!p) continue;
      tr.appendChild(el("th", "", p[0]));
      tr.appendChild(el("td", "", p[1]));
    }
  }
  return t;
}

function rowsTable(rows, cols, cls) {
  const t = el("table", `cow-table ${cls}`);
  const head = t.createTHead().insertRow();
  for (const c of cols) head.appendChild(el("th", "", c));
  const body = t.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const c of cols) tr.appendChild(el("td", "", cellText(c, row[c])));
  }
  return t;
}

/** The chosen parameters per window as a step chart (x: each window's test start). */
function paramChart(box, ps) {
  const names = Object.keys(ps).filter((k) => k !== "t");
  const width = Math.max(260, box.clientWidth || 480);
  const opts = {
    width,
    height: 110,
    scales: { x: { time: true } },
    legend: { show: true, live: false },
    series: [
      {},
      ...names.map((n, i) => ({
        label: n,
        stroke: PALETTE[i % PALETTE.length],
        width: 1.5,
        paths: uPlot.paths.stepped({ align: 1 }),
        points: { show: true, size: 4 },
      })),
    ],
    axes: [
      { size: 30, font: "11px sans-serif" },
      { size: 50, font: "11px sans-serif" },
    ],
  };
  return new uPlot(opts, [ps.t, ...names.map((n) => ps[n])], box);
}

function equityCharts(eq, dd, s, key, extraTitle) {
  const lines = [{ label: extraTitle || "strategy", values: s.equity, color: PALETTE[0] }];
  if (s.benchmark) lines.push({ label: "buy & hold", values: s.benchmark, color: "#757575", dash: [4, 3] });
  const frame = chartFrame(eq.plot); // the drawdown chart has the same width
  const out = [
    makeChart(eq.plot, { t: s.t, series: lines, height: 150, fmt: compact, syncKey: key, legend: true, frame }),
  ];
  if (dd && s.drawdown) {
    out.push(
      makeChart(dd.plot, {
        t: s.t,
        series: [{ label: "drawdown", values: s.drawdown, color: "#c62828", fill: "rgba(198,40,40,0.18)" }],
        height: 80,
        fmt: pct,
        syncKey: key,
        frame,
      }),
    );
  }
  return out;
}

/** A walk-forward: title, stats, stitched equity with buy & hold, params per window, windows. */
export function renderWalkForward(card, r, _onRun, charts) {
  const n = r.windows?.length || 0;
  const mode = r.anchored ? "anchored" : "rolling";
  const what = [r.strategyId, r.template, r.symbol].filter(Boolean).join(" · ");
  card.appendChild(
    el(
      "div",
      "cow-card-title",
      `Walk-forward ${r.runId} — ${what} (${n} windows, train ${r.train}, test ${r.test}, ${mode}; best ${r.metric} with ≥ ${r.minTrades} trades)`,
    ),
  );
  if (r.partial) card.appendChild(el("div", "cow-heat-edge", "cancelled: the windows finished before the cancel"));
  // the stats the kernel chose for this card, in its order
  const pairs = Object.entries(r.stats || {}).map(([k, v]) => [LABELS[k] || k, cellText(k, v)]);
  const grid = el("div", "cow-card-grid");
  grid.appendChild(tableBox(pairsTable(pairs)));
  const col = el("div", "cow-chart");
  const eq = chartBox(150, "stitched out-of-sample equity (dashed: buy & hold of the same bars)", true);
  const dd = chartBox(80, "drawdown");
  const pc = chartBox(110, "chosen parameters per window (at each test start)", true);
  col.append(eq, dd, pc);
  grid.appendChild(col);
  card.appendChild(grid);
  const cols = [
    "window",
    "test_start",
    "test_end",
    ...(r.params || []),
    `is_${r.metric}`,
    `oos_${r.metric}`,
    "oos_return",
    "oos_trades",
    "note",
  ];
  const present = cols.filter((c) => (r.windows || []).some((w) => w[c] !== undefined));
  const box = tableBox(rowsTable(r.windows || [], present, "cow-wf-windows"));
  box.classList.add("cow-wf-scroll");
  card.append(
    el("div", "cow-meta", "windows (in-sample: the training sweep's best; out of sample: the test period)"),
    box,
  );
  const s = r.series;
  if (s?.t?.length) {
    charts.push(() => {
      const out = equityCharts(eq, dd, s, `cow-wf-${r.runId}`, "out of sample");
      if (r.paramSeries?.t?.length && Object.keys(r.paramSeries).length > 1)
        out.push(paramChart(pc.plot, r.paramSeries));
      return out;
    });
  }
}

/** A portfolio: title, stats, its curve with buy & hold, each symbol's pnl, a table per symbol. */
export function renderPortfolio(card, r, _onRun, charts) {
  const symbols = r.symbols || [];
  const weights = symbols.map((s, i) => `${s} ${((r.weights?.[i] ?? 0) * 100).toFixed(0)}%`).join(", ");
  const what = [r.strategyId, r.template].filter(Boolean).join(" · ");
  card.appendChild(
    el("div", "cow-card-title", `Portfolio ${r.runId} — ${what} on ${weights}; rebalance ${r.rebalance}`),
  );
  const grid = el("div", "cow-card-grid");
  grid.appendChild(tableBox(pairsTable(Object.entries(r.stats || {}).map(([k, v]) => [k, cellText(k, v)]))));
  const col = el("div", "cow-chart");
  const eq = chartBox(150, "portfolio equity (dashed: buy & hold at the same weights)", true);
  const contrib = chartBox(130, "each symbol's cumulative pnl (sums to equity − cash)", true);
  col.append(eq, contrib);
  grid.appendChild(col);
  card.appendChild(grid);
  card.appendChild(
    tableBox(rowsTable(r.bySymbol || [], ["symbol", "weight", "pnl", "trades"], "cow-portfolio-symbols")),
  );
  const s = r.series;
  if (s?.t?.length) {
    charts.push(() => {
      const out = equityCharts(eq, null, s, `cow-pf-${r.runId}`, "portfolio");
      const curves = r.contributions || {};
      out.push(
        makeChart(contrib.plot, {
          t: s.t,
          series: symbols.map((sym, i) => ({
            label: sym,
            values: curves[sym] || [],
            color: PALETTE[i % PALETTE.length],
          })),
          height: 130,
          fmt: compact,
          syncKey: `cow-pf-${r.runId}`,
          legend: true,
        }),
      );
      return out;
    });
  }
}

/** Renderers by result kind: `(card, result, onRun, charts) => void`. */
export const RESEARCH = {
  walkforward: renderWalkForward,
  universe: renderUniverse,
  portfolio: renderPortfolio,
};
