// Small DOM helpers shared by the panel and the renderers.

/** `<tag class=cls>text</tag>` (text set as textContent, never parsed as HTML). */
export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A `type="button"` button with the panel's button class (plus `cls`) and a tooltip. */
export function button(text, cls, title) {
  const b = el("button", `cow-btn${cls ? ` ${cls}` : ""}`, text);
  b.type = "button";
  if (title) b.title = title;
  return b;
}

/** `target.addEventListener(type, fn, opts)`, returning the matching remove function. */
export function listen(target, type, fn, opts) {
  target.addEventListener(type, fn, opts);
  return () => target.removeEventListener(type, fn, opts);
}
