// Model-level state shared by every view of one widget: the timeline (chat messages, rich
// results, local notices), running backtests and the input history. It is fed by the kernel's
// custom messages: one "history" (sent once, after our "ready"), then one "message" per append.

import { isTerminal } from "./constants.js";

const RUN_LINGER_MS = 60_000;
const MAX_INPUT_HISTORY = 200;
// A live reply whose result card is on its way (the run completed; the kernel is fetching its
// result) waits for the card, at most this long, and the two are drawn together: one layout
// and one frame, so the card lands sooner and nothing jumps. The reply never waits longer.
const HOLD_REPLY_MS = 1000;

let noticeCounter = 0;

/** A notice's button from the kernel, `{label, send: {type, ...}}`, or null if malformed. */
function validAction(action) {
  if (!action || typeof action !== "object") return null;
  const { label, send } = action;
  if (typeof label !== "string" || !send || typeof send !== "object" || typeof send.type !== "string") {
    return null;
  }
  return { label, send };
}

function randomId() {
  return Math.random().toString(36).slice(2, 10) + Date.now().toString(36);
}

/** Timeline + runs for one model; views subscribe with `subscribe(fn)`. */
export class Store {
  constructor(model) {
    this.model = model;
    this.clientId = randomId();
    this.items = []; // {key, kind: "message"|"result"|"notice", ...}
    this.index = new Map(); // key -> position in items
    this.runs = new Map(); // runId -> {runId, strategyId, progress, status, message, at}
    this.results = new Map(); // runId -> result payload
    this.inputHistory = [];
    this.sessions = null; // {list: [{id, name, createdAt, lastSeq}], total, current} once asked
    this.listeners = new Set();
    this.started = false;
    this.historyReceived = false;
    this.held = null; // {runId, item, timer}: a live reply waiting for its card (HOLD_REPLY_MS)
    this._onCustom = (content) => this.handle(content);
  }

  /** Listen to the kernel and ask it for the history (idempotent). */
  start() {
    if (this.started) return;
    this.started = true;
    this.model.on("msg:custom", this._onCustom);
    this.model.send({ type: "ready", clientId: this.clientId });
  }

