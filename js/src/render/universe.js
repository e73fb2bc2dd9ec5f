// A universe card: every strategy on every symbol. A strategy x symbol heatmap of the chosen
// metric (on the sweep's canvas heatmap; click a cell to backtest that pair) and a table of
// each strategy's mean, median and mean rank across the symbols (1 = best on a symbol).
import { constants } from "../constants.js";
import { el } from "../dom.js";
import { formatMetric } from "./format.js";
import { heatmap } from "./heatmap.js";
import { tableBox } from "./tables.js";

/** Whether higher values of `metric` are better (the kernel's stats registry; default yes). */
export function higherIsBetter(metric) {
  const s = (constants().stats || []).find((x) => x.name === metric);
  return s?.higherIsBetter !== false;
}

const finite = (v) => typeof v === "number" && Number.isFinite(v);

/**
 * The heatmap grid (the shape heatgrid.js builds for a sweep): x = strategies, y = symbols,
 * one cell per pair with its `metric`; `best` is the best pair by the metric's direction.
 */
export function universeGrid(rows, strategies, symbols, metric, higher = true) {
  const xi = new Map(strategies.map((s, i) => [s, i]));
  const yi = new Map(symbols.map((s, j) => [s, j]));
  const cells = new Map();
  let best = null;
  for (const row of rows) {
    const value = row[metric];
    const i = xi.get(row.strategy);
    const j = yi.get(row.symbol);
    if (!finite(value) || i === undefined || j === undefined) continue;
    cells.set(`${i}|${j}`, { row, value, filtered: false });
    if (!best || (higher ? value > best.value : value < best.value)) best = { i, j, row, value };
  }
  return { px: "strategy", py: "symbol", xs: strategies, ys: symbols, cells, best, edge: [], filtered: 0 };
}

/** Ranks of `values` (1 = best; ties share their mean rank; non-finite values get none). */
export function ranks(values, higher = true) {
  const order = values
    .map((v, k) => [v, k])
    .filter(([v]) => finite(v))
    .sort((a, b) => (higher ? b[0] - a[0] : a[0] - b[0]));
  const out = values.map(() => null);
  for (let a = 0; a < order.length; ) {
    let b = a;
    while (b + 1 < order.length && order[b + 1][0] === order[a][0]) b++;
    const mean = (a + b) / 2 + 1;
    for (let k = a; k <= b; k++) out[order[k][1]] = mean;
    a = b + 1;
  }
  return out;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length ? (s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2) : null;
};

/** Per strategy: mean, median, meanRank, wins (symbols where it ranks 1) and n (symbols with a
 *  value), sorted by mean rank (strategies without any value last). */
export function universeSummary(rows, strategies, symbols, metric, higher = true) {
  const at = new Map(rows.map((r) => [`${r.strategy}|${r.symbol}`, r[metric]]));
  const stats = new Map(strategies.map((s) => [s, { strategy: s, values: [], ranks: [], wins: 0 }]));
  for (const sym of symbols) {
    const values = strategies.map((s) => at.get(`${s}|${sym}`));
    ranks(values, higher).forEach((rank, k) => {
      const st = stats.get(strategies[k]);
      if (rank === null) return;
      st.values.push(values[k]);
      st.ranks.push(rank);
      if (rank === 1) st.wins++;
    });
  }
  const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  return [...stats.values()]
    .map((s) => ({
      strategy: s.strategy,
      mean: mean(s.values),
      median: median(s.values),
      meanRank: mean(s.ranks),
      wins: s.wins,
      n: s.values.length,
    }))
    .sort((a, b) => (a.meanRank ?? Number.POSITIVE_INFINITY) - (b.meanRank ?? Number.POSITIVE_INFINITY));
}

function summaryTable(summary, metric) {
  const t = el("table", "cow-table cow-universe-summary");
  const head = t.createTHead().insertRow();
  for (const c of ["strategy", `mean ${metric}`, "median", "mean rank", "wins", "symbols"])
    head.appendChild(el("th", "", c));
  const body = t.createTBody();
  for (const s of summary) {
    const tr = body.insertRow();
    tr.appendChild(el("th", "", s.strategy));
    tr.appendChild(el("td", "", formatMetric(metric, s.mean)));
    tr.appendChild(el("td", "", formatMetric(metric, s.median)));
    tr.appendChild(el("td", "", s.meanRank === null ? "–" : s.meanRank.toFixed(2)));
    tr.appendChild(el("td", "", String(s.wins)));
    tr.appendChild(el("td", "", String(s.n)));
  }
  return t;
}

/** Fill `card` with the universe result `r`; pushes the heatmap's drawing onto `charts`. */
export function renderUniverse(card, r, onRun, charts) {
  const strategies = r.strategies || [];
  const symbols = r.symbols || [];
  const rows = r.rows || [];
  let metric = r.metric || "sharpe";
  card.appendChild(
    el("div", "cow-card-title", `Universe ${r.runId} — ${strategies.length} strategies x ${symbols.length} symbols`),
  );
  const controls = el("div", "cow-heat-controls");
  const select = el("select", "cow-universe-metric");
  select.setAttribute("aria-label", "metric");
  for (const m of r.metrics || [metric]) {
    const o = el("option", "", m);
    o.value = m;
    if (m === metric) o.selected = true;
    select.appendChild(o);
  }
  const lab = el("label", "cow-heat-min", "colour by ");
  lab.appendChild(select);
  const skipped = rows.filter((x) => x.note).length;
  controls.append(lab, el("span", "cow-meta", skipped ? `${skipped} pair(s) without enough bars are blank` : ""));
  card.appendChild(controls);
  const pick = onRun ? (row) => onRun(`/run_backtest ${row.strategy} symbol=${row.symbol}`) : null;
  const tableHolder = el("div", "cow-universe-table");
  let map = null;
  const refresh = () => {
    const higher = higherIsBetter(metric);
    const grid = universeGrid(rows, strategies, symbols, metric, higher);
    tableHolder.replaceChildren(
      el("div", "cow-meta", `mean and rank of ${metric} across the symbols (rank 1 = best on a symbol)`),
      tableBox(summaryTable(universeSummary(rows, strategies, symbols, metric, higher), metric)),
    );
    return grid;
  };
  const grid = refresh();
  // room for the longest symbol beside the rotated axis title (11 px text: ~7 px a letter)
  const left = Math.min(150, Math.max(48, 7 * Math.max(0, ...symbols.map((s) => String(s).length)) + 28));
  map = heatmap(grid, metric, pick, left);
  card.appendChild(map.el);
  card.appendChild(tableHolder);
  select.addEventListener("change", () => {
    metric = select.value;
    const next = refresh();
    map.destroy();
    const fresh = heatmap(next, metric, pick, left);
    map.el.replaceWith(fresh.el);
    map = fresh;
    map.mount();
  });
  charts.push(() => {
    map.mount();
    return [{ destroy: () => map.destroy() }];
  });
}
