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

describe("VirtualList.update reads layout before it writes", () => {
  test("an append: view read first, new rows measured once, mounts after, scroll written last", () => {
    frames.clear();
    const log = [];
    const items = ["a"];
    const scroller = window.document.createElement("div");
    window.document.body.appendChild(scroller);
    let top = 0;
    const read = (what, value) => {
      log.push(what);
      return value;
    };
    Object.defineProperty(scroller, "clientHeight", { get: () => read("read view", 400) });
    Object.defineProperty(scroller, "scrollHeight", { get: () => 10_000 });
    Object.defineProperty(scroller, "scrollTop", {
      get: () => read("read scroll", top),
      set: (v) => {
        log.push("write scroll");
        top = v;
      },
    });
    const list = new VirtualList(scroller, {
      count: () => items.length,
      keyAt: (i) => items[i],
      render: (i) => {
        const el = window.document.createElement("div");
        Object.defineProperty(el, "offsetHeight", { get: () => read(`measure ${items[i]}`, 300) });
        return { el, mount: () => log.push(`mount ${items[i]}`) };
      },
    });
    list.update();
    items.push("b", "c");
    log.length = 0;
    list.appended();
    const reads = log.filter((e) => e.startsWith("read"));
    assert.deepEqual(reads, ["read view", "read scroll"], "the view is read once, up front");
    assert.deepEqual(log.slice(0, 2), ["read view", "read scroll"]);
    const first = (what) => log.indexOf(what);
    assert.ok(first("measure b") < first("mount b") && first("measure c") < first("mount b"), log.join(", "));
    assert.equal(log.at(-1), "write scroll", "sticking to the bottom: the scroll is written last");
    assert.equal(log.filter((e) => e === "write scroll").length, 1);
    assert.equal(top, 3 * 300 - 400, "at the bottom of the measured rows");
  });
});
