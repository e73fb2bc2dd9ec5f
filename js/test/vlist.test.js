import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { installDom } from "./dom-env.js";

const window = installDom();
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
};
const frames = new Map(); // id -> callback, as the browser keeps them
let nextFrame = 1;
globalThis.requestAnimationFrame = (fn) => {
  frames.set(nextFrame, fn);
  return nextFrame++;
};
globalThis.cancelAnimationFrame = (id) => frames.delete(id);
const runFrames = () => {
  for (const [id, fn] of frames) {
    frames.delete(id);
    fn();
  }
};
const { VirtualList } = await import("../src/panel/vlist.js");

function listOf(items) {
  const scroller = window.document.createElement("div");
  window.document.body.appendChild(scroller);
  const list = new VirtualList(scroller, {
    count: () => items.length,
    keyAt: (i) => items[i],
    render: (i) => {
      const el = window.document.createElement("div");
      el.className = "row";
      el.textContent = items[i];
      return { el };
    },
  });
  return { list, rendered: () => [...scroller.querySelectorAll(".row")].map((e) => e.textContent) };
}

describe("VirtualList.appended", () => {
  test("an append in a quiet moment is drawn at once, not on the next frame", () => {
    frames.clear();
    const items = ["a"];
    const { list, rendered } = listOf(items);
    list.update();
    items.push("b");
    list.appended();
    assert.deepEqual(rendered(), ["a", "b"]); // before any frame ran
  });

  test("an append while a frame is due (a scroll asked for one) is drawn at once too", () => {
    frames.clear();
    const items = ["a"];
    const { list, rendered } = listOf(items);
    list.update();
    list.schedule(); // what a scroll event or a resized row does
    assert.equal(frames.size, 1);
    items.push("b");
    list.appended();
    assert.deepEqual(rendered(), ["a", "b"]); // before any frame ran
    assert.equal(frames.size, 0, "the due frame's work was done by the append");
  });

  test("a burst of appends falls back to frames, and the frame draws them all", () => {
    frames.clear();
    const items = [];
    const { list, rendered } = listOf(items);
    for (let i = 0; i < 12; i++) {
      // all within the window (jsdom lays out nothing: 64 px each)
      items.push(`m${i}`);
      list.appended();
    }
    const drawnAtOnce = rendered().length;
    assert.ok(drawnAtOnce === 8, `drawn at once: ${drawnAtOnce}`);
    runFrames();
    assert.equal(rendered().length, 12);
  });
});
