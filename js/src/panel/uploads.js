// The Upload button: a hidden file input; a .csv goes to the kernel as data, a .json as a
// strategy spec. Wrong types and files over the limit get a notice instead.
import { limit } from "../constants.js";
import { button, el, listen } from "../dom.js";

const MB = 1024 * 1024;

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
    const max = limit("maxUploadBytes");
    if (max && f.size > max) {
      const over = `${(f.size / MB).toFixed(1)} MiB is over the ${(max / MB).toFixed(0)} MiB upload limit`;
      store.addNotice("error", `Cannot upload ${f.name}: ${over}; put bigger files in the server's data folder.`);
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
