// Rich result cards: a backtest (metrics, equity and drawdown charts), a comparison (metrics x
// strategies, overlaid equity curves) and a parameter sweep (heatmap and best combinations).
import { button, copyText, el } from "../dom.js";
import { readoutText, tradeMarkers } from "./chartdata.js";
import { chartBox, chartFrame, makeChart, PALETTE } from "./charts.js";
import { compact, formatMetric, pct } from "./format.js";
import { RESEARCH } from "./research.js";
import { renderSweep } from "./sweep.js";
import { comparisonTable, metricsTable, tableBox, tradesTable } from "./tables.js";

/** A backtest: title, metrics, a hover readout, equity (trade markers, buy & hold when the
 *  result has it) and drawdown charts. */
function renderBacktest(card, r, charts) {
  const name = [r.strategyId, r.template, r.symbol].filter(Boolean).join(" · ");
  card.appendChild(el("div", "cow-card-title", `Backtest ${r.runId}${name ? ` — ${name}` : ""}`));
  const costs = costsText(r.stats);
  if (costs) card.appendChild(el("div", "cow-meta cow-costs", costs));
  const about = strategyLine(r);
  if (about) card.appendChild(el("div", "cow-meta cow-rule", about));
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
  if (r.tradeRows?.rows?.length) card.appendChild(tradesBox(r));
  if (s?.t?.length) {
    const onCursor = (idx) => {
      if (idx !== null && idx !== undefined) readout.textContent = readoutText(s, idx);
    };
    charts.push(() => {
      const key = `cow-${r.runId}`;
      const lines = [{ label: "strategy", values: s.equity, color: PALETTE[0] }];
      if (s.benchmark) lines.push({ label: "buy & hold", values: s.benchmark, color: "#757575", dash: [4, 3] });
      const frame = chartFrame(eq.plot); // both charts have the card's width
      return [
        makeChart(eq.plot, {
          frame,
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
          frame,
        }),
      ];
    });
  }
}

/** "entry: …  exit: …  ·  stop_loss 5.00 %, take_profit 12.00 %" for a rule strategy and
 *  the order settings of a run ("" if neither). */
export function strategyLine(r) {
  const parts = [];
  const rule = r.rule || {};
  for (const [key, label] of [
    ["entry", "entry"],
    ["exit", "exit"],
    ["short_entry", "short entry"],
    ["short_exit", "short exit"],
    ["where", "where"],
  ]) {
    if (rule[key]) parts.push(`${label}: ${rule[key]}`);
  }
  const orders = Object.entries(r.orders || {}).map(([k, v]) => {
    if (k === "trailing_atr" && Array.isArray(v)) return `trailing stop ${v[1]} × atr(${v[0]})`;
    if (k === "whole_units") return v ? "whole units" : "";
    if (k === "units") return `units ${v}`;
    return `${k} ${formatMetric("total_return", v)}`;
  });
  const o = orders.filter(Boolean).join(", ");
  return [parts.join("  ·  "), o].filter(Boolean).join("  ·  ");
}

/** The last trades with their exit reasons, under a summary of how the trades ended. */
function tradesBox(r) {
  const box = el("details", "cow-trades-box");
  const t = r.tradeRows;
  const exits = Object.entries(r.exits || {})
    .map(([k, n]) => `${n} ${k}`)
    .join(", ");
  const shown = t.rows.length < t.total ? `last ${t.rows.length} of ${t.total} trades` : `${t.total} trades`;
  box.appendChild(el("summary", "cow-meta", `${shown}${exits ? ` — exits: ${exits}` : ""}`));
  // built when first opened (up to 50 rows x 9 cells): a card whose trades stay closed, as
  // most do, costs none of it when it is drawn (and each time it scrolls back into view)
  box.addEventListener("toggle", () => {
    if (box.open && !box.querySelector(".cow-table-box")) box.appendChild(tableBox(tradesTable(t)));
  });
  return box;
}

/** The cost rates as given and what they cost (the chat reply's "costs:" line), or "". */
export function costsText(stats) {
  if (!stats || !("commission" in stats || "spread" in stats)) return "";
  const rate = stats.commission || 0;
  const spread = stats.spread || 0;
  if (!rate && !spread) return "costs: none (commission 0 %, spread 0 %)";
  const paidC = stats.commissions_paid || 0;
  const paidS = stats.spread_paid || 0;
  let text =
    `costs: commission ${formatMetric("commission", rate)} of notional per fill, spread ` +
    `${formatMetric("spread", spread)} of price per entry; paid ${formatMetric("commissions_paid", paidC)} ` +
    `in commissions + ${formatMetric("spread_paid", paidS)} in spread`;
  if (stats.cash) {
    text += ` = ${formatMetric("total_return", (paidC + paidS) / stats.cash)} of the starting cash (${formatMetric("cash", stats.cash)})`;
  }
  return text;
}

