// One row of the progress tray: label, bar, percent and a Cancel button (or the final status).
import { isTerminal } from "../constants.js";
import { button, el } from "../dom.js";

/** A tray row for `run` ({runId, strategyId, progress, status, message}); `onCancel(runId)` is
 *  called once when Cancel is clicked. */
export function progressRow(run, onCancel) {
  const row = el("div", `cow-run cow-status-${run.status}${isTerminal(run.status) ? " cow-done" : ""}`);
  row.dataset.run = run.runId;
  const pct = Math.round(run.progress || 0);
  const name = run.strategyId || run.label;
  const label = el("span", "cow-run-label", name ? `${name} (${run.runId})` : run.runId);
  label.title = [run.runId, run.message].filter(Boolean).join(": ");
  const bar = el("div", "cow-bar");
  bar.setAttribute("role", "progressbar");
  bar.setAttribute("aria-valuenow", String(pct));
  bar.setAttribute("aria-valuemin", "0");
  bar.setAttribute("aria-valuemax", "100");
  const fill = el("div", "cow-bar-fill");
  fill.style.width = `${pct}%`;
  bar.appendChild(fill);
  const text = el("span", "cow-run-pct", `${pct} %`);
  text.title = run.status;
  let action;
  if (isTerminal(run.status)) {
    action = el("span", "cow-run-status", run.status);
  } else {
    action = button("Cancel", "cow-cancel", `Cancel ${run.runId}`);
    action.addEventListener("click", () => {
      action.disabled = true;
      onCancel(run.runId);
    });
  }
  row.append(label, bar, text, action);
  return row;
}
