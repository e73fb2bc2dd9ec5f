// A DOM for unit tests (jsdom): sets the browser globals the renderers use, on demand.
import { JSDOM } from "jsdom";

/** Install `window`, `document` and friends as globals (once); returns the window. */
export function installDom() {
  if (globalThis.window?.document) return globalThis.window;
  const { window } = new JSDOM("<!doctype html><html><head></head><body></body></html>", {
    url: "http://widget.test/",
  });
  for (const name of ["window", "document", "Node", "HTMLElement", "Element", "DocumentFragment", "getComputedStyle"]) {
    globalThis[name] = name === "window" ? window : window[name];
  }
  return window;
}

/** `html` parsed into a detached <div>, to query what a renderer produced. */
export function fragment(html) {
  const div = globalThis.document.createElement("div");
  div.innerHTML = html;
  return div;
}
