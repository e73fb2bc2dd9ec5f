// One view of the chat panel: header (connection chip, session id, session switcher, upload),
// the windowed timeline, the progress tray and the composer. Key events never leave the panel,
// so JupyterLab's notebook shortcuts (a, b, d d, m, Shift+Enter) do not fire while typing here.
import { Composer } from "./composer.js";
import { renderItem } from "./rows.js";
import { TERMINAL } from "./store.js";
import { VirtualList } from "./vlist.js";

const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;
/** Example commands and phrases for the empty state, on the server's own strategies/symbols. */
function examples(strategies) {
  const ids = strategies.map((x) => x.id).filter(Boolean);
  const a = ids[0] || "strategy_1";
  const b = ids[1] || "strategy_2";
  const sym = strategies[0]?.symbol || "ALPHA";
  return {
    commands: ["/help", "/strategies", `/run_backtest ${a}`, `/compare_strategies ${a} ${b}`,
      `/sweep sma_cross symbol=${sym} fast=5:30:5 slow=40:100:20`],
    phrases: [`backtest ${a} on ${sym} since 2015`, `compare ${a} and ${b}`],
  };
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function button(text, cls, title) {
  const b = el("button", "cow-btn" + (cls ? " " + cls : ""), text);
  b.type = "button";
  if (title) b.title = title;
  return b;
}

/** Build the panel inside `root`; returns the cleanup function. */
export function mountPanel(model, root, store) {
  const send = (msg) => model.send(msg);
  const cleanups = [];
  const listen = (target, type, fn, opts) => {
    target.addEventListener(type, fn, opts);
    cleanups.push(() => target.removeEventListener(type, fn, opts));
  };

  root.classList.add("cow-root");
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  root.tabIndex = -1;
  for (const type of ["keydown", "keypress", "keyup"]) listen(root, type, (e) => e.stopPropagation());

  // ---- header
  const header = el("div", "cow-header");
  const chip = el("span", "cow-chip");
  const session = el("span", "cow-session");
  const sessionsBtn = button("Sessions", "cow-sessions-btn", "Create, join or leave a session");
  const uploadBtn = button("Upload", "cow-upload-btn", "Upload a CSV data file or a strategy spec (JSON)");
  const file = el("input", "cow-file");
  file.type = "file";
  file.accept = ".csv,.json,text/csv,application/json";
  header.append(el("span", "cow-title", "ChatOps"), chip, session, el("span", "cow-spacer"), sessionsBtn, uploadBtn, file);

  // ---- session switcher
  const switcher = el("div", "cow-switcher");
  const sessionInput = el("input", "cow-session-input");
  sessionInput.placeholder = "session_1697472000000";
  const joinBtn = button("Join", "cow-join");
  const newBtn = button("New session", "cow-new");
  const leaveBtn = button("Leave", "cow-leave");
  switcher.append(sessionInput, joinBtn, newBtn, leaveBtn);

  // ---- timeline
  const body = el("div", "cow-body");
  const scroll = el("div", "cow-scroll");
  scroll.setAttribute("role", "log");
  const empty = el("div", "cow-empty");
  const jump = button("↓ latest", "cow-jump");
  body.append(scroll, empty, jump);

  const tray = el("div", "cow-tray");
  const composer = new Composer({
    store,
    context: () => ({
      commands: model.get("commands") || [],
      strategies: model.get("strategies") || [],
      templates: model.get("templates") || [],
      runs: [...store.runs.values()].reverse(),
    }),
    onSend: (text) => send({ type: "send", text }),
  });
  root.replaceChildren(header, switcher, body, tray, composer.el);

  // empty state: welcome + examples (clicking one puts it into the input)
  const exampleRow = (list) => {
    const row = el("div", "cow-examples");
    for (const text of list) {
      const b = button(text, "cow-example");
      b.addEventListener("click", () => {
        composer.setText(text);
        composer.input.focus();
      });
      row.appendChild(b);
    }
    return row;
  };
  const renderWelcome = () => {
    const ex = examples(model.get("strategies") || []);
    empty.replaceChildren(
      el("h3", "", "Welcome to ChatOps"),
      el("div", "", "Run and compare backtests by chatting. Start with a command, or just ask:"),
      exampleRow(ex.commands),
      el("div", "", "or in plain words:"),
      exampleRow(ex.phrases),
    );
  };
  renderWelcome();
  model.on("change:strategies", renderWelcome);
  cleanups.push(() => model.off("change:strategies", renderWelcome));

  const list = new VirtualList(scroll, {
    count: () => store.items.length,
    keyAt: (i) => store.items[i].key,
    render: (i) => renderItem(store.items[i], { store, send }),
    onStickChange: (stuck) => jump.classList.toggle("cow-show", !stuck),
  });
  cleanups.push(() => list.destroy());
  jump.addEventListener("click", () => list.scrollToBottom());

  const renderEmpty = () => {
    empty.style.display = store.items.length ? "none" : "";
  };

  // ---- progress tray
  const renderTray = () => {
    tray.replaceChildren();
    for (const run of store.visibleRuns()) {
      const row = el("div", `cow-run cow-status-${run.status}`);
      row.dataset.run = run.runId;
      const pct = Math.round(run.progress || 0);
      const label = el("span", "cow-run-label", run.strategyId ? `${run.strategyId} (${run.runId})` : run.runId);
      label.title = run.message || run.runId;
      const bar = el("div", "cow-bar");
      bar.setAttribute("role", "progressbar");
      bar.setAttribute("aria-valuenow", String(pct));
      bar.setAttribute("aria-valuemin", "0");
      bar.setAttribute("aria-valuemax", "100");
      const fill = el("div", "cow-bar-fill");
      fill.style.width = pct + "%";
      bar.appendChild(fill);
      const text = el("span", "cow-run-pct", `${pct} %`);
      text.title = run.status;
      let action;
      if (TERMINAL.has(run.status)) {
        action = el("span", "cow-run-status", run.status);
      } else {
        action = button("Cancel", "cow-cancel", `Cancel ${run.runId}`);
        action.addEventListener("click", () => {
          action.disabled = true;
          send({ type: "cancel", runId: run.runId });
        });
      }
      row.append(label, bar, text, action);
      tray.appendChild(row);
    }
  };
  const trayTimer = setInterval(() => {
    if (tray.childElementCount) renderTray();
  }, 15_000);
  cleanups.push(() => clearInterval(trayTimer));

  // ---- header state from traitlets
  const renderHeader = () => {
    const connected = !!model.get("connected");
    const attempt = Number(model.get("reconnect_attempt") || 0);
    chip.className = "cow-chip " + (connected ? "cow-connected" : "cow-disconnected");
    chip.textContent = connected ? "connected" : attempt > 0 ? `disconnected · retry ${attempt}` : "disconnected";
    const sid = model.get("session_id") || "";
    session.textContent = sid || "no session";
    session.title = sid;
    leaveBtn.disabled = !sid;
    const theme = model.get("theme") || "auto";
    root.classList.toggle("cow-theme-dark", theme === "dark");
  };
  for (const name of ["connected", "reconnect_attempt", "session_id", "theme"]) {
    const fn = () => renderHeader();
    model.on(`change:${name}`, fn);
    cleanups.push(() => model.off(`change:${name}`, fn));
  }
  renderHeader();

  listen(sessionsBtn, "click", () => switcher.classList.toggle("cow-open"));
  listen(joinBtn, "click", () => {
    const id = sessionInput.value.trim();
    if (!id) {
      store.addNotice("error", "Type a session id to join, e.g. session_1697472000000.");
      return;
    }
    send({ type: "session", action: "join", id });
  });
  listen(newBtn, "click", () => send({ type: "session", action: "create", id: sessionInput.value.trim() || undefined }));
  listen(leaveBtn, "click", () => send({ type: "session", action: "leave" }));

  // ---- upload
  listen(uploadBtn, "click", () => file.click());
  listen(file, "change", () => {
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
  });

  // ---- store events
  const unsubscribe = store.subscribe((ev) => {
    if (ev.type === "reset") list.reset();
    else if (ev.type === "append") list.schedule();
    else if (ev.type === "update") list.invalidate(ev.key);
    if (ev.type === "runs") renderTray();
    renderEmpty();
  });
  cleanups.push(unsubscribe);
  renderEmpty();
  renderTray();
  list.update();

  return () => {
    for (const fn of cleanups.reverse()) fn();
    root.replaceChildren();
    root.classList.remove("cow-root");
  };
}
