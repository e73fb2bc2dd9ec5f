// What an assistant message says, adapted to this panel (pure, no DOM): the server writes a
// neutral "In Python: `results['run_…']` (...)" line, which the panel says with the widget's own
// variable when the kernel knows it (the `python_name` traitlet, e.g. `w.results['run_…']`);
// and a reply whose result card is shown drops its tables (the card has them, formatted alike).

const HINT = /In Python: `results\['(run_\w+)'\]`[^\n]*/g;
const TABLE_LINE = /^\s*\|.*\|\s*$/;

/** `text` with the neutral Python hint naming `name` (unchanged without a name). */
export function pythonHints(text, name) {
  if (!name || !/^[A-Za-z_]\w*$/.test(name)) return text;
  return String(text).replace(HINT, (_m, runId) => `In Python: \`${name}.results['${runId}']\``);
}

/** `text` without its markdown tables (the result card below shows them). */
export function withoutTables(text) {
  const lines = String(text).split("\n");
  const kept = lines.filter((line) => !TABLE_LINE.test(line));
  if (kept.length === lines.length) return text;
  return kept
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
