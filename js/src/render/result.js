// Rich result cards: a backtest (metrics, equity and drawdown charts), a comparison (metrics x
// strategies, overlaid equity curves) and a parameter sweep (heatmap and best combinations).
import { el } from "../dom.js";
import { readoutText, tradeMarkers } from "./chartdata.js";
import { chartBox, makeChart, PALETTE } from "./charts.js";
import { compact, pct } from "./format.js";
import { RESEARCH } from "./research.js";
import { renderSweep } from "./sweep.js";
import { comparisonTable, metricsTable, tableBox } from "./tables.js";

/** A backtest: title, metrics, a hover readout, equity (trade markers, buy & hold when the
 *  result has it) and drawdown charts. */
function renderBacktest(card, r, charts) {
  const name = [r.strategyId, r.template, r.symbol].filter(Boolean).join(" · ");
  card.appendChild(el("div", "cow-card-title", `Backtest ${r.runId}${name ? ` — ${name}` : ""}`));
  const grid = el("div", "cow-card-grid");
  grid.appendChild(tableBox(metricsTable(r.stats)));
  const s = r.series;
  const markers = s?.t?.length ? tradeMarkers(s.t, r.trades) : [];
  const shown = r.trades?.entry?.length || 0;
  const total = r.trades?.total ?? shown;
  const caption = [
    "equity",
    s?.benchmark ? "(dashed: buy & hold)" : "",
    shown
      ? `▲ long / ▼ short entry, ○ exit (green win, red loss)${shown < total ? `; ${shown} of ${total} trades marked` : ""}`
      : "",
  ]
    .filter(Boolean)
    .join(" ");
  const col = el("div", "cow-chart");
  const readout = el("div", "cow-meta cow-chart-readout", "hover the chart: date, equity, drawdown, position");
  const eq = chartBox(130, caption);
  const dd = chartBox(110, "drawdown");
  col.append(readout, eq, dd);
  grid.appendChild(col);
  card.appendChild(grid);
  if (s?.t?.length) {
    const onCursor = (idx) => {
      if (idx !== null && idx !== undefined) readout.textContent = readoutText(s, idx);
    };
    charts.push(() => {
      const key = `cow-${r.runId}`;
      const lines = [{ label: "strategy", values: s.equity, color: PALETTE[0] }];
      if (s.benchmark) lines.push({ label: "buy & hold", values: s.benchmark, color: "#757575", dash: [4, 3] });
      return [
        makeChart(eq.plot, {
          t: s.t,
          series: lines,
          height: 130,
          fmt: compact,
          syncKey: key,
          hideX: true,
          markers,
          onCursor,
          legend: false,
        }),
        makeChart(dd.plot, {
          t: s.t,
          series: [{ label: "drawdown", values: s.drawdown, color: "#c62828", fill: "rgba(198,40,40,0.18)" }],
          height: 110,
          fmt: pct,
          syncKey: key,
          onCursor,
        }),
      ];
    });
  }
}

/** A comparison: metrics x strategies table and overlaid equity curves. */
function renderComparison(card, r, charts) {
  card.appendChild(el("div", "cow-card-title", `Comparison ${r.runId} — ${(r.strategies || []).join(" vs ")}`));
  const grid = el("div", "cow-card-grid");
  grid.appendChild(tableBox(comparisonTable(r.table, r.strategies)));
  const box = chartBox(200, "equity", true);
  grid.appendChild(box);
  card.appendChild(grid);
  const s = r.series;
  if (s?.t?.length && s.curves) {
    charts.push(() => [
      makeChart(box.plot, {
        t: s.t,
        series: Object.entries(s.curves).map(([label, values], i) => ({
          label,
          values,
          color: PALETTE[i % PALETTE.length],
        })),
        height: 200,
        fmt: compact,
      }),
    ]);
  }
}

/** Build the bubble for a result; returns {el, mount, destroy} (charts are drawn on mount).
 *  `onRun(text)` (optional) runs a command, e.g. a backtest of a clicked sweep cell. */
export function renderResult(result, onRun = null) {
  const card = el("div", "cow-bubble cow-rich");
  const charts = [];
  const kind = result.kind;
  if (kind === "backtest") renderBacktest(card, result, charts);
  else if (kind === "comparison") renderComparison(card, result, charts);
  else if (kind === "sweep") renderSweep(card, result, onRun, charts);
  else if (RESEARCH[kind]) RESEARCH[kind](card, result, onRun, charts);
  else {
    card.appendChild(el("div", "cow-card-title", `${kind || "result"} ${result.runId || ""}`));
    if (result.stats) card.appendChild(tableBox(metricsTable(result.stats)));
  }
  if (Number.isFinite(result.engineSeconds)) {
    card.appendChild(el("div", "cow-meta cow-engine-time", `engine time ${result.engineSeconds.toFixed(3)} s`));
  }
  if (result.points && result.totalPoints && result.points < result.totalPoints) {
    const note = `chart: ${result.points} of ${result.totalPoints} points (downsampled; the kernel keeps the full DataFrame)`;
    card.appendChild(el("div", "cow-meta", note));
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
