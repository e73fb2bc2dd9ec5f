// Number formatting for metric tables and chart axes: the same text as the kernel's
// `engine.format_stat` (the chat replies), by each stat's unit in the engine's registry, which
// comes from the kernel (constants.js): fraction as percent (a cost rate at full precision),
// count and bars as integers, currency with two decimals, days with one, ratios with three.
import { isPercentStat, statInfo } from "../constants.js";

const ISO_DAY = /^(\d{4}-\d{2}-\d{2})T00:00:00(\.0+)?(Z|[+-]00:00)?$/;

// one formatter per digit count: toLocaleString with options builds a new one per call (~20 µs,
// most of a trades table's time)
const formatters = new Map();
/** `v` with thousands separators and exactly `digits` decimals: grouped(1234.5, 2) -> "1,234.50". */
export const grouped = (v, digits) => {
  let f = formatters.get(digits);
  if (!f) {
    f = new Intl.NumberFormat("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
    formatters.set(digits, f);
  }
  return f.format(v);
};

/** The unit of stat `name` ("fraction", "ratio", "currency", "count", "days", "bars"), or
 *  undefined for a name the registry does not know (a parameter, say). */
export function statUnit(name) {
  const s = statInfo(name);
  if (s) return s.unit;
  return isPercentStat(String(name).replace(/^oos_/, "")) ? "fraction" : undefined;
}

/** Format one metric value for a table cell, as engine.format_stat does (null = NaN: "n/a"). */
export function formatMetric(name, value) {
  if (value === undefined || value === "") return "–";
  if (value === null) return "n/a";
  if (typeof value === "string") return value.replace(ISO_DAY, "$1");
  if (typeof value !== "number") return String(value);
  if (Number.isNaN(value)) return "n/a";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  const unit = statUnit(name) ?? (Number.isInteger(value) ? "count" : "ratio");
  if (unit === "fraction" && statInfo(name)?.group === "basis") {
    return `${Number((value * 100).toPrecision(10))} %`; // a setting (a cost rate): as given
  }
  if (unit === "fraction") return `${(value * 100).toFixed(2)} %`;
  if ((unit === "count" || unit === "bars") && Number.isInteger(value)) return grouped(value, 0);
  if (unit === "currency") return grouped(value, 2);
  if (unit === "days") return `${value.toFixed(1)} days`;
  if (unit === "bars") return value.toFixed(1);
  return value.toFixed(3);
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
