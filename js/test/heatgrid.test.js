import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { aggregate, buckets, divergingColor, heatGrid, scaleLimit, tickIndices } from "../src/render/heatgrid.js";
import { bestRows, edgeWarning } from "../src/render/sweep.js";

const grid2 = (fn, xs = [5, 10, 15, 20], ys = [40, 60, 80]) =>
  xs.flatMap((fast) => ys.map((slow) => ({ fast, slow, ...fn(fast, slow) })));

describe("heatGrid", () => {
  test("axes are the sorted values of the first two parameters; cells keep the best row", () => {
    const rows = [
      { fast: 10, slow: 40, period: 1, sharpe: 0.5, num_trades: 9 },
      { fast: 10, slow: 40, period: 2, sharpe: 0.9, num_trades: 9 },
      { fast: 5, slow: 60, period: 1, sharpe: -0.2, num_trades: 9 },
    ];
    const g = heatGrid(rows, ["fast", "slow", "period"], "sharpe");
    assert.deepEqual(g.xs, [5, 10]);
    assert.deepEqual(g.ys, [40, 60]);
    assert.equal(g.cells.size, 2);
    assert.equal(g.cells.get("1|0").row.period, 2);
    assert.deepEqual([g.best.i, g.best.j, g.best.value], [1, 0, 0.9]);
  });

  test("one-parameter sweeps have a single row", () => {
    const g = heatGrid(
      [
        { n: 3, sharpe: 1 },
        { n: 1, sharpe: 2 },
      ],
      ["n"],
      "sharpe",
    );
    assert.deepEqual(g.ys, [null]);
    assert.deepEqual(g.xs, [1, 3]);
    assert.equal(g.best.row.n, 1);
  });

  test("cells with fewer than the minimum trades are marked and never the best", () => {
    const rows = grid2((f, s) => ({ sharpe: f === 15 && s === 60 ? 3 : f / 100, num_trades: f === 15 ? 1 : 20 }));
    const all = heatGrid(rows, ["fast", "slow"], "sharpe", 0);
    assert.equal(all.best.value, 3);
    const g = heatGrid(rows, ["fast", "slow"], "sharpe", 5);
    assert.equal(g.filtered, 3);
    assert.equal(g.cells.get("2|1").filtered, true);
    assert.equal(g.best.row.fast, 20);
  });

  test("a best cell on the grid's edge is flagged, one inside is not", () => {
    const inside = heatGrid(
      grid2((f, s) => ({ sharpe: -Math.abs(f - 10) - Math.abs(s - 60) })),
      ["fast", "slow"],
      "sharpe",
    );
    assert.deepEqual(inside.edge, []);
    assert.equal(edgeWarning(inside), "");
    const low = heatGrid(
      grid2((f) => ({ sharpe: -f })),
      ["fast", "slow"],
      "sharpe",
    );
    assert.deepEqual(
      low.edge.map((e) => [e.param, e.side, e.value]),
      [
        ["fast", "lowest", 5],
        ["slow", "lowest", 40],
      ],
    );
    assert.match(edgeWarning(low), /the lowest fast \(fast=5\) and the lowest slow \(slow=40\)/);
  });
});

describe("colour scale", () => {
  test("centred on zero: 0 is neutral, negative red, positive blue, symmetric", () => {
    assert.equal(divergingColor(0, 2), "rgb(247, 247, 247)");
    assert.equal(divergingColor(-2, 2), "rgb(178, 24, 43)");
    assert.equal(divergingColor(2, 2), "rgb(33, 102, 172)");
    assert.equal(divergingColor(5, 2), divergingColor(2, 2)); // clamped
    const [r, , b] = divergingColor(0.04, 2).match(/\d+/g).map(Number);
    assert.ok(b >= r, "a small positive value leans blue, not red");
  });

  test("the half-range is the largest |value| of the cells shown", () => {
    const g = heatGrid(
      [
        { x: 1, s: -3, num_trades: 9 },
        { x: 2, s: 1, num_trades: 9 },
        { x: 3, s: 9, num_trades: 0 },
      ],
      ["x"],
      "s",
      1,
    );
    assert.equal(scaleLimit(g), 3);
  });
});

describe("aggregation of big grids", () => {
  test("buckets cover every item once", () => {
    const b = buckets(146, 40);
    assert.equal(b.count, 40);
    const seen = [...Array(146).keys()].map(b.of);
    assert.equal(seen[0], 0);
    assert.equal(seen.at(-1), 39);
    for (let k = 0; k < 40; k++) assert.equal(b.of(b.start(k)), k);
    assert.equal(buckets(5, 40).count, 5);
  });

  test("a 99 x 146 grid shrinks to the slots given, each bucket showing its best cell", () => {
    const xs = [...Array(99).keys()].map((i) => i + 2);
    const ys = [...Array(146).keys()].map((j) => 10 + 2 * j);
    const rows = grid2((f, s) => ({ sharpe: f === 50 && s === 100 ? 5 : Math.sin(f * s), num_trades: 10 }), xs, ys);
    const g = heatGrid(rows, ["fast", "slow"], "sharpe");
    assert.equal(g.cells.size, 99 * 146);
    const agg = aggregate(g, 30, 20);
    assert.deepEqual([agg.bx.count, agg.by.count], [30, 20]);
    const hit = agg.at(agg.bx.of(48), agg.by.of(45));
    assert.equal(hit.cell.value, 5);
    assert.deepEqual([g.xs[hit.i], g.ys[hit.j]], [50, 100]);
  });

  test("tick indices are spaced and include both ends", () => {
    assert.deepEqual(tickIndices(3, 8), [0, 1, 2]);
    const t = tickIndices(99, 6);
    assert.equal(t.length, 6);
    assert.deepEqual([t[0], t.at(-1)], [0, 98]);
  });
});

describe("best combinations", () => {
  test("sorted by the metric, without combinations under the minimum trades", () => {
    const rows = [
      { fast: 1, sharpe: 9, num_trades: 1 },
      { fast: 2, sharpe: 2, num_trades: 30 },
      { fast: 3, sharpe: 3, num_trades: 12 },
    ];
    assert.deepEqual(
      bestRows(rows, "sharpe", 5).map((r) => r.fast),
      [3, 2],
    );
    assert.deepEqual(
      bestRows(rows, "sharpe", 0).map((r) => r.fast),
      [1, 3, 2],
    );
  });
});
