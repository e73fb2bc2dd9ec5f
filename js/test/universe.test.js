import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cellText, statOf } from "../src/render/research.js";
import { higherIsBetter, ranks, universeGrid, universeSummary } from "../src/render/universe.js";
import { useKernelConstants } from "./constants.js";

const STRATS = ["a", "b", "c"];
const SYMS = ["X", "Y"];
const ROWS = [
  { strategy: "a", symbol: "X", sharpe: 1.0, volatility: 0.3 },
  { strategy: "b", symbol: "X", sharpe: 2.0, volatility: 0.1 },
  { strategy: "c", symbol: "X", sharpe: 2.0, volatility: 0.2 },
  { strategy: "a", symbol: "Y", sharpe: 0.5, volatility: 0.2 },
  { strategy: "b", symbol: "Y", sharpe: -1.0, volatility: 0.4 },
  { strategy: "c", symbol: "Y", sharpe: null, volatility: null, note: "needs more bars" },
];

describe("ranks", () => {
  test("1 is the best; ties share their mean rank; missing values get none", () => {
    assert.deepEqual(ranks([1, 2, 2, null]), [3, 1.5, 1.5, null]);
    assert.deepEqual(ranks([0.3, 0.1, 0.2], false), [3, 1, 2]);
    assert.deepEqual(ranks([]), []);
  });
});

describe("universeGrid", () => {
  test("strategies across, symbols down, one cell per pair with a value", () => {
    const g = universeGrid(ROWS, STRATS, SYMS, "sharpe");
    assert.deepEqual([g.px, g.py, g.xs, g.ys], ["strategy", "symbol", STRATS, SYMS]);
    assert.equal(g.cells.size, 5);
    assert.equal(g.cells.get("0|1").value, 0.5);
    assert.deepEqual([g.best.i, g.best.j], [1, 0]); // the first of the ties
    assert.deepEqual(g.edge, []);
  });

  test("the best pair follows the metric's direction", () => {
    const g = universeGrid(ROWS, STRATS, SYMS, "volatility", false);
    assert.deepEqual([g.best.i, g.best.j, g.best.value], [1, 0, 0.1]);
  });
});

describe("universeSummary", () => {
  test("mean, median, mean rank and wins per strategy, sorted by mean rank", () => {
    const s = universeSummary(ROWS, STRATS, SYMS, "sharpe");
    assert.deepEqual(
      s.map((x) => [x.strategy, x.mean, x.meanRank, x.wins, x.n]),
      [
        ["c", 2.0, 1.5, 0, 1],
        ["b", 0.5, 1.75, 0, 2],
        ["a", 0.75, 2, 1, 2],
      ],
    );
    assert.equal(s[2].median, 0.75);
  });

  test("the stats registry says which way is better", () => {
    useKernelConstants();
    assert.equal(higherIsBetter("sharpe"), true);
    assert.equal(higherIsBetter("volatility"), false);
    assert.equal(higherIsBetter("no_such_stat"), true);
  });
});

describe("walk-forward cells", () => {
  test("window returns show as percent, dates as days, in-sample stats as their stat", () => {
    useKernelConstants();
    assert.equal(statOf("oos_return"), "total_return");
    assert.equal(statOf("is_cagr"), "cagr");
    assert.equal(cellText("oos_return", 0.0581), "5.81 %");
    assert.equal(cellText("is_sharpe", 0.5), "0.500");
    assert.equal(cellText("test_start", "2017-01-02T00:00:00"), "2017-01-02");
    assert.equal(cellText("fast", null), "n/a"); // the one formatter: a missing value
  });
});
