// Assistant text is markdown, rendered by marked and sanitized by DOMPurify before it touches
// the DOM: no scripts, no event-handler attributes, no javascript: URLs, no forms or styles.
// Raw HTML in the text is shown literally, not parsed: usage lines such as
// `/sweep <template> symbol=..` keep their placeholders (a `<template>` tag would swallow the rest).
import DOMPurify from "dompurify";
import { Marked } from "marked";

const SANITIZE = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe", "object", "embed"],
  FORBID_ATTR: ["style", "srcset", "action", "formaction"],
  ALLOW_DATA_ATTR: false,
};

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** `text` with HTML's special characters escaped. */
export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

// A private marked instance (no global side effect on other users of marked on the page) whose
// raw-HTML tokens, block and inline, come out as text.
const markdown = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  renderer: { html: (token) => escapeHtml(token.text) },
});

let hooked = false;

function hook() {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook("afterSanitizeAttributes", (node) => {
    if (node.tagName === "A") {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer nofollow");
    }
  });
}

/** Markdown -> sanitized HTML string. */
export function renderMarkdown(text) {
  hook();
  return DOMPurify.sanitize(markdown.parse(String(text ?? "")), SANITIZE);
}
