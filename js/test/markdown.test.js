import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fragment, installDom } from "./dom-env.js";

installDom();
// DOMPurify binds to the window when it is first imported: import it after the DOM exists.
const { renderMarkdown } = await import("../src/render/markdown.js");

const render = (text) => fragment(renderMarkdown(text));
const attributes = (root) => [...root.querySelectorAll("*")].flatMap((e) => [...e.attributes].map((a) => a.name));

describe("markdown", () => {
  test("emphasis, code spans, lists, tables and code blocks render", () => {
    const root = render("**bold** and `x < y`\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode\n```");
    assert.equal(root.querySelector("strong").textContent, "bold");
    assert.equal(root.querySelector("p code").textContent, "x < y");
    assert.equal(root.querySelectorAll("li").length, 2);
    assert.equal(root.querySelectorAll("td").length, 2);
    assert.equal(root.querySelector("pre code").textContent, "code\n");
  });

  test("a code span keeps placeholders literally", () => {
    const root = render("- `/sweep <template> symbol=.. param=lo:hi:step` -- grid search");
    assert.equal(root.querySelector("code").textContent, "/sweep <template> symbol=.. param=lo:hi:step");
    assert.match(root.textContent, /-- grid search/);
  });

  test("line breaks inside a paragraph are kept (breaks: true)", () => {
    assert.equal(render("one\ntwo").querySelectorAll("br").length, 1);
  });

  test("empty and non-string input render as nothing / as text", () => {
    assert.equal(renderMarkdown(undefined), "");
    assert.equal(renderMarkdown(null), "");
    assert.equal(render(42).textContent.trim(), "42");
  });
});

describe("sanitizing", () => {
  test("scripts, iframes, objects, forms and styles are removed", () => {
    const root = render(
      "<script>alert(1)</script>\n\n<iframe src='x'></iframe><object></object><embed>\n\n" +
        "<form><input><button>b</button></form><style>*{color:red}</style>",
    );
    assert.equal(root.querySelectorAll("script, iframe, object, embed, form, input, button, style").length, 0);
  });

  test("event-handler and style attributes are removed", () => {
    const root = render("<img src=x onerror=\"alert(1)\">\n\n<p onclick='x()' style='color:red'>p</p>");
    assert.deepEqual(
      attributes(root).filter((a) => a.startsWith("on") || a === "style"),
      [],
    );
  });

  test("javascript: links lose their href; other links open safely in a new tab", () => {
    const root = render('[bad](javascript:alert(1)) <a href="JaVaScRiPt:alert(2)">bad2</a> [ok](https://example.org)');
    const hrefs = [...root.querySelectorAll("a")].map((a) => a.getAttribute("href"));
    assert.ok(!hrefs.some((h) => h && /javascript:/i.test(h)), hrefs.join(" "));
    const ok = [...root.querySelectorAll("a")].find((a) => a.getAttribute("href") === "https://example.org");
    assert.equal(ok.getAttribute("target"), "_blank");
    assert.equal(ok.getAttribute("rel"), "noopener noreferrer nofollow");
  });

  test("data attributes are not allowed", () => {
    assert.deepEqual(
      attributes(render('<span data-x="1">s</span>')).filter((a) => a.startsWith("data-")),
      [],
    );
  });
});
