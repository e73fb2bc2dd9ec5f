import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { newUploadId, sendParts, uploadParts, uploadRow } from "../src/panel/uploadparts.js";
import { inParts } from "../src/panel/uploads.js";
import { installDom } from "./dom-env.js";

installDom();

/** A File-like Blob with a name (Node's Blob has slice/arrayBuffer like the browser's File). */
const csvFile = (text, name = "big.csv") => Object.assign(new Blob([text]), { name });

async function collect(file, partBytes) {
  const parts = [];
  for await (const p of uploadParts(file, "u1", partBytes)) parts.push(p);
  return parts;
}

describe("uploadParts", () => {
  test("slices the file into indexed parts whose text joins back to the file", async () => {
    const text = "date,open,high,low,close,volume\n" + "2020-01-02,1,2,0.5,1.5,100\n".repeat(1000);
    const bytes = new TextEncoder().encode(text).length;
    const parts = await collect(csvFile(text), 4096);
    assert.equal(parts.length, Math.ceil(bytes / 4096));
    assert.deepEqual(
      parts.map((p) => p.index),
      parts.map((_, i) => i),
    );
    assert.deepEqual(
      parts.map((p) => p.last),
      parts.map((_, i) => i === parts.length - 1),
    );
    for (const p of parts) {
      assert.equal(p.type, "upload_part");
      assert.equal(p.uploadId, "u1");
      assert.equal(p.name, "big.csv");
      assert.equal(p.size, bytes);
    }
    assert.equal(parts.map((p) => p.data).join(""), text);
  });

  test("a UTF-8 character split between two slices arrives whole", async () => {
    const text = "é€😀,x\n".repeat(50); // 2-, 3- and 4-byte characters
    for (const partBytes of [1, 2, 3, 5, 7]) {
      const parts = await collect(csvFile(text), partBytes);
      assert.equal(parts.map((p) => p.data).join(""), text, `parts of ${partBytes} bytes`);
      assert.ok(
        parts.every((p) => !p.data.includes("\uFFFD")),
        "no replacement characters",
      );
    }
  });

  test("an empty file is one last part", async () => {
    const parts = await collect(csvFile(""), 16);
    assert.deepEqual(
      parts.map((p) => [p.index, p.last, p.data]),
      [[0, true, ""]],
    );
  });
});

describe("sendParts", () => {
  test("sends every part in order, and stops when the kernel said failed", async () => {
    const sent = [];
    const file = csvFile("x".repeat(100));
    assert.equal(await sendParts(file, (m) => sent.push(m), { uploadId: "a", partBytes: 10 }), 10);
    assert.deepEqual(
      sent.map((m) => m.index),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    const more = [];
    const stopped = () => more.length >= 3;
    assert.equal(await sendParts(file, (m) => more.push(m), { uploadId: "b", partBytes: 10, stopped }), 3);
  });

  test("upload ids differ", () => {
    assert.notEqual(newUploadId(), newUploadId());
  });
});

describe("upload progress rows", () => {
  test("a row shows stage and percent with the run tray's bar", () => {
    const row = uploadRow({ uploadId: "u", name: "big.csv", stage: "sending", done: 25, total: 100 });
    assert.equal(row.dataset.upload, "u");
    assert.ok(row.classList.contains("cow-run") && row.classList.contains("cow-status-running"));
    assert.equal(row.querySelector(".cow-run-label").textContent, "big.csv: sending");
    assert.equal(row.querySelector(".cow-bar").getAttribute("aria-valuenow"), "25");
    assert.equal(row.querySelector(".cow-bar-fill").style.width, "25%");
    const done = uploadRow({ uploadId: "u", name: "big.csv", stage: "done", done: 0, total: 0 });
    assert.ok(done.classList.contains("cow-status-completed"));
    assert.equal(done.querySelector(".cow-run-pct").textContent, "100 %");
    const failed = uploadRow({ uploadId: "u", name: "big.csv", stage: "failed", done: 5, total: 10 });
    assert.ok(failed.classList.contains("cow-status-failed"));
    assert.equal(failed.querySelector(".cow-run-status").textContent, "failed");
  });

  test("only a CSV over one part goes in parts", () => {
    assert.equal(inParts("csv", 10, 4), true);
    assert.equal(inParts("csv", 4, 4), false);
    assert.equal(inParts("strategy", 10, 4), false);
    assert.equal(inParts("csv", 10, undefined), false); // no constants yet: one message
  });
});
