// Windowed rendering: only the rows in view (plus an overscan margin) exist in the DOM.
// Row heights are estimated, then measured once a row is rendered (and re-measured by a
// ResizeObserver), so rows of any height work. Sticks to the bottom unless the user scrolled up.

const ESTIMATE = 64;
const OVERSCAN_PX = 500;
const BOTTOM_SLACK_PX = 40;
// An append is drawn at once (not on the next frame: a reply shows up to 16 ms sooner), also
// when a frame is already due (a scroll or resize asked for one: that frame's work is done now),
// unless this many were drawn at once in the last 100 ms (a burst: frames).
const IMMEDIATE_PER_100MS = 8;

export class VirtualList {
  /**
   * @param {HTMLElement} scrollEl the scrolling container
   * @param {{count: () => number, keyAt: (i: number) => string,
   *          render: (i: number) => {el: HTMLElement, mount?: Function, destroy?: Function},
   *          onStickChange?: (stuck: boolean) => void}} source
   */
  constructor(scrollEl, source) {
    this.scrollEl = scrollEl;
    this.source = source;
    this.inner = document.createElement("div");
    this.inner.className = "cow-spacer-inner";
    scrollEl.appendChild(this.inner);
    this.heights = [];
    this.offsets = [0];
    this.dirtyFrom = 0;
    this.rows = new Map(); // key -> {index, el, destroy, height}
    this.stick = true;
    this.frame = 0;
    this.recent = []; // when appends were drawn at once (the last 100 ms)
    this.lastWidth = 0;
    this.onScroll = () => {
      const el = this.scrollEl;
      const stuck = el.scrollTop + el.clientHeight >= el.scrollHeight - BOTTOM_SLACK_PX;
      if (stuck !== this.stick) {
        this.stick = stuck;
        this.source.onStickChange?.(stuck);
      }
      this.schedule();
    };
    scrollEl.addEventListener("scroll", this.onScroll, { passive: true });
    this.rowObserver = new ResizeObserver((entries) => {
      let changed = false;
      for (const entry of entries) {
        const key = entry.target.dataset.key;
        const row = this.rows.get(key);
        if (row && this.measure(row)) changed = true;
      }
      if (changed) this.schedule();
    });
    this.boxObserver = new ResizeObserver(() => {
      const w = this.scrollEl.clientWidth;
      if (w !== this.lastWidth) {
        this.lastWidth = w;
        this.refresh();
      } else this.schedule();
    });
    this.boxObserver.observe(scrollEl);
  }

  /** Forget everything (new history). */
  reset() {
    for (const row of this.rows.values()) this.removeRow(row);
    this.rows.clear();
    this.heights = [];
    this.offsets = [0];
    this.dirtyFrom = 0;
    this.stick = true;
    this.source.onStickChange?.(true);
    this.update();
  }

  /** Re-render the visible rows (e.g. the width changed, so charts must be redrawn). */
  refresh() {
    for (const row of this.rows.values()) this.removeRow(row);
    this.rows.clear();
    this.update();
  }

  /** An item was inserted at `index` (not at the end): shift the measured heights. */
  inserted(index) {
    this.heights.splice(index, 0, ESTIMATE);
    this.dirtyFrom = Math.min(this.dirtyFrom, index);
    this.schedule();
  }

