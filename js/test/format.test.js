import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setConstants } from "../src/constants.js";
import { compact, formatMetric } from "../src/render/format.js";
import { pythonFormatted, useKernelConstants } from "./constants.js";

describe("formatMetric", () => {
  test("the kernel's fraction stats show as percent, with their out-of-sample twins", () => {
    const kernel = useKernelConstants();
    assert.ok(kernel.percentStats.length > 0);
    const basis = new Set(kernel.stats.filter((s) => s.group === "basis").map((s) => s.name));
    for (const name of kernel.percentStats.filter((n) => !basis.has(n))) {
      assert.equal(formatMetric(name, 0.1234), "12.34 %", name);
      assert.equal(formatMetric(`oos_${name}`, -0.05), "-5.00 %", name);
    }
    assert.equal(formatMetric("sharpe", 1.23456), "1.235");
    assert.equal(formatMetric("num_trades", 12), "12");
  });

  test("which stats are percent is the kernel's say, not the panel's", () => {
    setConstants({ percentStats: ["sharpe"] });
    assert.equal(formatMetric("sharpe", 0.5), "50.00 %");
    assert.equal(formatMetric("total_return", 0.5), "0.500");
    useKernelConstants();
  });

  test("missing values, dates, strings, big numbers", () => {
    useKernelConstants();
    assert.equal(formatMetric("x", null), "n/a"); // NaN travels as null
    assert.equal(formatMetric("x", undefined), "–");
    assert.equal(formatMetric("start", "2020-01-02T00:00:00"), "2020-01-02");
    assert.equal(formatMetric("start", "2020-01-02T09:30:00"), "2020-01-02T09:30:00");
    assert.equal(formatMetric("final_equity", 1234567.891), "1,234,567.89");
    assert.equal(formatMetric("x", Number.POSITIVE_INFINITY), "inf");
  });

  test("every value reads as the kernel's engine.format_stat writes it (the chat replies)", () => {
    useKernelConstants();
    const cases = pythonFormatted();
    assert.ok(cases.length > 150, cases.length);
    for (const [name, value, expected] of cases) {
      assert.equal(formatMetric(name, value), expected, `${name}=${value}`);
    }
  });

  test("cost rates at full precision", () => {
    useKernelConstants();
    assert.equal(formatMetric("commission", 0.0005), "0.05 %");
    assert.equal(formatMetric("spread", 0.00015), "0.015 %");
    assert.equal(formatMetric("commission", 0.00001), "0.001 %");
  });

  test("every stat by its unit in the kernel's registry, as engine.format_stat writes it", () => {
    useKernelConstants();
    assert.equal(formatMetric("avg_trade_duration", 12.26), "12.3 days");
    assert.equal(formatMetric("oos_max_drawdown_duration", 3), "3.0 days");
    assert.equal(formatMetric("expectancy", -12.5), "-12.50");
    assert.equal(formatMetric("bars_per_year", 260.8071), "260.8");
    assert.equal(formatMetric("bars", 2608), (2608).toLocaleString());
    assert.equal(formatMetric("sqn", 1.23456), "1.235");
    assert.equal(formatMetric("kelly", 0.25), "25.00 %");
  });

  test("compact axis labels", () => {
    assert.deepEqual([1.5e9, 2.345e6, 12345, 250, 1.2345].map(compact), ["1.50B", "2.35M", "12.3k", "250", "1.23"]);
  });
});