  stop() {
    if (!this.started) return;
    this.started = false;
    this.model.off?.("msg:custom", this._onCustom);
    this.flushHeld();
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(event) {
    for (const fn of this.listeners) {
      try {
        fn(event);
      } catch (err) {
        console.error("chatops-widget: listener failed", err);
      }
    }
  }

  /** Apply one custom message from the kernel. */
  handle(msg) {
    if (!msg || typeof msg !== "object") return;
    switch (msg.type) {
      case "history":
        if (msg.to && msg.to !== this.clientId) return; // addressed to another front end
        this.applyHistory(msg);
        break;
      case "message":
        if (msg.message) this.upsertMessage(msg.message, false);
        break;
      case "progress":
        this.applyProgress(msg);
        break;
      case "result":
        this.applyResult(msg);
        break;
      case "notice":
        this.addNotice(msg.level || "info", String(msg.text ?? ""), validAction(msg.action));
        break;
      case "sessions": // the server's sessions, for the Sessions menu
        this.sessions = {
          list: Array.isArray(msg.sessions) ? msg.sessions : [],
          total: msg.total,
          current: msg.current ?? null,
        };
        this.emit({ type: "sessions" });
        break;
      case "upload_progress": // a panel upload in parts: drawn by the Upload control
        if (msg.uploadId) this.emit({ type: "upload_progress", progress: msg });
        break;
      case "download": // a file made by the kernel (/export), saved by the view
        if (typeof msg.name === "string" && typeof msg.text === "string") {
          this.emit({ type: "download", name: msg.name, mime: msg.mime || "text/plain", text: msg.text });
        }
        break;
      default:
        break;
    }
  }

  applyHistory(msg) {
    const held = this.takeHeld();
    if (held && msg.reset === false) this.place(held); // (a reset history has it)
    if (msg.reset !== false) {
      this.items = [];
      this.index = new Map();
      this.runs.clear();
      this.emit({ type: "runs" });
    }
    for (const m of msg.messages || []) this.upsertMessage(m, true, true);
    this.historyReceived = true;
    this.emit({ type: msg.reset !== false ? "reset" : "append" });
  }

  push(item) {
    this.index.set(item.key, this.items.length);
    this.items.push(item);
  }

  upsertMessage(message, fromHistory, silent = false) {
    if (!message || message.id == null) return;
    const key = `m:${message.id}`;
    if (this.held?.item.key === key) {
      this.held.item = { ...this.held.item, message }; // (drawn with its card)
      return;
    }
    const at = this.index.get(key);
    if (at !== undefined) {
      this.items[at] = { ...this.items[at], message };
      if (!silent) this.emit({ type: "update", key, index: at });
      return;
    }
    const item = { key, kind: "message", message, fromHistory };
    const runId = message.metadata?.commandResult?.runId;
    const earlier = this.takeHeld();
    if (!fromHistory && !silent && runId && this.cardComing(runId) && !this.results.has(runId)) {
      if (earlier) this.emit(this.place(earlier));
      const timer = setTimeout(() => this.flushHeld(), HOLD_REPLY_MS);
      this.held = { runId, item, timer };
      return;
    }
    if (earlier) this.place(earlier); // first: it came first (the event below draws both)
    const ev = this.place(item);
    if (!silent) this.emit(ev);
  }

  /** Put `item` in the timeline by its seq, a reply above its run's card (the kernel sends a
   *  card the moment the result is stored, so it may come first); returns the event that tells
   *  the views. */
  place(item) {
    const seq = item.kind === "message" ? item.message.seq : undefined;
    let pos = this.positionFor(seq);
    const runId = item.kind === "message" ? item.message.metadata?.commandResult?.runId : undefined;
    const card = runId ? this.index.get(`r:${runId}`) : undefined;
    if (card !== undefined && card < pos) pos = card;
    if (pos === this.items.length) {
      this.push(item);
      return { type: "append" };
    }
    // Arrived out of order (seq lower than a message already shown): put it in its place.
    this.items.splice(pos, 0, item);
    for (let i = pos; i < this.items.length; i++) this.index.set(this.items[i].key, i);
    return { type: "insert", key: item.key, index: pos };
  }

  /** The held reply (of `runId`, or any when not given), no longer held; else null. */
  takeHeld(runId) {
    const held = this.held;
    if (!held || (runId !== undefined && held.runId !== runId)) return null;
    clearTimeout(held.timer);
    this.held = null;
    return held.item;
  }

  /** Draw the held reply now (its card is late, or something else comes first). */
  flushHeld() {
    const item = this.takeHeld();
    if (item) this.emit(this.place(item));
  }

  /** Where a message with `seq` belongs. In order (the usual case: newer than the newest
   *  message shown) or without a seq: at the end. Out of order: right after the last message
   *  with a lower seq. */
  positionFor(seq) {
    const end = this.items.length;
    if (!Number.isFinite(seq)) return end;
    const seqAt = (i) => (this.items[i].kind === "message" ? this.items[i].message.seq : undefined);
    let i = end - 1;
    while (i >= 0 && !Number.isFinite(seqAt(i))) i--;
    if (i < 0 || seqAt(i) < seq) return end;
    for (; i >= 0; i--) if (Number.isFinite(seqAt(i)) && seqAt(i) < seq) return i + 1;
    return 0;
  }

  applyProgress(msg) {
    const prev = this.runs.get(msg.runId) || {};
    const coming = this.cardComing(msg.runId);
    const progress = Math.max(Number(prev.progress || 0), Number(msg.progress || 0));
    this.runs.set(msg.runId, {
      ...prev,
      runId: msg.runId,
      strategyId: msg.strategyId ?? prev.strategyId,
      progress: Math.min(100, progress),
      status: msg.status || prev.status || "running",
      message: msg.message ?? prev.message,
      // what runs, in words (the server's label, e.g. the template): never an error message
      label: msg.status !== "failed" && msg.message ? msg.message : prev.label,
      at: Date.now(),
    });
    this.emit({ type: "runs" });
    if (!coming && this.cardComing(msg.runId)) this.refreshMessagesOf(msg.runId);
  }

  /** Whether the result card of `runId` is here or on its way: the kernel sends one for every
   *  run of the session that completes while the panel is open. Its reply then leaves the
   *  tables to the card and offers no "show result" (drawn once, no flicker when it lands). */
  cardComing(runId) {
    return this.results.has(runId) || this.runs.get(runId)?.status === "completed";
  }

  /** Draw again the messages that reply to `runId` (they depend on `cardComing`). */
  refreshMessagesOf(runId) {
    for (let i = this.items.length - 1; i >= 0 && i > this.items.length - 400; i--) {
      const it = this.items[i];
      if (it.kind === "message" && it.message?.metadata?.commandResult?.runId === runId) {
        this.emit({ type: "update", key: it.key, index: i });
      }
    }
  }

  applyResult(msg) {
    const coming = this.cardComing(msg.runId);
    this.results.set(msg.runId, msg);
    const key = `r:${msg.runId}`;
    const at = this.index.get(key);
    const reply = this.takeHeld(msg.runId) || this.takeHeld(); // drawn first (it came first)
    if (reply) {
      const ev = this.place(reply);
      if (ev.type === "insert" || at !== undefined) this.emit(ev); // (else: the card's append)
    }
    if (at !== undefined) {
      this.items[at] = { ...this.items[at], result: msg };
      this.emit({ type: "update", key, index: at });
    } else {
      this.push({ key, kind: "result", result: msg });
      this.emit({ type: "append" });
    }
    // messages that offered a "show result" button (the card was not expected) drop it now
    if (!coming) this.refreshMessagesOf(msg.runId);
  }

  addNotice(level, text, action = null) {
    this.flushHeld(); // e.g. "cannot show run_…": the reply shows, then why its card does not
    noticeCounter += 1;
    this.push({ key: `n:${noticeCounter}`, kind: "notice", level, text, action, at: new Date() });
    this.emit({ type: "append" });
  }

  /** Runs shown in the progress tray: running ones, and finished ones for a minute. */
  visibleRuns() {
    const now = Date.now();
    const out = [];
    for (const run of this.runs.values()) {
      if (isTerminal(run.status) && now - run.at > RUN_LINGER_MS) continue;
      out.push(run);
    }
    return out.slice(-6);
  }

  rememberInput(text) {
    const h = this.inputHistory;
    if (h[h.length - 1] !== text) h.push(text);
    if (h.length > MAX_INPUT_HISTORY) h.splice(0, h.length - MAX_INPUT_HISTORY);
  }
}
