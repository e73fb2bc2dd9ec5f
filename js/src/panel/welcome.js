// The empty state: a welcome line and example commands / phrases (a click puts one into the input).
import { button, el } from "../dom.js";

/** Example commands and phrases for the empty state, on the server's own strategies/symbols. */
export function examples(strategies) {
  const ids = strategies.map((x) => x.id).filter(Boolean);
  const a = ids[0] || "strategy_1";
  const b = ids[1] || "strategy_2";
  const sym = strategies[0]?.symbol || "ALPHA";
  return {
    commands: [
      "/help",
      "/strategies",
      `/run_backtest ${a}`,
      `/compare_strategies ${a} ${b}`,
      `/sweep sma_cross symbol=${sym} fast=5:30:5 slow=40:100:20`,
    ],
    phrases: [`backtest ${a} on ${sym} since 2015`, `compare ${a} and ${b}`],
  };
}

/** Fill `empty` with the welcome text for `strategies`; `onPick(text)` when an example is clicked. */
export function renderWelcome(empty, strategies, onPick) {
  const ex = examples(strategies);
  const row = (list) => {
    const r = el("div", "cow-examples");
    for (const text of list) {
      const b = button(text, "cow-example");
      b.addEventListener("click", () => onPick(text));
      r.appendChild(b);
    }
    return r;
  };
  empty.replaceChildren(
    el("h3", "", "Welcome to ChatOps"),
    el("div", "", "Run and compare backtests by chatting. Start with a command, or just ask:"),
    row(ex.commands),
    el("div", "", "or in plain words:"),
    row(ex.phrases),
  );
}
