import assert from "node:assert/strict";
import { beforeEach, describe, mock, test } from "node:test";
import { Store } from "../src/store.js";
import { useKernelConstants } from "./constants.js";
import { ModelStub } from "./model-stub.js";

const constants = useKernelConstants();

const msg = (seq, content = `m${seq}`, role = "user") => ({ id: `msg_${seq}`, seq, role, content });

let model;
let store;
let events;

function history(messages, extra = {}) {
  model.deliver({ type: "history", to: store.clientId, messages, ...extra });
}

const contents = () => store.items.map((it) => it.message?.content ?? it.kind);

beforeEach(() => {
  model = new ModelStub();
  store = new Store(model);
  events = [];
  store.subscribe((ev) => events.push(ev.type));
  store.start();
});

describe("start", () => {
  test("asks the kernel for the history once, with its client id", () => {
    store.start();
    assert.deepEqual(model.sent, [{ type: "ready", clientId: store.clientId }]);
  });

  test("stop detaches: later kernel messages are not applied", () => {
    store.stop();
    history([msg(1)]);
    assert.equal(store.items.length, 0);
  });
});

describe("messages", () => {
  test("a history renders once, as one reset", () => {
    history([msg(1), msg(2), msg(3)]);
    assert.deepEqual(contents(), ["m1", "m2", "m3"]);
    assert.deepEqual(events, ["runs", "reset"]);
    assert.equal(store.historyReceived, true);
  });

  test("a history addressed to another front end is ignored", () => {
    model.deliver({ type: "history", to: "another-tab", messages: [msg(1)] });
    assert.equal(store.items.length, 0);
    assert.equal(store.historyReceived, false);
  });

  test("a message with a known id is updated in place (streamed text), not appended", () => {
    history([msg(1), msg(2, "draft", "assistant")]);
    events.length = 0;
    model.deliver({ type: "message", message: msg(2, "final answer", "assistant") });
    assert.deepEqual(contents(), ["m1", "final answer"]);
    assert.deepEqual(events, ["update"]);
    model.deliver({ type: "message", message: msg(3) });
    assert.deepEqual(contents(), ["m1", "final answer", "m3"]);
    assert.equal(store.index.get("m:msg_3"), 2);
  });

  test("messages are ordered by seq, whatever order they arrive in", () => {
    history([msg(1), msg(4)]);
    model.deliver({ type: "message", message: msg(6) });
    model.deliver({ type: "message", message: msg(2) });
    model.deliver({ type: "message", message: msg(5) });
    model.deliver({ type: "message", message: msg(3) });
    assert.deepEqual(contents(), ["m1", "m2", "m3", "m4", "m5", "m6"]);
    for (const [i, it] of store.items.entries()) assert.equal(store.index.get(it.key), i);
    assert.deepEqual(events.slice(2), ["append", "insert", "insert", "insert"]);
  });

  test("an out-of-order message goes before results and notices that came after its neighbours", () => {
    history([msg(1), msg(3)]);
    model.deliver({ type: "result", runId: "run_1", kind: "backtest", stats: {} });
    store.addNotice("info", "hello");
    model.deliver({ type: "message", message: msg(2) });
    assert.deepEqual(contents(), ["m1", "m2", "m3", "result", "notice"]);
    model.deliver({ type: "message", message: msg(4) });
    assert.deepEqual(contents(), ["m1", "m2", "m3", "result", "notice", "m4"]);
  });

  test("messages without an id are dropped; without a seq they are appended", () => {
    history([msg(5)]);
    model.deliver({ type: "message", message: { role: "user", content: "no id" } });
    model.deliver({ type: "message", message: { id: "x", role: "user", content: "no seq" } });
    assert.deepEqual(contents(), ["m5", "no seq"]);
  });

  test("a reset history (a resync or a session switch) replaces everything", () => {
    history([msg(1), msg(2)]);
    model.deliver({ type: "progress", runId: "run_1", progress: 50, status: "running" });
    store.addNotice("error", "oops");
    history([msg(7), msg(8)], { to: null });
    assert.deepEqual(contents(), ["m7", "m8"]);
    assert.equal(store.runs.size, 0);
    assert.equal(store.index.get("m:msg_1"), undefined);
  });

  test("a history chunk with reset: false appends to the first", () => {
    history([msg(1), msg(2)], { reset: true, final: false });
    history([msg(3), msg(4)], { reset: false, final: true });
    assert.deepEqual(contents(), ["m1", "m2", "m3", "m4"]);
    assert.deepEqual(events, ["runs", "reset", "append"]);
  });

  test("malformed kernel messages are ignored", () => {
    for (const bad of [null, 3, "x", {}, { type: "nope" }, { type: "message" }]) model.deliver(bad);
    assert.equal(store.items.length, 0);
  });
});

