// The session bar: connection chip, session id, and the switcher: the server's sessions (named,
// newest first; click to join), a session id to join, a new session, leave.
import { button, el, listen } from "../dom.js";
import { timeLabel } from "./rows.js";

/** One line of the sessions list. */
function sessionItem(s, current, join) {
  const item = button("", `cow-session-item${s.id === current ? " cow-current" : ""}`, `Join ${s.id}`);
  item.dataset.session = s.id;
  const day = typeof s.createdAt === "string" ? s.createdAt.slice(0, 10) : "";
  const msgs = Number.isFinite(s.lastSeq) ? `${s.lastSeq} message${s.lastSeq === 1 ? "" : "s"}` : "";
  item.append(
    el("span", "cow-session-name", s.name || "unnamed"),
    el("span", "cow-meta", [s.id, msgs, day && `created ${day} ${timeLabel(s.createdAt)}`].filter(Boolean).join(" · ")),
  );
  if (s.id === current) {
    item.disabled = true;
    item.appendChild(el("span", "cow-meta", " (this one)"));
  } else {
    item.addEventListener("click", () => join(s.id));
  }
  return item;
}

/** Header pieces and the switcher row; returns {chip, session, toggle, switcher, render, renderList, cleanups}. */
export function sessionBar(model, store, send) {
  const chip = el("span", "cow-chip");
  const session = el("span", "cow-session");
  const toggle = button("Sessions", "cow-sessions-btn", "List, create, join or leave sessions");
  const switcher = el("div", "cow-switcher");
  const list = el("div", "cow-session-list");
  list.setAttribute("role", "list");
  const input = el("input", "cow-session-input");
  input.placeholder = "session_1697472000000";
  const joinBtn = button("Join", "cow-join");
  const newBtn = button("New session", "cow-new");
  const leaveBtn = button("Leave", "cow-leave");
  const row = el("div", "cow-switcher-row");
  row.append(input, joinBtn, newBtn, leaveBtn);
  switcher.append(list, row);
  const join = (id) => send({ type: "session", action: "join", id });

  const render = () => {
    const connected = !!model.get("connected");
    const attempt = Number(model.get("reconnect_attempt") || 0);
    chip.className = `cow-chip ${connected ? "cow-connected" : "cow-disconnected"}`;
    chip.textContent = connected ? "connected" : attempt > 0 ? `disconnected · retry ${attempt}` : "disconnected";
    const sid = model.get("session_id") || "";
    session.textContent = sid || "no session";
    session.title = sid;
    leaveBtn.disabled = !sid;
    if (store.sessions) renderList();
  };
  const renderList = () => {
    const s = store.sessions;
    if (!s) {
      list.replaceChildren(el("div", "cow-meta", "loading the sessions…"));
      return;
    }
    const current = model.get("session_id") || s.current;
    const items = s.list.map((x) => sessionItem(x, current, join));
    const more = s.total > s.list.length ? [el("div", "cow-meta", `${s.total - s.list.length} older not shown`)] : [];
    list.replaceChildren(...(items.length ? items : [el("div", "cow-meta", "no sessions yet")]), ...more);
  };
  const cleanups = [
    listen(toggle, "click", () => {
      const open = switcher.classList.toggle("cow-open");
      if (open) {
        renderList();
        send({ type: "session", action: "list" }); // the list is fresh each time it opens
      }
    }),
    listen(joinBtn, "click", () => {
      const id = input.value.trim();
      if (!id) {
        store.addNotice("error", "Type a session id to join, e.g. session_1697472000000, or pick one above.");
        return;
      }
      join(id);
    }),
    listen(newBtn, "click", () => send({ type: "session", action: "create", id: input.value.trim() || undefined })),
    listen(leaveBtn, "click", () => send({ type: "session", action: "leave" })),
  ];
  return { chip, session, toggle, switcher, render, renderList, cleanups };
}