const BENCH_COLORS = ["#757575", "#9e9e9e", "#5d4037", "#78909c"];

/** The lines of a comparison view ({t, curves, benchmark?}): strategies, then buy & hold. */
function comparisonLines(view) {
  const lines = Object.entries(view.curves || {}).map(([label, values], i) => ({
    label,
    values,
    color: PALETTE[i % PALETTE.length],
  }));
  Object.entries(view.benchmark || {}).forEach(([label, values], i) => {
    lines.push({ label: `buy & hold ${label}`, values, color: BENCH_COLORS[i % BENCH_COLORS.length], dash: [4, 3] });
  });
  return lines;
}

/** A comparison: warnings (periods or bar frequencies differ), the metrics x strategies table
 *  with each strategy's symbol, period, bars and frequency, and the equity curves with buy &
 *  hold per symbol, as run or over the common period rebased to 100. */
function renderComparison(card, r, charts) {
  card.appendChild(el("div", "cow-card-title", `Comparison ${r.runId} — ${(r.strategies || []).join(" vs ")}`));
  for (const w of r.warnings || []) card.appendChild(el("div", "cow-warning", `Warning: ${w}`));
  const grid = el("div", "cow-card-grid");
  grid.appendChild(tableBox(comparisonTable(r.table, r.strategies, r.info || null)));
  const col = el("div", "cow-chart");
  const toggle = el("div", "cow-view-toggle");
  const asRun = button("as run", "cow-view-run cow-btn-primary", "each curve over its own period");
  const common = r.common ? `${r.common[0].slice(0, 10)}..${r.common[1].slice(0, 10)}` : "";
  const rebased = button(
    "common period, rebased to 100",
    "cow-view-rebased",
    r.rebased
      ? `every curve over ${common}, divided by its first value there, times 100`
      : "the periods do not overlap",
  );
  rebased.disabled = !r.rebased?.t?.length;
  toggle.append(asRun, rebased);
  const caption = el("div", "cow-meta cow-view-caption", "equity, as run (dashed: buy & hold)");
  const box = chartBox(200, "", true);
  col.append(toggle, caption, box);
  grid.appendChild(col);
  card.appendChild(grid);
  const s = r.series;
  if (!(s?.t?.length && s.curves)) return;
  let plot = null;
  let view = "run";
  const draw = () => {
    plot?.destroy();
    const v = view === "rebased" ? r.rebased : s;
    plot = makeChart(box.plot, {
      t: v.t,
      series: comparisonLines(v),
      height: 200,
      fmt: view === "rebased" ? (x) => x.toFixed(0) : compact,
    });
    box.plot.dataset.view = view;
    caption.textContent =
      view === "rebased"
        ? `common period ${common}, each curve rebased to 100 (dashed: buy & hold)`
        : "equity, as run (dashed: buy & hold)";
    asRun.classList.toggle("cow-btn-primary", view === "run");
    rebased.classList.toggle("cow-btn-primary", view === "rebased");
  };
  const pick = (v) => () => {
    view = v;
    draw();
  };
  asRun.addEventListener("click", pick("run"));
  rebased.addEventListener("click", pick("rebased"));
  charts.push(() => {
    draw();
    return [{ destroy: () => plot?.destroy() }];
  });
}

/** The card's actions: "copy as code" puts the run's Python call into the clipboard (or shows
 *  it, selectable, where the browser allows no clipboard). */
function cardActions(card, r) {
  if (!r.code) return;
  const row = el("div", "cow-card-actions");
  const copy = button("copy as code", "cow-copy-code", r.code);
  const status = el("span", "cow-meta cow-copy-status");
  copy.addEventListener("click", async () => {
    const ok = await copyText(card, r.code);
    copy.dataset.copied = ok ? "true" : "false";
    status.textContent = ok ? "copied to the clipboard" : "no clipboard here: copy it from below";
    if (!ok && !row.querySelector(".cow-code")) row.after(el("div", "cow-code", r.code));
  });
  row.append(copy, status);
  card.appendChild(row);
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
  cardActions(card, result);
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
