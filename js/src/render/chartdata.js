// What a backtest chart shows besides its lines (pure, no DOM): the hover readout (date,
// equity, drawdown, position, benchmark) and where trades' entry and exit markers go.
import { grouped } from "./format.js";

/** The index of the last `t` at or before `x` (binary search; `t` ascending), or -1. */
export function indexAtOrBefore(t, x) {
  let lo = 0;
  let hi = t.length - 1;
  if (hi < 0 || x < t[0]) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (t[mid] <= x) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** A chart time (epoch seconds, UTC) as a date, with the time of day for intraday bars. */
export function dateLabel(seconds) {
  const iso = new Date(seconds * 1000).toISOString();
  return iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** A position (fraction of equity held, signed) in words: long, short or flat. */
export function positionLabel(p) {
  if (p === null || p === undefined || !Number.isFinite(p)) return "–";
  if (p === 0) return "flat";
  const side = p > 0 ? "long" : "short";
  return Math.abs(p) === 1 ? side : `${side} ${Math.abs(p).toFixed(2)}`;
}

const money = (v) => (Number.isFinite(v) ? grouped(Math.round(v), 0) : "–");
const percent = (v) => (Number.isFinite(v) ? `${(v * 100).toFixed(2)} %` : "–");

/** The readout line for bar `idx` of a backtest's `series` ({t, equity, drawdown, position?, benchmark?}). */
export function readoutText(series, idx) {
  if (idx === null || idx === undefined || idx < 0 || idx >= series.t.length) return "";
  const bits = [dateLabel(series.t[idx]), `equity ${money(series.equity?.[idx])}`];
  if (series.drawdown) bits.push(`drawdown ${percent(series.drawdown[idx])}`);
  if (series.position) bits.push(`position ${positionLabel(series.position[idx])}`);
  if (series.benchmark) bits.push(`buy & hold ${money(series.benchmark[idx])}`);
  return bits.join(" · ");
}

/**
 * Marker points for `trades` ({entry, exit, direction, pnl}) on the chart's times `t`: entries
 * and exits placed on the bar at or before their time, each `{kind, t, index, direction, win}`.
 */
export function tradeMarkers(t, trades) {
  const out = [];
  if (!trades?.entry?.length || !t?.length) return out;
  for (let k = 0; k < trades.entry.length; k++) {
    const direction = trades.direction?.[k] ?? 1;
    const pnl = trades.pnl?.[k];
    for (const kind of ["entry", "exit"]) {
      const time = trades[kind][k];
      const index = indexAtOrBefore(t, time);
      if (index < 0) continue;
      out.push({ kind, t: time, index, direction, win: Number.isFinite(pnl) ? pnl >= 0 : null });
    }
  }
  return out;
}
