// The model behind a sweep heatmap (pure, no DOM): the grid of the first two parameters, the
// best row per cell, a minimum-trades filter, aggregation of big grids into a fixed number of
// buckets, a colour scale centred on zero, and whether the best cell sits on the grid's edge.

const num = (v) => (typeof v === "number" ? v : Number(v));
const sortedUnique = (values) => [...new Set(values)].sort((a, b) => num(a) - num(b));

/** Trades of a row (`num_trades`, else `trades`), or null when the row does not say. */
export function tradesOf(row) {
  const t = row.num_trades ?? row.trades;
  return Number.isFinite(num(t)) ? num(t) : null;
}

/**
 * The heatmap grid: `xs`/`ys` (sorted values of the first two parameters; `ys` is `[null]` for a
 * one-parameter sweep), `cells` (Map "i|j" -> {row, value, filtered}) holding the best row per
 * cell by `metric`, rows with fewer than `minTrades` trades kept but marked `filtered`, and
 * `best` (the best unfiltered cell, {i, j, row, value}) with `edge` naming the grid edges it is on.
 */
export function heatGrid(rows, params, metric, minTrades = 0) {
  const [px, py] = params;
  const xs = sortedUnique(rows.map((r) => r[px]));
  const ys = py ? sortedUnique(rows.map((r) => r[py])) : [null];
  const xi = new Map(xs.map((x, i) => [x, i]));
  const yi = new Map(ys.map((y, j) => [y, j]));
  const cells = new Map();
  for (const row of rows) {
    const value = num(row[metric]);
    if (!Number.isFinite(value)) continue;
    const trades = tradesOf(row);
    const filtered = trades !== null && trades < minTrades;
    const key = `${xi.get(row[px])}|${py ? yi.get(row[py]) : 0}`;
    const prev = cells.get(key);
    // an unfiltered row beats a filtered one; then the higher metric wins
    if (!prev || (prev.filtered && !filtered) || (prev.filtered === filtered && value > prev.value)) {
      cells.set(key, { row, value, filtered });
    }
  }
  let best = null;
  for (const [key, c] of cells) {
    if (c.filtered || (best && c.value <= best.value)) continue;
    const [i, j] = key.split("|").map(Number);
    best = { i, j, row: c.row, value: c.value };
  }
  const edge = [];
  if (best) {
    if (xs.length > 2 && best.i === 0) edge.push({ param: px, side: "lowest", value: xs[0] });
    if (xs.length > 2 && best.i === xs.length - 1) edge.push({ param: px, side: "highest", value: xs.at(-1) });
    if (py && ys.length > 2 && best.j === 0) edge.push({ param: py, side: "lowest", value: ys[0] });
    if (py && ys.length > 2 && best.j === ys.length - 1) edge.push({ param: py, side: "highest", value: ys.at(-1) });
  }
  let filtered = 0;
  for (const c of cells.values()) if (c.filtered) filtered++;
  return { px, py, xs, ys, cells, best, edge, filtered };
}

/** `n` items drawn in at most `slots` buckets: bucket k covers items [start(k), start(k+1)). */
export function buckets(n, slots) {
  const count = Math.max(1, Math.min(n, slots));
  const start = (k) => Math.floor((k * n) / count);
  // the last bucket whose start is <= index
  const of = (index) => Math.min(count - 1, Math.ceil(((index + 1) * count) / n) - 1);
  return { count, start, of };
}

/**
 * The grid squeezed into at most `cols` x `rows` buckets (each bucket shows its best cell, so an
 * optimum never disappears): {bx, by, at(bi, bj) -> {cell, i, j} | null}.
 */
export function aggregate(grid, cols, rows) {
  const bx = buckets(grid.xs.length, cols);
  const by = buckets(grid.ys.length, rows);
  const table = new Map();
  for (const [key, cell] of grid.cells) {
    const [i, j] = key.split("|").map(Number);
    const k = `${bx.of(i)}|${by.of(j)}`;
    const prev = table.get(k);
    const better =
      !prev ||
      (prev.cell.filtered && !cell.filtered) ||
      (prev.cell.filtered === cell.filtered && cell.value > prev.cell.value);
    if (better) table.set(k, { cell, i, j });
  }
  return { bx, by, at: (bi, bj) => table.get(`${bi}|${bj}`) || null };
}

/** The colour scale's half-range: the largest |value| of the unfiltered cells (1 if none). */
export function scaleLimit(grid) {
  let m = 0;
  for (const c of grid.cells.values()) if (!c.filtered) m = Math.max(m, Math.abs(c.value));
  return m > 0 ? m : 1;
}

const NEG = [178, 24, 43]; // red: below zero
const MID = [247, 247, 247]; // neutral: zero
const POS = [33, 102, 172]; // blue: above zero

/** A diverging colour for `value` on [-limit, +limit]: red below zero, neutral at 0, blue above. */
export function divergingColor(value, limit) {
  const t = Math.max(-1, Math.min(1, value / limit));
  const end = t < 0 ? NEG : POS;
  const a = Math.abs(t);
  const rgb = MID.map((m, k) => Math.round(m + (end[k] - m) * a));
  return `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;
}

/** Up to `max` evenly spaced indices into `n` items, always including the first and last. */
export function tickIndices(n, max) {
  if (n <= max) return [...Array(n).keys()];
  const step = (n - 1) / (max - 1);
  return [...new Set([...Array(max).keys()].map((k) => Math.round(k * step)))];
}
