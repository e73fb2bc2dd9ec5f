// The input box: Enter sends, Shift+Enter inserts a newline, "/" opens command autocomplete
// (Tab / Enter after arrowing accept, Escape closes), ArrowUp / ArrowDown recall sent inputs.
import { limit } from "../constants.js";
import { el } from "../dom.js";
import { suggest } from "./autocomplete.js";

export class Composer {
  /** @param {{store, context: () => object, onSend: (text: string) => void,
   *           onTooLong?: (chars: number, max: number, what: string) => void}} opts */
  constructor(opts) {
    this.opts = opts;
    this.el = el("div", "cow-composer");
    this.popup = el("div", "cow-suggest");
    this.popup.setAttribute("role", "listbox");
    this.input = el("textarea", "cow-input");
    this.input.rows = 1;
    this.setConnecting(true);
    this.input.setAttribute("aria-label", "chat input");
    this.sendBtn = el("button", "cow-btn cow-btn-primary cow-send", "Send");
    this.el.append(this.popup, this.input, this.sendBtn);
    this.state = null; // current suggestion result
    this.active = 0;
    this.navigated = false;
    this.historyPos = -1; // -1: editing a new line
    this.draft = "";

    this.input.addEventListener("keydown", (e) => this.onKeydown(e));
    this.input.addEventListener("input", () => {
      this.historyPos = -1;
      this.autosize();
      this.refresh();
    });
    this.input.addEventListener("click", () => this.refresh());
    this.input.addEventListener("blur", () => setTimeout(() => this.close(), 150));
    this.sendBtn.addEventListener("click", () => this.send());
    this.popup.addEventListener("mousedown", (e) => {
      const opt = e.target.closest(".cow-option");
      if (!opt) return;
      e.preventDefault();
      this.accept(Number(opt.dataset.index));
    });
  }

  autosize() {
    // an empty input (after each send) has the height measured the first time: no layout
    const empty = !this.input.value;
    if (empty && this.emptyHeight) {
      this.input.style.height = this.emptyHeight;
      return;
    }
    this.input.style.height = "auto";
    const content = this.input.scrollHeight;
    this.input.style.height = `${Math.min(140, content + 2)}px`;
    if (empty && content) this.emptyHeight = this.input.style.height;
  }

  setText(text) {
    this.input.value = text;
    this.input.selectionStart = this.input.selectionEnd = text.length;
    this.autosize();
    this.refresh();
  }

  /** Before the server's commands arrive the input says so (typing and sending still work). */
  setConnecting(connecting) {
    this.input.placeholder = connecting
      ? "connecting… (commands appear once the server answers)"
      : "Message, or / for commands (Enter sends, Shift+Enter new line)";
    this.el.classList.toggle("cow-connecting", connecting);
  }

  send() {
    const text = this.input.value;
    if (!text.trim()) return;
    const what = text.trimStart().startsWith("/") ? "command" : "message";
    const max = limit(what === "command" ? "maxCommandChars" : "maxContentChars");
    const chars = [...text].length; // code points, as the server counts
    if (max && chars > max) {
      this.opts.onTooLong?.(chars, max, what);
      return;
    }
    this.opts.store.rememberInput(text);
    this.historyPos = -1;
    this.draft = "";
    this.opts.onSend(text); // first: the text is on its way before the layout work below
    this.input.value = "";
    this.autosize();
    this.close();
  }

  refresh() {
    const res = suggest(this.input.value, this.input.selectionStart, this.opts.context());
    this.state = res;
    this.active = 0;
    this.navigated = false;
    this.renderPopup();
  }

  close() {
    this.state = null;
    this.renderPopup();
  }

  isOpen() {
    return !!(this.state && (this.state.options.length || this.state.hint));
  }

  renderPopup() {
    const s = this.state;
    this.popup.replaceChildren();
    if (!s || (!s.options.length && !s.hint)) {
      this.popup.classList.remove("cow-open");
      return;
    }
    if (s.hint) this.popup.appendChild(el("div", "cow-hint", s.hint));
    s.options.forEach((o, i) => {
      const row = el("div", `cow-option${i === this.active ? " cow-active" : ""}`);
      row.dataset.index = String(i);
      row.setAttribute("role", "option");
      row.append(el("span", "cow-option-label", o.label), el("span", "cow-option-desc", o.desc || ""));
      this.popup.appendChild(row);
    });
    this.popup.classList.add("cow-open");
    this.popup.querySelector(".cow-active")?.scrollIntoView?.({ block: "nearest" });
  }

  accept(i) {
    const s = this.state;
    const o = s?.options[i];
    if (!o) return;
    const v = this.input.value;
    const text = v.slice(0, s.from) + o.insert + v.slice(s.to);
    const pos = s.from + o.insert.length;
    this.input.value = text;
    this.input.selectionStart = this.input.selectionEnd = pos;
    this.input.focus();
    this.refresh();
  }

  recall(dir) {
    const h = this.opts.store.inputHistory;
    if (!h.length) return false;
    if (this.historyPos === -1) {
      if (dir > 0) return false;
      this.draft = this.input.value;
      this.historyPos = h.length - 1;
    } else {
      this.historyPos += dir;
      if (this.historyPos < 0) this.historyPos = 0;
      if (this.historyPos >= h.length) {
        this.historyPos = -1;
        this.input.value = this.draft;
        this.autosize();
        return true;
      }
    }
    this.input.value = h[this.historyPos];
    this.input.selectionStart = this.input.selectionEnd = this.input.value.length;
    this.autosize();
    return true;
  }

  onKeydown(e) {
    if (e.isComposing) return;
    const s = this.state;
    const hasOptions = s && s.options.length > 0;
    if (hasOptions && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
      e.preventDefault();
      const n = s.options.length;
      this.active = (this.active + (e.key === "ArrowDown" ? 1 : -1) + n) % n;
      this.navigated = true;
      this.renderPopup();
      return;
    }
    if (hasOptions && (e.key === "Tab" || (e.key === "Enter" && !e.shiftKey && this.navigated))) {
      e.preventDefault();
      this.accept(this.active);
      return;
    }
    if (e.key === "Escape" && this.isOpen()) {
      e.preventDefault();
      this.close();
      return;
    }
    if (e.key === "Enter" && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      this.send();
      return;
    }
    if (e.key === "ArrowUp" || e.key === "ArrowDown") {
      const v = this.input.value;
      const pos = this.input.selectionStart;
      const onFirst = !v.slice(0, pos).includes("\n");
      const onLast = !v.slice(pos).includes("\n");
      if ((e.key === "ArrowUp" && onFirst) || (e.key === "ArrowDown" && onLast && this.historyPos !== -1)) {
        if (this.recall(e.key === "ArrowUp" ? -1 : 1)) e.preventDefault();
      }
    }
  }
}
