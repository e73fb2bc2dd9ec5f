// A parameter sweep as a heatmap of one metric over the first two parameters.
import { el } from "../dom.js";
import { formatMetric } from "./format.js";

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
    const k = `${r[px]}|${py ? r[py] : null}`;
    if (!cells.has(k) || cells.get(k) < v) {
      cells.set(k, v);
      best.set(k, r);
    }
  }
  const values = [...cells.values()];
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const table = el("table", "cow-table cow-heat");
  const head = table.createTHead().insertRow();
  head.appendChild(el("th", "", py ? `${py} \\ ${px}` : px));
  for (const x of xs) head.appendChild(el("th", "", String(x)));
  const body = table.createTBody();
  for (const y of ys) {
    const tr = body.insertRow();
    tr.appendChild(el("th", "", py ? String(y) : metric));
    for (const x of xs) {
      const v = cells.get(`${x}|${y}`);
      const td = el("td", "cow-cell", v === undefined ? "" : formatMetric(metric, v));
      if (v !== undefined) {
        td.style.background = heatColor(hi > lo ? (v - lo) / (hi - lo) : 1);
        td.title = `${px}=${x}${py ? `, ${py}=${y}` : ""}: ${metric} ${formatMetric(metric, v)}`;
        if (onPick) {
          const row = best.get(`${x}|${y}`);
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
