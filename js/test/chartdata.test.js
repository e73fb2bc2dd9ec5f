import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { dateLabel, indexAtOrBefore, positionLabel, readoutText, tradeMarkers } from "../src/render/chartdata.js";

const DAY = 86_400;
const T0 = Date.UTC(2021, 0, 4) / 1000; // 2021-01-04
const t = [0, 1, 2, 5, 6].map((d) => T0 + d * DAY);

describe("readout", () => {
  test("date, equity, drawdown, position and buy & hold at the hovered bar", () => {
    const series = {
      t,
      equity: [1e6, 1.01e6, 990_123.4, 1.02e6, 1.03e6],
      drawdown: [0, 0, -0.01968, 0, 0],
      position: [0, 1, 1, -1, 0.5],
      benchmark: [1e6, 1.005e6, 1.001e6, 1.01e6, 1.02e6],
    };
    assert.equal(
      readoutText(series, 2),
      "2021-01-06 · equity 990,123 · drawdown -1.97 % · position long · buy & hold 1,001,000",
    );
    assert.match(readoutText(series, 3), /position short/);
    assert.match(readoutText(series, 4), /position long 0\.50/);
    assert.match(readoutText(series, 0), /position flat/);
    assert.equal(readoutText(series, null), "");
    assert.equal(readoutText(series, 9), "");
  });

  test("without position or benchmark columns, those parts are left out", () => {
    assert.equal(readoutText({ t, equity: [1, 2, 3, 4, 5] }, 1), "2021-01-05 · equity 2");
  });

  test("intraday bars show the time of day", () => {
    assert.equal(dateLabel(T0), "2021-01-04");
    assert.equal(dateLabel(T0 + 9.5 * 3600), "2021-01-04 09:30 UTC");
    assert.equal(positionLabel(null), "–");
  });
});

describe("trade markers", () => {
  test("entries and exits sit on the bar at or before their time", () => {
    assert.equal(indexAtOrBefore(t, t[0] - 1), -1);
    assert.equal(indexAtOrBefore(t, t[3]), 3);
    assert.equal(indexAtOrBefore(t, t[2] + DAY), 2); // a weekend: the last bar before it
    assert.equal(indexAtOrBefore(t, t[4] + 99 * DAY), 4);
    const trades = { entry: [t[1], t[2] + 3600], exit: [t[3], t[4]], direction: [1, -1], pnl: [50, -20] };
    const m = tradeMarkers(t, trades);
    assert.deepEqual(
      m.map((x) => [x.kind, x.index, x.direction, x.win]),
      [
        ["entry", 1, 1, true],
        ["exit", 3, 1, true],
        ["entry", 2, -1, false],
        ["exit", 4, -1, false],
      ],
    );
    assert.deepEqual(tradeMarkers(t, null), []);
    assert.deepEqual(tradeMarkers(t, { entry: [t[0] - DAY], exit: [t[0] - 1] }), []);
  });
});
