import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pythonHints, withoutTables } from "../src/render/hints.js";

const HINT =
  "In Python: `results['run_ab12']` (`w.results[...]` on a panel `w`, `client.results[...]` on a ChatOpsClient)";

describe("pythonHints", () => {
  test("the neutral line names the widget's variable once it is known", () => {
    const text = `**run_ab12** done\n\n${HINT}\n\nmore`;
    assert.equal(pythonHints(text, ""), text);
    assert.equal(pythonHints(text, "panel"), "**run_ab12** done\n\nIn Python: `panel.results['run_ab12']`\n\nmore");
  });

  test("only a Python identifier is used as a name", () => {
    assert.equal(pythonHints(HINT, "w; import os"), HINT);
    assert.equal(pythonHints(HINT, "1w"), HINT);
  });
});

describe("withoutTables", () => {
  test("markdown tables go, the rest stays", () => {
    const text = "**run_1** sweep: best by sharpe:\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nIn Python: x";
    assert.equal(withoutTables(text), "**run_1** sweep: best by sharpe:\n\nIn Python: x");
    assert.equal(withoutTables("no table | here"), "no table | here");
  });
});
