"""The all-in long/flat execution path, computed per trade instead of per bar.

With all-in sizing and only long or flat positions (the :mod:`._sim` model), a trade entered at
bar ``te`` with equity ``E`` holds ``u = E / ((1 + c) * open[te] * (1 + s))`` units, so its
equity at any close ``t`` while held is ``u * close[t]`` and after its exit fill at ``tx`` it is
``E' = u * open[tx] * (1 - c)`` until the next entry. The chain of ``E`` per combination is one
cumulative product over trades; the ``(k, n)`` equity matrix is then two run-length decodings
(``np.repeat``) and a multiply-add, with no cumulative product over bars.

The per-bar returns are ``close-to-close`` on held bars except at the fills, so the sums the
stats need (``sum r``, ``sum r^2``, ``sum min(r, 0)^2`` and ``sum r * b`` against buy & hold)
are prefix-sum differences per trade plus the fill terms: :attr:`._sim.Sim.moments`, no
returns matrix at all.
"""

from __future__ import annotations

import numpy as np

from ._sim import END, SIGNAL, Bars, Sim, Trades, simulate_general
from ._types import FloatArray, Int8Array, IntArray, nonzero_2d

__all__ = ["bar_moments", "simulate", "simulate_long"]


def simulate(
    bars: Bars,
    pos: Int8Array,
    cash: float,
    commission: float,
    spread: float = 0.0,
    weight: float = 1.0,
) -> Sim:
    """Run the vectorized execution model of :mod:`._sim` for target positions ``pos`` (k
    combos, n bars); ``weight`` is the sized fraction of equity per entry (``size=``; 1 is
    all-in). All-in long/flat rows take :func:`simulate_long`."""
    k, n = pos.shape
    held = np.zeros((k, n), dtype=np.int8)
    held[:, 1:] = pos[:, :-1]
    fc, ft = nonzero_2d(held[:, 1:] != held[:, :-1])  # sorted by combination, then bar
    ft += 1
    old = held[fc, ft - 1].astype(np.float64)
    new = held[fc, ft].astype(np.float64)
    if weight != 1.0 or (len(fc) and (old.min() < 0 or new.min() < 0)):
        return simulate_general(bars, held, fc, ft, old, new, cash, commission, spread, weight)
    return simulate_long(bars, held, fc, ft, new, cash, commission, spread)


def bar_moments(bars: Bars) -> FloatArray:
    """``(4, n + 1)`` exclusive prefix sums over bars of ``b``, ``b^2``, ``min(b, 0)^2`` and
    ``b * (b - mean(b))`` (``b``: close-to-close returns), cached on ``bars``."""
    p = bars.cache.get("_moments")
    if p is None:
        b = bars.close_returns
        terms = np.stack([b, b * b, np.minimum(b, 0.0) ** 2, b * (b - b.mean())])
        p = np.zeros((4, len(b) + 1))
        np.cumsum(terms, axis=1, out=p[:, 1:])
        bars.cache["_moments"] = p
    return p


def _terms(x: FloatArray, bar: IntArray, bc: FloatArray) -> FloatArray:
    """The four moment terms of returns ``x`` on bars ``bar``: (4, len(x))."""
    neg = np.minimum(x, 0.0)
    return np.stack([x, x * x, neg * neg, x * bc[bar]])


def simulate_long(
    bars: Bars,
    held: Int8Array,
    fc: IntArray,
    ft: IntArray,
    new: FloatArray,
    cash: float,
    c: float,
    s: float = 0.0,
) -> Sim:
    """All-in long/flat: ``held`` (k, n) in {0, 1}; ``fc``, ``ft`` its fills (changes) sorted
    by combination then bar, ``new`` the position after each fill."""
    k, n = held.shape
    o, cl = bars.open, bars.close
    ent = new != 0
    same = np.append(fc[1:] == fc[:-1], False) if len(fc) else np.zeros(0, dtype=bool)
    col, te = fc[ent], ft[ent]
    closed = same[ent]
    tx = np.where(closed, np.append(ft[1:], 0)[ent], n)  # exit fill bar; n: still open
    entry_px = o[te] * (1.0 + s)
    exit_px = np.where(closed, o[np.minimum(tx, n - 1)], cl[-1])
    # equity chain over each combination's trades: E_next = E * open[tx] (1 - c) / ((1 + c) px)
    counts = np.bincount(col, minlength=k)
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    nth = np.arange(len(col)) - first[col]
    growth = np.ones((k, int(counts.max(initial=0)) + 1))
    growth[col, nth + 1] = np.where(closed, exit_px * (1.0 - c) / ((1.0 + c) * entry_px), 1.0)
    np.cumprod(growth, axis=1, out=growth)
    before = cash * growth[col, nth]  # equity just before each entry
    notional = before / (1.0 + c)
    units = notional / entry_px
    after = units * exit_px * (1.0 - c)  # equity after the exit (the last close for open ones)
    equity = _equity(bars, held, col, te, tx, units, before, after, counts, cash)
    last = counts > 0
    last[last] = ~closed[first[last] + counts[last] - 1]  # rows still in a trade at the end
    final = equity[:, -1]
    if c:
        final[last] *= 1.0 - c  # close at the last close
    trades = Trades(
        col.astype(np.int64),
        te.astype(np.int64),
        np.minimum(tx, n - 1).astype(np.int64),
        np.ones(len(col), dtype=np.int8),
        entry_px,
        exit_px,
        units,
        notional,
        np.where(closed, after, final[col]) - before,
        c * (notional + units * exit_px),
        np.where(closed, SIGNAL, END).astype(np.int8),
    )
    moments = _moments(bars, k, n, col, te, tx, closed, c, s)
    return Sim(equity, held, trades, moments=moments)


