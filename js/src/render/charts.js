// Time-series charts drawn by uPlot: a backtest's equity (with trade markers and a buy-and-hold
// line when the result has one) and drawdown, and a comparison's curves.
import uPlot from "uplot";
import { el } from "../dom.js";

export const PALETTE = ["#1976d2", "#e65100", "#2e7d32", "#8e24aa", "#c62828", "#00838f", "#6d4c41", "#546e7a"];
export const MARKER_COLORS = { long: "#2e7d32", short: "#e65100", win: "#2e7d32", loss: "#c62828" };

function themeColors(node) {
  const cs = getComputedStyle(node);
  return {
    axis: cs.getPropertyValue("--cow-fg2").trim() || "#666",
    grid: cs.getPropertyValue("--cow-border").trim() || "#ddd",
  };
}

/** The width and theme colours charts in `container` get, read together (one style and layout
 *  pass): pass it to each `makeChart` of one card, so the second chart forces no new pass. */
export function chartFrame(container) {
  const colors = themeColors(container);
  return { colors, width: Math.max(260, container.clientWidth || 480) };
}

function axes(colors, fmt, hideX) {
  const base = { stroke: colors.axis, grid: { stroke: colors.grid, width: 0.5 }, ticks: { stroke: colors.grid } };
  const x = hideX
    ? { ...base, size: 6, values: (_u, vals) => vals.map(() => "") }
    : { ...base, size: 40, font: "11px sans-serif" };
  // denser y ticks than uPlot's default (these charts are short), labels in a fixed-width gutter
  const y = {
    ...base,
    size: 60,
    space: 22,
    font: "11px sans-serif",
    values: fmt ? (_u, vals) => vals.map(fmt) : undefined,
  };
  return [x, y];
}

/** A uPlot plugin drawing trade entries (triangles by direction) and exits (circles by win/loss)
 *  on series 1 of the chart; `onDrawn(n)` is told how many markers were drawn. */
function markersPlugin(markers, onDrawn) {
  return {
    hooks: {
      draw: [
        (u) => {
          const ctx = u.ctx;
          const values = u.data[1];
          const dpr = uPlot.pxRatio;
          const r = 4 * dpr;
          let drawn = 0;
          ctx.save();
          for (const m of markers) {
            const v = values[m.index];
            if (v === null || v === undefined) continue;
            const x = u.valToPos(u.data[0][m.index], "x", true);
            const y = u.valToPos(v, "y", true);
            ctx.beginPath();
            if (m.kind === "entry") {
              const up = m.direction >= 0;
              ctx.fillStyle = up ? MARKER_COLORS.long : MARKER_COLORS.short;
              ctx.moveTo(x, up ? y - r : y + r);
              ctx.lineTo(x - r, up ? y + r : y - r);
              ctx.lineTo(x + r, up ? y + r : y - r);
              ctx.closePath();
              ctx.fill();
            } else {
              ctx.strokeStyle = m.win === false ? MARKER_COLORS.loss : MARKER_COLORS.win;
              ctx.lineWidth = 1.5 * dpr;
              ctx.arc(x, y, r * 0.8, 0, 2 * Math.PI);
              ctx.stroke();
            }
            drawn++;
          }
          ctx.restore();
          onDrawn?.(drawn);
        },
      ],
    },
  };
}

/**
 * A uPlot line chart in `container`: `series` = [{label, values, color, fill?, dash?}] over `t`.
 * `markers` (trade markers on the first series), `onCursor(idx)` (hover) are optional;
 * `frame` ({width, colors}, from `chartFrame`) saves reading them again.
 */
export function makeChart(container, { t, series, height, fmt, syncKey, hideX, markers, onCursor, legend, frame }) {
  const { colors, width } = frame || chartFrame(container);
  const plugins = [];
  if (markers?.length) plugins.push(markersPlugin(markers, (n) => (container.dataset.markers = String(n))));
  const opts = {
    width,
    height,
    plugins,
    scales: { x: { time: true } },
    axes: axes(colors, fmt, hideX),
    cursor: syncKey ? { sync: { key: syncKey } } : {},
    legend: { show: legend ?? series.length > 1, live: false },
    hooks: onCursor ? { setCursor: [(u) => onCursor(u.cursor.idx)] } : {},
    series: [
      {},
      ...series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: 1.5,
        fill: s.fill,
        dash: s.dash,
        points: { show: false },
      })),
    ],
  };
  return new uPlot(opts, [t, ...series.map((s) => s.values)], container);
}

/** A captioned box of `height` px for one chart; the chart goes into `.plot`. */
export function chartBox(height, caption, legend = false) {
  const wrap = el("div", "cow-chart");
  if (caption) wrap.appendChild(el("div", "cow-meta", caption));
  const box = el("div", "cow-plot");
  box.style.height = `${height + (legend ? 30 : 0)}px`;
  wrap.appendChild(box);
  wrap.plot = box;
  return wrap;
}
