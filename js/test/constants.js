// The kernel's constants for unit tests, from their one source: the Python package in this
// repository (`chatops_widget.widget._sync.frontend_constants`), so the tests never hold copies.
// Importing the widget needs the bundle built: `npm test` builds it first.
// Uses $PYTHON (pytest sets it to its own interpreter), else `python3`.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { setConstants } from "../src/constants.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CODE = "import json; from chatops_widget.widget._sync import frontend_constants as f; print(json.dumps(f()))";

let cached = null;

/** The constants as the widget's `constants` traitlet carries them. */
export function pythonConstants() {
  if (!cached) {
    const env = { ...process.env, PYTHONPATH: [ROOT, process.env.PYTHONPATH].filter(Boolean).join(":") };
    cached = JSON.parse(execFileSync(process.env.PYTHON || "python3", ["-c", CODE], { cwd: ROOT, env }).toString());
  }
  return cached;
}

/** Install the kernel's constants in the front end (as the traitlet would); returns them. */
export function useKernelConstants() {
  const c = pythonConstants();
  setConstants(c);
  return c;
}

// Values of every stat (and a few parameters) formatted by the kernel's engine.format_stat:
// [[name, value, text], ...] (NaN and inf excluded: JSON has neither).
const FORMATTED = `
import json
from chatops_widget import engine
values = [0.0, 1.0, 12.0, -0.0314159, 0.12345, 2.5, 1234.5, 1234567.891, 0.0005, 0.00015, 251.8, 2608.0]
out = [[s.name, v, engine.format_stat(s.name, v)] for s in engine.STATS for v in values]
out += [[f"oos_{n}", 0.42, engine.format_stat(f"oos_{n}", 0.42)] for n in ("sharpe", "total_return")]
out += [["fast", 12, engine.format_stat("fast", 12)], ["k", 1.5, engine.format_stat("k", 1.5)]]
print(json.dumps(out))
`;

/** The kernel's formatting of many stat values (see FORMATTED). */
export function pythonFormatted() {
  const env = { ...process.env, PYTHONPATH: [ROOT, process.env.PYTHONPATH].filter(Boolean).join(":") };
  return JSON.parse(execFileSync(process.env.PYTHON || "python3", ["-c", FORMATTED], { cwd: ROOT, env }).toString());
}
