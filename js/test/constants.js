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
