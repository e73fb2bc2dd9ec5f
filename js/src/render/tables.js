// Result tables: metrics (name/value pairs), a comparison (metrics x strategies), best rows,
// trades. Stats are labelled from the kernel's registry, with the description and formula as a
// tooltip (constants.js).
import { statLabel, statTitle } from "../constants.js";
import { el } from "../dom.js";
import { formatMetric, statUnit } from "./format.js";

/** A table cell with `value` of stat `name` formatted, amounts labelled with their unit. */
function statCell(tag, name, value) {
  const cell = el(tag, "", formatMetric(name, value));
  if (statUnit(name) === "currency" && typeof value === "number")
    cell.appendChild(el("span", "cow-unit", " cash units"));
  return cell;
}

/** A header cell for stat `name`: its label, the key, description and formula as a tooltip. */
function statHead(tag, name) {
  const cell = el(tag, "cow-stat", statLabel(name));
  const title = statTitle(name);
  if (title) cell.title = title;
  cell.dataset.stat = name;
  return cell;
}

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
      tr.appendChild(statHead("th", pair[0]));
      tr.appendChild(statCell("td", pair[0], pair[1]));
    }
  }
  return table;
}

/** The facts rows of a comparison, from its `info` (strategy -> {symbol, start, ...}). */
export const FACTS = ["symbol", "start", "end", "bars", "frequency"];

/** `{metric: {strategy: value}}` as a metrics x strategies table; with `info`, the facts
 *  rows (symbol, start, end, bars, frequency) come first. */
export function comparisonTable(table, strategies, info = null) {
  const t = el("table", "cow-table cow-comparison");
  const head = t.createTHead().insertRow();
  head.appendChild(el("th", "", "metric"));
  const cols = strategies?.length ? strategies : Object.keys(Object.values(table || {})[0] || {});
  for (const s of cols) head.appendChild(el("th", "", s));
  const body = t.createTBody();
  for (const fact of info ? FACTS : []) {
    const tr = body.insertRow();
    tr.className = "cow-fact";
    tr.dataset.fact = fact;
    tr.appendChild(el("th", "", fact));
    for (const s of cols) tr.appendChild(el("td", "", formatMetric(fact, info[s]?.[fact])));
  }
  for (const [metric, row] of Object.entries(table || {})) {
    if (info && FACTS.includes(metric)) continue; // already a facts row (bars)
    const tr = body.insertRow();
    tr.appendChild(statHead("th", metric));
    for (const s of cols) tr.appendChild(statCell("td", metric, row?.[s]));
  }
  return t;
}

/** Rows (objects) as a table with the columns `cols`, e.g. a sweep's best combinations. */
export function rowsTable(rows, cols, cls = "cow-top") {
  const t = el("table", `cow-table ${cls}`);
  const head = t.createTHead().insertRow();
  for (const c of cols) head.appendChild(statHead("th", c));
  const body = t.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const c of cols) tr.appendChild(el("td", "", formatMetric(c, row[c])));
  }
  return t;
}

/** The last trades ({columns, rows, total} from the kernel) with how each ended (exit_reason). */
export function tradesTable(trades) {
  const t = el("table", "cow-table cow-trades");
  const cols = trades?.columns || [];
  const head = t.createTHead().insertRow();
  for (const c of cols) head.appendChild(el("th", "", c.replace(/_/g, " ")));
  const body = t.createTBody();
  const money = new Set(["pnl", "entry_price", "exit_price"]);
  for (const row of trades?.rows || []) {
    const tr = body.insertRow();
    row.forEach((v, i) => {
      const c = cols[i];
      let text = formatMetric(c, v);
      if (c === "return" && typeof v === "number") text = `${(v * 100).toFixed(2)} %`;
      else if (money.has(c) && typeof v === "number") text = formatMetric("final_equity", v);
      const td = el("td", c === "exit_reason" ? `cow-exit cow-exit-${v}` : "", text);
      tr.appendChild(td);
    });
  }
  return t;
}
