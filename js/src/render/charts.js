// Time-series charts drawn by uPlot: a backtest's equity and drawdown, a comparison's curves.
import uPlot from "uplot";
import { el } from "../dom.js";

export const PALETTE = ["#1976d2", "#e65100", "#2e7d32", "#8e24aa", "#c62828", "#00838f", "#6d4c41", "#546e7a"];

function themeColors(node) {
  const cs = getComputedStyle(node);
  return {
    axis: cs.getPropertyValue("--cow-fg2").trim() || "#666",
    grid: cs.getPropertyValue("--cow-border").trim() || "#ddd",
  };
}

function axes(colors, fmt, hideX) {
  const base = { stroke: colors.axis, grid: { stroke: colors.grid, width: 0.5 }, ticks: { stroke: colors.grid } };
  const x = hideX ? { ...base, size: 6, values: (_u, vals) => vals.map(() => "") } : { ...base, size: 48 };
  return [x, { ...base, size: 56, values: fmt ? (_u, vals) => vals.map(fmt) : undefined }];
}

/** A uPlot line chart in `container`: `series` = [{label, values, color, fill?}] over `t`. */
export function makeChart(container, { t, series, height, fmt, syncKey, hideX }) {
  const colors = themeColors(container);
  const width = Math.max(260, container.clientWidth || 480);
  const opts = {
    width,
    height,
    scales: { x: { time: true } },
    axes: axes(colors, fmt, hideX),
    cursor: syncKey ? { sync: { key: syncKey } } : {},
    legend: { show: series.length > 1 },
    series: [
      {},
      ...series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, fill: s.fill, points: { show: false } })),
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