  /** The item at `index` changed: render it again. */
  invalidate(key) {
    const row = this.rows.get(key);
    if (row) {
      this.removeRow(row);
      this.rows.delete(key);
    }
    this.schedule();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.update();
    });
  }

  /** Items were appended: draw them now, or on the next frame during a burst. */
  appended() {
    const now = performance.now();
    this.recent = this.recent.filter((t) => now - t < 100);
    if (this.recent.length >= IMMEDIATE_PER_100MS) {
      this.schedule();
      return;
    }
    this.recent.push(now);
    if (this.frame) {
      // update() does what the pending frame would (and asks for another if it must)
      cancelAnimationFrame(this.frame);
      this.frame = 0;
    }
    this.update();
  }

  scrollToBottom() {
    if (this.stick) {
      this.schedule(); // at the bottom already: the next frame keeps it there (no layout now)
      return;
    }
    this.stick = true;
    this.source.onStickChange?.(true);
    this.update();
  }

  ensureOffsets() {
    const n = this.source.count();
    while (this.heights.length < n) this.heights.push(ESTIMATE);
    if (this.heights.length > n) this.heights.length = n;
    if (this.offsets.length !== n + 1 || this.dirtyFrom < n) {
      const from = Math.min(this.dirtyFrom, this.offsets.length - 1, n);
      this.offsets.length = Math.max(from + 1, 1);
      for (let i = from; i < n; i++) this.offsets[i + 1] = this.offsets[i] + this.heights[i];
      this.offsets.length = n + 1;
    }
    this.dirtyFrom = Number.POSITIVE_INFINITY;
    return n;
  }

  /** First index whose row ends below `y`. */
  findIndex(y, n) {
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.offsets[mid + 1] <= y) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  measure(row) {
    const h = row.el.offsetHeight;
    if (!h || Math.abs(h - this.heights[row.index]) < 0.5) return false;
    const delta = h - this.heights[row.index];
    this.heights[row.index] = h;
    this.dirtyFrom = Math.min(this.dirtyFrom, row.index);
    // Keep what the user looks at in place when a row above the viewport changes height.
    if (!this.stick && this.offsets[row.index] < this.scrollEl.scrollTop) {
      this.pendingShift = (this.pendingShift || 0) + delta;
    }
    return true;
  }

  removeRow(row) {
    this.rowObserver.unobserve(row.el);
    try {
      row.destroy?.();
    } catch (err) {
      console.error(err);
    }
    row.el.remove();
  }

  /**
   * Draw the rows in (and near) the view. Layout is read twice at most: the view's size and
   * position first (before this pass writes anything), then the new rows' heights, once for
   * all of them. Their mounts (charts read their width and the theme) come after that read,
   * so they force no layout of their own; the scroll position is written last.
   */
  update() {
    const n = this.ensureOffsets();
    const el = this.scrollEl;
    const viewH = el.clientHeight || 400;
    const startTop = el.scrollTop;
    let total = this.offsets[n];
    const top = this.stick ? Math.max(0, total - viewH) : startTop; // where the view will be
    const wanted = new Set();
    const created = [];
    if (n > 0) {
      const first = this.findIndex(Math.max(0, top - OVERSCAN_PX), n);
      const limit = top + viewH + OVERSCAN_PX;
      for (let i = first; i < n && this.offsets[i] < limit; i++) {
        const key = this.source.keyAt(i);
        wanted.add(key);
        let row = this.rows.get(key);
        if (row && row.index !== i) row.index = i;
        if (!row) {
          const r = this.source.render(i);
          r.el.dataset.key = key;
          r.el.style.top = `${this.offsets[i]}px`;
          this.inner.appendChild(r.el);
          row = { index: i, el: r.el, destroy: r.destroy, top: this.offsets[i] };
          this.rows.set(key, row);
          created.push([row, r.mount]);
        }
      }
    }
    for (const [key, row] of this.rows) {
      if (!wanted.has(key)) {
        this.removeRow(row);
        this.rows.delete(key);
      }
    }
    this.inner.style.height = `${total}px`; // (estimated) before measuring: rows lay out in it
    for (const [row] of created) this.measure(row); // one layout for all the new rows
    for (const [row, mount] of created) {
      try {
        mount?.(); // (fixed-height contents: a chart changes no row's height)
      } catch (err) {
        console.error("chatops-widget: row mount failed", err);
      }
      this.rowObserver.observe(row.el);
    }
    // Heights may have changed after measuring: lay out again (cheap: prefix sums only).
    this.ensureOffsets();
    total = this.offsets[n];
    this.inner.style.height = `${total}px`;
    for (const row of this.rows.values()) {
      const y = this.offsets[row.index];
      if (row.top !== y) {
        row.top = y;
        row.el.style.top = `${y}px`;
      }
    }
    let y = startTop;
    if (this.stick) y = Math.max(0, total - viewH);
    else if (this.pendingShift) y = startTop + this.pendingShift;
    this.pendingShift = 0;
    if (Math.abs(startTop - y) >= 1) el.scrollTop = y;
    if (Math.abs(y - top) >= 1 && this.rows.size < 200) {
      // The viewport moved (sticking or anchoring): fill the new view on the next frame.
      this.schedule();
    }
  }

  destroy() {
    cancelAnimationFrame(this.frame);
    this.scrollEl.removeEventListener("scroll", this.onScroll);
    for (const row of this.rows.values()) this.removeRow(row);
    this.rows.clear();
    this.rowObserver.disconnect();
    this.boxObserver.disconnect();
  }
}
