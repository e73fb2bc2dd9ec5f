import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CONNECTING, suggest } from "../src/panel/autocomplete.js";
import { useKernelConstants } from "./constants.js";

const kernel = useKernelConstants();

const COMMANDS = [
  { name: "help", usage: "/help [command]", summary: "List commands" },
  { name: "run_backtest", usage: "/run_backtest <strategy_id | template> [symbol=..]", summary: "Run a backtest" },
  { name: "compare_strategies", usage: "/compare_strategies <id> <id> [...]", summary: "Compare" },
  { name: "sweep", usage: "/sweep <template> symbol=.. param=lo:hi:step", summary: "Grid search" },
  { name: "cancel", usage: "/cancel <run_id>", summary: "Cancel a run" },
  { name: "status", usage: "/status", summary: "Runs in this session" },
];
const STRATEGIES = [
  { id: "strategy_1", name: "SMA 10/30", template: "sma_cross", symbol: "GOOG" },
  { id: "strategy_2", name: "RSI", template: "rsi_reversion", symbol: "AAPL" },
];
const TEMPLATES = [
  {
    name: "sma_cross",
    description: "SMA crossover",
    params: [
      { name: "fast", type: "int", default: 10, min: 2, max: 200, doc: "fast window" },
      { name: "slow", type: "int", default: 30, min: 3, max: 400, doc: "slow window" },
    ],
  },
  { name: "rsi_reversion", description: "RSI", params: [{ name: "period", type: "int", default: 14 }] },
];
const ctx = {
  commands: COMMANDS,
  strategies: STRATEGIES,
  templates: TEMPLATES,
  runs: [{ runId: "run_7", status: "running", progress: 42.4 }],
};

/** Suggestions with the cursor at the end of `text` (or at the `|` in it). */
function at(text, context = ctx) {
  const cursor = text.includes("|") ? text.indexOf("|") : text.length;
  return suggest(text.replace("|", ""), cursor, context);
}
const labels = (text, context) => at(text, context).options.map((o) => o.label);

describe("when nothing is offered", () => {
  test("plain chat text, a second line, an empty input", () => {
    assert.equal(at("hello"), null);
    assert.equal(at(""), null);
    assert.equal(at("/run_backtest x\nmore"), null);
  });
});

describe("before the server's commands arrive", () => {
  test("a neutral connecting hint, no guessed list of commands", () => {
    for (const context of [{}, { commands: [] }]) {
      const s = at("/ru", context);
      assert.equal(s.hint, CONNECTING);
      assert.deepEqual(s.options, []);
    }
  });
});

describe("commands", () => {
  test("a lone slash lists every command in the server's order", () => {
    assert.deepEqual(
      labels("/"),
      COMMANDS.map((c) => `/${c.name}`),
    );
  });

  test("a prefix narrows the list; prefix matches come before substring matches", () => {
    assert.deepEqual(labels("/ru"), ["/run_backtest"]);
    assert.deepEqual(labels("/s"), ["/sweep", "/status"]);
    assert.deepEqual(labels("/help st"), ["status", "run_backtest", "compare_strategies"]);
  });

  test("accepting inserts the command and a space; the range replaced is the partial word", () => {
    const s = at("/ru");
    assert.equal(s.options[0].insert, "/run_backtest ");
    assert.deepEqual([s.from, s.to], [0, 3]);
  });

  test("an exact or single match shows its usage", () => {
    assert.equal(at("/sweep").hint, COMMANDS[3].usage);
    assert.equal(at("/ru").hint, COMMANDS[1].usage);
    assert.equal(at("/").hint, "");
  });

  test("an unknown command says so and points to /help", () => {
    assert.match(at("/bogus ").hint, /unknown command \/bogus — type \/help/);
  });
});

