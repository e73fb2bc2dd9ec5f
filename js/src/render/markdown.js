// Assistant text is markdown, rendered by marked and sanitized by DOMPurify before it touches
// the DOM: no scripts, no event-handler attributes, no javascript: URLs, no forms or styles.
import DOMPurify from "dompurify";
import { marked } from "marked";

const SANITIZE = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe", "object", "embed"],
  FORBID_ATTR: ["style", "srcset", "action", "formaction"],
  ALLOW_DATA_ATTR: false,
};

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
  const html = marked.parse(String(text ?? ""), { gfm: true, breaks: true, async: false });
  return DOMPurify.sanitize(html, SANITIZE);
}
