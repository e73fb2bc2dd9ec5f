// Constants the Python side owns, from the widget's `constants` traitlet
// (chatops_widget.protocol.frontend_constants): run statuses, result kinds, limits, the stats
// registry (label, unit, description, formula of each stat; which are fractions shown as
// percent), the order options, the rule language (functions, fields), the default cash. The JS
// keeps no copies of them; until the traitlet arrives the sets are empty and the limits unknown
// (nothing is refused).

let current = {};
let terminal = new Set();
let resultKinds = new Set();
let percent = new Set();
let stats = new Map();

/** Take the constants the kernel sent (the traitlet's value); unknown keys are kept as given. */
export function setConstants(value) {
  current = value && typeof value === "object" ? value : {};
  terminal = new Set(current.terminalStatuses || []);
  resultKinds = new Set(current.resultKinds || []);
  percent = new Set(current.percentStats || []);
  stats = new Map((current.stats || []).map((s) => [s.name, s]));
}

/** Follow `model`'s `constants` traitlet; returns the function that stops following. */
export function followConstants(model) {
  const update = () => setConstants(model.get("constants"));
  update();
  model.on("change:constants", update);
  return () => model.off("change:constants", update);
}

/** The constants as the kernel sent them. */
export const constants = () => current;
/** Is `status` a finished run's status (completed, failed, ...)? */
export const isTerminal = (status) => terminal.has(status);
/** Is `kind` a result the panel draws as a card (backtest, comparison, ...)? */
export const isResultKind = (kind) => resultKinds.has(kind);
/** Is the stat `name` a fraction shown as percent (total_return, ...)? */
export const isPercentStat = (name) => percent.has(name);
/** A limit by name (maxUploadBytes, maxContentChars, maxCommandChars), or undefined. */
export const limit = (name) => current.limits?.[name];
/** The stats registry's entry for `name` ({name, label, unit, description, formula, group});
 *  an `oos_` prefix is the same stat out of sample; undefined for what is not a stat. */
export const statInfo = (name) => stats.get(String(name).replace(/^oos_/, ""));
/** A stat's label for a table ("Sharpe ratio", "Sharpe ratio (OOS)"), else the name itself. */
export function statLabel(name) {
  const s = statInfo(name);
  if (!s) return String(name);
  return String(name).startsWith("oos_") ? `${s.label} (OOS)` : s.label;
}
/** A stat's tooltip: its key, what it means and its formula ("" for what is not a stat). */
export function statTitle(name) {
  const s = statInfo(name);
  if (!s) return "";
  const oos = String(name).startsWith("oos_") ? " (on the out-of-sample bars)" : "";
  return `${name}: ${s.description}${oos}${s.unit ? ` [${s.unit}]` : ""}\n${s.formula || ""}`.trim();
}
/** The order options ([{name, doc}]: stop_loss, take_profit, ...). */
export const orderOptions = () => current.orderOptions || [];
/** The rule language: {fields, functions: [{name, signature, doc, example, returns}], ...}. */
export const ruleLanguage = () => current.ruleLanguage || { fields: [], functions: [] };
