// A sweep heatmap drawn on one canvas: a fixed-size plot of one metric over the first two
// parameters (big grids aggregated into buckets that show their best cell), axes with readable
// ticks, a zero-centred colour legend, a hover readout (parameters and value) and click-to-run.
// A 15,000-cell grid is still one canvas and a dozen DOM nodes.
import { el } from "../dom.js";
import { formatMetric } from "./format.js";
import { aggregate, divergingColor, scaleLimit, tickIndices } from "./heatgrid.js";

const HEIGHT = 240;
const BASE_MARGIN = { left: 48, right: 8, top: 6, bottom: 34 };
const MIN_CELL_PX = 3; // narrower cells are aggregated
const FILTERED = "rgba(127, 127, 127, 0.28)";

const label = (v) => (typeof v === "number" && !Number.isInteger(v) ? String(+v.toPrecision(6)) : String(v));

function themeColors(node) {
  const cs = getComputedStyle(node);
  return {
    text: cs.getPropertyValue("--cow-fg2").trim() || "#666",
    font: `11px ${cs.getPropertyValue("--cow-font").trim() || "sans-serif"}`,
  };
}

/** The readout line for one cell of the (possibly aggregated) grid. */
export function describeCell(grid, metric, hit, clickable) {
  if (!hit) return "";
  const { cell, i, j } = hit;
  const where = `${grid.px}=${label(grid.xs[i])}${grid.py ? `, ${grid.py}=${label(grid.ys[j])}` : ""}`;
  const trades = cell.row.num_trades ?? cell.row.trades;
  const bits = [`${where}: ${metric} ${formatMetric(metric, cell.value)}`];
  if (trades !== undefined && trades !== null) bits.push(`${trades} trades`);
  if (cell.filtered) bits.push("below the minimum trades");
  if (clickable) bits.push("click: backtest these parameters");
  return bits.join(" · ");
}

/**
 * The heatmap of `grid` (see heatgrid.js) for `metric`; `onPick(row)` (optional) runs a cell;
 * `left` (optional) widens the left margin for long y labels (e.g. symbols).
 * Returns {el, mount, update(grid), destroy}; the canvas is drawn on mount (it needs a width).
 */
