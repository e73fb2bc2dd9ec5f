// The Upload button: a hidden file input; a .csv goes to the kernel as data, a .json as a
// strategy spec. A CSV up to one part goes in one message, a bigger one in `upload_part`
// messages (./uploadparts.js) with a progress row from the kernel's `upload_progress`. Wrong
// types and files over the limits get a notice instead.
import { limit } from "../constants.js";
import { button, el, listen } from "../dom.js";
import { newUploadId, sendParts, uploadRow } from "./uploadparts.js";

const MB = 1024 * 1024;
const KEEP_FINISHED_MS = 8000; // a finished row stays this long (the notice says the rest)

const size = (bytes) =>
  bytes >= 1024 * MB ? `${(bytes / (1024 * MB)).toFixed(0)} GiB` : `${(bytes / MB).toFixed(0)} MiB`;

/** Does a file of `bytes` (of `kind`) go in parts of `partBytes`? Only a CSV over one part (and
 *  never before the kernel's constants said the part size). */
export const inParts = (kind, bytes, partBytes) => kind === "csv" && partBytes > 0 && bytes > partBytes;

/** Returns {button, input, status, cleanups}: the Upload button, its (hidden) file input and
 *  the element holding the uploads' progress rows. */
export function uploadControl(store, send) {
  const btn = button("Upload", "cow-upload-btn", "Upload a CSV data file or a strategy spec (JSON)");
  const file = el("input", "cow-file");
  file.type = "file";
  file.accept = ".csv,.json,text/csv,application/json";
  const status = el("div", "cow-upload-status");
  const rows = new Map(); // uploadId -> {row, timer}
  const failed = new Set(); // uploads the kernel stopped: no more parts
  const onProgress = (ev) => {
    if (ev.type !== "upload_progress") return;
    const p = ev.progress;
    const id = String(p.uploadId);
    const old = rows.get(id);
    const row = uploadRow(p);
    if (old) {
      clearTimeout(old.timer);
      old.row.replaceWith(row);
    } else status.appendChild(row);
    const entry = { row, timer: null };
    if (p.stage === "failed") failed.add(id);
    if (p.stage === "done" || p.stage === "failed") {
      entry.timer = setTimeout(() => {
        row.remove();
        rows.delete(id);
      }, KEEP_FINISHED_MS);
    }
    rows.set(id, entry);
  };
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
    const max = kind === "csv" ? limit("maxPanelUploadBytes") : limit("maxUploadBytes");
    if (max && f.size > max) {
      const over = `${(f.size / MB).toFixed(1)} MiB is over the ${size(max)} upload limit`;
      store.addNotice("error", `Cannot upload ${f.name}: ${over}; put bigger files in the server's data folder.`);
      return;
    }
    const partBytes = limit("maxPanelPartBytes");
    if (inParts(kind, f.size, partBytes)) {
      const uploadId = newUploadId();
      sendParts(f, send, { uploadId, partBytes, stopped: () => failed.has(uploadId) }).catch((err) =>
        store.addNotice("error", `Cannot read ${f.name}: ${err}`),
      );
      return;
    }
    f.text().then(
      (content) => send({ type: "upload", name: f.name, kind, content }),
      (err) => store.addNotice("error", `Cannot read ${f.name}: ${err}`),
    );
  };
  const stop = store.subscribe(onProgress);
  const clearTimers = () => {
    for (const { timer } of rows.values()) clearTimeout(timer);
  };
  return {
    button: btn,
    input: file,
    status,
    cleanups: [listen(btn, "click", () => file.click()), listen(file, "change", onChange), stop, clearTimers],
  };
}
