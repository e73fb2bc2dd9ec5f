// Result tables: metrics (name/value pairs), a comparison (metrics x strategies), best rows.
import { el } from "../dom.js";
import { formatMetric } from "./format.js";

/** `table` in a box that scrolls sideways when the panel is narrower than the table. */
export function tableBox(table) {
  const box = el("div", "cow-table-box");
  box.appendChild(table);
  return box;
}

/** Metrics as name/value pairs, two pairs per row (compact). */
export function metricsTable(stats) {
  const table = el("table", "cow-table cow-metrics");
  const body = table.createTBody();
  const entries = Object.entries(stats || {});
  const half = Math.ceil(entries.length / 2);
  for (let i = 0; i < half; i++) {
    const tr = body.insertRow();
    for (const pair of [entries[i], entries[i + half]]) {
      if (!pair) continue;
      tr.appendChild(el("th", "", pair[0]));
      tr.appendChild(el("td", "", formatMetric(pair[0], pair[1])));
    }
  }
  return table;
}

/** `{metric: {strategy: value}}` as a metrics x strategies table. */
export function comparisonTable(table, strategies) {
  const t = el("table", "cow-table cow-comparison");
  const head = t.createTHead().insertRow();
  head.appendChild(el("th", "", "metric"));
  const cols = strategies?.length ? strategies : Object.keys(Object.values(table || {})[0] || {});
  for (const s of cols) head.appendChild(el("th", "", s));
  const body = t.createTBody();
  for (const [metric, row] of Object.entries(table || {})) {
    const tr = body.insertRow();
    tr.appendChild(el("th", "", metric));
    for (const s of cols) tr.appendChild(el("td", "", formatMetric(metric, row?.[s])));
  }
  return t;
}

/** Rows (objects) as a table with the columns `cols`, e.g. a sweep's best combinations. */
export function rowsTable(rows, cols, cls = "cow-top") {
  const t = el("table", `cow-table ${cls}`);
  const head = t.createTHead().insertRow();
  for (const c of cols) head.appendChild(el("th", "", c));
  const body = t.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const c of cols) tr.appendChild(el("td", "", formatMetric(c, row[c])));
  }
  return t;
}