describe("results and notices", () => {
  test("a result is one timeline item per run; a second copy replaces it", () => {
    history([msg(1, "/run_backtest strategy_1")]);
    model.deliver({ type: "result", runId: "run_1", kind: "backtest", stats: { sharpe: 1 } });
    model.deliver({ type: "result", runId: "run_1", kind: "backtest", stats: { sharpe: 2 } });
    assert.equal(store.items.length, 2);
    assert.equal(store.items[1].result.stats.sharpe, 2);
    assert.equal(store.results.get("run_1").stats.sharpe, 2);
  });

  test("a reply to a run that completed live expects its card: no redraw when the card lands", () => {
    const reply = { ...msg(2, "Backtest done", "assistant"), metadata: { commandResult: { runId: "run_1" } } };
    history([msg(1, "/run_backtest strategy_1")]);
    model.deliver({ type: "progress", runId: "run_1", progress: 100, status: "completed" });
    model.deliver({ type: "message", message: reply });
    assert.equal(store.cardComing("run_1"), true);
    const before = [...events];
    model.deliver({ type: "result", runId: "run_1", kind: "backtest", stats: {} });
    assert.deepEqual(events.slice(before.length), ["append"]); // the card, and no "update"
  });

  test("a reply drawn before its card was expected is drawn again (drops its button)", () => {
    const reply = { ...msg(2, "Backtest done", "assistant"), metadata: { commandResult: { runId: "run_7" } } };
    history([msg(1, "/run_backtest strategy_1"), reply]); // from the history: no card coming
    assert.equal(store.cardComing("run_7"), false);
    const before = events.length;
    model.deliver({ type: "result", runId: "run_7", kind: "backtest", stats: {} }); // "show result"
    assert.deepEqual(events.slice(before), ["append", "update"]);
    // and a run's "completed" after its reply (out of order) redraws the reply once
    const late = { ...msg(3, "done too", "assistant"), metadata: { commandResult: { runId: "run_8" } } };
    model.deliver({ type: "message", message: late });
    const mark = events.length;
    model.deliver({ type: "progress", runId: "run_8", progress: 100, status: "completed" });
    assert.deepEqual(events.slice(mark), ["runs", "update"]);
  });

  test("a notice keeps a well-formed action and drops a malformed one", () => {
    const send = { type: "replace_upload", symbol: "MYCO" };
    model.deliver({ type: "notice", level: "error", text: "exists", action: { label: "Replace MYCO", send } });
    model.deliver({ type: "notice", level: "error", text: "odd", action: { label: 3 } });
    assert.deepEqual(store.items[0].action, { label: "Replace MYCO", send });
    assert.equal(store.items[1].action, null);
    assert.equal(store.items[1].text, "odd");
  });
});