describe("arguments", () => {
  test("/run_backtest offers strategy ids then templates; one-word names as they are typed", () => {
    const s = at("/run_backtest ");
    assert.deepEqual(
      s.options.map((o) => o.label),
      ["strategy_1", "strategy_2", "sma_cross", "rsi_reversion"],
    );
    assert.equal(s.options[0].desc, "SMA 10/30 · sma_cross · GOOG");
    const named = at("/run_backtest RS").options;
    assert.deepEqual([named[0].label, named[0].desc], ["RSI", "strategy_2 · rsi_reversion · AAPL"]);
    assert.match(s.hint, /^\/run_backtest <strategy_id \| template>/);
    assert.deepEqual([s.from, s.to], [14, 14]);
  });

  test("after a strategy: its template's parameters and the common keys, not used ones", () => {
    const keys = labels("/run_backtest strategy_1 ");
    assert.ok(keys.includes("fast=") && keys.includes("slow=") && keys.includes("symbol="));
    assert.ok(!keys.includes("period="));
    assert.ok(!labels("/run_backtest strategy_1 fast=5 ").includes("fast="));
    const fast = at("/run_backtest sma_cross f").options;
    assert.deepEqual(
      fast.map((o) => [o.label, o.desc]),
      [["fast=", "int, default 10, 2..200 — fast window"]],
    );
    assert.deepEqual(labels("/run_backtest rsi_reversion pe"), ["period="]);
  });

  test("the cash option names the kernel's default cash", () => {
    const cash = at("/run_backtest strategy_1 ca").options[0];
    assert.equal(cash.label, "cash=");
    assert.equal(cash.desc, `starting equity, default ${kernel.defaultCash.toLocaleString("en-US")}`);
  });

  test("while a value is typed, the hint says what the key expects", () => {
    const s = at("/run_backtest strategy_1 fast=1");
    assert.deepEqual(s.options, []);
    assert.match(s.hint, /\nfast: int, default 10, 2\.\.200 — fast window$/);
    assert.match(at("/run_backtest strategy_1 spread=0.1").hint, /spread: bid-ask spread/);
    assert.match(at("/run_backtest strategy_1 nope=1").hint, /nope: not a parameter of sma_cross/);
  });

  test("/sweep offers templates and stored strategies, then ranges for their parameters", () => {
    assert.deepEqual(labels("/sweep "), ["sma_cross", "rsi_reversion", "strategy_1", "strategy_2"]);
    const slow = at("/sweep sma_cross symbol=GOOG sl").options[0];
    assert.equal(slow.label, "slow=");
    assert.match(slow.desc, /^lo:hi:step — int, default 30/);
  });

  test("/compare_strategies offers the strategies not yet named", () => {
    assert.deepEqual(labels("/compare_strategies "), ["strategy_1", "strategy_2"]);
    assert.deepEqual(labels("/compare_strategies strategy_1 "), ["strategy_2"]);
  });

  test("/cancel offers the session's runs with status and progress", () => {
    const s = at("/cancel ");
    assert.deepEqual(
      s.options.map((o) => [o.label, o.desc]),
      [["run_7", "running 42 %"]],
    );
  });

  test("/help offers command names, once", () => {
    assert.deepEqual(labels("/help ru"), ["run_backtest"]);
    assert.deepEqual(labels("/help run_backtest "), []);
  });

  test("the cursor decides: completing the word under the cursor, not the end of the line", () => {
    const s = at("/run_backtest str| fast=5");
    assert.deepEqual(
      s.options.map((o) => o.label),
      ["strategy_1", "strategy_2"],
    );
    assert.deepEqual([s.from, s.to], [14, 17]);
    assert.deepEqual(labels("/ru| strategy_1"), ["/run_backtest"]);
  });

  test("Python strategies hosted in a member's notebook: listed with their owner, own params", () => {
    const hosted = {
      id: "my_mom",
      name: "my_mom",
      kind: "python",
      template: "python",
      hostedBy: "alice's notebook",
      version: "v2",
      online: false,
      params: [{ name: "lookback", type: "int", default: 60, min: 0, max: 100000, doc: "" }],
    };
    const withHosted = { ...ctx, strategies: [...STRATEGIES, hosted] };
    const run = at("/run_backtest my", withHosted);
    assert.deepEqual(
      run.options.map((o) => [o.label, o.desc]),
      [["my_mom", "hosted by alice's notebook · v2 · not connected"]],
    );
    assert.ok(at("/run_backtest my_mom ", withHosted).options.some((o) => o.label === "lookback="));
    assert.match(at("/run_backtest my_mom@v2 lookback=", withHosted).hint, /lookback: int, default 60/);
    assert.deepEqual(
      at("/sweep ", withHosted).options.map((o) => o.label),
      ["sma_cross", "rsi_reversion", "strategy_1", "strategy_2", "my_mom"], // stored ones sweep too
    );
    assert.ok(at("/compare_strategies strategy_1 ", withHosted).options.some((o) => o.label === "my_mom"));
  });
});

