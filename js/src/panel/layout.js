// One view of the chat panel: header (connection chip, session id, session switcher, upload),
// the windowed timeline, the progress tray and the composer. Key events never leave the panel,
// so JupyterLab's notebook shortcuts (a, b, d d, m, Shift+Enter) do not fire while typing here.
import { isTerminal } from "../constants.js";
import { button, download, el, listen } from "../dom.js";
import { progressRow } from "../render/progress.js";
import { Composer } from "./composer.js";
import { renderItem } from "./rows.js";
import { sessionBar } from "./sessions.js";
import { uploadControl } from "./uploads.js";
import { VirtualList } from "./vlist.js";
import { renderWelcome } from "./welcome.js";

/** Build the panel inside `root`; returns the cleanup function. */
export function mountPanel(model, root, store) {
  const send = (msg) => model.send(msg);
  const cleanups = [];
  const onModel = (name, fn) => {
    model.on(`change:${name}`, fn);
    cleanups.push(() => model.off(`change:${name}`, fn));
  };

  root.classList.add("cow-root");
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  root.tabIndex = -1;
  for (const type of ["keydown", "keypress", "keyup"]) {
    cleanups.push(listen(root, type, (e) => e.stopPropagation()));
  }

  // ---- header and session switcher
  const sessions = sessionBar(model, store, send);
  const upload = uploadControl(store, send);
  cleanups.push(...sessions.cleanups, ...upload.cleanups);
  const header = el("div", "cow-header");
  header.append(
    el("span", "cow-title", "ChatOps"),
    sessions.chip,
    sessions.session,
    el("span", "cow-spacer"),
    sessions.toggle,
    upload.button,
    upload.input,
    upload.status,
  );

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
    onSend: (text) => {
      send({ type: "send", text }); // on its way first, then the layout work
      list.scrollToBottom(); // the user's own command and its reply land in view
    },
    onTooLong: (chars, max, what) =>
      store.addNotice(
        "error",
        `Not sent: the ${what} has ${chars.toLocaleString("en-US")} characters, over the server's limit of ${max.toLocaleString("en-US")}. Shorten it (data goes in as a file: Upload).`,
      ),
  });
  const connecting = () => composer.setConnecting(!(model.get("commands") || []).length);
  connecting();
  onModel("commands", connecting);
  root.replaceChildren(header, sessions.switcher, body, tray, composer.el);

  const welcome = () =>
    renderWelcome(empty, model.get("strategies") || [], (text) => {
      composer.setText(text);
      composer.input.focus();
    });
  welcome();
  onModel("strategies", welcome);

  const list = new VirtualList(scroll, {
    count: () => store.items.length,
    keyAt: (i) => store.items[i].key,
    render: (i) => renderItem(store.items[i], { store, send, name: () => model.get("python_name") || "" }),
    onStickChange: (stuck) => jump.classList.toggle("cow-show", !stuck),
  });
  cleanups.push(() => list.destroy());
  jump.addEventListener("click", () => list.scrollToBottom());
  onModel("python_name", () => list.refresh()); // replies name the widget's variable

  const renderEmpty = () => {
    empty.style.display = store.items.length ? "none" : "";
  };

  // ---- progress tray
  const cancel = (runId) => send({ type: "cancel", runId });
  const renderTray = () => {
    // running runs get a full row; finished ones collapse into one line of chips
    const runs = store.visibleRuns();
    const done = runs.filter((run) => isTerminal(run.status));
    const rows = runs.filter((run) => !isTerminal(run.status)).map((run) => progressRow(run, cancel));
    if (done.length) {
      const line = el("div", "cow-tray-done");
      line.title = `${done.length} finished run(s); they leave the tray a minute after they end`;
      line.append(...done.map((run) => progressRow(run, cancel)));
      rows.push(line);
    }
    tray.replaceChildren(...rows);
  };
  const trayTimer = setInterval(() => {
    if (tray.childElementCount) renderTray();
  }, 15_000);
  cleanups.push(() => clearInterval(trayTimer));

  // ---- header state from traitlets
  const renderHeader = () => {
    sessions.render();
    root.classList.toggle("cow-theme-dark", (model.get("theme") || "auto") === "dark");
  };
  for (const name of ["connected", "reconnect_attempt", "session_id", "theme"]) onModel(name, renderHeader);
  renderHeader();

  // ---- store events
  const unsubscribe = store.subscribe((ev) => {
    if (ev.type === "reset") list.reset();
    else if (ev.type === "append") list.appended();
    else if (ev.type === "insert") list.inserted(ev.index);
    else if (ev.type === "update") list.invalidate(ev.key);
    if (ev.type === "runs") renderTray();
    if (ev.type === "sessions") sessions.renderList();
    if (ev.type === "download") download(root, ev.name, ev.mime, ev.text);
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