def _equity(
    bars: Bars,
    held: Int8Array,
    col: IntArray,
    te: IntArray,
    tx: IntArray,
    units: FloatArray,
    before: FloatArray,
    after: FloatArray,
    counts: IntArray,
    cash: float,
) -> FloatArray:
    """The (k, n) equity at each close: per row a flat run then a held run per trade and a
    flat run at the end. Run-length decoded (``np.repeat``) as the cash of a flat run and the
    units of a held run, then multiplied by the close where held."""
    k, n = held.shape
    t = len(col)
    at = 2 * np.arange(t) + col  # the flat run before trade i; its held run follows
    ends = np.cumsum(counts)
    tail = 2 * ends + np.arange(k)  # each row's last (flat) run
    lens = np.empty(2 * t + k, dtype=np.int64)
    value = np.empty(2 * t + k)
    prev_end = np.zeros(t, dtype=np.int64)  # where the flat run before each trade starts
    if t:
        later = np.flatnonzero(np.r_[False, col[1:] == col[:-1]])
        prev_end[later] = tx[later - 1]
    lens[at] = te - prev_end
    lens[at + 1] = tx - te
    value[at] = before
    value[at + 1] = units
    row_end = np.zeros(k, dtype=np.int64)
    row_cash = np.full(k, float(cash))
    has = counts > 0
    row_end[has] = tx[ends[has] - 1]
    row_cash[has] = after[ends[has] - 1]
    lens[tail] = n - row_end
    value[tail] = row_cash
    eq = np.repeat(value, lens).reshape(k, n)
    np.multiply(eq, bars.close, out=eq, where=held.view(np.bool_))
    return eq


def _moments(
    bars: Bars,
    k: int,
    n: int,
    col: IntArray,
    te: IntArray,
    tx: IntArray,
    closed: np.ndarray,
    c: float,
    s: float,
) -> FloatArray:
    """``(4, k)`` sums over bars of ``r``, ``r^2``, ``min(r, 0)^2`` and ``r * (b - mean(b))``
    of each combination's per-bar returns ``r`` (0 when flat, close-to-close when held, the
    fill returns at entries and exits, the closing commission on the last bar)."""
    o, cl, rc = bars.open, bars.close, bars.close_returns
    pre = bar_moments(bars)
    bc = rc - rc.mean()
    r_in = cl[te] / (o[te] * (1.0 + s) * (1.0 + c)) - 1.0  # buy at open, mark at close
    at_last = ~closed & (te == n - 1)
    if c:
        r_in = np.where(at_last, (1.0 + r_in) * (1.0 - c) - 1.0, r_in)
    # the bars between: close-to-close; the exit (or, when still open, the last bar with its
    # closing commission) separately
    hi = np.where(closed, tx, n - 1 if c else n)
    lo = te + 1
    hi = np.maximum(hi, lo)
    txc = np.minimum(tx, n - 1)
    r_out = np.where(closed, o[txc] / cl[txc - 1] * (1.0 - c) - 1.0, 0.0)
    if c:
        tail = ~closed & ~at_last
        r_out = np.where(tail, (1.0 + rc[-1]) * (1.0 - c) - 1.0, r_out)
    per_trade = _terms(r_in, te, bc) + pre[:, hi] - pre[:, lo] + _terms(r_out, txc, bc)
    out = np.empty((4, k))
    for i in range(4):
        out[i] = np.bincount(col, weights=per_trade[i], minlength=k)
    return out