export function heatmap(grid, metric, onPick = null, left = null) {
  const MARGIN = { ...BASE_MARGIN, left: left ?? BASE_MARGIN.left };
  const wrap = el("div", "cow-heatmap");
  const plot = el("div", "cow-heat-plot");
  const canvas = el("canvas", "cow-heat-canvas");
  canvas.style.height = `${HEIGHT}px`;
  const hover = el("div", "cow-heat-hover");
  plot.append(canvas, hover);
  const legend = el("div", "cow-heat-legend");
  const lo = el("span", "cow-heat-lo");
  const bar = el("span", "cow-heat-bar", "0");
  bar.style.background = `linear-gradient(to right, ${[-1, 0, 1].map((v) => divergingColor(v, 1)).join(", ")})`;
  const hi = el("span", "cow-heat-hi");
  legend.append(el("span", "cow-heat-metric", metric), lo, bar, hi);
  const readout = el("div", "cow-heat-readout cow-meta", "hover a cell for its parameters");
  wrap.append(plot, legend, readout);

  let state = null; // {agg, cw, ch, limit}
  const hitAt = (e) => {
    if (!state) return null;
    const r = canvas.getBoundingClientRect();
    const x = e.clientX - r.left - MARGIN.left;
    const y = e.clientY - r.top - MARGIN.top;
    const { agg, cw, ch } = state;
    if (x < 0 || y < 0 || x >= cw * agg.bx.count || y >= ch * agg.by.count) return null;
    const bi = Math.floor(x / cw);
    const bj = agg.by.count - 1 - Math.floor(y / ch); // the lowest y value at the bottom
    const found = agg.at(bi, bj);
    return found ? { ...found, bi, bj } : null;
  };

  const draw = () => {
    const width = Math.max(260, Math.min(720, wrap.clientWidth || 480));
    const dpr = globalThis.devicePixelRatio || 1;
    canvas.style.width = `${width}px`;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(HEIGHT * dpr);
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, HEIGHT);
    const pw = width - MARGIN.left - MARGIN.right;
    const ph = HEIGHT - MARGIN.top - MARGIN.bottom;
    const agg = aggregate(grid, Math.floor(pw / MIN_CELL_PX), Math.floor(ph / MIN_CELL_PX));
    const cw = pw / agg.bx.count;
    const ch = ph / agg.by.count;
    const limit = scaleLimit(grid);
    state = { agg, cw, ch, limit };
    // the plot's geometry, for tools and tests that point at a cell
    canvas.dataset.plot = JSON.stringify({
      left: MARGIN.left,
      top: MARGIN.top,
      width: pw,
      height: ph,
      cols: agg.bx.count,
      rows: agg.by.count,
    });
    for (let bi = 0; bi < agg.bx.count; bi++) {
      for (let bj = 0; bj < agg.by.count; bj++) {
        const hit = agg.at(bi, bj);
        if (!hit) continue;
        ctx.fillStyle = hit.cell.filtered ? FILTERED : divergingColor(hit.cell.value, limit);
        const y = MARGIN.top + (agg.by.count - 1 - bj) * ch;
        // +0.5 px overlap: no hairline gaps between fractional cells
        ctx.fillRect(MARGIN.left + bi * cw, y, cw + 0.5, ch + 0.5);
      }
    }
    if (grid.best) {
      // a ring around the best cell, visible however small the cells are
      const x = MARGIN.left + (agg.bx.of(grid.best.i) + 0.5) * cw;
      const y = MARGIN.top + (agg.by.count - 1 - agg.by.of(grid.best.j) + 0.5) * ch;
      const radius = Math.max(5, Math.min(cw, ch) / 2);
      for (const [color, w] of [
        ["#fff", 4],
        ["#111", 2],
      ]) {
        ctx.strokeStyle = color;
        ctx.lineWidth = w;
        ctx.beginPath();
        ctx.arc(x, y, radius, 0, 2 * Math.PI);
        ctx.stroke();
      }
    }
    // axes: ticks at bucket starts, at most one label per ~60 px (x) / ~22 px (y)
    const colors = themeColors(wrap);
    ctx.fillStyle = colors.text;
    ctx.font = colors.font;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const bi of tickIndices(agg.bx.count, Math.max(2, Math.floor(pw / 60)))) {
      const i = agg.bx.start(bi);
      ctx.fillText(label(grid.xs[i]), MARGIN.left + (bi + 0.5) * cw, MARGIN.top + ph + 3);
    }
    ctx.fillText(grid.px, MARGIN.left + pw / 2, MARGIN.top + ph + 18);
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    if (grid.py) {
      for (const bj of tickIndices(agg.by.count, Math.max(2, Math.floor(ph / 22)))) {
        const j = agg.by.start(bj);
        ctx.fillText(label(grid.ys[j]), MARGIN.left - 4, MARGIN.top + (agg.by.count - 1 - bj + 0.5) * ch);
      }
      ctx.save();
      ctx.translate(10, MARGIN.top + ph / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = "center";
      ctx.fillText(grid.py, 0, 0);
      ctx.restore();
    }
    lo.textContent = formatMetric(metric, -limit);
    hi.textContent = formatMetric(metric, limit);
    bar.title = `colour: ${metric}, centred on 0 (neutral); red below, blue above`;
  };

  const onMove = (e) => {
    const hit = hitAt(e);
    readout.textContent = hit ? describeCell(grid, metric, hit, !!onPick) : "hover a cell for its parameters";
    if (hit) {
      const { cw, ch, agg } = state;
      hover.style.display = "block";
      hover.style.left = `${MARGIN.left + hit.bi * cw}px`;
      hover.style.top = `${MARGIN.top + (agg.by.count - 1 - hit.bj) * ch}px`;
      hover.style.width = `${Math.max(cw, 2)}px`;
      hover.style.height = `${Math.max(ch, 2)}px`;
    } else hover.style.display = "none";
    canvas.style.cursor = hit && onPick ? "pointer" : "default";
  };
  const onLeave = () => {
    hover.style.display = "none";
  };
  const onClick = (e) => {
    const hit = hitAt(e);
    if (hit && onPick) onPick(hit.cell.row);
  };
  canvas.addEventListener("mousemove", onMove);
  canvas.addEventListener("mouseleave", onLeave);
  canvas.addEventListener("click", onClick);

  return {
    el: wrap,
    mount: draw,
    update(next) {
      grid = next;
      draw();
    },
    destroy() {
      canvas.removeEventListener("mousemove", onMove);
      canvas.removeEventListener("mouseleave", onLeave);
      canvas.removeEventListener("click", onClick);
      state = null;
    },
  };
}
