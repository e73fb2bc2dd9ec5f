// The Upload button: a hidden file input; a .csv goes to the kernel as data, a .json as a
// strategy spec. Wrong types and files over the limit get a notice instead.
import { button, el, listen } from "../dom.js";

const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

/** Returns {button, input, cleanups}: the Upload button and its (hidden) file input. */
export function uploadControl(store, send) {
  const btn = button("Upload", "cow-upload-btn", "Upload a CSV data file or a strategy spec (JSON)");
  const file = el("input", "cow-file");
  file.type = "file";
  file.accept = ".csv,.json,text/csv,application/json";
  const onChange = () => {
    const f = file.files?.[0];
    file.value = "";
    if (!f) return;
    const lower = f.name.toLowerCase();
    const kind = lower.endsWith(".csv") ? "csv" : lower.endsWith(".json") ? "strategy" : null;
    if (!kind) {
      store.addNotice("error", `Cannot upload ${f.name}: expected a .csv data file or a .json strategy spec.`);
      return;
    }
    if (f.size > MAX_UPLOAD_BYTES) {
      store.addNotice("error", `Cannot upload ${f.name}: ${(f.size / 1e6).toFixed(1)} MB is over the 20 MB limit.`);
      return;
    }
    f.text().then(
      (content) => send({ type: "upload", name: f.name, kind, content }),
      (err) => store.addNotice("error", `Cannot read ${f.name}: ${err}`),
    );
  };
  return {
    button: btn,
    input: file,
    cleanups: [listen(btn, "click", () => file.click()), listen(file, "change", onChange)],
  };
}
