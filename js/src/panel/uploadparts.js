// A big CSV upload in parts: the file is read PART_BYTES at a time with File.slice and decoded
// with one streaming TextDecoder (a UTF-8 character split between two slices arrives whole in
// the later part), each part one `upload_part` custom message; the kernel appends them to a
// temporary file (chatops_widget/widget/_upload_parts.py) and answers with `upload_progress`.
// Also the progress row those answers draw (the run tray's bar styles). The part size is the
// kernel's `limit("maxPanelPartBytes")`.
import { el } from "../dom.js";

const MB = 1024 * 1024;

let counter = 0;
/** A fresh upload id (unique within this page). */
export const newUploadId = () => `up_${Date.now().toString(36)}_${(counter++).toString(36)}`;

/** Yields the `upload_part` messages for `file` (a Blob with a name), one slice of `partBytes`
 *  at a time:
 *  {type, uploadId, name, size, index, last, data}. */
export async function* uploadParts(file, uploadId, partBytes) {
  const decoder = new TextDecoder("utf-8");
  const size = file.size;
  let index = 0;
  for (let start = 0; index === 0 || start < size; start += partBytes) {
    const end = Math.min(size, start + partBytes);
    const bytes = new Uint8Array(await file.slice(start, end).arrayBuffer());
    const last = end >= size;
    const data = decoder.decode(bytes, { stream: !last });
    yield { type: "upload_part", uploadId, name: file.name, size, index, last, data };
    index += 1;
  }
}

/** Send `file` as parts through `send`; stops early when `stopped()` turns true (the kernel
 *  said "failed"). Resolves to the number of parts sent. */
export async function sendParts(file, send, { uploadId = newUploadId(), partBytes, stopped } = {}) {
  let sent = 0;
  for await (const part of uploadParts(file, uploadId, partBytes)) {
    if (stopped?.()) break;
    send(part);
    sent += 1;
  }
  return sent;
}

const STATUS = { sending: "running", storing: "running", done: "completed", failed: "failed" };

/** One progress row for an `upload_progress` message {uploadId, name, stage, done, total}. */
export function uploadRow(p) {
  const status = STATUS[p.stage] || "running";
  const finished = p.stage === "done" || p.stage === "failed";
  const row = el("div", `cow-run cow-upload-row cow-status-${status}`);
  row.dataset.upload = String(p.uploadId);
  const total = Number(p.total) || 0;
  const done = Number(p.done) || 0;
  const pct = p.stage === "done" ? 100 : total > 0 ? Math.min(100, Math.round((100 * done) / total)) : 0;
  const label = el("span", "cow-run-label", `${p.name}: ${p.stage}`);
  label.title =
    p.stage === "storing"
      ? `${p.name}: sending the parsed bars to the server (${done} of ${total} bytes)`
      : `${p.name}: ${p.stage} (${(done / MB).toFixed(1)} of ${(total / MB).toFixed(1)} MiB)`;
  const bar = el("div", "cow-bar");
  bar.setAttribute("role", "progressbar");
  bar.setAttribute("aria-valuenow", String(pct));
  bar.setAttribute("aria-valuemin", "0");
  bar.setAttribute("aria-valuemax", "100");
  const fill = el("div", "cow-bar-fill");
  fill.style.width = `${pct}%`;
  bar.appendChild(fill);
  const text = el("span", "cow-run-pct", `${pct} %`);
  row.append(label, bar, text, el("span", "cow-run-status", finished ? p.stage : ""));
  return row;
}