describe("rule strategies", () => {
  const RULE = {
    id: "strategy_7",
    name: "x",
    template: "rule",
    symbol: null,
    params: { fast: 12, slow: 26 },
    rule: {
      entry: "crosses_above(ema($fast), ema($slow))",
      exit: "crosses_below(ema($fast), ema($slow))",
      params: { fast: { default: 12, min: 1, max: 100000, doc: "$fast" }, slow: { default: 26, min: 1, max: 100000 } },
    },
  };
  const withRule = {
    ...ctx,
    commands: [...COMMANDS, { name: "create_strategy", usage: "/create_strategy ...", summary: "Store" }],
    strategies: [...STRATEGIES, RULE],
  };

  test("inside entry=: the language's functions (with signatures) and fields", () => {
    const s = at('/create_strategy name=dip entry="rs', withRule);
    assert.deepEqual(
      s.options.map((o) => o.label),
      ["rsi"],
    );
    assert.equal(s.options[0].insert, "rsi(");
    assert.match(s.options[0].desc, /^rsi\(\[series=close\], \[window=14\]\) — /);
    assert.equal(s.from, '/create_strategy name=dip entry="'.length);
    const fields = labels('/create_strategy entry="close > sma(200) and cl', withRule);
    assert.ok(fields.includes("close"));
    const names = kernel.ruleLanguage.functions.map((f) => f.name);
    assert.deepEqual(labels('/create_strategy entry="', withRule).slice(0, names.length), names);
  });

  test("the open call's signature is the hint", () => {
    assert.match(at('/create_strategy entry="sma(close, ', withRule).hint, /\nsma\(\[series=close\], window\) — /);
    assert.match(at('/create_strategy entry="rsi(14) < 30" exit="', withRule).hint, /\nexit: condition to close/);
  });

  test("after $: the $params the strategy being typed uses", () => {
    const s = at(
      '/create_strategy name=x entry="crosses_above(ema($fast), ema($slow))" exit="crosses_below(ema($',
      withRule,
    );
    assert.deepEqual(
      s.options.map((o) => o.label),
      ["$fast", "$slow"],
    );
    assert.match(s.options[0].desc, /give its default: fast=/);
  });

  test("after the rules: their $params' defaults first, then the rule and order keys", () => {
    const keys = labels('/create_strategy name=x entry="ema($fast) > ema($slow)" fast=12 ', withRule);
    assert.equal(keys[0], "slow=");
    assert.ok(!keys.includes("fast=") && !keys.includes("entry=") && !keys.includes("name="));
    for (const k of ["exit=", "stop_loss=", "take_profit=", "trailing_stop=", "size=", "symbol="])
      assert.ok(keys.includes(k), k);
    assert.match(at('/create_strategy entry="x" stop_loss=5', withRule).hint, /stop_loss: exit when the price falls/);
    assert.equal(at("/create_strategy ", withRule).options.find((o) => o.label === "entry=").insert, 'entry="');
  });

  test("a stored rule strategy by name: its $params and the order options", () => {
    const s = at("/sweep x symbol=ALPHA ", withRule);
    const slow = s.options.find((o) => o.label === "slow=");
    assert.match(slow.desc, /^lo:hi:step — int, default 26/);
    assert.ok(s.options.some((o) => o.label === "split=") && s.options.some((o) => o.label === "stop_loss="));
    assert.deepEqual(at("/run_backtest x", withRule).options[0].desc, "strategy_7 · rule");
  });
});