describe("a reply waits for its card", () => {
  const reply = (seq, runId) => ({
    ...msg(seq, `Backtest ${runId} done`, "assistant"),
    metadata: { commandResult: { runId } },
  });
  const completed = (runId) => model.deliver({ type: "progress", runId, progress: 100, status: "completed" });

  test("a live reply to a completed run is drawn with its card: one append, reply first", () => {
    history([msg(1, "/run_backtest strategy_1")]);
    completed("run_1");
    events.length = 0;
    model.deliver({ type: "message", message: reply(2, "run_1") });
    assert.deepEqual(contents(), ["/run_backtest strategy_1"], "held until the card");
    assert.deepEqual(events, []);
    model.deliver({ type: "result", runId: "run_1", kind: "backtest", stats: {} });
    assert.deepEqual(contents(), ["/run_backtest strategy_1", "Backtest run_1 done", "result"]);
    assert.deepEqual(events, ["append"]);
    assert.equal(store.held, null);
  });

  test("a card that does not come in time: the reply is drawn anyway, within the hold", () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      history([msg(1, "/run_backtest strategy_1")]);
      completed("run_2");
      model.deliver({ type: "message", message: reply(2, "run_2") });
      mock.timers.tick(999);
      assert.equal(store.items.length, 1);
      mock.timers.tick(1);
      assert.deepEqual(contents(), ["/run_backtest strategy_1", "Backtest run_2 done"]);
      model.deliver({ type: "result", runId: "run_2", kind: "backtest", stats: {} });
      assert.deepEqual(contents(), ["/run_backtest strategy_1", "Backtest run_2 done", "result"]);
    } finally {
      mock.timers.reset();
    }
  });

  test("whatever comes next is drawn after the held reply, in order, and nothing is lost", () => {
    history([msg(1, "/run_backtest strategy_1")]);
    completed("run_3");
    model.deliver({ type: "message", message: reply(2, "run_3") });
    model.deliver({ type: "message", message: msg(3, "hello from a colleague") });
    assert.deepEqual(contents(), ["/run_backtest strategy_1", "Backtest run_3 done", "hello from a colleague"]);
    completed("run_4");
    model.deliver({ type: "message", message: reply(4, "run_4") });
    model.deliver({ type: "notice", level: "error", text: "cannot show run_4: gone" });
    assert.deepEqual(contents().slice(3), ["Backtest run_4 done", "notice"]);
    // an update of a held reply (streamed text) is kept with it
    completed("run_5");
    model.deliver({ type: "message", message: reply(5, "run_5") });
    model.deliver({ type: "message", message: { ...reply(5, "run_5"), content: "edited" } });
    model.deliver({ type: "result", runId: "run_5", kind: "backtest", stats: {} });
    assert.deepEqual(contents().slice(5), ["edited", "result"]);
  });

  test("a reset history drops the held reply (the history has it): drawn once", () => {
    history([msg(1, "/run_backtest strategy_1")]);
    completed("run_6");
    model.deliver({ type: "message", message: reply(2, "run_6") });
    history([msg(1, "/run_backtest strategy_1"), reply(2, "run_6")]);
    model.deliver({ type: "result", runId: "run_6", kind: "backtest", stats: {} });
    assert.deepEqual(contents(), ["/run_backtest strategy_1", "Backtest run_6 done", "result"]);
  });

  test("a card that comes before its reply: the reply goes above it, drawn at once", () => {
    history([msg(1, "/run_backtest strategy_1")]);
    model.deliver({ type: "progress", runId: "run_7", progress: 5, status: "running" });
    model.deliver({ type: "result", runId: "run_7", kind: "backtest", stats: {} });
    events.length = 0;
    model.deliver({ type: "message", message: reply(2, "run_7") });
    assert.deepEqual(contents(), ["/run_backtest strategy_1", "Backtest run_7 done", "result"]);
    assert.deepEqual(events, ["insert"]);
    assert.equal(store.held, null);
    model.deliver({ type: "message", message: msg(3, "next") }); // later messages: below both
    assert.deepEqual(contents().slice(1), ["Backtest run_7 done", "result", "next"]);
  });

  test("replies without a card on its way are drawn at once", () => {
    history([msg(1, "/status")]);
    model.deliver({ type: "message", message: reply(2, "run_9") }); // run_9 not completed here
    assert.equal(store.items.length, 2);
  });
});

describe("progress rows", () => {
  const progress = (runId, p, status = "running", extra = {}) =>
    model.deliver({ type: "progress", runId, progress: p, status, ...extra });

  test("progress never goes backwards and is capped at 100", () => {
    progress("run_1", 40, "running", { strategyId: "strategy_1" });
    progress("run_1", 30);
    assert.equal(store.runs.get("run_1").progress, 40);
    progress("run_1", 130, "completed");
    const run = store.runs.get("run_1");
    assert.equal(run.progress, 100);
    assert.equal(run.status, "completed");
    assert.equal(run.strategyId, "strategy_1"); // kept from the first event
  });

  test("a run keeps the server's label (a template run's name), not a later error", () => {
    progress("run_t", 5, "running", { message: "sweep sma_cross ALPHA" });
    progress("run_t", 5, "failed", { message: "no data" });
    const run = store.runs.get("run_t");
    assert.equal(run.label, "sweep sma_cross ALPHA");
    assert.equal(run.message, "no data");
  });

  test("the tray shows running runs, finished ones for a minute, at most six", () => {
    for (let i = 1; i <= 8; i++) progress(`run_${i}`, 10);
    assert.deepEqual(
      store.visibleRuns().map((r) => r.runId),
      ["run_3", "run_4", "run_5", "run_6", "run_7", "run_8"],
    );
    for (const status of constants.terminalStatuses) {
      progress("run_8", 100, status);
      store.runs.get("run_8").at -= 61_000;
      assert.ok(!store.visibleRuns().some((r) => r.runId === "run_8"), status);
    }
    progress("run_7", 20, "failed");
    assert.ok(store.visibleRuns().some((r) => r.runId === "run_7"));
    store.runs.get("run_6").at -= 61_000; // still running: shown however old
    assert.ok(store.visibleRuns().some((r) => r.runId === "run_6"));
  });
});

describe("input history", () => {
  test("remembers what was sent, without repeating the last line, up to 200", () => {
    store.rememberInput("/help");
    store.rememberInput("/help");
    store.rememberInput("hi");
    assert.deepEqual(store.inputHistory, ["/help", "hi"]);
    for (let i = 0; i < 300; i++) store.rememberInput(`line ${i}`);
    assert.equal(store.inputHistory.length, 200);
    assert.equal(store.inputHistory.at(-1), "line 299");
  });
});
