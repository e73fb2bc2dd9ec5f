// Number formatting for metric tables and chart axes. Which stats are fractions (shown as
// percent) comes from the kernel (constants.js).
import { isPercentStat, statInfo } from "../constants.js";

const ISO_DAY = /^(\d{4}-\d{2}-\d{2})T00:00:00(\.0+)?(Z|[+-]00:00)?$/;

/** Format one metric value for a table cell, by its unit in the kernel's stats registry (as
 *  engine.format_stat does): fraction as percent, days, currency with cents, counts and bars. */
export function formatMetric(name, value) {
  if (value === null || value === undefined || value === "") return "–";
  if (typeof value === "string") return value.replace(ISO_DAY, "$1");
  if (typeof value !== "number") return String(value);
  if (!Number.isFinite(value)) return String(value);
  const stat = String(name).replace(/^oos_/, "");
  if (isPercentStat(stat)) return `${(value * 100).toFixed(2)} %`;
  const unit = statInfo(stat)?.unit;
  if (unit === "days") return `${value.toFixed(1)} days`;
  if (unit === "currency") return value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  if ((unit === "count" || unit === "bars") && !Number.isInteger(value)) return value.toFixed(1);
  if (Number.isInteger(value)) return value.toLocaleString();
  return Math.abs(value) >= 1000 ? value.toLocaleString(undefined, { maximumFractionDigits: 0 }) : value.toFixed(3);
}

/** A fraction as a whole percent, for axis ticks: 0.25 -> "25%". */
export const pct = (v) => `${(v * 100).toFixed(0)}%`;

/** A money amount, short, for axis ticks: 1234567 -> "1.23M". */
export const compact = (v) => {
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(2)}B`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  return a >= 100 ? v.toFixed(0) : v.toPrecision(3);
};
