import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { strategyLine } from "../src/render/result.js";
import { orderOptions } from "../src/render/sweep.js";
import { comparisonTable, metricsTable, rowsTable, tradesTable } from "../src/render/tables.js";
import { useKernelConstants } from "./constants.js";
import { installDom } from "./dom-env.js";

installDom();
const kernel = useKernelConstants();
const byName = Object.fromEntries(kernel.stats.map((s) => [s.name, s]));

describe("stats tables", () => {
  test("every stat is labelled from the registry, its key, description and formula a tooltip", () => {
    const stats = Object.fromEntries(kernel.stats.map((s) => [s.name, 0.5]));
    const t = metricsTable({ ...stats, start: "2020-01-02T00:00:00" });
    const heads = [...t.querySelectorAll("th")];
    assert.equal(heads.length, kernel.stats.length + 1);
    for (const th of heads.filter((h) => h.dataset.stat !== "start")) {
      const s = byName[th.dataset.stat];
      assert.equal(th.textContent, s.label);
      assert.ok(th.title.startsWith(`${s.name}: ${s.description}`), th.title);
      assert.ok(th.title.includes(s.formula), th.title);
    }
    const bpy = heads.find((h) => h.dataset.stat === "bars_per_year");
    assert.equal(bpy.textContent, "Bars per year");
    assert.equal(bpy.nextSibling.textContent, "0.5");
    assert.equal(heads.find((h) => h.dataset.stat === "start").title, ""); // not a stat
  });

  test("comparison rows and sweep columns carry the same labels; oos_ columns say so", () => {
    const c = comparisonTable({ sqn: { a: 1.5, b: 2 } }, ["a", "b"]);
    assert.equal(c.querySelector("tbody th").textContent, "SQN");
    const r = rowsTable(
      [{ fast: 5, oos_sharpe: 1.2, avg_trade_duration: 4 }],
      ["fast", "oos_sharpe", "avg_trade_duration"],
    );
    const heads = [...r.querySelectorAll("th")].map((h) => h.textContent);
    assert.deepEqual(heads, ["fast", "Sharpe ratio (OOS)", "Avg. trade duration"]);
    assert.match(r.querySelectorAll("th")[1].title, /out-of-sample/);
    assert.equal(r.querySelectorAll("td")[2].textContent, "4.0 days");
  });
});

describe("trades and rules", () => {
  test("the trades table says how each trade ended", () => {
    const t = tradesTable({
      columns: ["entry_time", "exit_time", "return", "pnl", "exit_reason"],
      rows: [["2024-04-17", "2024-07-11", 0.12, 120000.5, "take_profit"]],
      total: 1,
    });
    const cells = [...t.querySelectorAll("td")].map((c) => c.textContent);
    assert.deepEqual(cells, ["2024-04-17", "2024-07-11", "12.00 %", "120,000.50", "take_profit"]);
    assert.ok(t.querySelector("td.cow-exit-take_profit"));
  });

  test("a rule strategy's rules and the orders in force are one line", () => {
    const line = strategyLine({
      rule: { entry: "rsi(14) < 30", exit: "rsi(14) > 70" },
      orders: { stop_loss: 0.05, trailing_atr: [14, 3] },
    });
    assert.equal(line, "entry: rsi(14) < 30  ·  exit: rsi(14) > 70  ·  stop_loss 5.00 %, trailing stop 3 × atr(14)");
    assert.equal(strategyLine({}), "");
  });

  test("a sweep cell's backtest keeps the sweep's orders", () => {
    assert.deepEqual(orderOptions({ stop_loss: 0.05, trailing_atr: [14, 3], whole_units: true }), [
      "stop_loss=0.05",
      "trailing_stop=atr(14)*3",
      "whole_units=true",
    ]);
  });
});
