// One timeline row: a chat message (user / assistant / system), a rich result or a notice.
// User and system text is set as textContent; assistant text is sanitized markdown.
import { isResultKind } from "../constants.js";
import { el } from "../dom.js";
import { pythonHints, withoutTables } from "../render/hints.js";
import { renderMarkdown } from "../render/markdown.js";
import { renderResult } from "../render/result.js";

/** `toLocaleTimeString` of an ISO timestamp (or Date); "" when it cannot be parsed. */
export function timeLabel(ts) {
  const d = ts instanceof Date ? ts : new Date(ts);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleTimeString();
}

function messageRow(item, ctx) {
  const m = item.message;
  const role = ["user", "assistant", "system"].includes(m.role) ? m.role : "system";
  const row = el("div", `cow-row cow-${role}`);
  row.dataset.role = role;
  row.dataset.seq = m.seq ?? "";
  const bubble = el("div", "cow-bubble");
  const cr = m.metadata?.commandResult;
  if (role === "assistant") {
    bubble.classList.add("cow-md");
    let text = pythonHints(m.content, ctx.name?.());
    if (cr?.runId && ctx.store.cardComing(cr.runId)) text = withoutTables(text); // the card has them
    bubble.innerHTML = renderMarkdown(text);
  } else {
    bubble.textContent = m.content;
  }
  row.appendChild(bubble);
  // who typed it (the display name each client gives at connect), else the role
  const sender = typeof m.metadata?.sender === "string" ? m.metadata.sender : "";
  if (sender) row.dataset.sender = sender;
  const meta = el("div", "cow-meta", `${sender || role} · ${timeLabel(m.timestamp)}`);
  if (cr?.runId && isResultKind(cr.kind || cr.summary?.kind) && !ctx.store.cardComing(cr.runId)) {
    const btn = el("button", "cow-btn cow-show-result", "show result");
    btn.style.marginLeft = "6px";
    btn.addEventListener("click", () => {
      btn.disabled = true;
      ctx.send({ type: "get_result", runId: cr.runId });
    });
    meta.appendChild(btn);
  }
  row.appendChild(meta);
  return { el: row };
}

/** Render timeline item `item` as a row: {el, mount?, destroy?}. */
export function renderItem(item, ctx) {
  if (item.kind === "message") return messageRow(item, ctx);
  if (item.kind === "result") {
    const row = el("div", "cow-row cow-assistant cow-result");
    row.dataset.role = "assistant";
    row.dataset.run = item.result.runId;
    if (Number.isFinite(item.result.engineSeconds)) row.dataset.engineSeconds = String(item.result.engineSeconds);
    const r = renderResult(item.result, (text) => ctx.send({ type: "send", text }));
    row.appendChild(r.el);
    return { el: row, mount: r.mount, destroy: r.destroy };
  }
  const row = el("div", `cow-row cow-notice cow-level-${item.level}`);
  row.dataset.role = "notice";
  row.appendChild(el("div", "cow-bubble", item.text));
  const meta = el("div", "cow-meta", `${item.level} · ${timeLabel(item.at)}`);
  if (item.action) {
    // e.g. "Replace MYCO" after an upload hit an existing symbol; one click, then disabled
    const btn = el("button", "cow-btn cow-notice-action", item.action.label);
    btn.style.marginLeft = "6px";
    btn.disabled = Boolean(item.actionDone);
    btn.addEventListener("click", () => {
      item.actionDone = true;
      btn.disabled = true;
      ctx.send(item.action.send);
    });
    meta.appendChild(btn);
  }
  row.appendChild(meta);
  return { el: row };
}
