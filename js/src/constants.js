// Constants the Python side owns, from the widget's `constants` traitlet
// (chatops_widget.protocol.frontend_constants): run statuses, result kinds, limits, which stats
// are fractions (shown as percent), the default cash. The JS keeps no copies of them; until the
// traitlet arrives the sets are empty and the limits unknown (nothing is refused).

let current = {};
let terminal = new Set();
let resultKinds = new Set();
let percent = new Set();

/** Take the constants the kernel sent (the traitlet's value); unknown keys are kept as given. */
export function setConstants(value) {
  current = value && typeof value === "object" ? value : {};
  terminal = new Set(current.terminalStatuses || []);
  resultKinds = new Set(current.resultKinds || []);
  percent = new Set(current.percentStats || []);
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
