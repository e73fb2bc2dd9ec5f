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

describe("usage lines (placeholders in angle brackets)", () => {
  const USAGES = [
    "/sweep <template> symbol=.. param=lo:hi:step [split=YYYY-MM-DD]",
    "/create_strategy <template> [symbol=..] [name=..] [param=value ...]",
    "/compare_strategies <id> <id> [...]",
    "/cancel <run_id>",
    "/run_backtest <strategy_id | template> [symbol=..]",
  ];

  test("a bold usage line (the server's /help <command>) shows in full, with what follows", () => {
    for (const usage of USAGES) {
      const root = render(`**${usage}**\n\nWhat it does.\n\nDetails.`);
      assert.equal(root.querySelector("strong").textContent, usage);
      assert.equal(root.querySelectorAll("p").length, 3, usage);
      assert.match(root.textContent, /What it does\.\s+Details\./);
      assert.equal(root.querySelectorAll("template").length, 0);
    }
  });

  test("placeholders in plain text, lists and tables render literally", () => {
    const root = render("use <id> or <strategy_id | template>\n\n- <run_id> then\n\n| a |\n|---|\n| <x> |");
    assert.match(root.textContent, /use <id> or <strategy_id \| template>/);
    assert.equal(root.querySelector("li").textContent, "<run_id> then");
    assert.equal(root.querySelector("td").textContent, "<x>");
  });

  test("raw HTML in the text is shown as text, not markup", () => {
    const root = render("<b>not bold</b> <img src=x onerror=alert(1)>\n\n<div>block</div>");
    assert.equal(root.querySelectorAll("b, img, div").length, 0);
    assert.match(root.textContent, /<b>not bold<\/b> <img src=x onerror=alert\(1\)>/);
    assert.match(root.textContent, /<div>block<\/div>/);
  });
});
