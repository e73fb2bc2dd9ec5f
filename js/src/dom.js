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

/** Save `text` as a file called `name` through the browser's download (a Blob link clicked
 *  inside `container`, so it works in a shadow root too). */
export function download(container, name, mime, text) {
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const a = el("a", "cow-download-link");
  a.href = url;
  a.download = name;
  a.style.display = "none";
  container.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Put `text` on the clipboard (navigator.clipboard, else a selected textarea and the copy
 *  command); resolves to true when one of them worked. */
export async function copyText(container, text) {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // denied or unavailable (e.g. an insecure context): try the old way
  }
  const area = el("textarea", "cow-copy-buffer");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  container.appendChild(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}
