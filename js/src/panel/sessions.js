// The session bar: connection chip, session id, and the switcher (join / new / leave).
import { button, el, listen } from "../dom.js";

/** Header pieces and the switcher row; returns {chip, session, toggle, switcher, render, cleanups}. */
export function sessionBar(model, store, send) {
  const chip = el("span", "cow-chip");
  const session = el("span", "cow-session");
  const toggle = button("Sessions", "cow-sessions-btn", "Create, join or leave a session");
  const switcher = el("div", "cow-switcher");
  const input = el("input", "cow-session-input");
  input.placeholder = "session_1697472000000";
  const joinBtn = button("Join", "cow-join");
  const newBtn = button("New session", "cow-new");
  const leaveBtn = button("Leave", "cow-leave");
  switcher.append(input, joinBtn, newBtn, leaveBtn);

  const render = () => {
    const connected = !!model.get("connected");
    const attempt = Number(model.get("reconnect_attempt") || 0);
    chip.className = `cow-chip ${connected ? "cow-connected" : "cow-disconnected"}`;
    chip.textContent = connected ? "connected" : attempt > 0 ? `disconnected · retry ${attempt}` : "disconnected";
    const sid = model.get("session_id") || "";
    session.textContent = sid || "no session";
    session.title = sid;
    leaveBtn.disabled = !sid;
  };
  const cleanups = [
    listen(toggle, "click", () => switcher.classList.toggle("cow-open")),
    listen(joinBtn, "click", () => {
      const id = input.value.trim();
      if (!id) {
        store.addNotice("error", "Type a session id to join, e.g. session_1697472000000.");
        return;
      }
      send({ type: "session", action: "join", id });
    }),
    listen(newBtn, "click", () => send({ type: "session", action: "create", id: input.value.trim() || undefined })),
    listen(leaveBtn, "click", () => send({ type: "session", action: "leave" })),
  ];
  return { chip, session, toggle, switcher, render, cleanups };
}
