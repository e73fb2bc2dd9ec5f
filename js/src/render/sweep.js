// A sweep result card: title, a minimum-trades filter (default shown), the canvas heatmap, a
// warning when the best cell sits on the grid's edge, and the best combinations table.
import { el } from "../dom.js";
import { heatGrid, tradesOf } from "./heatgrid.js";
import { heatmap } from "./heatmap.js";
import { rowsTable, tableBox } from "./tables.js";

/** A sweep's order settings (as the engine keeps them) as run options: the backtest of a
 *  clicked cell uses the same stops and sizing. */
export function orderOptions(orders) {
  return Object.entries(orders || {}).map(([k, v]) => {
    if (k === "trailing_atr" && Array.isArray(v)) return `trailing_stop=atr(${v[0]})*${v[1]}`;
    return `${k}=${v === true ? "true" : v}`;
  });
}

/** The warning for a best cell on the grid's edge, or "" when it is inside. */
export function edgeWarning(grid) {
  if (!grid.best || !grid.edge.length) return "";
  const where = grid.edge.map((e) => `the ${e.side} ${e.param} (${e.param}=${e.value})`).join(" and ");
  return `The best cell is on the edge of the grid, at ${where}: the optimum may lie outside the range swept; widen it before trusting this one.`;
}

/** The best `n` rows by `metric` with at least `minTrades` trades (rows without a count pass). */
export function bestRows(rows, metric, minTrades, n = 5) {
  return rows
    .filter((r) => {
      const t = tradesOf(r);
      return t === null || t >= minTrades;
    })
    .sort((a, b) => (b[metric] ?? -Infinity) - (a[metric] ?? -Infinity))
    .slice(0, n);
}

/** Fill `card` with the sweep `r`; pushes the heatmap's drawing onto `charts`. */
export function renderSweep(card, r, onRun, charts) {
  const metric = r.metric || "sharpe";
  const params = r.params || [];
  const rows = r.rows || [];
  const split = r.split ? `, in sample; out of sample from ${r.split}` : "";
  const what = `${r.template || ""} ${r.symbol || ""} (${r.count ?? rows.length} combinations`;
  card.appendChild(el("div", "cow-card-title", `Sweep ${r.runId} — ${what}, colour = ${metric}${split})`));
  const defaultMin = Number.isFinite(r.minTrades) ? r.minTrades : 0;
  const hasTrades = rows.some((row) => tradesOf(row) !== null);
  let minTrades = hasTrades ? defaultMin : 0;

  const pick =
    onRun && r.template
      ? (row) =>
          onRun(
            [
              `/run_backtest ${r.template}`,
              r.symbol ? `symbol=${r.symbol}` : "",
              ...orderOptions(r.orders),
              ...params.map((p) => `${p}=${row[p]}`),
            ]
              .filter(Boolean)
              .join(" "),
          )
      : null;

  const controls = el("div", "cow-heat-controls");
  const note = el("span", "cow-meta cow-heat-note");
  const warn = el("div", "cow-heat-edge");
  const topBox = el("div", "cow-heat-top");
  let map = null;
  const stats = [metric, `oos_${metric}`, "total_return", "oos_total_return", "max_drawdown", "num_trades"];

  const refresh = () => {
    const grid = heatGrid(rows, params, metric, minTrades);
    if (map) map.update(grid);
    note.textContent = grid.filtered
      ? `${grid.filtered} cell(s) with fewer trades are greyed and never the best (default ${defaultMin})`
      : `default ${defaultMin}`;
    warn.textContent = edgeWarning(grid);
    warn.style.display = warn.textContent ? "" : "none";
    const top = bestRows(rows, metric, minTrades);
    topBox.replaceChildren();
    if (top.length) {
      // with a split, the out-of-sample columns sit next to the in-sample ones
      const cols = [...params, ...stats].filter((c, i, a) => a.indexOf(c) === i && c in top[0]);
      topBox.append(el("div", "cow-meta", "best combinations"), tableBox(rowsTable(top, cols)));
    }
    return grid;
  };

  if (hasTrades) {
    const input = el("input", "cow-min-trades");
    input.type = "number";
    input.min = "0";
    input.step = "1";
    input.value = String(minTrades);
    input.setAttribute("aria-label", "minimum trades per combination");
    input.addEventListener("change", () => {
      const v = Number(input.value);
      minTrades = Number.isFinite(v) && v >= 0 ? Math.floor(v) : defaultMin;
      input.value = String(minTrades);
      refresh();
    });
    const lab = el("label", "cow-heat-min", "min trades ");
    lab.appendChild(input);
    controls.append(lab, note);
    card.appendChild(controls);
  }
  const grid = refresh();
  if (params.length && rows.length) {
    map = heatmap(grid, metric, pick);
    card.appendChild(map.el);
    charts.push(() => {
      map.mount();
      return [map];
    });
  }
  card.append(warn, topBox);
}
